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

from maskroom.engine.develop.adjustments.base import OpContext, luma, module, setting
from maskroom.engine.develop.filters import for_strips  # finishing runs strip by strip: no full-size temporaries

GAMMA = 2.2
MAX_VIGNETTE_EV = 1.5
GRAIN_SEED = 16
GRAIN_STRENGTH = 0.08  # perceptual units (std) at amount 100


CACHED_FIELD_PIXELS = 5_000_000  # previews keep their vignette and grain maps: a slider move only applies them


@module("vignette", "Post-crop vignette: amount, midpoint, roundness, feather.", {
    "vignette.amount": (-100, 100, 0, "post-crop vignette: darkens (-) or lightens (+) the corners, up to 1.5 EV"),
    "vignette.midpoint": (0, 100, 50, "post-crop vignette: how far from the corners the falloff starts"),
    "vignette.roundness": (-100, 100, 0, "post-crop vignette: -100 rectangle, 0 frame-shaped ellipse, 100 circle"),
    "vignette.feather": (0, 100, 50, "post-crop vignette: width of the falloff"),
}, shape=("vignette.midpoint", "vignette.roundness", "vignette.feather"), finishing=True)
def vignette(img: np.ndarray, _value: float, ctx: OpContext) -> np.ndarray:
    h, w = img.shape[:2]
    shape = (setting(ctx, "vignette.midpoint"), setting(ctx, "vignette.roundness"), setting(ctx, "vignette.feather"))
    k = float(MAX_VIGNETTE_EV * setting(ctx, "vignette.amount") / 100.0 * np.log(2.0))
    out = img if ctx.owned else np.empty_like(img)
    whole = _whole_weight(h, w, *shape) if h * w <= CACHED_FIELD_PIXELS else None

    def one_strip(y0, y1):
        weight = whole[y0:y1] if whole is not None else vignette_weight(h, w, *shape, rows=(y0, y1))
        gain = cv2.exp(cv2.multiply(weight, k))
        cv2.multiply(img[y0:y1], cv2.merge([gain, gain, gain]), dst=out[y0:y1])

    for_strips(one_strip, h, w)
    return out


@lru_cache(maxsize=2)
def _whole_weight(h: int, w: int, midpoint: float, roundness: float, feather: float) -> np.ndarray:
    weight = vignette_weight(h, w, midpoint, roundness, feather)
    weight.setflags(write=False)
    return weight


def vignette_weight(h: int, w: int, midpoint: float, roundness: float, feather: float,
                    rows: tuple[int, int] | None = None) -> np.ndarray:
    """0 in the centre .. 1 in the corners (float32, rows y0..y1 of an HxW frame)."""
    y0, y1 = rows or (0, h)
    u = np.abs(np.linspace(-1.0, 1.0, w, dtype=np.float32))[None, :]
    v = np.abs(np.linspace(-1.0, 1.0, h, dtype=np.float32))[y0:y1, None]
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
def _cells(h: int, w: int, cell: float, roughness: float) -> tuple[tuple[np.ndarray, float, float, float], ...]:
    """The grain's octaves at their own (small) resolution, each with its weight and the
    scale to the frame: (field, weight, sx, sy).  Seeded: a render repeats exactly."""
    rng = np.random.default_rng(GRAIN_SEED)
    octaves = []
    for c, weight in ((cell, 1.0 - roughness), (max(0.5, cell / 2.0), roughness)):
        gh, gw = max(2, int(round(h / c))), max(2, int(round(w / c)))
        field = rng.standard_normal((gh, gw), dtype=np.float32)
        if weight > 0:
            octaves.append((field, float(weight), gw / w, gh / h))
    # unit variance of the mix (each octave is unit variance; cubic upsampling smooths
    # it by a factor measured once on a patch)
    norm = 0.0
    for field, weight, sx, sy in octaves:
        patch = _upsample(field, sx, sy, 0, min(h, 256), min(w, 256))
        norm += (weight * float(patch.std())) ** 2
    scale = 1.0 / max(np.sqrt(norm), 1e-6)
    return tuple((f, wgt * scale, sx, sy) for f, wgt, sx, sy in octaves)


def _upsample(field: np.ndarray, sx: float, sy: float, y0: int, y1: int, w: int) -> np.ndarray:
    """Rows y0..y1 of ``field`` resized to the frame (same samples as one whole resize)."""
    m = np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, (y0 + 0.5) * sy - 0.5]], np.float32)
    return cv2.warpAffine(field, m, (w, y1 - y0), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT)




@lru_cache(maxsize=2)
def _whole_field(h: int, w: int, cell: float, roughness: float) -> np.ndarray:
    field = _grain_rows(h, w, cell, roughness, 0, h)
    field.setflags(write=False)
    return field


def grain_field(h: int, w: int, cell: float, roughness: float, rows: tuple[int, int]) -> np.ndarray:
    """Unit-variance grain for rows y0..y1 of an HxW frame."""
    y0, y1 = rows
    if h * w <= CACHED_FIELD_PIXELS:
        return _whole_field(h, w, round(cell, 2), roughness)[y0:y1]
    return _grain_rows(h, w, cell, roughness, y0, y1)


def _grain_rows(h: int, w: int, cell: float, roughness: float, y0: int, y1: int) -> np.ndarray:
    out = None
    for field, weight, sx, sy in _cells(h, w, round(cell, 2), roughness):
        part = cv2.multiply(_upsample(field, sx, sy, y0, y1, w), weight)
        out = part if out is None else cv2.add(out, part)
    return out


@module("grain", "Film grain: amount, size, roughness.", {
    "grain.amount": (0, 100, 0, "grain strength"),
    "grain.size": (0, 100, 25, "grain size: cells of 0.03 % .. 0.15 % of the long edge"),
    "grain.roughness": (0, 100, 50, "grain roughness: mixes in a finer octave"),
}, shape=("grain.size", "grain.roughness"), finishing=True)
def grain(img: np.ndarray, _value: float, ctx: OpContext) -> np.ndarray:
    h, w = img.shape[:2]
    cell = max(0.5, ctx.long_edge * (0.0003 + 0.0012 * setting(ctx, "grain.size") / 100.0))
    roughness = setting(ctx, "grain.roughness") / 100.0
    k = GRAIN_STRENGTH * setting(ctx, "grain.amount") / 100.0
    out = img if ctx.owned else np.empty_like(img)

    def one_strip(y0, y1):
        strip = img[y0:y1]
        y = cv2.max(luma(strip), 0.0)
        p = _power(y, 1.0 / GAMMA)
        midtones = cv2.max(cv2.multiply(cv2.multiply(p, cv2.subtract(1.0, p)), 4.0), 0.0)  # 0 at black, white
        noise = grain_field(h, w, cell, roughness, (y0, y1))
        p_new = cv2.max(cv2.add(p, cv2.multiply(cv2.multiply(noise, midtones), k)), 0.0)
        gain = cv2.divide(cv2.add(_power(p_new, GAMMA), 1e-6), cv2.add(y, 1e-6))
        cv2.multiply(strip, cv2.merge([gain, gain, gain]), dst=out[y0:y1])

    for_strips(one_strip, h, w)
    return out


def _power(x: np.ndarray, e: float) -> np.ndarray:
    """x ** e for x >= 0 as exp(e * log x): half of cv2.pow's time (a 2 MP grain: two of
    them, 7 -> 3.5 ms), within a few float32 ulps; log(0) is a huge negative, so 0 -> 0."""
    out = cv2.log(x)
    cv2.multiply(out, e, dst=out)
    return cv2.exp(out, dst=out)
