"""Colour grading: shadows / midtones / highlights wheels plus a global wheel.

Keys, for each of ``shadows``, ``midtones``, ``highlights`` and ``global``:
``grade.<wheel>.hue`` (0..360, sRGB HSV degrees of the tint), ``.saturation``
(0..100: how strongly the range is tinted) and ``.luminance`` (-100..100: up to
-+1 EV on that range).  ``grade.blending`` (0..100, default 50) sets how much the
three ranges overlap (100: broad and soft, 0: narrow); ``grade.balance``
(-100..100) moves the shadows/highlights crossover (+ gives the highlights wheel
more of the tones).

The tint of a wheel is a per-channel gain whose luminance is 1 (the colour of the
wheel at up to 50 % HSV saturation, normalised): tinting never changes brightness,
and black stays black.  The ranges are weighted by the pixel's perceptual
luminance ``p = Y ** (1/2.2)`` with weights that sum to 1, and gains combine
geometrically, so the module is three tables over p (pointwise, cheap).
"""
from __future__ import annotations

import colorsys

import cv2
import numpy as np

from maskroom.engine.develop.adjustments.base import OpContext, luma, memo_tables, module
from maskroom.engine.develop.color import LUMA, SRGB_TO_WORK, srgb_decode
from maskroom.engine.develop.filters import table_index

GAMMA = 2.2
WHEELS = ("shadows", "midtones", "highlights", "global")
MAX_TINT_SATURATION = 0.5  # a wheel at 100 tints with its hue at 50 % HSV saturation
MAX_LUM_EV = 1.0
TABLE = 1024

_KEYS = {}
for _w in WHEELS:
    _KEYS[f"grade.{_w}.hue"] = (0, 360, 0, f"colour grading: hue of the {_w} tint (sRGB HSV degrees)")
    _KEYS[f"grade.{_w}.saturation"] = (0, 100, 0, f"colour grading: strength of the {_w} tint")
    _KEYS[f"grade.{_w}.luminance"] = (-100, 100, 0, f"colour grading: {_w} luminance (+-1 EV)")
_KEYS["grade.blending"] = (0, 100, 50, "colour grading: overlap of the three ranges (100 = broad)")
_KEYS["grade.balance"] = (-100, 100, 0, "colour grading: moves the shadows/highlights crossover (+ = more highlights)")


def tint_gains(hue_degrees: float, saturation: float) -> np.ndarray:
    """Per-channel gains (luminance 1) that tint toward ``hue`` at ``saturation`` 0..100."""
    s = MAX_TINT_SATURATION * float(saturation) / 100.0
    rgb = np.array(colorsys.hsv_to_rgb((float(hue_degrees) % 360.0) / 360.0, s, 1.0), np.float32)
    work = srgb_decode(rgb) @ SRGB_TO_WORK.T
    return (work / float(LUMA @ work)).astype(np.float64)


def range_weights(p: np.ndarray, blending: float, balance: float) -> np.ndarray:
    """(..., 3) shadows/midtones/highlights weights at perceptual luminance p (sum 1)."""
    m = float(np.clip(0.5 - 0.3 * balance / 100.0, 0.1, 0.9))  # the crossover
    t = np.where(p < m, 0.5 * p / m, 0.5 + 0.5 * (p - m) / (1.0 - m))
    k = 1.0 + 2.0 * (1.0 - blending / 100.0)  # narrower transitions at low blending
    t = np.clip(0.5 + (t - 0.5) * k, 0.0, 1.0)
    return np.stack([(1.0 - t) ** 2, 2.0 * t * (1.0 - t), t * t], axis=-1)


def gain_tables(params: dict) -> np.ndarray | None:
    """(3, TABLE) per-channel gains over p in 0..1; None when grading is neutral.

    Tints blend geometrically (weighted log gains), renormalised to luminance 1 at
    every p, then the luminance wheels' gain is applied."""
    wheels = {w: (float(params.get(f"grade.{w}.hue", 0.0)), float(params.get(f"grade.{w}.saturation", 0.0)),
                  float(params.get(f"grade.{w}.luminance", 0.0))) for w in WHEELS}
    if not any(s or lum for _h, s, lum in wheels.values()):
        return None
    p = np.linspace(0.0, 1.0, TABLE)
    weights = range_weights(p, float(params.get("grade.blending", 50.0)), float(params.get("grade.balance", 0.0)))
    weights = np.concatenate([weights, np.ones_like(p)[:, None]], axis=1)  # global: everywhere
    log_tint, ev = np.zeros((TABLE, 3)), np.zeros(TABLE)
    for i, w in enumerate(WHEELS):
        hue, sat, lum = wheels[w]
        log_tint += weights[:, i:i + 1] * np.log2(tint_gains(hue, sat))[None, :]
        ev += weights[:, i] * MAX_LUM_EV * lum / 100.0
    tint = np.exp2(log_tint)
    tint /= (tint @ LUMA.astype(np.float64))[:, None]
    return np.ascontiguousarray((tint * np.exp2(ev)[:, None]).T, np.float32)


@module("grading", "Colour grading: shadows/midtones/highlights/global wheels, blending, balance.",
        _KEYS, shape=tuple(f"grade.{w}.hue" for w in WHEELS) + ("grade.blending", "grade.balance"),
        pointwise=True)
def grading(img: np.ndarray, _value: float, ctx: OpContext) -> np.ndarray:
    gains = memo_tables(ctx, "grade.", gain_tables)
    if gains is None:
        return img.copy()
    idx = table_index(cv2.pow(cv2.max(luma(img), 0.0), 1.0 / GAMMA), 0.0, 1.0, TABLE)
    return cv2.multiply(img, cv2.merge([gains[0].take(idx), gains[1].take(idx), gains[2].take(idx)]))
