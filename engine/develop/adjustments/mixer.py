"""Colour mixer (HSL): 8 hue bands x hue / saturation / luminance, and point colour.

Keys: ``mixer.<band>.hue`` (-100..100: up to +-30 degrees towards the next band),
``mixer.<band>.saturation`` (-100 = grey .. +100 = double chroma) and
``mixer.<band>.luminance`` (-100..100: up to -+1 EV), for the bands red, orange,
yellow, green, aqua, blue, purple, magenta.

Hue is the angle of a pixel's chroma around the grey axis of linear Rec.2020 (the
hexcone hue: exposure does not change it).  The band centres are the hues of the
sRGB colours red (0 degrees), orange (30), yellow (60), green (120), aqua (180),
blue (240), purple (270) and magenta (300).  Band weights are raised cosines
between neighbouring centres: they sum to 1 everywhere, so a smooth gradient of
hues stays smooth (no banding) whatever the sliders.  Hue turns rotate the pixel
about the grey axis, saturation scales chroma around the pixel's luminance, and
luminance is a gain; luminance is weighted by how colourful the pixel is, so greys
(which have no hue) are untouched.

Point colour (``mixer.point.*``): ``hue`` is the picked colour's hue (0..360 sRGB
HSV degrees, e.g. from the app's eyedropper), ``range`` (0..100) the width of the
hue neighbourhood it acts on (+-10 .. +-60 degrees, smooth falloff), and
``hue_shift``, ``saturation``, ``luminance`` shift that neighbourhood like a band.

Everything reduces to three tables over the hue angle, so the module is pointwise.
"""
from __future__ import annotations

import colorsys
import hashlib
from functools import lru_cache

import cv2
import numpy as np

from maskroom.engine.develop.adjustments.base import OpContext, luma, memo_by_input, memo_tables, module
from maskroom.engine.develop.color import SRGB_TO_WORK, srgb_decode

BANDS = ("red", "orange", "yellow", "green", "aqua", "blue", "purple", "magenta")
BAND_HUES = (0.0, 30.0, 60.0, 120.0, 180.0, 240.0, 270.0, 300.0)  # sRGB HSV degrees
MAX_HUE_TURN = 30.0  # degrees at +-100
MAX_LUM_EV = 1.0
TABLE = 1440  # quarter-degree steps
SQRT3_2 = float(np.sqrt(3.0) / 2.0)

_KEYS = {}
for _band in BANDS:
    _KEYS[f"mixer.{_band}.hue"] = (-100, 100, 0, f"colour mixer: turns {_band} hues (+-30 degrees)")
    _KEYS[f"mixer.{_band}.saturation"] = (-100, 100, 0, f"colour mixer: {_band} saturation")
    _KEYS[f"mixer.{_band}.luminance"] = (-100, 100, 0, f"colour mixer: {_band} luminance (+-1 EV)")
_KEYS.update({
    "mixer.point.hue": (0, 360, 0, "point colour: the picked colour's hue (sRGB HSV degrees)"),
    "mixer.point.range": (0, 100, 50, "point colour: width of the affected hues (+-10..+-60 degrees)"),
    "mixer.point.hue_shift": (-100, 100, 0, "point colour: turns the picked hues (+-30 degrees)"),
    "mixer.point.saturation": (-100, 100, 0, "point colour: saturation of the picked hues"),
    "mixer.point.luminance": (-100, 100, 0, "point colour: luminance of the picked hues (+-1 EV)"),
})


def chroma_angle(rgb: np.ndarray) -> np.ndarray:
    """Hexcone hue in degrees (0..360) of linear working-space pixels (..., 3)."""
    rgb = np.asarray(rgb, np.float64)
    x = rgb[..., 0] - 0.5 * (rgb[..., 1] + rgb[..., 2])
    y = SQRT3_2 * (rgb[..., 1] - rgb[..., 2])
    return np.degrees(np.arctan2(y, x)) % 360.0


def work_hue(srgb_hsv_degrees) -> np.ndarray:
    """The working-space hue of the fully saturated sRGB colour of HSV hue ``degrees``."""
    deg = np.atleast_1d(np.asarray(srgb_hsv_degrees, np.float64))
    rgb = np.array([colorsys.hsv_to_rgb((d % 360.0) / 360.0, 1.0, 1.0) for d in deg], np.float32)
    work = srgb_decode(rgb) @ SRGB_TO_WORK.T
    return chroma_angle(work)


@lru_cache(maxsize=1)
def band_centres() -> np.ndarray:
    return work_hue(BAND_HUES)


