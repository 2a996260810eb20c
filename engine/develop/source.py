"""The develop engine's source pixels: an image decoded to linear Rec.2020 float32.

* RAW files go through rawpy at full quality: camera (as-shot) white balance by
  default, 16-bit *linear* output (``gamma=(1, 1)``, ``no_auto_bright=True``) in XYZ,
  converted to the working space here; recipe settings ``raw.white_balance``
  (as shot, auto, presets, Kelvin, picked: see ``raw_wb.py``) and ``raw.highlight_mode`` ("clip" | "ignore" | "blend" |
  "reconstruct") choose the decode.
* Other formats are decoded by the importer's ``maskroom.engine.imageio.decode``
  (ICC profile honoured, EXIF orientation applied) when it is installed; until then
  by a small Pillow path doing the same.
* Preview-scale renders start from the cached 2048 px preview
  (``maskroom.engine.imageio.previews.load_preview``), so an interactive render
  never decodes the original.

Decoded sources are kept in a small in-memory LRU (keyed by content hash, scale,
size and RAW options) so re-rendering after a slider change starts from memory.
"""
from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageCms

from maskroom.core import files
from maskroom.core.errors import MaskroomError
from maskroom.core.paths import display_path
from maskroom.engine.develop.color import SRGB_TO_WORK, XYZ_TO_REC2020, apply_matrix, srgb8_to_work
from maskroom.engine.develop.lens import LensError, correct, lens_key, with_lens_default
from maskroom.engine.develop.raw_wb import WhiteBalanceError, postprocess_wb, wb_spec
from maskroom.engine.imageio.decode import decode_rgb
from maskroom.engine.imageio.previews import load_preview

PREVIEW_LONG_EDGE = 2048
RAW_EXTENSIONS = {
    ".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".raf", ".orf", ".rw2",
    ".pef", ".srw", ".kdc", ".dcr", ".mrw", ".3fr", ".erf", ".mef", ".mos", ".raw", ".rwl", ".iiq", ".x3f",
}
HIGHLIGHT_MODES = {"clip": 0, "ignore": 1, "blend": 2, "reconstruct": 5}


class SourceError(MaskroomError, RuntimeError):
    """An original that cannot be decoded (the message names the file)."""


def is_raw(path: Path) -> bool:
    return Path(path).suffix.lower() in RAW_EXTENSIONS


def raw_options(settings: dict[str, Any] | None) -> tuple[str | tuple, str]:
    """(white balance decode key, highlight mode) of the recipe's RAW settings (raw_wb.py)."""
    raw = (settings or {}).get("raw") or {}
    try:
        wb = wb_spec(raw)
    except WhiteBalanceError as exc:
        raise SourceError(str(exc)) from None
    hl = str(raw.get("highlight_mode", "clip"))
    if hl not in HIGHLIGHT_MODES:
        raise SourceError(f"raw.highlight_mode must be one of {', '.join(HIGHLIGHT_MODES)}, not {hl!r}")
    return wb, hl


def decode_raw_linear(path: Path, white_balance: str | tuple = "camera", highlight_mode: str = "clip",
                      half_size: bool = False) -> np.ndarray:
    import rawpy  # lazy: LibRaw only for raw files (its import costs every command's start-up)

    try:
        with rawpy.imread(str(path)) as raw:
            rgb16 = raw.postprocess(
                gamma=(1, 1), no_auto_bright=True, output_bps=16, **postprocess_wb(raw, white_balance),
                highlight_mode=HIGHLIGHT_MODES[highlight_mode], output_color=rawpy.ColorSpace.XYZ,
                half_size=half_size,
            )
    except WhiteBalanceError as exc:
        raise SourceError(f"{path}: {exc}") from None
    except Exception as exc:  # rawpy raises LibRawError subclasses and IOError
        raise SourceError(f"{display_path(path)}: cannot decode RAW: {exc}") from None
    xyz = rgb16.astype(np.float32) * np.float32(1.0 / 65535.0)
    return apply_matrix(xyz, XYZ_TO_REC2020.astype(np.float32))


def embedded_icc(path: Path) -> bytes | None:
    """The file's embedded ICC profile (header read only), if any."""
    try:
        with Image.open(path) as im:
            return im.info.get("icc_profile") or None
    except Exception:
        return None


@lru_cache(maxsize=16)
def _icc_transform(icc: bytes):
    """A cached ImageCms transform from an embedded RGB profile to sRGB; None for sRGB
    itself (nothing to do) or for profiles that are not RGB display profiles."""

    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if ImageCms.getProfileDescription(src).strip().lower().startswith("srgb"):
            return None
        if src.profile.xcolor_space.strip() != "RGB":
            return None
        return ImageCms.buildTransform(src, ImageCms.createProfile("sRGB"), "RGB", "RGB")
    except Exception:  # a broken profile: treat the pixels as sRGB rather than fail
        return None


