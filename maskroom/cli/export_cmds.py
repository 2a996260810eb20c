"""`maskroom export ...` and `maskroom export-preset save|list|delete`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy import select

from maskroom.catalog.schema import EditVersion, Image
from maskroom.cli.base import ID, echo_json, fail, main, pass_ctx
from maskroom.engine.export.job import (
    COLORSPACES,
    CONFLICT_MODES,
    ExportError,
    ExportReport,
    delete_preset,
    list_presets,
    master_version_ids,
    resolve_settings,
    run_export,
    save_preset,
)
from maskroom.engine.export.metadata import METADATA_MODES
from maskroom.engine.export.sharpen import SHARPEN_MODES

# Every setting flag defaults to None so "not given" can be told from "given": a
# given flag overrides the preset, a missing one leaves the preset's value.
SETTING_OPTIONS = [
    click.option("--format", "format", type=click.Choice(["jpeg", "jpg", "png", "tiff", "tif"]), help="File format (default jpeg)."),
    click.option("--bits", type=click.Choice(["8", "16"]), help="Bits per channel; 16 for png/tiff only (default 8)."),
    click.option("--quality", type=click.IntRange(1, 100), help="JPEG quality 1-100 (default 90)."),
    click.option("--long-edge", "long_edge", type=click.IntRange(16, 65500), help="Resize so the long edge is N pixels (default: full size)."),
    click.option("--colorspace", type=click.Choice(COLORSPACES), help="Output colour space; its ICC profile is embedded (default srgb)."),
    click.option("--sharpen", type=click.Choice(tuple(SHARPEN_MODES)), help="Output sharpening for screen, matte or glossy paper (default none)."),
    click.option("--template", help='File name template, e.g. "{date:%Y%m%d}_{seq:04}_{name}" (default "{name}").'),
    click.option("--on-conflict", "on_conflict", type=click.Choice(CONFLICT_MODES), help="When the file exists: unique name, overwrite, skip (default unique)."),
    click.option("--metadata", type=click.Choice(METADATA_MODES), help="Metadata to write: all, copyright only, none (default all)."),
    click.option("--copyright", help="Copyright notice to write (overrides the image's own)."),
    click.option("--creator", help="Creator/artist to write (overrides the image's own)."),
]
SETTING_KEYS = ("format", "bits", "quality", "long_edge", "colorspace", "sharpen", "template", "on_conflict", "metadata", "copyright", "creator")


def setting_options(fn):
    for opt in reversed(SETTING_OPTIONS):
        fn = opt(fn)
    return fn


def _overrides(kwargs: dict) -> dict:
    return {k: kwargs[k] for k in SETTING_KEYS if kwargs.get(k) is not None}


def _select_image_ids(session, ids, filters, all_, sort) -> list[int]:
    chosen = sum(bool(x) for x in (ids, filters, all_))
    if chosen != 1:
        fail("say what to export: image IDs, --filter k=v ..., or --all (exactly one of them)")
    if ids:
        return list(dict.fromkeys(ids))  # the order given ({seq} follows it), repeats dropped
    from maskroom.catalog.queries import build_query, parse_filter_args

    try:
        query = build_query(parse_filter_args(list(filters)) if filters else {}, sort)
    except ValueError as exc:  # FilterError: one line naming the filter
        fail(str(exc))
    return [row.id if isinstance(row, Image) else int(row) for row in session.scalars(query)]


@main.command("export")
@click.argument("ids", nargs=-1, type=ID)
@click.option("--filter", "filters", multiple=True, metavar="K=V", help="Export the images matching these filters (as `maskroom ls`).")
@click.option("--all", "all_", is_flag=True, help="Export every image in the catalog.")
@click.option("--sort", default="capture", show_default=True, help="Order for --filter/--all, which {seq} follows (as `maskroom ls`; -KEY for descending).")
@click.option("--to", "to", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder to write into (created if missing).")
@click.option("--preset", help="Start from this export preset; flags given here override it.")
@setting_options
@click.option("--all-versions", is_flag=True, help="Export virtual copies too, not only each image's master.")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True, help="Parallel export processes.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_ctx
def export(ctx, ids, filters, all_, sort, to, preset, all_versions, jobs, as_json, **kwargs) -> None:
    """Render and write images: JPEG/PNG/TIFF with ICC profile and metadata.

    A file that fails is reported as "PATH: reason" and the others go on; the exit
    status is 1 if any failed.
    """
    from maskroom.core.progress import RichProgress

    catalog = ctx.catalog
    report = ExportReport()
    try:
        with catalog.session() as s:
            settings = resolve_settings(s, preset, _overrides(kwargs))
            image_ids = _select_image_ids(s, ids, filters, all_, sort)
            version_ids = master_version_ids(s, image_ids, report)
            if all_versions:
                version_ids = list(
                    s.scalars(
                        select(EditVersion.id)
                        .where(EditVersion.image_id.in_(image_ids))
                        .order_by(EditVersion.image_id, EditVersion.id)
                    )
                )
        for source, reason in report.failed:
            click.echo(f"{source}: {reason}", err=True)
        with RichProgress(unit="images") as progress:
            run_export(catalog, version_ids, to, settings, jobs=jobs, progress=progress, report=report)
    except ExportError as exc:
        fail(str(exc))
    if as_json:
        echo_json(
            {
                "ok": report.ok,
                "exported": report.exported,
                "skipped": report.skipped,
                "failed": [{"path": p, "reason": r} for p, r in report.failed],
                "seconds": round(report.seconds, 3),
                "interrupted": report.interrupted,
            }
        )
    else:
        click.echo(report.summary())
    if report.interrupted:
        sys.exit(130)
    if not report.ok:
        sys.exit(1)


@main.group("export-preset")
def export_preset() -> None:
    """Named export settings: save, list, delete."""


@export_preset.command("save")
@click.argument("name")
@setting_options
@pass_ctx
def preset_save(ctx, name, **kwargs) -> None:
    """Save the given flags as export preset NAME (replaces one of that name)."""
    values = _overrides(kwargs)
    try:
        with ctx.catalog.session() as s:
            save_preset(s, name, values)
    except ExportError as exc:
        fail(str(exc))
    shown = " ".join(f"{k}={v}" for k, v in values.items()) or "(defaults)"
    click.echo(f"saved export preset {name!r}: {shown}")


@export_preset.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def preset_list(ctx, as_json) -> None:
    """The saved export presets and their settings."""
    with ctx.catalog.session() as s:
        rows = [(p.name, dict(p.body or {})) for p in list_presets(s)]
    if as_json:
        echo_json([{"name": n, "settings": b} for n, b in rows])
        return
    if not rows:
        click.echo("no export presets")
    for name, body in rows:
        click.echo(f"{name}: " + (" ".join(f"{k}={v}" for k, v in body.items()) or "(defaults)"))


@export_preset.command("delete")
@click.argument("name")
@pass_ctx
def preset_delete(ctx, name) -> None:
    """Delete export preset NAME."""
    try:
        with ctx.catalog.session() as s:
            delete_preset(s, name)
    except ExportError as exc:
        fail(str(exc))
    click.echo(f"deleted export preset {name!r}")
