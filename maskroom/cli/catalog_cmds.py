"""`maskroom catalog create|upgrade|check|backup|vacuum|info`."""
from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import func, select

from maskroom.catalog import Catalog, CatalogError, checks
from maskroom.catalog.schema import Image
from maskroom.cli.base import echo_json, fail, main, pass_ctx


@main.group()
def catalog() -> None:
    """Maintain the catalog: upgrade, check, back up, vacuum."""


def _open_without_upgrade(ctx) -> Catalog:
    try:
        return Catalog.open(ctx.catalog_value, upgrade=False, create=ctx.catalog_value is None)
    except CatalogError as exc:
        fail(str(exc))


@catalog.command()
@click.argument("path", required=False, metavar="[PATH|URL]")
@pass_ctx
def create(ctx, path: str | None) -> None:
    """Make a new catalog at PATH (default: the --catalog one); an existing one is refused."""
    try:
        cat = Catalog.create(path or ctx.catalog_value)
    except CatalogError as exc:
        fail(str(exc))
    cat.close()
    click.echo(f"created {cat.location.sqlite_path or path or ctx.catalog_value}")


@catalog.command()
@pass_ctx
def info(ctx) -> None:
    """Where the catalog is, its schema revision and size."""
    cat = _open_without_upgrade(ctx)
    try:
        with cat.session() as s:
            n = s.scalar(select(func.count(Image.id))) if not cat.needs_upgrade() else None
        click.echo(f"catalog:  {cat.location.url}")
        click.echo(f"cache:    {cat.cache_dir}")
        click.echo(f"revision: {cat.current_revision()} (head {cat.head_revision()})")
        if n is not None:
            click.echo(f"images:   {n}")
    finally:
        cat.close()


@catalog.command()
@click.option("--no-backup", is_flag=True, help="Skip the safety copy of an SQLite catalog.")
@pass_ctx
def upgrade(ctx, no_backup: bool) -> None:
    """Bring the catalog's schema to this maskroom's version (a backup is taken first)."""
    cat = _open_without_upgrade(ctx)
    try:
        before = cat.current_revision()
        if cat.upgrade(backup=not no_backup):
            click.echo(f"upgraded {before or 'empty'} -> {cat.current_revision()}")
            if cat.last_backup:
                click.echo(f"backup: {cat.last_backup}")
        else:
            click.echo(f"already at {before}")
    except Exception as exc:  # alembic errors carry long traces: one line is enough
        fail(f"{cat.location.url}: upgrade failed: {exc}")
    finally:
        cat.close()


@catalog.command()
@click.option("--fix", is_flag=True, help="Mark missing originals and drop cache rows whose file is gone.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def check(ctx, fix: bool, as_json: bool) -> None:
    """Integrity check plus maskroom's own consistency checks. Exit 1 on problems."""
    cat = ctx.catalog
    findings = checks.run_all(cat, mark_missing=fix)
    dropped = checks.drop_dangling_cache_rows(cat) if fix else 0
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
    try:
        path = ctx.catalog.backup(dest)
    except CatalogError as exc:
        fail(str(exc))
    click.echo(str(path))


@catalog.command()
@pass_ctx
def vacuum(ctx) -> None:
    """Compact the database file and refresh the planner's statistics."""
    ctx.catalog.vacuum()
    click.echo("vacuumed")
