"""Colour spaces of the develop engine.

The working space is **linear Rec.2020 (D65)**, float32: wide enough for camera
colours (unlike sRGB), with a D65 white shared by every output space, so output
conversion is one 3x3 matrix and a transfer curve.  Display-referred inputs (JPEG,
PNG...) are linearised from sRGB after their ICC profile has been converted to sRGB
by the decoder.  Output spaces: sRGB, Display P3 (both with the sRGB curve) and
Adobe RGB (1998) (gamma 563/256); each comes with an ICC v2 profile built here.
"""
from __future__ import annotations

import struct
from functools import lru_cache

import cv2
import numpy as np

# RGB -> XYZ (D65) of each space's primaries.
SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
REC2020_TO_XYZ = np.array([[0.6369580, 0.1446169, 0.1688810],
                           [0.2627002, 0.6779981, 0.0593017],
                           [0.0000000, 0.0280727, 1.0609851]])
P3_TO_XYZ = np.array([[0.4865709, 0.2656677, 0.1982173],
                      [0.2289746, 0.6917385, 0.0792869],
                      [0.0000000, 0.0451134, 1.0439444]])
ADOBE_TO_XYZ = np.array([[0.5767309, 0.1855540, 0.1881852],
                         [0.2973769, 0.6273491, 0.0752741],
                         [0.0270343, 0.0706872, 0.9911085]])

XYZ_TO_REC2020 = np.linalg.inv(REC2020_TO_XYZ)
SRGB_TO_WORK = (XYZ_TO_REC2020 @ SRGB_TO_XYZ).astype(np.float32)
WORK_TO_SRGB = np.linalg.inv(XYZ_TO_REC2020 @ SRGB_TO_XYZ).astype(np.float32)
# Luminance (Y) weights of linear Rec.2020.
LUMA = REC2020_TO_XYZ[1].astype(np.float32)

OUTPUT_SPACES = ("srgb", "display-p3", "adobe-rgb")
_SPACE_TO_XYZ = {"srgb": SRGB_TO_XYZ, "display-p3": P3_TO_XYZ, "adobe-rgb": ADOBE_TO_XYZ}
ADOBE_GAMMA = 563.0 / 256.0


def apply_matrix(img: np.ndarray, m: np.ndarray) -> np.ndarray:
    """img @ m.T for an HxWx3 float32 image (cv2.transform is multithreaded and fast)."""
    return cv2.transform(np.ascontiguousarray(img, np.float32), np.asarray(m, np.float32))


def srgb_decode(v: np.ndarray) -> np.ndarray:
    """sRGB transfer curve, encoded 0..1 -> linear (float32)."""
    v = np.asarray(v, np.float32)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


def srgb_encode(v: np.ndarray) -> np.ndarray:
    v = np.clip(np.asarray(v, np.float32), 0.0, None)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * np.power(v, 1 / 2.4) - 0.055).astype(np.float32)


@lru_cache(maxsize=8)
def _encode_lut(space: str, size: int = 65536) -> np.ndarray:
    x = np.linspace(0.0, 1.0, size, dtype=np.float64)
    if space == "adobe-rgb":
        y = x ** (1.0 / ADOBE_GAMMA)
    else:
        y = np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1 / 2.4) - 0.055)
    return y.astype(np.float32)


@lru_cache(maxsize=1)
def _srgb8_to_linear_lut() -> np.ndarray:
    return srgb_decode(np.arange(256, dtype=np.float32) / 255.0)


STRIP_PIXELS = 1 << 20  # rows per strip in the whole-image conversions: ~12 MB float32 temporaries


