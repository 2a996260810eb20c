"""Tone curve: parametric regions, a point curve on luminance, and R/G/B point curves.

Curves work in a perceptual encoding, ``p = Y ** (1/2.2)`` (0 = black, 1 = white),
as Lightroom's curve does, and are applied after the Basic tone sliders (so the
curve shapes what exposure, highlights... produced; see pipeline.ORDER).

* Parametric (``curve.highlights``, ``curve.lights``, ``curve.darks``,
  ``curve.shadows``, -100..100): each lifts (+) or lowers (-) its region with a
  smooth bump; the regions are split at ``curve.split_shadows``,
  ``curve.split_midtones`` and ``curve.split_highlights`` (percent of the tonal
  range, default 25 / 50 / 75).  Black and white stay where they are.
* Point curve (``curve.points``): a monotone cubic (Fritsch-Carlson / PCHIP, so it
  never overshoots or reverses tones) through up to 16 ``[x, y]`` points in 0..1.
  Applied on **luminance**: pixels keep their hue and saturation.
* Channel curves (``curve.red``, ``curve.green``, ``curve.blue``): the same kind of
  curve on one channel each (changes colour: ``curve.blue`` lifted in the shadows
  gives blue shadows).

Parametric, then point curve: the point curve shapes the parametric result, as in
Lightroom.  Everything is a 1-D table over p, so the module is pointwise and cheap.
"""
from __future__ import annotations

import cv2
import numpy as np
from scipy.interpolate import PchipInterpolator

from maskroom.engine.develop.adjustments.base import OpContext, is_identity_curve, luma, memo_tables, module
from maskroom.engine.develop.filters import table_index

GAMMA = 2.2
TABLE = 1024
Y_FLOOR = 1e-3  # below this luminance a lifted black is added as grey (a gain cannot lift 0)
REGIONS = ("shadows", "darks", "lights", "highlights")
SPLITS = ("split_shadows", "split_midtones", "split_highlights")
MAX_BUMP = 0.15  # parametric +-100 moves its region's centre by up to 0.15 in p
MIN_SLOPE = 0.1  # parametric bumps are scaled down so the curve's slope stays above this

_KEYS = {f"curve.{r}": (-100, 100, 0, f"parametric tone curve: lifts (+) or lowers (-) the {r}")
         for r in REGIONS}
_KEYS.update({
    "curve.split_shadows": (5, 45, 25, "parametric split between shadows and darks, percent"),
    "curve.split_midtones": (20, 80, 50, "parametric split between darks and lights, percent"),
    "curve.split_highlights": (55, 95, 75, "parametric split between lights and highlights, percent"),
})
_CURVES = {
    "curve.points": "point curve on luminance: [[x, y], ...] (monotone cubic, up to 16 points)",
    "curve.red": "point curve on the red channel",
    "curve.green": "point curve on the green channel",
    "curve.blue": "point curve on the blue channel",
}


def point_curve(points) -> PchipInterpolator | None:
    """The monotone cubic through ``points`` (None for no/identity points).

    End points (0, 0) and (1, 1) are added where the curve does not set its own ends,
    as in every curve editor; outside the first/last x the curve stays flat.
    """
    if is_identity_curve(points):
        return None
    pts = [(float(x), float(y)) for x, y in points]
    if pts[0][0] > 0.0:
        pts.insert(0, (0.0, 0.0))
    if pts[-1][0] < 1.0:
        pts.append((1.0, 1.0))
    xs, ys = np.array(pts).T
    return PchipInterpolator(xs, ys, extrapolate=False)


def eval_point_curve(points, p: np.ndarray) -> np.ndarray:
    fn = point_curve(points)
    if fn is None:
        return p
    xs = fn.x
    return np.clip(fn(np.clip(p, xs[0], xs[-1])), 0.0, 1.0)


