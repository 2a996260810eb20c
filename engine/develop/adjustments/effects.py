"""Effects: dehaze and (background) blur."""
from __future__ import annotations

import cv2
import numpy as np

from maskroom.engine.develop.adjustments.base import OpContext, adjustment, luma
from maskroom.engine.develop.filters import for_strips, gaussian, guided_upsample

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
    guide_small = luma(small)
    r_gf = max(1, int(round(ctx.px(DARK_RADIUS * 3, 2.0) / s)))
    haze = guided_upsample(luma(img), guide_small, haze_small, r_gf, eps=1e-3)
    np.clip(haze, 0.0, 1.0, out=haze)
    out = img if ctx.owned else np.empty_like(img)  # in place when nobody else holds img

    # the per-pixel rest strip by strip: no full-size temporaries
    airlight = (float(air[0]), float(air[1]), float(air[2]), 0.0)  # a per-channel cv2 scalar: no airlight plane

    def one_strip(y0, y1):
        hz, o = haze[y0:y1], out[y0:y1]
        # cv2 passes with a per-pixel plane merged to 3 channels: the float32 arithmetic
        # of numpy's broadcasts, in SIMD (numpy's broadcast multiply is several times slower)
        if k >= 0:
            t = cv2.max(cv2.addWeighted(hz, -0.95 * k, hz, 0.0, 1.0), 0.1)
            inv = cv2.divide(1.0, t)
            cv2.subtract(img[y0:y1], airlight, dst=o)  # J = (I - A) / t + A
            cv2.multiply(o, cv2.merge([inv, inv, inv]), dst=o)
            cv2.add(o, airlight, dst=o)
        else:
            veil = cv2.addWeighted(hz, 0.3 * k, hz, 0.0, -0.6 * k)  # -0.6k * (1 - haze/2)
            keep = cv2.subtract(1.0, veil)
            cv2.multiply(img[y0:y1], cv2.merge([keep, keep, keep]), dst=o)
            cv2.add(o, cv2.multiply(cv2.merge([veil, veil, veil]), airlight), dst=o)
        cv2.max(o, 0.0, dst=o)

    for_strips(one_strip, h, w)
    return out


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
