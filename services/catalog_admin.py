"""Opening and maintaining a catalog (``maskroom catalog create|info|upgrade|check|backup|vacuum``
and the front ends' start-up)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from maskroom.catalog import Catalog, CatalogError, checks
from maskroom.catalog.database import display_url
from maskroom.catalog.schema import Image

__all__ = ["Catalog", "CatalogError", "open_catalog", "create", "info", "upgrade", "check", "backup", "vacuum"]


def open_catalog(value: str | None = None, *, upgrade: bool = True) -> Catalog:
    """The catalog at VALUE (path or URL; None: the default file).

    A catalog the user names must exist (a typo in a path would otherwise make an empty
    catalog); only the default user catalog is made on first use.  ``create`` makes one.
    """
    return Catalog.open(value, upgrade=upgrade, create=value is None)


def create(value: str | None = None) -> str:
    """Make a new catalog at VALUE (refused when one is there); returns where it is."""
    cat = Catalog.create(value)
    cat.close()
    return str(cat.location.sqlite_path or display_url(cat.location))


def info(value: str | None) -> dict:
    """Where the catalog is, its schema revision and (when current) its image count."""
    cat = open_catalog(value, upgrade=False)
    try:
        n = None
        if not cat.needs_upgrade():
            with cat.session() as s:
                n = s.scalar(select(func.count(Image.id)))
        return {"url": cat.location.url, "cache": str(cat.cache_dir), "revision": cat.current_revision(),
                "head": cat.head_revision(), "images": n}
    finally:
        cat.close()


def upgrade(value: str | None, backup: bool = True) -> tuple[str | None, str | None, Path | None]:
    """Bring the schema to this maskroom's version; returns (before, after or None when
    already current, the backup taken)."""
    cat = open_catalog(value, upgrade=False)
    try:
        before = cat.current_revision()
        try:
            changed = cat.upgrade(backup=backup)
        except CatalogError:
            raise
        except Exception as exc:  # alembic errors carry long traces: one line is enough
            raise CatalogError(f"{cat.location.url}: upgrade failed: {exc}") from exc
        return before, (cat.current_revision() if changed else None), cat.last_backup
    finally:
        cat.close()


def check(catalog: Catalog, fix: bool = False) -> tuple[list, int]:
    """Integrity and consistency findings; with FIX, missing files are marked and dangling
    cache rows dropped (returns how many)."""
    findings = checks.run_all(catalog, mark_missing=fix)
    dropped = checks.drop_dangling_cache_rows(catalog) if fix else 0
    return findings, dropped


def backup(catalog: Catalog, dest: Path | None = None) -> Path:
    return catalog.backup(dest)


def vacuum(catalog: Catalog) -> None:
    catalog.vacuum()
