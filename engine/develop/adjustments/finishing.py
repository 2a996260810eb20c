"""Finishing effects, applied to the global layer after crop and straighten.

* Post-crop vignette (``vignette.amount`` -100..100: darkens (-) or lightens (+)
  the corners by up to 1.5 EV; ``vignette.midpoint`` 0..100, default 50: how far
  in the falloff starts; ``vignette.roundness`` -100..100: -100 follows the frame's
  rectangle, 0 an ellipse of the frame's proportions, +100 a circle;
  ``vignette.feather`` 0..100, default 50: the width of the falloff).  It is drawn
  on the *cropped* frame, as Lightroom's post-crop vignette.
* Grain (``grain.amount`` 0..100, ``grain.size`` 0..100 default 25: grain cells of
  0.03 % .. 0.15 % of the long edge, ``grain.roughness`` 0..100 default 50: mixes in
  a finer, independent octave).  The grain pattern is seeded, so a render is
  reproducible, and sized by the long edge, so a preview and an export show the
  same grain.  It is added in perceptual luminance, strongest in the midtones.

They are global only (as in Lightroom): a masked layer refuses their keys.
"""
from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from maskroom.engine.develop.adjustments.base import OpContext, apply_gain, luma, module, setting

GAMMA = 2.2
MAX_VIGNETTE_EV = 1.5
GRAIN_SEED = 16
GRAIN_STRENGTH = 0.08  # perceptual units (std) at amount 100


@module("vignette", "Post-crop vignette: amount, midpoint, roundness, feather.", {
    "vignette.amount": (-100, 100, 0, "post-crop vignette: darkens (-) or lightens (+) the corners, up to 1.5 EV"),
    "vignette.midpoint": (0, 100, 50, "post-crop vignette: how far from the corners the falloff starts"),
    "vignette.roundness": (-100, 100, 0, "post-crop vignette: -100 rectangle, 0 frame-shaped ellipse, 100 circle"),
    "vignette.feather": (0, 100, 50, "post-crop vignette: width of the falloff"),
}, shape=("vignette.midpoint", "vignette.roundness", "vignette.feather"), finishing=True)
def vignette(img: np.ndarray, _value: float, ctx: OpContext) -> np.ndarray:
    h, w = img.shape[:2]
    weight = vignette_weight(h, w, setting(ctx, "vignette.midpoint"), setting(ctx, "vignette.roundness"),
                             setting(ctx, "vignette.feather"))
    ev = MAX_VIGNETTE_EV * setting(ctx, "vignette.amount") / 100.0
    gain = cv2.exp(cv2.multiply(weight, float(ev * np.log(2.0))))
    return apply_gain(img, gain, out=img if ctx.owned else None)


def vignette_weight(h: int, w: int, midpoint: float, roundness: float, feather: float) -> np.ndarray:
    """0 in the centre .. 1 in the corners (float32 HxW)."""
    u = np.abs(np.linspace(-1.0, 1.0, w, dtype=np.float32))[None, :]
    v = np.abs(np.linspace(-1.0, 1.0, h, dtype=np.float32))[:, None]
    r = roundness / 100.0
    if r > 0:  # toward a circle: squeeze the long axis
        aspect = w / h
        if aspect >= 1:
            u = u * (1.0 + r * (aspect - 1.0))
        else:
            v = v * (1.0 + r * (1.0 / aspect - 1.0))
    n = 2.0 + 6.0 * max(0.0, -r)  # superellipse exponent: 2 ellipse .. 8 near-rectangle
    d = (u ** n + v ** n) ** (1.0 / n)  # 1 at the edge midpoints, ~1.41 in corners (n = 2)
    start = 0.2 + 0.8 * midpoint / 100.0
    width = 0.05 + 1.0 * feather / 100.0
    t = np.clip((d - start) / width, 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


@lru_cache(maxsize=4)
def _noise(h: int, w: int, cell: float, roughness: float) -> np.ndarray:
    """Unit-variance grain field HxW (cached: a slider move elsewhere reuses it)."""
    rng = np.random.default_rng(GRAIN_SEED)

    def octave(c: float) -> np.ndarray:
        gh, gw = max(2, int(round(h / c))), max(2, int(round(w / c)))
        small = rng.standard_normal((gh, gw), dtype=np.float32)
        big = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC if c > 1 else cv2.INTER_AREA)
        return big / max(float(big.std()), 1e-6)

    field = octave(cell)
    if roughness > 0:
        field = cv2.addWeighted(field, 1.0 - roughness, octave(max(0.5, cell / 2.0)), roughness, 0.0)
        field /= max(float(field.std()), 1e-6)
    field.setflags(write=False)
    return field


@module("grain", "Film grain: amount, size, roughness.", {
    "grain.amount": (0, 100, 0, "grain strength"),
    "grain.size": (0, 100, 25, "grain size: cells of 0.03 % .. 0.15 % of the long edge"),
    "grain.roughness": (0, 100, 50, "grain roughness: mixes in a finer octave"),
}, shape=("grain.size", "grain.roughness"), finishing=True)
def grain(img: np.ndarray, _value: float, ctx: OpContext) -> np.ndarray:
    h, w = img.shape[:2]
    cell = max(0.5, ctx.long_edge * (0.0003 + 0.0012 * setting(ctx, "grain.size") / 100.0))
    noise = _noise(h, w, round(cell, 2), setting(ctx, "grain.roughness") / 100.0)
    y = cv2.max(luma(img), 0.0)
    p = cv2.pow(y, 1.0 / GAMMA)
    midtones = cv2.multiply(cv2.multiply(p, cv2.subtract(1.0, p)), 4.0)  # 0 at black and white
    k = GRAIN_STRENGTH * setting(ctx, "grain.amount") / 100.0
    p_new = cv2.max(cv2.add(p, cv2.multiply(cv2.multiply(noise, cv2.max(midtones, 0.0)), k)), 0.0)
    gain = cv2.divide(cv2.add(cv2.pow(p_new, GAMMA), 1e-6), cv2.add(y, 1e-6))
    return apply_gain(img, gain, out=img if ctx.owned else None)
