"""Pixels to a file: JPEG (8-bit), PNG and TIFF (8 or 16-bit), each with its ICC profile.

Pillow writes JPEG and 8-bit PNG with the profile.  Pillow cannot write 16-bit RGB, so
16-bit PNG and all TIFF go through OpenCV; the profile then goes into a PNG ``iCCP``
chunk written here (exiv2's own iCCP has an empty keyword, which libpng rejects), or
into TIFF tag 34675 through exiv2.  Files go through ``core.files.atomic_path``: a
temporary name beside the target, fsynced, decoded back, renamed - so a crash or a full
disk never leaves a half-written image under the real name.
"""
from __future__ import annotations

import struct
import threading
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageFile

from maskroom.core.errors import InvalidValue
from maskroom.core.files import atomic_path, verify_image

FORMATS = ("jpeg", "png", "tiff")
EXTENSIONS = {"jpeg": "jpg", "png": "png", "tiff": "tif"}
BITS = {"jpeg": (8,), "png": (8, 16), "tiff": (8, 16)}


class ExportFormatError(InvalidValue):
    """A format/bit-depth/quality combination that cannot be written."""


def check_format(fmt: str, bits: int, quality: int = 90) -> None:
    if fmt not in FORMATS:
        raise ExportFormatError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    if bits not in BITS[fmt]:
        if fmt == "jpeg":
            raise ExportFormatError("JPEG is 8-bit only: use --bits 8, or --format tiff/png for 16-bit")
        raise ExportFormatError(f"{fmt}: bits must be one of {BITS[fmt]}")
    if not 1 <= int(quality) <= 100:
        raise ExportFormatError(f"quality must be 1..100, not {quality}")


def write_image(
    path: Path,
    pixels: np.ndarray,
    fmt: str,
    *,
    bits: int,
    icc: bytes | None,
    quality: int = 90,
    before_rename: Callable[[Path], None] | None = None,
) -> None:
    """Write RGB ``pixels`` (uint8 for 8 bits, uint16 for 16) to ``path`` atomically.

    ``before_rename(tmp_path)`` may add to the file (metadata) before it gets its name.
    """
    check_format(fmt, bits, quality)
    want = np.uint8 if bits == 8 else np.uint16
    if pixels.dtype != want:
        raise ExportFormatError(f"{bits}-bit {fmt} needs {np.dtype(want).name} pixels, got {pixels.dtype}")
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ExportFormatError(f"pixels must be HxWx3, got {pixels.shape}")
    with atomic_path(Path(path), verify=verify_image) as tmp:
        _WRITERS[fmt](tmp, np.ascontiguousarray(pixels), bits=bits, icc=icc, quality=int(quality))
        if before_rename is not None:
            before_rename(tmp)


_MAXBLOCK_LOCK = threading.Lock()
JPEG_WORST_BYTES_PER_PIXEL = 6  # white noise at quality 100, 4:4:4, unoptimised, takes 4.2


def _write_jpeg(path: Path, pixels: np.ndarray, *, bits: int, icc: bytes | None, quality: int) -> None:
    # 4:4:4 at high quality keeps thin coloured edges (red on blue) clean; 4:2:0 below.
    subsampling = 0 if quality >= 90 else 2
    # Pillow's optimised (two-pass) encoder must hold the whole file in one buffer of a
    # byte a pixel below quality 95 (two above), at least ImageFile.MAXBLOCK; detail-
    # dense pixels (heavy grain, sensor noise) need more, and libjpeg then fails with
    # "Suspension not allowed here" and the export is lost.  The buffer is sized for
    # the worst case: it is reserved, not touched, beyond the bytes written.
    need = JPEG_WORST_BYTES_PER_PIXEL * pixels.shape[0] * pixels.shape[1] + len(icc or b"") + 4096
    with _MAXBLOCK_LOCK:  # a module setting of Pillow's: one JPEG at a time changes it
        old = ImageFile.MAXBLOCK
        ImageFile.MAXBLOCK = max(old, need)
        try:
            Image.fromarray(pixels, "RGB").save(
                path, "JPEG", quality=quality, subsampling=subsampling, optimize=True, icc_profile=icc or None
            )
        finally:
            ImageFile.MAXBLOCK = old


def _write_png(path: Path, pixels: np.ndarray, *, bits: int, icc: bytes | None, quality: int) -> None:
    if bits == 8:
        Image.fromarray(pixels, "RGB").save(path, "PNG", compress_level=6, icc_profile=icc or None)
        return
    _cv2_write(path, pixels, [])
    if icc:
        insert_png_iccp(path, icc)


def _write_tiff(path: Path, pixels: np.ndarray, *, bits: int, icc: bytes | None, quality: int) -> None:
    # LZW with horizontal predictor: lossless, what Lightroom writes, read everywhere.
    _cv2_write(
        path,
        pixels,
        [cv2.IMWRITE_TIFF_COMPRESSION, 5, cv2.IMWRITE_TIFF_RESUNIT, 2, cv2.IMWRITE_TIFF_XDPI, 300,
         cv2.IMWRITE_TIFF_YDPI, 300],
    )
    if icc:
        import pyexiv2  # lazy: exiv2 (a large C++ library) only to write metadata

        with pyexiv2.Image(str(path)) as img:
            img.modify_icc(icc)


def _cv2_write(path: Path, pixels: np.ndarray, params: list[int]) -> None:
    if not cv2.imwrite(str(path), pixels[..., ::-1], params):
        raise OSError(f"{path}: OpenCV could not write the file")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def insert_png_iccp(path: Path, icc: bytes, name: str = "ICC Profile") -> None:
    """Put an ``iCCP`` chunk right after IHDR (the PNG spec wants it before IDAT)."""
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise OSError(f"{path}: not a PNG file")
    ihdr_end = 8 + 12 + struct.unpack(">I", data[8:12])[0]
    keyword = name.encode("latin-1", "replace")[:79]
    chunk = _png_chunk(b"iCCP", keyword + b"\x00\x00" + zlib.compress(icc, 9))
    Path(path).write_bytes(data[:ihdr_end] + chunk + data[ihdr_end:])


_WRITERS = {"jpeg": _write_jpeg, "png": _write_png, "tiff": _write_tiff}
