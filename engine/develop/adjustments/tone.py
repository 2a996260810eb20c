"""Tone: exposure, contrast, highlights, shadows, whites, blacks.

Tone curves act on luminance and scale RGB by the luminance gain, so they change
brightness without shifting hue or saturation.  Curves are shaped in a perceptual
encoding ``p = Y ** (1/2.2)`` (p = 0.5 is about middle grey).  Highlights and
shadows weight by an edge-aware *local* brightness (guided filter), like
Lightroom's, so a bright sky is recovered as a region and edges do not halo.
"""
from __future__ import annotations

import cv2
import numpy as np

from maskroom.engine.develop.adjustments.base import OpContext, adjustment, apply_gain, linear_matrix, luma
from maskroom.engine.develop.filters import curve, for_strips, guided_filter, smoothstep

GAMMA = 2.2
EPS = 1e-6
LOCAL_RADIUS = 0.02  # of the long edge: the region size highlights/shadows judge by


def _perceptual(y: np.ndarray) -> np.ndarray:
    # cv2.pow is SIMD and threaded; several times faster than np.power on big images.
    return cv2.pow(cv2.max(y, 0.0), 1.0 / GAMMA)


def _gain_from_p(y: np.ndarray, p_new: np.ndarray) -> np.ndarray:
    y_new = cv2.pow(cv2.max(p_new, 0.0), GAMMA)
    return cv2.divide(y_new + EPS, y + EPS)


def exp2(x: np.ndarray) -> np.ndarray:
    return cv2.exp(np.multiply(x, np.float32(np.log(2.0)), dtype=np.float32))


@adjustment("exposure", -5.0, 5.0, "EV", "Multiplies linear light by 2**EV (+1 doubles it).", pointwise=True)
def exposure(img: np.ndarray, ev: float, ctx: OpContext) -> np.ndarray:
    return img * np.float32(2.0 ** ev)


@linear_matrix("exposure")
def _exposure_matrix(ev: float, ctx: OpContext) -> np.ndarray:
    return np.eye(3) * 2.0 ** ev


@adjustment("contrast", -100, 100, "", "S-curve around middle grey; negative flattens.", pointwise=True)
def contrast(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    y = luma(img)
    p = _perceptual(y)
    a = np.float32(0.5 * amount / 100.0)
    q = np.minimum(p, 1.0)
    p_new = p + 2.0 * a * (q - q * q) * (2.0 * q - 1.0)  # monotone for |a| <= 0.5; no change at 0, 0.5, 1
    return apply_gain(img, _gain_from_p(y, p_new).astype(np.float32))


def _local_p(img: np.ndarray, ctx: OpContext) -> np.ndarray:
    """Edge-aware local brightness around each pixel, in sqrt(Y) (perceptual enough for
    a weight, and far cheaper than pow at 24 MP).  Computed once per layer: shadows
    reuses the map highlights made, so the two sliders judge the same regions."""
    base = ctx.memo.get("local_p")
    if base is None or base.shape != img.shape[:2]:
        p = luma(img)
        cv2.sqrt(cv2.max(p, 0.0, dst=p), dst=p)
        base = guided_filter(p, p, ctx.px(LOCAL_RADIUS, 1.0), eps=0.01)
        ctx.memo["local_p"] = base
    return base


def _smoothstep(e0: float, e1: float, x):
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


@adjustment("highlights", -100, 100, "", "Darkens (-) or brightens (+) bright regions by up to 1.5 EV.")
def highlights(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    k = 1.5 * amount / 100.0
    # smoothstep over Y^(1/2.2) 0.45..1, expressed in the map's sqrt(Y) units
    return _local_gain(img, ctx, lambda b: 2.0 ** (k * _smoothstep(0.45, 1.0, b ** (2.0 / GAMMA))))


def _local_gain(img: np.ndarray, ctx: OpContext, fn) -> np.ndarray:
    """img times ``fn`` of the local brightness map, strip by strip (no full-size gain)."""
    local = _local_p(img, ctx)
    out = img if ctx.owned else np.empty_like(img)

    def one_strip(y0, y1):
        apply_gain(img[y0:y1], curve(local[y0:y1], 0.0, 1.0, fn), out=out[y0:y1])

    for_strips(one_strip, *local.shape)
    return out


@adjustment("shadows", -100, 100, "", "Brightens (+) or darkens (-) dark regions by up to 1.5 EV.")
def shadows(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    k = 1.5 * amount / 100.0
    return _local_gain(img, ctx, lambda b: 2.0 ** (k * (1.0 - _smoothstep(0.0, 0.5, b ** (2.0 / GAMMA)))))


@adjustment("whites", -100, 100, "", "Moves the white end: up to 1 EV on the brightest tones, per pixel.", pointwise=True)
def whites(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    p = _perceptual(luma(img))
    w = smoothstep(0.5, 1.0, p)
    gain = exp2(np.float32(amount / 100.0) * w)
    return apply_gain(img, gain)


@adjustment("blacks", -100, 100, "", "Lifts (+) or crushes (-) the black end (up to 0.1 in perceptual units).", pointwise=True)
def blacks(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    # Per channel in the perceptual encoding: lifting must work on pure black too,
    # which a luminance gain cannot.
    h, w_, _ = img.shape
    flat = img.reshape(h, w_ * 3)
    p = _perceptual(flat)
    w = np.clip(1.0 - p * np.float32(1 / 0.3), 0.0, 1.0)
    w = cv2.multiply(w, w)
    p_new = cv2.max(cv2.scaleAdd(w, float(0.1 * amount / 100.0), p), 0.0)
    out = cv2.pow(p_new, GAMMA)
    return out.reshape(h, w_, 3)
