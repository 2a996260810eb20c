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
    r = max(1, int(round(ctx.px(DARK_RADIUS))))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * r + 1, 2 * r + 1))
    ch = cv2.split(img)
    dark = cv2.erode(cv2.min(cv2.min(ch[0], ch[1]), ch[2]), kernel)
    flat = dark.reshape(-1)
    step = max(1, flat.size // 2_000_000)  # the airlight estimate needs no more samples
    sample = flat[::step]
    n = max(1, sample.size // 1000)
    idx = np.argpartition(sample, -n)[-n:] * step
    air = np.maximum(img.reshape(-1, 3)[idx].mean(axis=0), 0.05).astype(np.float32)
    norm = [cv2.multiply(c, float(1.0 / a)) for c, a in zip(ch, air)]
    haze = cv2.erode(cv2.min(cv2.min(norm[0], norm[1]), norm[2]), kernel)
    guide = luma(img)
    haze = np.clip(guided_filter(guide, haze, ctx.px(DARK_RADIUS * 3, 2.0), eps=1e-3), 0.0, 1.0)
    if k >= 0:
        t = cv2.max(1.0 - np.float32(0.95 * k) * haze, 0.1)
        inv = cv2.divide(1.0, t)
        # J = (I - A) / t + A, per channel
        out = cv2.merge([cv2.add(cv2.multiply(cv2.subtract(c, float(a)), inv), float(a)) for c, a in zip(ch, air)])
    else:
        veil = np.float32(-0.6 * k) * (1.0 - 0.5 * haze)
        keep = 1.0 - veil
        out = cv2.merge([cv2.add(cv2.multiply(c, keep), veil * np.float32(a)) for c, a in zip(ch, air)])
    return cv2.max(out, 0.0)


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