def srgb8_to_work(rgb8: np.ndarray) -> np.ndarray:
    """8-bit (or 16-bit) sRGB pixels -> linear Rec.2020 float32.

    Strip by strip into one result: the whole-image temporaries (the LUT output, then
    the matrix product) would each be as large as the result (1.2 GB at 100 MP).
    """
    if rgb8.dtype == np.uint8:
        lut = _srgb8_to_linear_lut()
    elif rgb8.dtype == np.uint16:
        lut = _encode_inverse16()
    else:
        return apply_matrix(srgb_decode(rgb8), SRGB_TO_WORK)
    h, w = rgb8.shape[:2]
    out = np.empty((h, w, 3), np.float32)
    rows = max(1, STRIP_PIXELS // max(1, w))
    m = np.asarray(SRGB_TO_WORK, np.float32)
    lin = np.empty((rows, w, 3), np.float32)  # one strip buffer, reused: no per-strip allocations
    for y in range(0, h, rows):
        n = min(rows, h - y)
        if rgb8.dtype == np.uint8:
            cv2.LUT(np.ascontiguousarray(rgb8[y:y + n]), lut, dst=lin[:n])
        else:
            np.take(lut, rgb8[y:y + n], out=lin[:n], mode="clip")  # unbuffered
        cv2.transform(lin[:n], m, dst=out[y:y + n])
    return out


@lru_cache(maxsize=1)
def _encode_inverse16() -> np.ndarray:
    return srgb_decode(np.arange(65536, dtype=np.float32) / 65535.0)


def work_to_display_srgb(linear: np.ndarray) -> np.ndarray:
    """Working space -> display sRGB float32 0..1 (what masks see)."""
    lin = apply_matrix(linear, WORK_TO_SRGB)
    return encode(lin, "srgb")


def encode(lin_out: np.ndarray, space: str) -> np.ndarray:
    """Linear values already in ``space``'s primaries -> encoded float32 0..1 (LUT, 16-bit steps)."""
    lut = _encode_lut(space)
    idx = np.clip(lin_out, 0.0, 1.0)
    idx *= len(lut) - 1
    idx += 0.5
    return lut[idx.astype(np.uint16)]


def work_to_space_matrix(space: str) -> np.ndarray:
    if space not in _SPACE_TO_XYZ:
        raise ValueError(f"unknown output colour space {space!r} (known: {', '.join(OUTPUT_SPACES)})")
    return (np.linalg.inv(_SPACE_TO_XYZ[space]) @ REC2020_TO_XYZ).astype(np.float32)


# -- ICC v2 profiles ----------------------------------------------------------

_D50 = np.array([0.9642, 1.0, 0.8249])
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])


def _adapt_d65_to_d50() -> np.ndarray:
    d65 = np.array([0.95047, 1.0, 1.08883])
    src = _BRADFORD @ d65
    dst = _BRADFORD @ _D50
    return np.linalg.inv(_BRADFORD) @ np.diag(dst / src) @ _BRADFORD


def _s15(v: float) -> bytes:
    return struct.pack(">i", int(round(v * 65536)))


def _xyz_tag(xyz) -> bytes:
    return b"XYZ " + b"\0" * 4 + b"".join(_s15(v) for v in xyz)


def _desc_tag(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\0"
    return (b"desc" + b"\0" * 4 + struct.pack(">I", len(ascii_)) + ascii_
            + struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + b"\0" * 67)


def _text_tag(text: str) -> bytes:
    return b"text" + b"\0" * 4 + text.encode("ascii") + b"\0"


def _curve_tag(space: str) -> bytes:
    if space == "adobe-rgb":
        return b"curv" + b"\0" * 4 + struct.pack(">I", 1) + struct.pack(">H", int(round(ADOBE_GAMMA * 256)))
    x = np.linspace(0, 1, 1024)
    y = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)
    table = np.round(y * 65535).astype(">u2").tobytes()
    return b"curv" + b"\0" * 4 + struct.pack(">I", 1024) + table


_NAMES = {"srgb": "sRGB IEC61966-2.1 (maskroom)", "display-p3": "Display P3 (maskroom)",
          "adobe-rgb": "Adobe RGB (1998) compatible (maskroom)"}


@lru_cache(maxsize=4)
def icc_profile(space: str) -> bytes:
    """A matrix/TRC ICC v2 display profile for an output space."""
    m = _adapt_d65_to_d50() @ _SPACE_TO_XYZ[space]
    curve = _curve_tag(space)
    tags = [
        (b"desc", _desc_tag(_NAMES[space])),
        (b"cprt", _text_tag("No copyright, use freely")),
        (b"wtpt", _xyz_tag(_D50)),
        (b"rXYZ", _xyz_tag(m[:, 0])),
        (b"gXYZ", _xyz_tag(m[:, 1])),
        (b"bXYZ", _xyz_tag(m[:, 2])),
        (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data, placed = b"", b"", {}
    for sig, body in tags:
        if body in placed:  # the three TRCs share one copy
            start, size = placed[body]
        else:
            pad = (-len(data)) % 4
            data += b"\0" * pad
            start, size = offset + len(data), len(body)
            data += body
            placed[body] = (start, size)
        table += sig + struct.pack(">II", start, size)
    body = struct.pack(">I", len(tags)) + table + data
    size = 128 + len(body)
    header = (struct.pack(">I", size) + b"\0\0\0\0" + bytes([2, 0x10, 0, 0]) + b"mntr" + b"RGB " + b"XYZ "
              + b"\0" * 12 + b"acsp" + b"\0" * 4 + struct.pack(">I", 0) + b"\0" * 8 + b"\0" * 8
              + struct.pack(">I", 0) + b"".join(_s15(v) for v in _D50) + b"\0" * 4 + b"\0" * 16 + b"\0" * 28)
    assert len(header) == 128, len(header)
    return header + body
