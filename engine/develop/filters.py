"""Neighbourhood filters shared by the adjustments.

Radii are given in pixels by the callers, which derive them from fractions of the
image's long edge (``OpContext.px``) so a preview and a full render look alike.
Large Gaussians run on a downscaled copy (a blur that wide has no high frequencies
left to lose), which keeps 24 MP renders fast.
"""
from __future__ import annotations

import cv2
import numpy as np


def gaussian(img: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with sigma in pixels; large sigmas are computed at lower resolution."""
    if sigma < 0.3:
        return img.copy()
    h, w = img.shape[:2]
    factor = int(sigma // 6)
    if factor >= 2 and min(h, w) // factor >= 8:
        small = cv2.resize(img, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small, (0, 0), sigma / factor, borderType=cv2.BORDER_REFLECT)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.GaussianBlur(img, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)


def box(img: np.ndarray, r: int) -> np.ndarray:
    return cv2.boxFilter(img, -1, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: float, eps: float,
                  subsample: int | None = None) -> np.ndarray:
    """Edge-aware smoothing of single-channel ``src`` guided by single-channel ``guide``
    (He et al.'s guided filter).  Unlike a Gaussian base it follows edges, so detail
    boosts built on it (clarity, shadows/highlights) do not halo.  Big radii run as the
    "fast guided filter": coefficients at reduced resolution, applied at full size.
    """
    h, w = guide.shape
    s = max(1, int(radius // 8)) if subsample is None else max(1, subsample)
    if s > 1 and min(h, w) // s >= 8:
        size = (max(1, w // s), max(1, h // s))
        g = cv2.resize(guide, size, interpolation=cv2.INTER_AREA)
        p = cv2.resize(src, size, interpolation=cv2.INTER_AREA)
        r = max(1, int(round(radius / s)))
    else:
        g, p, r = guide, src, max(1, int(round(radius)))
    return guided_upsample(guide, g, p, r, eps)


def smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def curve(x: np.ndarray, lo: float, hi: float, fn, size: int = 1024) -> np.ndarray:
    """``fn(x)`` for a smooth 1-D function, by table lookup (x clamped to lo..hi).

    A 1024-entry table is exact to well under an 8-bit step for the smooth weights and
    gains used here, and costs 4 passes instead of the 8-10 of evaluating it.
    """
    table = np.asarray(fn(np.linspace(lo, hi, size, dtype=np.float64)), np.float32)
    return table[table_index(x, lo, hi, size)]


def table_index(x: np.ndarray, lo: float, hi: float, size: int) -> np.ndarray:
    """Index into a ``size``-entry table sampling lo..hi (nearest entry; x clamped)."""
    scale = (size - 1) / (hi - lo)
    t = cv2.addWeighted(np.ascontiguousarray(x, np.float32), scale, x, 0.0, -lo * scale + 0.5)
    np.clip(t, 0, size - 1, out=t)
    return t.astype(np.uint16)


def guided_upsample(guide: np.ndarray, guide_low: np.ndarray, src_low: np.ndarray, radius_low: int,
                    eps: float) -> np.ndarray:
    """Guided filter whose coefficients come from low-resolution inputs, applied to the
    full-resolution guide (edge-aware upsampling of a smooth map such as haze)."""
    h, w = guide.shape
    r = max(1, int(radius_low))
    mean_g = box(guide_low, r)
    mean_p = box(src_low, r)
    cov = box(guide_low * src_low, r) - mean_g * mean_p
    var = box(guide_low * guide_low, r) - mean_g * mean_g
    a = cov / (var + eps)
    b = mean_p - a * mean_g
    mean_a, mean_b = box(a, r), box(b, r)
    if mean_a.shape != (h, w):  # guided_filter's small radii filter at full size
        mean_a = cv2.resize(mean_a, (w, h), interpolation=cv2.INTER_LINEAR)
        mean_b = cv2.resize(mean_b, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.add(cv2.multiply(mean_a, guide), mean_b)
