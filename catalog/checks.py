"""Consistency checks for `maskroom catalog check`.

SQLite's own integrity_check first, then what only maskroom knows: originals that
went missing or changed on disk, rows whose owner is gone, versions without a global layer,
cache entries whose file vanished.  Each finding is one line a person can act on.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from maskroom.catalog.database import Catalog
from maskroom.catalog.schema import (
    EditVersion,
    Folder,
    HistoryStep,
    Image,
    Layer,
    MaskRaster,
    PreviewCacheEntry,
    Sidecar,
)
from maskroom.core import files
from maskroom.core.paths import display_path
from sqlalchemy import func, select
from sqlalchemy.orm import aliased


@dataclass
class Finding:
    kind: str  # integrity | missing-file | changed-file | orphan | structure | cache
    message: str
    fixable: bool = False


def integrity(catalog: Catalog) -> list[Finding]:
    if not catalog.location.is_sqlite:
        return []
    with catalog.engine.connect() as conn:
        rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").fetchall()]
        fk = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    out = [Finding("integrity", f"sqlite: {r}") for r in rows if r != "ok"]
    out += [Finding("orphan", f"table {r[0]} row {r[1]} points at a missing {r[2]} row") for r in fk]
    return out


def missing_files(catalog: Catalog, mark: bool = False) -> list[Finding]:
    """Originals and sidecars no longer on disk; with mark=True, flag/unflag Image.missing."""
    out: list[Finding] = []
    with catalog.session() as s:
        for img in s.scalars(select(Image).order_by(Image.id)):
            exists = Path(img.path).exists()
            if not exists:
                out.append(Finding("missing-file", f"image {img.id}: original missing: {img.path}", fixable=True))
            if mark and img.missing == exists:
                img.missing = not exists
        for sc in s.scalars(select(Sidecar).order_by(Sidecar.id)):
            if not Path(sc.path).exists():
                out.append(Finding("missing-file", f"image {sc.image_id}: sidecar missing: {sc.path}"))
    return out


def changed_files(catalog: Catalog) -> list[Finding]:
    """Originals whose file now holds other content than the one imported (retouched in
    another program, rewritten by a converter): their previews, masks and camera data
    are of the old pixels.  Only files whose size or date moved are hashed."""
    out: list[Finding] = []
    with catalog.read_session() as s:
        rows = s.execute(select(Image.id, Image.path, Image.file_size, Image.mtime, Image.content_hash)
                         .where(Image.missing.is_(False)).order_by(Image.id)).all()
    for image_id, path, size, mtime, digest in rows:
        try:
            if not files.holds_other_content(path, size, mtime, digest):
                continue
        except OSError:
            continue  # missing or unreadable: missing_files says so
        out.append(Finding("changed-file", f"image {image_id}: original changed since import (other content): "
                           f"{display_path(path)}; importing its folder again re-reads it and keeps its edit"))
    return out


def orphans(catalog: Catalog) -> list[Finding]:
    """Rows the foreign keys cannot catch (they are enforced, but a catalog may be old)."""
    out: list[Finding] = []
    with catalog.read_session() as s:
        lonely = s.scalars(
            select(Image.id).outerjoin(Folder, Image.folder_id == Folder.id).where(Folder.id.is_(None))
        ).all()
        out += [Finding("orphan", f"image {i}: its folder row is gone") for i in lonely]
        no_global = s.scalars(
            select(EditVersion.id)
            .outerjoin(Layer, (Layer.version_id == EditVersion.id) & (Layer.position == 0))
            .where(Layer.id.is_(None))
        ).all()
        # A version with no layers at all is a fresh master; one with layers but no global layer is broken.
        counted = dict(
            s.execute(select(Layer.version_id, func.count(Layer.id)).group_by(Layer.version_id)).all()
        )
        out += [
            Finding("structure", f"edit version {v}: layers present but no global layer at position 0")
            for v in no_global
            if counted.get(v)
        ]
        step = aliased(HistoryStep)
        ahead = s.execute(
            select(EditVersion.id, EditVersion.history_position, func.max(step.seq), func.count(step.id))
            .join(step, step.version_id == EditVersion.id)
            .group_by(EditVersion.id, EditVersion.history_position)
        ).all()
        out += [
            Finding("structure", f"edit version {v}: history position {p} is past its last step {m}")
            for v, p, m, _ in ahead
            if p > m
        ]
        # Steps are numbered 0, 1, 2, ... with no gap (a lost concurrent step leaves one).
        out += [
            Finding("structure", f"edit version {v}: history has {n} steps numbered up to {m} (a gap)")
            for v, _, m, n in ahead
            if n != m + 1
        ]
    return out


def cache_entries(catalog: Catalog) -> list[Finding]:
    out: list[Finding] = []
    with catalog.read_session() as s:
        for entry in s.scalars(select(PreviewCacheEntry)):
            if not (catalog.cache_dir / entry.path).exists():
                out.append(Finding("cache", f"image {entry.image_id}: cached {entry.kind} file gone: {entry.path}", True))
        for raster in s.scalars(select(MaskRaster).where(MaskRaster.path.is_not(None))):
            if not (catalog.cache_dir / raster.path).exists():
                out.append(Finding("cache", f"version {raster.version_id}: mask raster gone: {raster.path}", True))
    return out


def run_all(catalog: Catalog, mark_missing: bool = False) -> list[Finding]:
    return (integrity(catalog) + orphans(catalog) + missing_files(catalog, mark=mark_missing) + changed_files(catalog)
            + cache_entries(catalog))


def drop_dangling_cache_rows(catalog: Catalog) -> int:
    """Cache rows whose file is gone are derived state: forget them so they are rebuilt."""
    n = 0
    with catalog.session() as s:
        for entry in s.scalars(select(PreviewCacheEntry)):
            if not (catalog.cache_dir / entry.path).exists():
                s.delete(entry)
                n += 1
        for raster in s.scalars(select(MaskRaster).where(MaskRaster.path.is_not(None))):
            if not (catalog.cache_dir / raster.path).exists():
                s.delete(raster)
                n += 1
    return n
