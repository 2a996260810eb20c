"""Everything about one file that can be done without the catalog.

Runs in worker processes: hash, metadata, displayed size, thumbnail + preview in
the cache folder, series features, and for --copy-to the copy itself.  Returns a
plain dict (picklable) or raises DecodeError with a one-line reason.
"""
from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

from maskroom.core import files
from maskroom.engine.export.naming import NameFields, ensure_inside, relative_name, with_counter
from maskroom.engine.imageio.decode import DecodeError, check_readable, displayed_size
from maskroom.engine.imageio.formats import format_of
from maskroom.engine.imageio.metadata import read_metadata
from maskroom.engine.imageio.previews import make_derivatives
from maskroom.engine.series.features import compute_features
from maskroom.engine.xmp import read_image_xmp
from maskroom.engine.xmp.write import copy_sidecar_beside

def content_hash(path: Path) -> str:
    try:
        return files.content_hash(path)
    except PermissionError:
        raise DecodeError(path, "permission denied") from None
    except OSError as exc:
        raise DecodeError(path, f"cannot read file ({exc.strerror or exc})") from None


def copy_into(source: Path, dest_root: Path, template: str, capture: datetime | None, camera: str | None,
              digest: str) -> Path:
    """Copy an original into the library folder by template; never overwrite a different file."""
    ext = source.suffix.lstrip(".")
    when = capture or datetime.fromtimestamp(source.stat().st_mtime)
    rel = relative_name(template, NameFields(name=source.stem, id=0, date=when, camera=camera or ""), ext)
    # Keep the original's extension case (IMG_1.CR2 stays .CR2).
    rel = rel.with_name(rel.stem + source.suffix)
    dest = ensure_inside(dest_root, rel)
    n = 1
    while dest.exists():
        if content_hash(dest) == digest:
            return dest  # already copied by an earlier (maybe interrupted) run
        n += 1
        dest = with_counter(ensure_inside(dest_root, rel), n)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    shutil.copy2(source, tmp)
    tmp.replace(dest)
    return dest


def analyze(path: str, sidecars: list[str], cache_dir: str, copy_to: str | None, template: str | None) -> dict:
    src = Path(path)
    check_readable(src)
    digest = content_hash(src)
    md = read_metadata(src)
    # Size from the header first: it rejects bombs and non-images before decoding.
    width, height = displayed_size(src)
    thumb, preview = make_derivatives(src, Path(cache_dir), digest)
    phash, features = compute_features(thumb)
    final = src
    sidecar_info = []
    if copy_to:
        final = copy_into(src, Path(copy_to), template or "{date:%Y/%Y-%m-%d}/{name}", md.capture_time,
                          md.camera_model, digest)
    for sc in sidecars:
        scp = Path(sc)
        sc_hash = content_hash(scp)
        if copy_to:
            scp = copy_into(scp, Path(copy_to), template or "{date:%Y/%Y-%m-%d}/{name}", md.capture_time,
                            md.camera_model, sc_hash)
        sidecar_info.append({"path": str(scp), "hash": sc_hash, "size": scp.stat().st_size,
                             "format": format_of(scp) or scp.suffix.lstrip(".").lower()})
    st = final.stat()
    # Embedded XMP and sidecars: a bad one is a warning in the result, never a failed import.
    xmp = read_image_xmp(src, width, height)
    if copy_to and xmp.sidecar and xmp.sidecar_state:
        copied = copy_sidecar_beside(Path(xmp.sidecar), src, final)
        xmp.sidecar = str(copied) if copied else None
    return {
        "source": str(src),
        "path": str(final),
        "hash": digest,
        "size": st.st_size,
        "mtime": st.st_mtime,
        "format": format_of(src),
        "width": width,
        "height": height,
        "metadata": md,
        "phash": phash,
        "features": features,
        "sidecars": sidecar_info,
        "xmp": xmp,
        # (width, height) of the cached derivatives, for their preview_cache rows
        "derivatives": {"thumb": thumb.shape[1::-1], "preview": preview.shape[1::-1]},
    }
