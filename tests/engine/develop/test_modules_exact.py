"""The tone curve, colour grading and colour noise reduction as run (``take`` lookups, a
channel curve encoding only its own plane, the three chroma ratios filtered together)
must give the pixels of their straightforward form within one 8-bit step of the sRGB
output.

The ``reference_*`` functions are the modules as they were before (fancy-indexed tables,
all three channels encoded for any channel curve, one guided filter per channel), kept
here as the definition the fast forms are checked against.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from maskroom.engine.develop.adjustments import OpContext
from maskroom.engine.develop.adjustments.base import apply_gain, luma
from maskroom.engine.develop.adjustments.curves import GAMMA, _index, _tables, tone_curve
from maskroom.engine.develop.adjustments.detail import COLOR_NOISE_RADIUS, color_noise_reduction
from maskroom.engine.develop.adjustments.grading import gain_tables, grading
from maskroom.engine.executor import threads
from maskroom.engine.develop.filters import RowUpsampler, guided_coefficients, table_index
from maskroom.engine.develop.render import to_output

from test_mixer_exact import _pixels  # noqa: E402


def reference_tone_curve(img: np.ndarray, params: dict) -> np.ndarray:
    lum, channels = _tables(params)
    out = img
    if lum is not None:
        gain, lift = lum
        idx = _index(cv2.pow(cv2.max(luma(img), 0.0), 1.0 / GAMMA))
        g = gain[idx]
        out = cv2.multiply(img, cv2.merge([g, g, g]))
        if lift.any():
            lf = lift[idx]
            out = cv2.add(out, cv2.merge([lf, lf, lf]))
    if any(c is not None for c in channels):
        idx3 = _index(cv2.pow(cv2.max(out, 0.0), 1.0 / GAMMA))
        planes = list(cv2.split(out))
        for i, tables in enumerate(channels):
            if tables is None:
                continue
            gain, lift = tables
            idx = idx3[..., i]
            planes[i] = cv2.add(cv2.multiply(planes[i], gain[idx]), lift[idx])
        out = cv2.merge(planes)
    return out if out is not img else img.copy()


def reference_grading(img: np.ndarray, params: dict) -> np.ndarray:
    gains = gain_tables(params)
    idx = table_index(cv2.pow(cv2.max(luma(img), 0.0), 1.0 / GAMMA), 0.0, 1.0, gains.shape[1])
    return cv2.multiply(img, cv2.merge([gains[0][idx], gains[1][idx], gains[2][idx]]))


CURVES = [
    {"curve.points": [[0.25, 0.2], [0.5, 0.52], [0.78, 0.85]], "curve.shadows": 15, "curve.blue": [[0.3, 0.33]]},
    {"curve.points": [[0.0, 0.12], [1.0, 0.9]]},  # a lifted black: the grey lift table
    {"curve.red": [[0.4, 0.5]], "curve.green": [[0.6, 0.5]], "curve.blue": [[0.0, 0.1], [0.5, 0.45]]},
    {"curve.highlights": -60, "curve.lights": 30, "curve.darks": -20, "curve.shadows": 80, "curve.split_midtones": 35},
    {"curve.green": [[0.2, 0.3]]},
]


def _assert_within_one_step(ref: np.ndarray, fast: np.ndarray) -> None:
    assert fast.shape == ref.shape and fast.dtype == np.float32
    ref8, _ = to_output(ref, "srgb", 8)
    fast8, _ = to_output(fast, "srgb", 8)
    diff = np.abs(ref8.astype(int) - fast8.astype(int))
    assert diff.max() <= 1, f"{int((diff > 1).sum())} values off by more than one step"
    assert np.mean(diff > 0) < 0.002  # the reference up to float rounding, not merely close


@pytest.mark.parametrize("params", CURVES)
def test_tone_curve_matches_reference_within_one_8bit_step(params):
    img = _pixels()
    _assert_within_one_step(reference_tone_curve(img, params), tone_curve(img, 1.0, OpContext(1000, params=params)))
    column = img.reshape(-1, 1, 3)  # as the sparse path of a masked layer hands it
    _assert_within_one_step(reference_tone_curve(column, params),
                            tone_curve(column, 1.0, OpContext(1000, params=params)))


def test_grading_matches_reference_within_one_8bit_step():
    img = _pixels()
    params = {"grade.shadows.hue": 215, "grade.shadows.saturation": 25, "grade.highlights.hue": 45,
              "grade.highlights.saturation": 20, "grade.midtones.luminance": -30}
    _assert_within_one_step(reference_grading(img, params), grading(img, 1.0, OpContext(1000, params=params)))


def reference_color_noise_reduction(img: np.ndarray, amount: float, long_edge: int) -> np.ndarray:
    k = amount / 100.0
    h, w = img.shape[:2]
    radius = max(1.0, COLOR_NOISE_RADIUS * k * long_edge)
    s = max(2, int(radius // 2)) if min(h, w) >= 32 else 1
    small = img if s == 1 else cv2.resize(img, (max(1, w // s), max(1, h // s)), interpolation=cv2.INTER_AREA)
    y_small = cv2.max(luma(small), 0.0)
    inv_small = cv2.divide(1.0, cv2.add(y_small, 1e-4))
    guide_small = cv2.sqrt(y_small)
    eps = float((0.05 * k) ** 2 + 1e-6)
    r = max(1, int(round(radius / s)))
    ups = []
    for c in cv2.split(small):
        a, b = guided_coefficients(guide_small, cv2.multiply(c, inv_small), r, eps)
        ups.append((RowUpsampler(a, w, h), RowUpsampler(b, w, h)))
    out = np.empty_like(img)
    for rows in threads.row_strips(h, w):
        y0, y1 = rows.start, rows.stop
        y = cv2.max(luma(img[y0:y1]), 0.0)
        guide = cv2.sqrt(y)
        planes = [cv2.multiply(cv2.add(cv2.multiply(ua.rows(y0, y1), guide), ub.rows(y0, y1)), y) for ua, ub in ups]
        o = cv2.max(cv2.merge(planes), 0.0)
        apply_gain(o, cv2.divide(cv2.add(y, 1e-6), cv2.add(luma(o), 1e-6)), out=out[y0:y1])
    return out


@pytest.mark.parametrize("amount,long_edge", [(25, 1732), (100, 6000), (60, 20)])
def test_color_noise_reduction_matches_reference_within_one_8bit_step(amount, long_edge):
    rng = np.random.default_rng(5)
    # coloured blotches on a gradient, with strong edges: what the filter smooths and keeps
    img = np.resize(_pixels().reshape(-1, 3), (200 * 300, 3)).reshape(200, 300, 3)
    img = img * np.float32(0.7) + rng.normal(0, 0.04, img.shape).astype(np.float32) ** 2
    small = img[:20, :30].copy()  # below 32 px: filtered at full size
    for pixels in (img, small):
        ctx = OpContext(long_edge, params={})
        _assert_within_one_step(reference_color_noise_reduction(pixels, amount, long_edge),
                                color_noise_reduction(pixels, amount, ctx))
