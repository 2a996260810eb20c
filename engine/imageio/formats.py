"""Which files are photos, by extension, and what kind each is."""
from __future__ import annotations

from pathlib import Path

RAW_EXTENSIONS = frozenset({
    ".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".raf", ".orf",
    ".rw2", ".pef", ".kdc", ".dcr", ".mrw", ".3fr", ".erf", ".mef", ".mos", ".x3f", ".srw", ".iiq",
})
RASTER_FORMATS = {
    ".jpg": "jpeg", ".jpeg": "jpeg", ".jpe": "jpeg",
    ".png": "png",
    ".tif": "tiff", ".tiff": "tiff",
    ".webp": "webp",
    ".heic": "heic", ".heif": "heic", ".hif": "heic",
}
SUPPORTED = frozenset(RASTER_FORMATS) | RAW_EXTENSIONS


def format_of(path: Path) -> str | None:
    ext = path.suffix.lower()
    if ext in RAW_EXTENSIONS:
        return "raw-" + ext[1:]
    return RASTER_FORMATS.get(ext)


def is_raw(path: Path) -> bool:
    return path.suffix.lower() in RAW_EXTENSIONS


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED
