"""Histogram of a rendered image: R, G, B and luminance counts, clipping.

Computed on the display-referred 8-bit sRGB render (what the photographer sees and
exports): 256 bins per channel; luminance is Rec.709 luma of the encoded values (as
Lightroom's and most editors' histograms).  A pixel is *shadow-clipped* when any
channel is 0 and *highlight-clipped* when any channel is 255 (the pixels the app's
clipping warning paints).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

LUMA_709 = (0.2126, 0.7152, 0.0722)


@dataclass
class Histogram:
    width: int
    height: int
    red: list[int]
    green: list[int]
    blue: list[int]
    luminance: list[int]
    clipped_shadows: int  # pixels with any channel at 0
    clipped_highlights: int  # pixels with any channel at 255
    clipped_channels: dict[str, dict[str, int]]  # per channel: {"shadows": n, "highlights": n}

    @property
    def pixels(self) -> int:
        return self.width * self.height

    def to_dict(self) -> dict:
        return dict(asdict(self), pixels=self.pixels)


def _counts(plane: np.ndarray) -> np.ndarray:
    return cv2.calcHist([plane], [0], None, [256], [0, 256]).ravel().astype(np.int64)


def histogram(rgb8: np.ndarray) -> Histogram:
    """Histogram of an sRGB uint8 HxWx3 image."""
    if rgb8.dtype != np.uint8 or rgb8.ndim != 3 or rgb8.shape[2] != 3:
        raise ValueError(f"histogram needs an 8-bit RGB image, not {rgb8.dtype} {rgb8.shape}")
    rgb8 = np.ascontiguousarray(rgb8)
    planes = cv2.split(rgb8)
    counts = [_counts(p) for p in planes]
    y = cv2.transform(rgb8, np.array([LUMA_709], np.float32))  # rounds to uint8
    lum = _counts(y if y.ndim == 2 else y[..., 0])
    lo = cv2.min(cv2.min(planes[0], planes[1]), planes[2])
    hi = cv2.max(cv2.max(planes[0], planes[1]), planes[2])
    names = ("red", "green", "blue")
    return Histogram(
        width=int(rgb8.shape[1]), height=int(rgb8.shape[0]),
        red=counts[0].tolist(), green=counts[1].tolist(), blue=counts[2].tolist(), luminance=lum.tolist(),
        clipped_shadows=int(cv2.countNonZero((lo == 0).view(np.uint8))),
        clipped_highlights=int(cv2.countNonZero((hi == 255).view(np.uint8))),
        clipped_channels={n: {"shadows": int(c[0]), "highlights": int(c[255])} for n, c in zip(names, counts)},
    )


def clipping_overlay(rgb8: np.ndarray) -> np.ndarray:
    """The image with highlight-clipped pixels painted red and shadow-clipped ones
    blue (the app's clipping warning, J key)."""
    out = rgb8.copy()
    lo = rgb8.min(axis=2) == 0
    hi = rgb8.max(axis=2) == 255
    out[lo] = (0, 80, 255)
    out[hi] = (255, 0, 0)
    return out