def _circular(d: np.ndarray) -> np.ndarray:
    """Signed angle difference wrapped to -180..180."""
    return (d + 180.0) % 360.0 - 180.0


def band_weights(hue: np.ndarray) -> np.ndarray:
    """(..., 8) weights of each band at ``hue`` (working-space degrees); they sum to 1.

    Between two neighbouring centres the weight moves from one band to the next as a
    raised cosine: continuous with a continuous slope, so gradients stay smooth.
    """
    centres = band_centres()
    hue = np.asarray(hue, np.float64)
    w = np.zeros(hue.shape + (len(centres),))
    n = len(centres)
    for k in range(n):
        c0, c1 = centres[k], centres[(k + 1) % n]
        span = (c1 - c0) % 360.0
        t = ((hue - c0) % 360.0) / span
        inside = t < 1.0
        up = 0.5 - 0.5 * np.cos(np.pi * np.clip(t, 0.0, 1.0))  # 0 at c0 -> 1 at c1
        w[..., k] += np.where(inside, 1.0 - up, 0.0)
        w[..., (k + 1) % n] += np.where(inside, up, 0.0)
    return w


def point_weight(hue: np.ndarray, picked: float, range_: float) -> np.ndarray:
    """Smooth weight of hues around the picked one: 1 at it, 0 beyond the range."""
    half = 10.0 + 50.0 * float(range_) / 100.0
    d = np.abs(_circular(np.asarray(hue, np.float64) - float(work_hue(picked)[0])))
    t = np.clip(d / half, 0.0, 1.0)
    return 0.5 + 0.5 * np.cos(np.pi * t)


