"""Detail: texture, clarity, sharpness, luminance noise reduction.

All work on log2 luminance and apply the result as a gain on RGB, so they add or
remove contrast without colour fringes.  Clarity's base layer is a guided filter
(edge-aware), so boosting mid-frequency contrast does not halo at strong edges.
Radii are fractions of the long edge: identical looks at preview and full size.
"""
from __future__ import annotations

import cv2
import numpy as np

from maskroom.engine.develop.adjustments.base import OpContext, adjustment, apply_gain, luma
from maskroom.engine.develop.filters import (
    RowUpsampler, curve, for_strips, gaussian, guided_coefficients, guided_filter,
)

EPS = 1e-4
TEXTURE_SIGMA = 0.002  # fine structure (skin, foliage)
CLARITY_RADIUS = 0.02  # mid-frequency: the local contrast of shapes
SHARPEN_SIGMA = 0.0004  # about 2.4 px on a 6000 px image
NOISE_RADIUS = 0.0008


LOG2E = np.float32(1.0 / np.log(2.0))
LN2 = np.float32(np.log(2.0))


def _log_luma(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = luma(img)
    l = cv2.max(y, 0.0)
    l += np.float32(EPS)
    cv2.log(l, dst=l)  # in place: one full-size map instead of four at 24 MP
    return y, cv2.multiply(l, float(LOG2E), dst=l)


def _midtone_fn(l):
    # Spare deep shadows and near-clipped highlights (about -9..0 EV).
    def ss(e0, e1, x):
        t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
        return t * t * (3.0 - 2.0 * t)
    return ss(-12.0, -8.0, l) * (1.0 - ss(-0.5, 0.5, l))


def _midtones(l: np.ndarray) -> np.ndarray:
    return curve(l, -14.0, 2.0, _midtone_fn)


def _exp2(x: np.ndarray, lim: float) -> np.ndarray:
    return cv2.exp(cv2.multiply(np.clip(x, -lim, lim), float(LN2)))


@adjustment("texture", -100, 100, "", "Fine detail contrast (+) or smoothing (-).")
def texture(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    _, l = _log_luma(img)
    smooth = gaussian(l, ctx.px(TEXTURE_SIGMA))
    out = img if ctx.owned else np.empty_like(img)

    # the pointwise rest strip by strip: no full-size temporaries
    def one_strip(y0, y1):
        detail = cv2.subtract(l[y0:y1], smooth[y0:y1])
        gain = _exp2(cv2.multiply(detail, _midtones(l[y0:y1]), scale=amount / 100.0), 2)
        apply_gain(img[y0:y1], gain, out=out[y0:y1])

    for_strips(one_strip, *l.shape)
    return out


@adjustment("clarity", -100, 100, "", "Mid-frequency local contrast, edge-aware (no halos).")
def clarity(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    _, l = _log_luma(img)
    radius = ctx.px(CLARITY_RADIUS, 2.0)
    base = guided_filter(l, l, radius, eps=0.25)
    # Halo clamp: a guided-filter base still leaks across strong edges into the flat
    # side (a 4 EV step gave +-12 % rims).  Keeping the base within the local min/max
    # of a window 1/8 of the radius confines that to a thin band at the edge itself.
    r = max(1, int(radius // 8))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * r + 1, 2 * r + 1))
    h = l.shape[0]
    out = img if ctx.owned else np.empty_like(img)
    # Strip by strip; the local min/max read r rows beyond their strip (a halo), so
    # they equal the whole-image erode/dilate.
    def one_strip(y0, y1):
        a0, a1 = max(0, y0 - r), min(h, y1 + r)
        lo = cv2.erode(l[a0:a1], kernel)[y0 - a0:y1 - a0]
        hi = cv2.dilate(l[a0:a1], kernel)[y0 - a0:y1 - a0]
        detail = cv2.subtract(l[y0:y1], np.clip(base[y0:y1], lo, hi))
        gain = _exp2(cv2.multiply(detail, _midtones(l[y0:y1]), scale=0.8 * amount / 100.0), 2)
        apply_gain(img[y0:y1], gain, out=out[y0:y1])

    for_strips(one_strip, *l.shape, 1 << 20)
    return out


@adjustment("sharpness", 0, 150, "", "Unsharp mask on luminance (radius scales with image size).")
def sharpness(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    _, l = _log_luma(img)
    sigma = ctx.px(SHARPEN_SIGMA, 0.0)
    if sigma < 0.3:
        return img.copy()
    smooth = gaussian(l, sigma)
    out = img if ctx.owned else np.empty_like(img)

    def one_strip(y0, y1):
        detail = cv2.subtract(l[y0:y1], smooth[y0:y1])
        apply_gain(img[y0:y1], _exp2(cv2.multiply(detail, amount / 100.0), 1), out=out[y0:y1])

    for_strips(one_strip, *l.shape)
    return out


@adjustment("noise_reduction", 0, 100, "", "Luminance noise reduction (edge-preserving).")
def noise_reduction(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    _, l = _log_luma(img)
    k = amount / 100.0
    smooth = guided_filter(l, l, ctx.px(NOISE_RADIUS, 1.0), eps=np.float32((0.35 * k) ** 2 + 1e-6))
    return apply_gain(img, _exp2(cv2.subtract(smooth, l), 4), out=img if ctx.owned else None)


COLOR_NOISE_RADIUS = 0.004  # of the long edge at amount 100: chroma noise is coarse


@adjustment("color_noise_reduction", 0, 100, "", "Colour noise reduction: smooths chroma, keeps luminance and edges.")
def color_noise_reduction(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    # Chroma as the ratio of each channel to luminance, smoothed edge-aware (guided by
    # perceptual luminance, so colour does not bleed across edges), times the
    # original luminance: blotches of colour noise go, detail (luminance) stays.
    # Chroma is smooth by then, so the filter's coefficients are computed at reduced
    # size and applied at full size (guided upsampling): cheap and small at 24 MP.
    k = amount / 100.0
    h, w = img.shape[:2]
    radius = ctx.px(COLOR_NOISE_RADIUS * k, 1.0)
    # at least half size: colour resolution matters far less than luminance's
    s = max(2, int(radius // 2)) if min(h, w) >= 32 else 1
    small = img if s == 1 else cv2.resize(img, (max(1, w // s), max(1, h // s)), interpolation=cv2.INTER_AREA)
    y_small = cv2.max(luma(small), 0.0)
    inv_small = cv2.divide(1.0, cv2.add(y_small, 1e-4))
    guide_small = cv2.sqrt(y_small)
    eps = float((0.05 * k) ** 2 + 1e-6)
    r = max(1, int(round(radius / s)))
    # the three channels' ratios filtered together (one guide: its statistics once)
    a, b = guided_coefficients(guide_small, cv2.multiply(small, cv2.merge([inv_small] * 3)), r, eps)
    ua, ub = RowUpsampler(a, w, h), RowUpsampler(b, w, h)
    out = img if ctx.owned else np.empty_like(img)
    # Full size strip by strip: each channel's ratio (a * guide + b) times luminance,
    # then the luminance restored (the smoothed ratios need not keep it exactly).
    def one_strip(y0, y1):
        y = cv2.max(luma(img[y0:y1]), 0.0)
        guide = cv2.sqrt(y)
        o = cv2.multiply(cv2.add(cv2.multiply(ua.rows(y0, y1), cv2.merge([guide] * 3)), ub.rows(y0, y1)),
                         cv2.merge([y] * 3))
        o = cv2.max(o, 0.0)
        apply_gain(o, cv2.divide(cv2.add(y, 1e-6), cv2.add(luma(o), 1e-6)), out=out[y0:y1])

    for_strips(one_strip, h, w)
    return out
