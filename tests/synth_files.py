"""Files the import tests make themselves: DNGs from a synthetic Bayer array, 16-bit
TIFFs, HEIC, and broken files of every kind a card or a disk can hold."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def _rational(v: float) -> list[int]:
    return [int(round(v * 10000)), 10000]


def make_dng(path: Path, w: int = 256, h: int = 192, seed: int = 0, make: str = "Synthetic",
             color_matrix=None, as_shot=(1.0, 1.0, 1.0), bayer=None) -> Path:
    """A DNG of a synthetic Bayer ramp (or ``bayer``, uint16 HxW RGGB 0..4095), with an
    XYZ->camera ``color_matrix`` (3x3, identity by default) and AsShotNeutral ``as_shot``."""
    from pidng.core import RAW2DNG, DNGTags, Tag
    from pidng.defs import CalibrationIlluminant, CFAPattern, DNGVersion, Orientation, PhotometricInterpretation

    rng = np.random.default_rng(seed)
    if bayer is None:
        yy, xx = np.mgrid[0:h, 0:w]
        base = xx / w * 3000 + yy / h * 1000 + 200
        bayer = base.copy()
        bayer[0::2, 0::2] *= 1.2  # red sites
        bayer[1::2, 1::2] *= 0.7  # blue sites
        bayer = np.clip(bayer + rng.integers(0, 20, bayer.shape), 0, 4095).astype(np.uint16)
    h, w = bayer.shape
    matrix = np.eye(3) if color_matrix is None else np.asarray(color_matrix, float)
    t = DNGTags()
    for tag, value in [
        (Tag.ImageWidth, w), (Tag.ImageLength, h), (Tag.TileWidth, w), (Tag.TileLength, h),
        (Tag.Orientation, Orientation.Horizontal),
        (Tag.PhotometricInterpretation, PhotometricInterpretation.Color_Filter_Array),
        (Tag.SamplesPerPixel, 1), (Tag.BitsPerSample, 16), (Tag.CFARepeatPatternDim, [2, 2]),
        (Tag.CFAPattern, CFAPattern.RGGB), (Tag.BlackLevel, 0), (Tag.WhiteLevel, 4095),
        (Tag.ColorMatrix1, [_rational(v) for v in matrix.ravel()]),
        (Tag.CalibrationIlluminant1, CalibrationIlluminant.D65), (Tag.AsShotNeutral, [_rational(v) for v in as_shot]),
        (Tag.Make, make), (Tag.Model, "Bayer 1"),
        (Tag.DNGVersion, DNGVersion.V1_4), (Tag.DNGBackwardVersion, DNGVersion.V1_2),
    ]:
        t.set(tag, value)
    from pidng.core import RAW2DNG  # noqa: F811 (imported above for the tags)

    r = RAW2DNG()
    r.options(t, path="", compress=False)
    r.convert(bayer, filename=str(path.with_suffix("")))
    return path.with_suffix(".dng")


def make_tiff16(path: Path, w: int = 64, h: int = 48) -> Path:
    import cv2

    ramp = (np.linspace(0, 65535, w)[None, :, None] * np.ones((h, 1, 3))).astype(np.uint16)
    ramp[..., 2] = 1000  # BGR order for OpenCV: keep red channel constant
    cv2.imwrite(str(path), ramp)
    return path


def make_heic(path: Path, w: int = 64, h: int = 48) -> Path:
    import pillow_heif

    pillow_heif.register_heif_opener()
    Image.fromarray(np.full((h, w, 3), (30, 120, 200), np.uint8)).save(path, format="HEIF")
    return path


def make_png_bomb(path: Path, w: int = 100_000, h: int = 100_000) -> Path:
    """A tiny PNG whose header declares 10 gigapixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16))
                     + chunk(b"IEND", b""))
    return path


def truncate(src: Path, dest: Path, keep: float = 0.3) -> Path:
    data = src.read_bytes()
    dest.write_bytes(data[: int(len(data) * keep)])
    return dest
