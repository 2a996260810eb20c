"""`maskroom catalog create|upgrade|check|backup|vacuum|info`."""
from __future__ import annotations

from pathlib import Path

import click

from maskroom.cli.base import echo_json, main, pass_ctx
from maskroom.services import catalog_admin


@main.group()
def catalog() -> None:
    """Maintain the catalog: upgrade, check, back up, vacuum."""


@catalog.command()
@click.argument("path", required=False, metavar="[PATH|URL]")
@pass_ctx
def create(ctx, path: str | None) -> None:
    """Make a new catalog at PATH (default: the --catalog one); an existing one is refused."""
    click.echo(f"created {catalog_admin.create(path or ctx.catalog_value)}")


@catalog.command()
@pass_ctx
def info(ctx) -> None:
    """Where the catalog is, its schema revision and size."""
    d = catalog_admin.info(ctx.catalog_value)
    click.echo(f"catalog:  {d['url']}")
    click.echo(f"cache:    {d['cache']}")
    click.echo(f"revision: {d['revision']} (head {d['head']})")
    if d["images"] is not None:
        click.echo(f"images:   {d['images']}")


@catalog.command()
@click.option("--no-backup", is_flag=True, help="Skip the safety copy of an SQLite catalog.")
@pass_ctx
def upgrade(ctx, no_backup: bool) -> None:
    """Bring the catalog's schema to this maskroom's version (a backup is taken first)."""
    before, after, backup_path = catalog_admin.upgrade(ctx.catalog_value, backup=not no_backup)
    if after is not None:
        click.echo(f"upgraded {before or 'empty'} -> {after}")
        if backup_path:
            click.echo(f"backup: {backup_path}")
    else:
        click.echo(f"already at {before}")


@catalog.command()
@click.option("--fix", is_flag=True, help="Mark missing originals and drop cache rows whose file is gone.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def check(ctx, fix: bool, as_json: bool) -> None:
    """Integrity check plus maskroom's own consistency checks. Exit 1 on problems."""
    findings, dropped = catalog_admin.check(ctx.catalog, fix=fix)
    if as_json:
        echo_json({"ok": not findings, "findings": [f.__dict__ for f in findings], "cache_rows_dropped": dropped})
    else:
        for f in findings:
            click.echo(f"{f.kind}: {f.message}")
        if fix and dropped:
            click.echo(f"dropped {dropped} cache rows (rebuilt on demand)")
        click.echo("ok" if not findings else f"{len(findings)} problem(s)")
    # Only real damage fails the check; cache rows are derived and rebuilt on demand.
    if any(f.kind != "cache" for f in findings) or (findings and not fix):
        raise SystemExit(1)


@catalog.command()
@click.argument("dest", required=False, type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def backup(ctx, dest: Path | None) -> None:
    """Write a consistent copy of an SQLite catalog (online; safe while in use)."""
    path = catalog_admin.backup(ctx.catalog, dest)
    click.echo(str(path))


@catalog.command()
@pass_ctx
def vacuum(ctx) -> None:
    """Compact the database file and refresh the planner's statistics."""
    catalog_admin.vacuum(ctx.catalog)
    click.echo("vacuumed")
