"""`maskroom export ...` and `maskroom export-preset save|list|delete`."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from maskroom.cli.base import ID, echo_json, main, pass_ctx
from maskroom.cli.cluster_cmds import cluster_for, cluster_options
from maskroom.core.progress import RichProgress
from maskroom.services import export as export_service
from maskroom.services.export import (
    COLORSPACES,
    CONFLICT_MODES,
    METADATA_MODES,
    SHARPEN_MODES,
)

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
@cluster_options
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_ctx
def export(ctx, ids, filters, all_, sort, to, preset, all_versions, jobs, cluster, path_maps, as_json,
           **kwargs) -> None:
    """Render and write images: JPEG/PNG/TIFF with ICC profile and metadata.

    A file that fails is reported as "PATH: reason" and the others go on; the exit
    status is 1 if any failed.
    """
    catalog = ctx.catalog
    settings = export_service.resolve_settings(catalog, preset, _overrides(kwargs))
    with RichProgress(unit="images") as progress:
        report = export_service.export(catalog, ids=ids, filters=filters, every=all_, sort=sort, to=to,
                                       settings=settings, all_versions=all_versions, jobs=jobs, progress=progress,
                                       cluster=cluster_for(catalog, cluster, path_maps))
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
    export_service.save_export_preset(ctx.catalog, name, values)
    shown = " ".join(f"{k}={v}" for k, v in values.items()) or "(defaults)"
    click.echo(f"saved export preset {name!r}: {shown}")


@export_preset.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def preset_list(ctx, as_json) -> None:
    """The saved export presets and their settings."""
    rows = list(export_service.export_presets(ctx.catalog).items())
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
    export_service.delete_export_preset(ctx.catalog, name)
    click.echo(f"deleted export preset {name!r}")
