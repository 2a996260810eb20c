"""`maskroom xmp read | write | status | auto-write`."""
from __future__ import annotations

import click

from maskroom.cli.base import ID, echo_json, main, pass_ctx, warn
from maskroom.cli.library_cmds import filter_option
from maskroom.services import library
from maskroom.services import xmp as xmp_service


@main.group("xmp")
def xmp_group():
    """XMP sidecars: read them in, write them out, see which changed outside maskroom."""


def _ids(ctx, ids, filters, every, default_all: bool = False):
    return library.select_ids(ctx.catalog, ids, filters, every or (default_all and not ids and not filters))


def _print(results, as_json: bool, verb: str) -> None:
    if as_json:
        echo_json([r.to_dict() for r in results])
        return
    for r in results:
        for w in r.warnings:
            warn(w)
        if r.status in ("none", "in-sync"):
            continue
        click.echo(f"{r.image_id:>6}  {r.status:<9} {r.path or ''}")
        for n in r.notes:
            click.echo(f"{'':>8}not mapped: {n}")
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    click.echo(f"{verb}: " + (", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "nothing"), err=True)


@xmp_group.command("read")
@click.argument("ids", nargs=-1, type=ID)
@filter_option
@click.option("--all", "every", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def xmp_read(ctx, ids, filters, every, as_json):
    """Take sidecars / embedded XMP in: rating, label, keywords, text, GPS and the edit."""
    _print(xmp_service.read(ctx.catalog, _ids(ctx, ids, filters, every)), as_json, "xmp read")


@xmp_group.command("write")
@click.argument("ids", nargs=-1, type=ID)
@filter_option
@click.option("--all", "every", is_flag=True)
@click.option("--force", is_flag=True, help="Overwrite sidecars that changed outside maskroom.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def xmp_write(ctx, ids, filters, every, force, as_json):
    """Write sidecars (never the originals); foreign fields in them are kept."""
    results = xmp_service.write(ctx.catalog, _ids(ctx, ids, filters, every), force=force)
    _print(results, as_json, "xmp write")
    if any(r.status in ("conflict", "error") for r in results) and not as_json:
        raise SystemExit(1)


@xmp_group.command("status")
@click.argument("ids", nargs=-1, type=ID)
@filter_option
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def xmp_status(ctx, ids, filters, as_json):
    """Photos whose sidecar changed outside maskroom since the last read or write."""
    chosen = _ids(ctx, ids, filters, False, default_all=True)
    _print(xmp_service.status(ctx.catalog, chosen), as_json, "xmp status")


@xmp_group.command("auto-write")
@click.argument("state", type=click.Choice(["on", "off", "show"]), default="show")
@pass_ctx
def xmp_auto_write(ctx, state):
    """Write sidecars automatically after each change (a catalog setting)."""
    if state != "show":
        xmp_service.set_auto_write(ctx.catalog, state == "on")
    click.echo(f"xmp auto-write: {'on' if xmp_service.auto_write_enabled(ctx.catalog) else 'off'}")
