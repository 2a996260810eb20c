"""Between XMP and the catalog: what a read puts into an image's row, keywords and
edit, and what a write takes from them.  Runs inside the caller's session."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from maskroom.catalog import edits, library
from maskroom.catalog.schema import FLAG_NONE, FLAG_PICK, FLAG_REJECT, Image, ImageKeyword, XmpSidecarState, utcnow
from maskroom.core.recipe import Recipe
from maskroom.core.values import IPTC_FIELDS, clean_iptc
from maskroom.engine.xmp import XmpRead
from maskroom.engine.xmp.read import file_state, sidecar_candidates

FLAG_NAMES = {FLAG_PICK: "pick", FLAG_REJECT: "reject", FLAG_NONE: "none"}


def apply_read(session: Session, img: Image, xr: XmpRead, *, replace_keywords: bool = False,
               label: str = "Read XMP") -> bool:
    """Put a read's values on ``img`` (and its master edit when the XMP has one).
    Returns whether the edit changed."""
    f = xr.fields
    if f.rating is not None:
        img.rating = f.rating
    if f.flag is not None:
        img.flag = {"pick": FLAG_PICK, "reject": FLAG_REJECT}.get(f.flag, FLAG_NONE)
    if f.label is not None:
        img.color_label = f.label
    extra = dict(img.extra or {})
    for key in IPTC_FIELDS:  # columns, tidied as any text read from a file
        value = clean_iptc(key, getattr(f, key))
        if value:
            setattr(img, key, value)
    if f.usage_terms:
        extra["usage_terms"] = f.usage_terms
    if f.capture_offset:
        extra["capture_offset"] = f.capture_offset
    if f.capture_time is not None:
        img.capture_time = f.capture_time
    if f.gps_lat is not None and f.gps_lon is not None:
        img.gps_lat, img.gps_lon = f.gps_lat, f.gps_lon
        if f.gps_alt is not None:
            img.gps_alt = f.gps_alt
    if xr.unmapped:
        extra["xmp_unmapped"] = list(xr.unmapped)
    else:
        extra.pop("xmp_unmapped", None)
    img.extra = extra
    session.flush()
    if replace_keywords and (f.keywords or xr.source):
        session.execute(delete(ImageKeyword).where(ImageKeyword.image_id == img.id))
    for path in f.keywords:
        try:
            library.add_keyword(session, [img.id], path)
        except library.LibraryError:
            xr.warnings.append(f"{xr.source}: keyword {path!r} ignored (empty level)")
    changed = False
    if xr.recipe is not None:
        version = edits.get_version(session, img.id)
        recipe = Recipe.from_dict(xr.recipe)
        if recipe.digest() != edits.load_recipe(session, version.id).digest():
            edits.save_recipe(session, version.id, recipe, label)
            changed = True
    if xr.sidecar and xr.sidecar_state:
        record_state(session, img.id, Path(xr.sidecar), "read", xr.unmapped, xr.sidecar_state)
    return changed


def record_state(session: Session, image_id: int, path: Path, action: str, notes: list[str],
                 state: dict[str, Any] | None = None) -> XmpSidecarState:
    state = state or file_state(path)
    row = session.scalar(select(XmpSidecarState).where(XmpSidecarState.image_id == image_id))
    if row is None:
        row = XmpSidecarState(image_id=image_id, path=str(path), last_action=action)
        session.add(row)
    row.path, row.digest, row.size, row.mtime = str(path), state["digest"], state["size"], state["mtime"]
    row.last_action, row.synced_at, row.notes = action, utcnow(), list(notes)
    session.flush()
    return row


def image_meta(session: Session, img: Image) -> dict[str, Any]:
    """The catalog's values a sidecar carries, keyed as ``fields.XmpFields``."""
    extra = img.extra or {}
    meta: dict[str, Any] = {
        "rating": img.rating, "flag": FLAG_NAMES.get(img.flag, "none"), "label": img.color_label,
        "keywords": library.image_keywords(session, img.id),
        "gps_lat": img.gps_lat, "gps_lon": img.gps_lon, "gps_alt": img.gps_alt,
        "capture_time": img.capture_time, "capture_offset": extra.get("capture_offset"),
    }
    for key in IPTC_FIELDS:
        meta[key] = getattr(img, key)
    meta["usage_terms"] = extra.get("usage_terms")
    return meta


def sidecar_path_for(session: Session, img: Image) -> Path:
    """Where an image's sidecar goes: the one maskroom last read or wrote, else one
    already beside the file, else ``IMG_1.xmp`` (Lightroom's name) unless another
    photo in the folder shares the stem, then ``IMG_1.CR3.xmp`` (darktable's)."""
    row = session.scalar(select(XmpSidecarState).where(XmpSidecarState.image_id == img.id))
    if row is not None:
        return Path(row.path)
    path = Path(img.path)
    found = sidecar_candidates(path)
    if found:
        return found[0]
    stem = path.stem.lower()
    siblings = session.scalars(select(Image.filename).where(Image.folder_id == img.folder_id, Image.id != img.id))
    if any(Path(n).stem.lower() == stem for n in siblings):
        return path.with_name(path.name + ".xmp")
    return path.with_name(path.stem + ".xmp")
