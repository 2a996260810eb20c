"""Effects: dehaze and (background) blur."""
from __future__ import annotations

import cv2
import numpy as np

from maskroom.engine.develop.adjustments.base import OpContext, adjustment, luma
from maskroom.engine.develop.filters import gaussian, guided_upsample

DARK_RADIUS = 0.01
BLUR_MAX_SIGMA = 0.012  # blur 100 = sigma of 1.2 % of the long edge


ANALYSIS_LONG_EDGE = 1024  # the haze map is smooth: estimate it small, upsample edge-aware


@adjustment("dehaze", -100, 100, "", "Removes (+) or adds (-) atmospheric haze (dark-channel prior).")
def dehaze(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    k = amount / 100.0
    h, w = img.shape[:2]
    # Dark channel, airlight and transmission at <= 1024 px (radii scaled to match),
    # then a guided upsampling by the full-size luminance keeps edges crisp.
    s = max(1.0, max(h, w) / ANALYSIS_LONG_EDGE)
    small = img if s == 1.0 else cv2.resize(img, (max(1, round(w / s)), max(1, round(h / s))),
                                            interpolation=cv2.INTER_AREA)
    r = max(1, int(round(ctx.px(DARK_RADIUS) / s)))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * r + 1, 2 * r + 1))
    ch = cv2.split(small)
    dark = cv2.erode(cv2.min(cv2.min(ch[0], ch[1]), ch[2]), kernel).reshape(-1)
    n = max(1, dark.size // 1000)
    idx = np.argpartition(dark, -n)[-n:]
    air = np.maximum(small.reshape(-1, 3)[idx].mean(axis=0), 0.05).astype(np.float32)
    norm = [cv2.multiply(c, float(1.0 / a)) for c, a in zip(ch, air)]
    haze_small = cv2.erode(cv2.min(cv2.min(norm[0], norm[1]), norm[2]), kernel)
    guide = luma(img)
    guide_small = luma(small)
    r_gf = max(1, int(round(ctx.px(DARK_RADIUS * 3, 2.0) / s)))
    haze = np.clip(guided_upsample(guide, guide_small, haze_small, r_gf, eps=1e-3), 0.0, 1.0)
    air3 = air.reshape(1, 1, 3)
    if k >= 0:
        t = cv2.max(cv2.addWeighted(haze, -0.95 * k, haze, 0.0, 1.0), 0.1)
        inv = cv2.divide(1.0, t)
        out = img if ctx.owned else np.empty_like(img)  # in place when nobody else holds img
        np.subtract(img, air3, out=out)  # J = (I - A) / t + A
        out *= inv[..., None]
        out += air3
    else:
        veil = cv2.addWeighted(haze, 0.3 * k, haze, 0.0, -0.6 * k)  # -0.6k * (1 - haze/2)
        out = np.multiply(img, (1.0 - veil)[..., None], out=img if ctx.owned else None)
        out += veil[..., None] * air3
    return cv2.max(out, 0.0, dst=out)


@adjustment("blur", 0, 100, "", "Lens-like blur; inside a mask only masked pixels are averaged (no subject halo).")
def blur(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    sigma = ctx.px(BLUR_MAX_SIGMA * amount / 100.0, 0.0)
    if sigma < 0.3:
        return img.copy()
    if ctx.mask is None:
        return gaussian(img, sigma)
    # Normalised convolution: weight every pixel by the layer's mask so the
    # unmasked subject contributes nothing to the blurred background near it.
    m = np.ascontiguousarray(ctx.mask, np.float32)
    num = gaussian(img * m[..., None], sigma)
    den = gaussian(m, sigma)[..., None]
    fallback = gaussian(img, sigma)
    return np.where(den > 1e-3, num / np.maximum(den, 1e-3), fallback).astype(np.float32)
