"""Neighbourhood filters shared by the adjustments.

Radii are given in pixels by the callers, which derive them from fractions of the
image's long edge (``OpContext.px``) so a preview and a full render look alike.
Large Gaussians run on a downscaled copy (a blur that wide has no high frequencies
left to lose), which keeps 24 MP renders fast.
"""
from __future__ import annotations

import cv2
import numpy as np

from maskroom.engine.executor import threads


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


class RowUpsampler:
    """Rows of ``cv2.resize(low, (w, h), INTER_LINEAR)`` on demand, strip by strip.

    The resize is separable: the low rows a strip reads are widened to w, and each
    output row interpolates between two of them, as cv2 does (half-pixel centres,
    edge rows clamped).  Same values as the whole resize to float rounding,
    without a full-size array.
    """

    def __init__(self, low: np.ndarray, w: int, h: int):
        lh = low.shape[0]
        self.low, self.w = low, w
        self.same = low.shape[:2] == (h, w)
        fy = (np.arange(h, dtype=np.float64) + 0.5) * (lh / h) - 0.5
        y0 = np.floor(fy)
        frac = fy - y0
        y0 = y0.astype(np.int64)
        below = y0 < 0
        frac[below], y0[below] = 0.0, 0
        top = y0 >= lh - 1
        frac[top], y0[top] = 0.0, lh - 1
        self.i0, self.i1 = y0, np.minimum(y0 + 1, lh - 1)
        # row weights broadcast over the columns (and the channels of an HxWxC map)
        shape = (-1,) + (1,) * (low.ndim - 1)
        self.b1 = frac.astype(np.float32).reshape(shape)
        self.b0 = (1.0 - frac).astype(np.float32).reshape(shape)

    def rows(self, y0: int, y1: int, out: np.ndarray | None = None) -> np.ndarray:
        if self.same:
            return self.low[y0:y1]
        # Only the low rows this strip reads are widened (rows resize independently).
        lo, hi = int(self.i0[y0]), int(self.i1[y1 - 1]) + 1
        block = self.low[lo:hi]
        if block.shape[1] != self.w:
            block = cv2.resize(block, (self.w, hi - lo), interpolation=cv2.INTER_LINEAR)
        a = block[self.i0[y0:y1] - lo]
        b = block[self.i1[y0:y1] - lo]
        # a * b0 + b * b1, as cv2's vertical pass
        out = np.multiply(a, self.b0[y0:y1], out=out)
        b *= self.b1[y0:y1]
        out += b
        return out


def for_strips(fn, h: int, w: int, pixels: int | None = None) -> None:
    """``fn(y0, y1)`` for each of ``threads.row_strips(h, w, pixels)``, on the threads this
    item may use (``executor.threads.for_each``): the strips write disjoint rows."""
    threads.for_each(lambda rows: fn(rows.start, rows.stop), threads.row_strips(h, w, pixels))


def guided_coefficients(guide_low: np.ndarray, src_low: np.ndarray, radius_low: int,
                        eps: float) -> tuple[np.ndarray, np.ndarray]:
    """The guided filter's smoothed (a, b) at the inputs' resolution.  ``src_low`` may be
    HxWxC with one HxW guide for all channels: the guide's mean and variance are then
    filtered once, and each box filter runs on the channels together."""
    r = max(1, int(radius_low))
    mean_g = box(guide_low, r)
    var = box(guide_low * guide_low, r) - mean_g * mean_g
    if src_low.ndim == 3 and guide_low.ndim == 2:
        guide_low, mean_g, var = guide_low[..., None], mean_g[..., None], var[..., None]
    mean_p = box(src_low, r)
    cov = box(guide_low * src_low, r) - mean_g * mean_p
    a = cov / (var + eps)
    b = mean_p - a * mean_g
    return box(a, r), box(b, r)


def guided_upsample(guide: np.ndarray, guide_low: np.ndarray, src_low: np.ndarray, radius_low: int,
                    eps: float, out: np.ndarray | None = None) -> np.ndarray:
    """Guided filter whose coefficients come from low-resolution inputs, applied to the
    full-resolution guide (edge-aware upsampling of a smooth map such as haze).

    The full-size result is assembled strip by strip (``RowUpsampler``): no full-size
    temporaries besides ``out``."""
    h, w = guide.shape
    mean_a, mean_b = guided_coefficients(guide_low, src_low, radius_low, eps)
    if out is None:
        out = np.empty((h, w), np.float32)
    if mean_a.shape == (h, w):  # guided_filter's small radii filter at full size
        cv2.multiply(mean_a, guide, dst=out)
        return cv2.add(out, mean_b, dst=out)
    ua, ub = RowUpsampler(mean_a, w, h), RowUpsampler(mean_b, w, h)

    def one_strip(y0, y1):
        o = out[y0:y1]
        cv2.multiply(ua.rows(y0, y1), guide[y0:y1], dst=o)
        cv2.add(o, ub.rows(y0, y1), dst=o)

    for_strips(one_strip, h, w)
    return out
