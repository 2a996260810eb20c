"""XMP use cases: read sidecars/embedded XMP into the catalog, write sidecars, and say
which sidecars changed outside maskroom.  Plain values out; never prints."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import select

from maskroom.catalog import Catalog, edits
from maskroom.catalog.schema import EditVersion, Image, XmpSidecarState
from maskroom.catalog.settings import get_setting, set_setting
from maskroom.core.files import FileWriteError
from maskroom.engine.xmp import XmpError, read_image_xmp
from maskroom.engine.xmp.apply import apply_read, image_meta, record_state, sidecar_path_for
from maskroom.engine.xmp.read import file_state, properties, read_sidecar, sidecar_candidates
from maskroom.engine.xmp.write import (
    atomic_write,
    darktable_history_properties,
    develop_properties,
    metadata_properties,
    render,
)

AUTO_WRITE = "xmp.auto_write"
log = logging.getLogger("maskroom")


@dataclass
class XmpResult:
    image_id: int
    path: str | None
    status: str  # read | none | written | conflict | error | in-sync | changed | missing | unread
    notes: list[str] = field(default_factory=list)  # unmapped (read), lossy (write)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _changed(row: XmpSidecarState, path: Path) -> bool:
    st = path.stat()
    if st.st_size == row.size and abs(st.st_mtime - row.mtime) < 1e-6:
        return False
    return file_state(path)["digest"] != row.digest


def _row(session, image_id: int) -> XmpSidecarState | None:
    return session.scalar(select(XmpSidecarState).where(XmpSidecarState.image_id == image_id))


def read(catalog: Catalog, ids: Iterable[int]) -> list[XmpResult]:
    """Take each image's XMP in (sidecar or embedded, the newer wins): metadata,
    keywords (replacing the image's), and the edit as one undoable history step."""
    out = []
    for image_id in sorted(set(ids)):
        with catalog.session() as s:
            img = s.get(Image, image_id)
            xr = read_image_xmp(Path(img.path), img.width, img.height)
            if not xr.found:
                out.append(XmpResult(image_id, None, "none", warnings=xr.warnings))
                continue
            apply_read(s, img, xr, replace_keywords=True)
            out.append(XmpResult(image_id, xr.source, "read", xr.unmapped, xr.warnings))
    return out


def _master(session, image_id: int) -> EditVersion | None:
    return session.scalar(select(EditVersion).where(EditVersion.image_id == image_id,
                                                    EditVersion.is_master.is_(True)).order_by(EditVersion.id))


def write_one(session, img: Image, force: bool = False) -> XmpResult:
    path = sidecar_path_for(session, img)
    row = _row(session, img.id)
    existing = None
    if path.exists():
        if not force and (row is None or _changed(row, path)):
            why = "never read by maskroom" if row is None else "changed outside maskroom since the last read/write"
            return XmpResult(img.id, str(path), "conflict",
                             warnings=[f"{path}: {why}; run `maskroom xmp read` first or write with --force"])
        try:
            existing = read_sidecar(path)
        except XmpError as exc:
            if not force:
                return XmpResult(img.id, str(path), "error", warnings=[f"{exc}; not overwritten (--force replaces it)"])
    have = properties(existing) if existing is not None else {}
    up, lossy = metadata_properties(image_meta(session, img), have)
    master = _master(session, img.id)
    recipe = edits.load_recipe(session, master.id) if master is not None else None
    dev, dev_lossy = develop_properties(recipe, img.width, img.height, have, str(path))
    if master is not None:
        dev.update(darktable_history_properties((master.extra or {}).get("darktable_history"), have))
    if len(img.versions) > 1:
        dev_lossy.append(f"{len(img.versions) - 1} virtual cop{'y' if len(img.versions) == 2 else 'ies'} "
                         "(a sidecar carries the master edit)")
    try:
        atomic_write(path, render(existing, {**up, **dev}))
    except FileWriteError as exc:  # its message names the file and the reason
        return XmpResult(img.id, str(path), "error", warnings=[str(exc)])
    record_state(session, img.id, path, "write", lossy + dev_lossy)
    return XmpResult(img.id, str(path), "written", lossy + dev_lossy)


def write(catalog: Catalog, ids: Iterable[int], force: bool = False) -> list[XmpResult]:
    """Write (or update) each image's sidecar; one whose file changed outside maskroom
    is a conflict and stays untouched unless ``force``.  Originals are never opened."""
    out = []
    for image_id in sorted(set(ids)):
        with catalog.session() as s:
            img = s.get(Image, image_id)
            if img is not None:
                out.append(write_one(s, img, force))
    return out


def status(catalog: Catalog, ids: Iterable[int] | None = None) -> list[XmpResult]:
    """Each image's sidecar against the state maskroom last read or wrote:
    in-sync, changed (outside maskroom), missing (deleted), unread (a sidecar maskroom
    never read)."""
    out = []
    with catalog.session() as s:
        stmt = select(Image)
        if ids is not None:
            stmt = stmt.where(Image.id.in_(sorted(set(ids))))
        rows = {r.image_id: r for r in s.scalars(select(XmpSidecarState))}
        for img in s.scalars(stmt.order_by(Image.id)):
            row = rows.get(img.id)
            if row is None:
                found = sidecar_candidates(Path(img.path))
                if found:
                    out.append(XmpResult(img.id, str(found[0]), "unread"))
                continue
            path = Path(row.path)
            if not path.exists():
                out.append(XmpResult(img.id, row.path, "missing"))
            else:
                out.append(XmpResult(img.id, row.path, "changed" if _changed(row, path) else "in-sync", row.notes))
    return out


def changed_image_ids(catalog: Catalog) -> set[int]:
    """Images whose sidecar changed outside maskroom (the app's badge): only the sidecars
    maskroom has read or written are looked at, size and mtime first."""
    with catalog.session() as s:
        rows = list(s.scalars(select(XmpSidecarState)))
        s.expunge_all()
    return {r.image_id for r in rows if Path(r.path).exists() and _changed(r, Path(r.path))}


def auto_write_enabled(catalog: Catalog) -> bool:
    with catalog.session() as s:
        return bool(get_setting(s, AUTO_WRITE))


def set_auto_write(catalog: Catalog, on: bool) -> None:
    with catalog.session() as s:
        set_setting(s, AUTO_WRITE, bool(on))


def after_change(catalog: Catalog, ids: Iterable[int]) -> list[XmpResult]:
    """Called by front ends after a change to these images: writes their sidecars in
    one batch when the catalog's auto-write setting is on (conflicts are reported,
    never overwritten)."""
    ids = list(dict.fromkeys(ids))
    if not ids or not auto_write_enabled(catalog):
        return []
    results = write(catalog, ids)
    for r in results:  # the front ends show these lines (the CLI on stderr, the app in the status bar)
        for line in r.warnings:
            log.warning(line)
    return results