def to_srgb(rgb: np.ndarray, icc: bytes | None) -> np.ndarray:
    """Honour an embedded ICC profile: convert 8-bit RGB pixels to sRGB (Pillow ImageCms).

    16-bit pixels with a non-sRGB profile are taken as sRGB (Pillow's colour management
    is 8-bit only); this is noted in docs/develop.md.
    """
    if not icc or rgb.dtype != np.uint8:
        return rgb
    transform = _icc_transform(icc)
    if transform is None:
        return rgb

    return np.asarray(ImageCms.applyTransform(Image.fromarray(np.ascontiguousarray(rgb), "RGB"), transform))


def decode_display(path: Path, max_side: int | None = None) -> np.ndarray:
    """An upright, sRGB-converted decode of a non-RAW file (uint8/uint16 HxWx3).

    Decoding (formats, EXIF orientation, 16-bit TIFF) is the importer's
    ``maskroom.engine.imageio.decode.decode_rgb``; colour management is done here.
    """
    try:
        rgb = np.asarray(decode_rgb(Path(path), keep_16bit=True, max_side=max_side))
    except Exception as exc:
        # a DecodeError's text names the file already: its reason alone, not the path twice
        raise SourceError(f"{display_path(path)}: cannot decode: {getattr(exc, 'reason', exc)}") from None
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    return to_srgb(rgb[..., :3], embedded_icc(Path(path)))


def resize_long_edge(img: np.ndarray, long_edge: int | None) -> np.ndarray:
    if not long_edge:
        return img
    h, w = img.shape[:2]
    s = long_edge / max(h, w)
    if s >= 1:
        return img
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def decode_full(path: Path, settings: dict[str, Any] | None = None, max_side: int | None = None) -> np.ndarray:
    """The original in linear working space; with ``max_side`` possibly decoded at a
    reduced scale (long edge still >= max_side) so a small export of a huge file never
    holds it at full size."""
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: original is missing")
    if is_raw(path):
        return decode_raw_linear(path, *raw_options(settings))
    rgb = decode_display(path, max_side)
    if rgb.dtype == np.float32:
        lin = apply_matrix(np.clip(rgb, 0, 1) ** 2.2, SRGB_TO_WORK)  # pragma: no cover - unusual decoder
        return lin
    return srgb8_to_work(rgb)


def _preview_pixels(catalog, image) -> np.ndarray | None:
    """The importer's cached preview (sRGB uint8, upright), None when it cannot be read."""
    try:
        px = load_preview(catalog, image)
    except Exception:
        return None
    if px is None:
        return None
    px = np.asarray(px)
    if px.ndim == 2:
        px = np.repeat(px[..., None], 3, axis=2)
    return px[..., :3]


def nbytes(value) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (tuple, list)):
        return sum(nbytes(v) for v in value)
    return 64