def hue_tables(params: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Tables over 0..360 (TABLE steps, plus 360 itself) of hue turn (degrees), chroma
    factor and luminance (EV at full colourfulness); None when the mixer changes nothing."""
    hue = np.arange(TABLE) * (360.0 / TABLE)
    amounts = np.array([[float(params.get(f"mixer.{b}.{k}", 0.0)) for k in ("hue", "saturation", "luminance")]
                        for b in BANDS]) / 100.0
    point = np.array([float(params.get(f"mixer.point.{k}", 0.0)) for k in ("hue_shift", "saturation", "luminance")])
    if not amounts.any() and not point.any():
        return None
    w = band_weights(hue)
    turn, sat, lum = (w @ amounts).T
    if point.any():
        pw = point_weight(hue, float(params.get("mixer.point.hue", 0.0)), float(params.get("mixer.point.range", 50.0)))
        turn = turn + pw * point[0] / 100.0
        sat = sat + pw * point[1] / 100.0
        lum = lum + pw * point[2] / 100.0
    wrap = lambda t: np.append(t, t[:1]).astype(np.float32)  # noqa: E731 (entry TABLE is 360 = 0 degrees)
    return wrap(turn * MAX_HUE_TURN), wrap(np.maximum(1.0 + sat, 0.0)), wrap(lum * MAX_LUM_EV)


def _colourfulness_weight(mag: np.ndarray, mx: np.ndarray) -> np.ndarray:
    """0 for grey, 1 from HSV-like saturation 0.25 up (hue is meaningless on grey)."""
    t = cv2.divide(mag, cv2.add(mx, 1e-6))
    np.multiply(t, np.float32(4.0), out=t)
    np.clip(t, 0.0, 1.0, out=t)
    return cv2.multiply(cv2.multiply(t, t), cv2.subtract(3.0, cv2.multiply(t, 2.0)))


# Linear working-space RGB -> (x, y, mean): the chroma plane (x towards red, y towards
# green-minus-blue; phase(x, y) is the hexcone hue) and the grey axis.  A hue turn is a
# plane rotation of (x, y) at a constant mean (Rodrigues' rotation about (1,1,1)), so
# the pixel goes to this basis and back with one 3x3 transform each way.
_TO_OPP = np.array([[1.0, -0.5, -0.5], [0.0, SQRT3_2, -SQRT3_2], [1 / 3, 1 / 3, 1 / 3]], np.float32)
_FROM_OPP = np.linalg.inv(_TO_OPP.astype(np.float64)).astype(np.float32)
_LN2 = float(np.log(2.0))


def pixel_tables(params: dict) -> tuple[np.ndarray | None, ...] | None:
    """``hue_tables`` as the per-pixel lookups the mixer uses: cos and sin of the turn
    (None when no hue turns), the chroma factor (None when 1 everywhere) and the
    luminance in natural-log units (None when 0); None when the mixer changes nothing."""
    tables = hue_tables(params)
    if tables is None:
        return None
    turn_t, sat_t, lum_t = tables
    rad = np.radians(turn_t.astype(np.float64))
    cos_sin = (np.cos(rad).astype(np.float32), np.sin(rad).astype(np.float32)) if turn_t.any() else (None, None)
    return (*cos_sin, sat_t if (sat_t != 1.0).any() else None,
            (lum_t.astype(np.float64) * _LN2).astype(np.float32) if lum_t.any() else None)


def _times(img: np.ndarray, plane: np.ndarray) -> np.ndarray:
    """A 3-channel image times a per-pixel factor."""
    return cv2.multiply(img, cv2.merge([plane, plane, plane]))


def _analysis(img: np.ndarray) -> tuple[np.ndarray, ...]:
    """What the mixer reads from the pixels alone: x, y, mean (``_TO_OPP``), the hue's
    table index and the luminance."""
    x, y, mean = cv2.split(cv2.transform(img, _TO_OPP))
    # Nearest table entry; the tables carry one wrap-around entry (360 = 0 degrees).
    idx = cv2.phase(x, y, angleInDegrees=True)
    np.multiply(idx, np.float32(TABLE / 360.0), out=idx)
    np.add(idx, np.float32(0.5), out=idx)
    return x, y, mean, idx.astype(np.intp), luma(img)


def _colourfulness(img: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r, g, b = cv2.split(img)
    return _colourfulness_weight(cv2.magnitude(x, y), cv2.max(cv2.max(r, g), b))


@module("mixer", "Colour mixer: 8 hue bands x hue/saturation/luminance, and point colour.",
        _KEYS, shape=("mixer.point.hue", "mixer.point.range"), pointwise=True)
def mixer(img: np.ndarray, _value: float, ctx: OpContext) -> np.ndarray:
    # Each step is a whole-strip cv2 pass; the hue, its table index and the per-pixel
    # table values are computed once and shared by the three effects.
    tables = memo_tables(ctx, "mixer.", pixel_tables)
    if tables is None:
        return img.copy()
    cos_t, sin_t, sat_t, lum_t = tables
    img = np.ascontiguousarray(img, np.float32)
    x, y, mean, idx, y0 = memo_by_input(img, "mixer", _analysis)
    # Steps whose tables did not change since the last tick on the same kept input (a
    # drag of one band's saturation leaves the turn and the luminance tables alone)
    # are looked up rather than redone.
    out, y1 = img, y0
    if cos_t is not None:
        out, y1 = memo_by_input(img, "mixer.turn:" + _digest(cos_t, sin_t),
                                lambda im: _turned(x, y, mean, idx, cos_t, sin_t))
    if sat_t is not None:
        # y + s * (pixel - y) as one pass: blendLinear's per-pixel weights s and 1 - s
        # (sum 1) mix the pixel with its grey (3 whole-strip passes fewer than
        # subtract, scale, add; a drag of a band's saturation runs this every tick)
        sat = sat_t.take(idx)
        out = cv2.max(cv2.blendLinear(out, cv2.merge([y1, y1, y1]), sat, cv2.subtract(1.0, sat)), 0.0)
        y1 = luma(out)
    # Keep the original luminance (rotation and clipping move it), then the band's gain.
    gain = cv2.divide(cv2.add(y0, 1e-6), cv2.add(y1, 1e-6))
    if lum_t is not None:
        (lum_gain,) = memo_by_input(img, "mixer.lum:" + _digest(lum_t), lambda im: (
            cv2.exp(cv2.multiply(lum_t.take(idx), _colourfulness(im, x, y))),))
        gain = cv2.multiply(gain, lum_gain)
    return cv2.max(_times(out, gain), 0.0)


def _turned(x, y, mean, idx, cos_t, sin_t) -> tuple[np.ndarray, np.ndarray]:
    """The hue turn: (x, y) rotated by the pixel's turn, back to RGB, clipped; and its luminance."""
    cos, sin = cos_t.take(idx), sin_t.take(idx)
    xr = cv2.subtract(cv2.multiply(x, cos), cv2.multiply(y, sin))
    yr = cv2.add(cv2.multiply(x, sin), cv2.multiply(y, cos))
    out = cv2.max(cv2.transform(cv2.merge([xr, yr, mean]), _FROM_OPP), 0.0)
    return out, luma(out)


def _digest(*tables: np.ndarray) -> str:
    return hashlib.sha1(b"".join(t.tobytes() for t in tables)).hexdigest()