def parametric_curve(amounts: dict[str, float], splits: tuple[float, float, float], p: np.ndarray) -> np.ndarray:
    """The parametric curve at ``p``: p + sum of one smooth bump per region.

    Region k spans split[k-1]..split[k]; its bump rises from the centre of the region
    below to a peak at its own centre and falls to the centre of the region above
    (0 at p = 0 and p = 1).  Amplitudes are capped so the curve keeps a slope of at
    least MIN_SLOPE (never reverses tones), and the sum is made monotone.
    """
    s1, s2, s3 = sorted(float(s) for s in splits)
    edges = np.array([0.0, s1, s2, s3, 1.0])
    centres = (edges[:-1] + edges[1:]) / 2
    anchors = np.concatenate([[0.0], centres, [1.0]])
    out = np.array(p, np.float64, copy=True)
    for k, region in enumerate(REGIONS):
        amount = float(amounts.get(region, 0.0)) / 100.0
        if amount == 0.0:
            continue
        lo, c, hi = anchors[k], anchors[k + 1], anchors[k + 2]
        t = np.where(p < c, (p - lo) / max(c - lo, 1e-6) * 0.5, 0.5 + (p - c) / max(hi - c, 1e-6) * 0.5)
        bump = np.where((p > lo) & (p < hi), np.sin(np.pi * np.clip(t, 0.0, 1.0)) ** 2, 0.0)
        # max slope of sin^2(pi t) is pi/2 per unit t; t runs 0.5 per half-width
        half = min(c - lo, hi - c)
        cap = (1.0 - MIN_SLOPE) * 2.0 * half / np.pi
        out += amount * min(MAX_BUMP, cap) * bump
    return np.clip(np.maximum.accumulate(out) if out.ndim == 1 else out, 0.0, 1.0)


def luminance_table(params: dict) -> np.ndarray | None:
    """p -> p' over TABLE samples of 0..1 for parametric + point curve (None: identity)."""
    amounts = {r: float(params.get(f"curve.{r}", 0.0)) for r in REGIONS}
    points = params.get("curve.points")
    if not any(amounts.values()) and point_curve(points) is None:
        return None
    p = np.linspace(0.0, 1.0, TABLE)
    splits = tuple(float(params.get(f"curve.{s}", _KEYS[f"curve.{s}"][2])) / 100.0 for s in SPLITS)
    return eval_point_curve(points, parametric_curve(amounts, splits, p))


def _gain_and_lift(table_p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tables over p of the gain and grey lift that take Y = p**2.2 to table_p**2.2."""
    p = np.linspace(0.0, 1.0, len(table_p))
    y = p ** GAMMA
    y_new = table_p ** GAMMA
    gain = y_new / np.maximum(y, Y_FLOOR)
    lift = y_new - gain * y  # non-zero only below Y_FLOOR: a lifted black point
    return gain.astype(np.float32), lift.astype(np.float32)


def _index(p: np.ndarray) -> np.ndarray:
    return table_index(p, 0.0, 1.0, TABLE)


def _tables(params: dict):
    """(luminance (gain, lift) or None, [(gain, lift) or None per channel])."""
    table = luminance_table(params)
    grid = np.linspace(0.0, 1.0, TABLE)
    channels = [None if point_curve(params.get(k)) is None else _gain_and_lift(eval_point_curve(params.get(k), grid))
                for k in ("curve.red", "curve.green", "curve.blue")]
    return (None if table is None else _gain_and_lift(table)), channels


@module("tone_curve", "Tone curve: parametric regions, point curve on luminance, R/G/B point curves.",
        _KEYS, curves=_CURVES, shape=tuple(f"curve.{s}" for s in SPLITS), pointwise=True)
def tone_curve(img: np.ndarray, _value: float, ctx: OpContext) -> np.ndarray:
    lum, channels = memo_tables(ctx, "curve.", _tables)
    out = img
    # ``take`` rather than fancy indexing: the same table entries, at about half the cost
    if lum is not None:
        gain, lift = lum
        idx = _index(cv2.pow(cv2.max(luma(img), 0.0), 1.0 / GAMMA))
        g = gain.take(idx)
        out = cv2.multiply(img, cv2.merge([g, g, g]))
        if lift.any():
            lf = lift.take(idx)
            out = cv2.add(out, cv2.merge([lf, lf, lf]))
    if any(c is not None for c in channels):
        # only the channels that have a curve are encoded and looked up (a blue curve
        # alone: one plane's pow instead of three)
        planes = list(cv2.split(out))
        for i, tables in enumerate(channels):
            if tables is None:
                continue
            gain, lift = tables
            idx = _index(cv2.pow(cv2.max(planes[i], 0.0), 1.0 / GAMMA))
            planes[i] = cv2.add(cv2.multiply(planes[i], gain.take(idx)), lift.take(idx))
        out = cv2.merge(planes)
    return out if out is not img else img.copy()