class LRU:
    """A small thread-safe in-memory cache bounded by the bytes of the arrays it holds."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._d: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            v = self._d.get(key)
            if v is not None:
                self._d.move_to_end(key)
            return v

    def put(self, key, value) -> None:
        if nbytes(value) > self.max_bytes // 2:
            return
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            while sum(nbytes(v) for v in self._d.values()) > self.max_bytes and len(self._d) > 1:
                self._d.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._d.clear()


_SOURCES = LRU(400 * 1024 * 1024)


def seed_preview(image, full: np.ndarray, settings: dict[str, Any] | None = None) -> None:
    """Remember a preview-size copy of a full decode, so masks derived on the preview
    source during a full render (range and AI kinds) do not decode the original twice."""
    raw_key = raw_options(settings) if is_raw(Path(image.path)) else None
    key = (image.content_hash, "preview", None, raw_key)
    if _SOURCES.get(key) is not None or lens_key(settings, image) is not None:
        return  # (a lens-corrected decode is not the plain preview source)
    lin = np.array(resize_long_edge(full, PREVIEW_LONG_EDGE), np.float32, order="C")  # never a view of full
    lin.setflags(write=False)
    h, w = lin.shape[:2]
    digest = hashlib.sha256(f"{image.content_hash}|preview|{w}x{h}|{raw_key}".encode()).hexdigest()
    _SOURCES.put(key, (lin, digest))


def check_unchanged(image) -> None:
    """Refuse a full render of a file that now holds another photo than the one imported
    (retouched or replaced by another program): its edit, crop and mask rasters were
    made on the old pixels, so the export would be wrong without a word.  Only a file
    whose size or date moved is hashed."""
    try:
        changed = files.holds_other_content(image.path, image.file_size, image.mtime, image.content_hash)
    except OSError:
        return  # missing or unreadable: the decoder says which
    if changed:
        raise SourceError(f"{display_path(image.path)}: the original changed since it was imported (other content); "
                          "import its folder again to re-read it (its edit is kept)")


def load_source(catalog, image, scale: str = "preview", long_edge: int | None = None,
                settings: dict[str, Any] | None = None) -> tuple[np.ndarray, str]:
    """(linear Rec.2020 float32 HxWx3, source digest) of an image at a render scale.

    ``scale="preview"``: from the cached 2048 px preview (falling back to decoding the
    original when there is none), optionally smaller (``long_edge``).
    ``scale="full"``: the original at full quality, optionally downscaled.
    The returned array is shared with the cache: treat it as read-only.
    """
    if scale not in ("preview", "full"):
        raise ValueError(f"scale must be 'preview' or 'full', not {scale!r}")
    settings = with_lens_default(catalog, image, settings)
    raw_key = raw_options(settings) if is_raw(Path(image.path)) else None
    try:
        lens = lens_key(settings, image)
    except LensError as exc:
        raise SourceError(f"{image.path}: {exc}") from None
    if lens is not None:
        return _corrected_source(catalog, image, scale, long_edge, settings, lens)
    key = (image.content_hash, scale, long_edge, raw_key)
    hit = _SOURCES.get(key)
    if hit is not None:
        if scale == "full":
            check_unchanged(image)  # a kept decode of the old pixels must not stand in for a changed file
        return hit
    if scale == "preview":
        # RAW previews come from a half-size linear decode, not the camera JPEG the
        # importer shows in the grid: the look must match a full render.
        px = None if raw_key else _preview_pixels(catalog, image)
        if raw_key:
            lin = decode_raw_linear(Path(image.path), *raw_key, half_size=True)
        elif px is not None:
            # The importer's preview keeps the original's pixel values: colour-manage here.
            lin = srgb8_to_work(to_srgb(px, embedded_icc(Path(image.path))))
        else:
            full = _SOURCES.get((image.content_hash, "full", None, raw_key))
            lin = full[0] if full is not None else decode_full(Path(image.path), settings)
        lin = resize_long_edge(lin, min(long_edge or PREVIEW_LONG_EDGE, PREVIEW_LONG_EDGE))
    else:
        lin = decode_full(Path(image.path), settings, max_side=long_edge)
        check_unchanged(image)  # after the decode: a file replaced by junk says "cannot decode"
        lin = resize_long_edge(lin, long_edge)
    lin = np.ascontiguousarray(lin, np.float32)
    h, w = lin.shape[:2]
    digest = hashlib.sha256(f"{image.content_hash}|{scale}|{w}x{h}|{raw_key}".encode()).hexdigest()
    if cacheable(lin):
        lin.setflags(write=False)
        _SOURCES.put(key, (lin, digest))
    # else: too big to keep; left writable, which tells the pipeline it may render
    # in place in it (a 24 MP render then holds one image less).
    return lin, digest


def _corrected_source(catalog, image, scale, long_edge, settings, lens) -> tuple[np.ndarray, str]:
    """The source with lens corrections (lens.py), cached beside the uncorrected one."""
    raw_key = raw_options(settings) if is_raw(Path(image.path)) else None
    key = (image.content_hash, scale, long_edge, "lens", lens, raw_key)
    hit = _SOURCES.get(key)
    if hit is not None:
        if scale == "full":
            check_unchanged(image)
        return hit
    plain = {**{k: v for k, v in (settings or {}).items() if k != "lens"}, "lens": {"correct": "off"}}
    lin, digest = load_source(catalog, image, scale, long_edge, plain)
    if scale == "full" and long_edge is None and lin.flags.writeable:
        # Masks derive on the uncorrected-then-corrected preview source: keep a preview-size
        # copy of this decode, so that source does not decode the original a second time.
        seed_preview(image, lin, plain)
    try:
        # an uncached (full-size) decode is nobody else's: correct it in its own buffer
        lin = correct(lin, lens, inplace=lin.flags.writeable)
    except LensError as exc:
        raise SourceError(f"{image.path}: {exc}") from None
    digest = hashlib.sha256(f"{digest}|lens|{lens}".encode()).hexdigest()
    if cacheable(lin):
        lin.setflags(write=False)
        _SOURCES.put(key, (lin, digest))
    return lin, digest


def cacheable(arr: np.ndarray) -> bool:
    return arr.nbytes <= _SOURCES.max_bytes // 2
