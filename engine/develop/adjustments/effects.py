"""Effects: dehaze and (background) blur."""
from __future__ import annotations

import cv2
import numpy as np

from maskroom.engine.develop.adjustments.base import OpContext, adjustment, luma
from maskroom.engine.develop.filters import gaussian, guided_filter

DARK_RADIUS = 0.01
BLUR_MAX_SIGMA = 0.012  # blur 100 = sigma of 1.2 % of the long edge


@adjustment("dehaze", -100, 100, "", "Removes (+) or adds (-) atmospheric haze (dark-channel prior).")
def dehaze(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    k = amount / 100.0
    # Airlight: the colour of the brightest 0.1 % of the dark channel.
    dark = np.min(img, axis=2)
    r = max(1, int(round(ctx.px(DARK_RADIUS))))
    dark = cv2.erode(dark, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * r + 1, 2 * r + 1)))
    flat = dark.reshape(-1)
    n = max(1, flat.size // 1000)
    idx = np.argpartition(flat, -n)[-n:]
    air = np.maximum(img.reshape(-1, 3)[idx].mean(axis=0), 0.05).astype(np.float32)
    haze = np.min(img / air, axis=2)
    haze = cv2.erode(haze, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * r + 1, 2 * r + 1)))
    guide = luma(img)
    haze = np.clip(guided_filter(guide, haze, ctx.px(DARK_RADIUS * 3, 2.0), eps=1e-3), 0.0, 1.0)
    if k >= 0:
        t = np.maximum(1.0 - np.float32(0.95 * k) * haze, 0.1)[..., None]
        out = (img - air) / t + air
    else:
        veil = np.float32(-0.6 * k) * (1.0 - 0.5 * haze)[..., None]
        out = img * (1 - veil) + air * veil
    return np.maximum(out, 0.0).astype(np.float32)


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
