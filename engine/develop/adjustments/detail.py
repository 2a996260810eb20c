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
from maskroom.engine.develop.filters import gaussian, guided_filter, smoothstep

EPS = 1e-4
TEXTURE_SIGMA = 0.002  # fine structure (skin, foliage)
CLARITY_RADIUS = 0.02  # mid-frequency: the local contrast of shapes
SHARPEN_SIGMA = 0.0004  # about 2.4 px on a 6000 px image
NOISE_RADIUS = 0.0008


def _log_luma(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = luma(img)
    return y, np.log2(np.maximum(y, 0.0) + EPS).astype(np.float32)


def _midtones(l: np.ndarray) -> np.ndarray:
    # Spare deep shadows and near-clipped highlights (about -9..0 EV).
    return smoothstep(-12.0, -8.0, l) * (1.0 - smoothstep(-0.5, 0.5, l))


@adjustment("texture", -100, 100, "", "Fine detail contrast (+) or smoothing (-).")
def texture(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    _, l = _log_luma(img)
    detail = l - gaussian(l, ctx.px(TEXTURE_SIGMA))
    k = np.float32(amount / 100.0)
    return apply_gain(img, np.exp2(np.clip(k * detail * _midtones(l), -2, 2)).astype(np.float32))


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
    base = np.clip(base, cv2.erode(l, kernel), cv2.dilate(l, kernel))
    detail = l - base
    k = np.float32(0.8 * amount / 100.0)
    return apply_gain(img, np.exp2(np.clip(k * detail * _midtones(l), -2, 2)).astype(np.float32))


@adjustment("sharpness", 0, 150, "", "Unsharp mask on luminance (radius scales with image size).")
def sharpness(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    _, l = _log_luma(img)
    sigma = ctx.px(SHARPEN_SIGMA, 0.0)
    if sigma < 0.3:
        return img.copy()
    detail = l - gaussian(l, sigma)
    k = np.float32(amount / 100.0)
    return apply_gain(img, np.exp2(np.clip(k * detail, -1, 1)).astype(np.float32))


@adjustment("noise_reduction", 0, 100, "", "Luminance noise reduction (edge-preserving).")
def noise_reduction(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    _, l = _log_luma(img)
    k = amount / 100.0
    smooth = guided_filter(l, l, ctx.px(NOISE_RADIUS, 1.0), eps=np.float32((0.35 * k) ** 2 + 1e-6))
    return apply_gain(img, np.exp2(np.clip(smooth - l, -4, 4)).astype(np.float32))
