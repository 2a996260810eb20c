"""`maskroom migrate lightroom | darktable`."""
from __future__ import annotations

from pathlib import Path

import click

from maskroom.cli.base import echo_json, failing_on, main, pass_ctx, warn
from maskroom.core.progress import RichProgress
from maskroom.services import migrate as migrate_service

map_option = click.option("--map", "maps", multiple=True, metavar="OLD=NEW",
                          help="Rewrite paths that start with OLD (a moved drive, another machine); repeatable.")


@main.group("migrate")
def migrate_group():
    """Bring a Lightroom Classic catalog or a darktable library over (read-only on them)."""


def _report(summary: migrate_service.MigrateSummary, as_json: bool) -> None:
    if as_json:
        echo_json(summary.to_dict())
        return
    d = summary
    head = "would bring over" if d.dry_run else "brought over"
    click.echo(f"{head} from {d.source}: {d.photos} photo(s), {len(d.missing)} not found on disk, "
               f"{d.imported} imported, {d.already} already catalogued, {d.virtual_copies} virtual cop(ies), "
               f"{d.keywords} keyword assignment(s), {d.collections} collection(s), {d.edits} edit(s)"
               + (f", {d.film_rolls} film roll(s), {d.histories_kept} darktable histories kept" if d.film_rolls else ""))
    for path in d.missing[:20]:
        warn(f"  not found: {path} (use --map OLD=NEW when the files moved)")
    if len(d.missing) > 20:
        warn(f"  ... and {len(d.missing) - 20} more not found")
    for path, items in d.unmapped.items():
        click.echo(f"  not mapped for {path}:")
        for item in items:
            click.echo(f"    {item}")
    for item in d.skipped:
        click.echo(f"  not taken: {item}")
    for w in d.warnings:
        warn(w)


def source_options(fn):
    """What every migration takes: --dry-run, --map OLD=NEW, --jobs, --json."""
    for option in reversed([click.option("--dry-run", is_flag=True, help="Read and count; change nothing."),
                            map_option,
                            click.option("--jobs", "-j", type=click.IntRange(1, 256), help="Import worker processes."),
                            click.option("--json", "as_json", is_flag=True)]):
        fn = option(fn)
    return pass_ctx(fn)


@migrate_group.command("lightroom")
@click.argument("lrcat", type=click.Path(path_type=Path, dir_okay=False))
@source_options
def migrate_lightroom(ctx, lrcat, dry_run, maps, jobs, as_json):
    """Folders, files, ratings, flags, labels, keywords, collections, virtual copies and edits from a .lrcat."""
    _migrate(migrate_service.lightroom, ctx, lrcat, dry_run, maps, jobs, as_json)


@migrate_group.command("darktable")
@click.argument("library_db", type=click.Path(path_type=Path, dir_okay=False))
@source_options
def migrate_darktable(ctx, library_db, dry_run, maps, jobs, as_json):
    """Film rolls, images, ratings/rejects, colour labels, tags and their history from a darktable library.db."""
    _migrate(migrate_service.darktable, ctx, library_db, dry_run, maps, jobs, as_json)


def _migrate(service, ctx, source, dry_run, maps, jobs, as_json) -> None:
    with failing_on(migrate_service.MigrateError), RichProgress(unit="photos", enabled=False if as_json else None) as p:
        summary = service(ctx.catalog if not dry_run else None, source, dry_run=dry_run,
                          maps=migrate_service.parse_maps(maps), jobs=jobs, progress=p)
    _report(summary, as_json)
