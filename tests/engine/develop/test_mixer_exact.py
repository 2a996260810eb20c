"""The colour mixer's fast form (one shared hue, opponent-basis rotation) must give the
pixels of its straightforward form within one 8-bit step of the sRGB output.

``reference_mixer`` below is the mixer as it was before the rewrite (each effect
computed on its own from r, g, b planes, Rodrigues' rotation written out per channel);
it is kept here as the definition the fast one is checked against, on saturated
colours of every hue, near-clipping highlights, deep shadows and greys.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from maskroom.engine.develop.adjustments import OpContext
from maskroom.engine.develop.adjustments.base import luma
from maskroom.engine.develop.adjustments.mixer import BANDS, SQRT3_2, TABLE, hue_tables, mixer
from maskroom.engine.develop.color import srgb8_to_work
from maskroom.engine.develop.render import to_output


def _reference_colourfulness(mag, mx):
    s = cv2.divide(mag, cv2.add(mx, 1e-6))
    t = np.clip(s * np.float32(4.0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def reference_mixer(img: np.ndarray, params: dict) -> np.ndarray:
    tables = hue_tables(params)
    if tables is None:
        return img.copy()
    turn_t, sat_t, lum_t = tables
    r, g, b = cv2.split(img)
    x = cv2.subtract(r, cv2.multiply(cv2.add(g, b), 0.5))
    y = cv2.multiply(cv2.subtract(g, b), SQRT3_2)
    idx = cv2.add(cv2.multiply(cv2.phase(x, y, angleInDegrees=True), TABLE / 360.0), 0.5).astype(np.uint16)
    y0 = luma(img)
    out = img
    if turn_t.any():
        turn = turn_t[idx]
        cos, sin = cv2.polarToCart(np.ones_like(turn), turn, angleInDegrees=True)
        mean = cv2.multiply(cv2.add(cv2.add(r, g), b), 1.0 / 3.0)
        s3 = cv2.multiply(sin, 1.0 / np.sqrt(3.0))
        base = cv2.multiply(mean, 1.0 - cos)
        planes = []
        for ch, cross in ((r, cv2.subtract(b, g)), (g, cv2.subtract(r, b)), (b, cv2.subtract(g, r))):
            planes.append(cv2.add(cv2.add(cv2.multiply(ch, cos), cv2.multiply(cross, s3)), base))
        out = cv2.max(cv2.merge(planes), 0.0)
    y1 = luma(out) if out is not img else y0
    if (sat_t != 1.0).any():
        sat = sat_t[idx]
        y3 = cv2.merge([y1, y1, y1])
        out = cv2.add(y3, cv2.multiply(cv2.subtract(out, y3), cv2.merge([sat, sat, sat])))
        out = cv2.max(out, 0.0)
        y1 = luma(out)
    gain = cv2.divide(cv2.add(y0, 1e-6), cv2.add(y1, 1e-6))
    if lum_t.any():
        w = _reference_colourfulness(cv2.magnitude(x, y), cv2.max(cv2.max(r, g), b))
        gain = cv2.multiply(gain, cv2.exp(cv2.multiply(cv2.multiply(lum_t[idx], w), float(np.log(2.0)))))
    return cv2.max(cv2.multiply(out, cv2.merge([gain, gain, gain])), 0.0)


def _pixels() -> np.ndarray:
    """Every sRGB hue at full and partial saturation, from deep shadow to clipping
    (linear values up to 4x white, as exposure and the tone sliders leave them), greys,
    and random colours."""
    hue = np.linspace(0, 179, 360)
    sat = np.array([255, 230, 160, 60, 10, 0])
    val = np.array([4, 30, 90, 180, 235, 255])
    hsv = np.stack(np.meshgrid(hue, sat, val, indexing="ij"), -1).reshape(-1, 1, 3).astype(np.uint8)
    rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    lin = srgb8_to_work(rgb).reshape(-1, 3)
    rng = np.random.default_rng(7)
    bright = lin * np.float32(rng.choice([1.0, 1.5, 2.5, 4.0], size=(len(lin), 1)))
    rand = rng.random((20000, 3), dtype=np.float32) ** 2.2 * rng.choice([1.0, 3.0], size=(20000, 1)).astype(np.float32)
    return np.concatenate([lin, bright, rand]).reshape(1, -1, 3).astype(np.float32)


def _settings():
    rng = np.random.default_rng(3)
    yield {"mixer.blue.saturation": 0.5, "mixer.aqua.hue": -20, "mixer.blue.luminance": -15}
    yield {f"mixer.{b}.{k}": v for b in BANDS for k, v in (("hue", 100), ("saturation", 100), ("luminance", 100))}
    yield {f"mixer.{b}.{k}": v for b in BANDS for k, v in (("hue", -100), ("saturation", -100), ("luminance", -100))}
    yield {"mixer.point.hue": 200, "mixer.point.range": 90, "mixer.point.hue_shift": -100,
           "mixer.point.saturation": 100, "mixer.point.luminance": 100}
    yield {"mixer.red.saturation": 80}  # saturation alone
    yield {"mixer.green.hue": -60}  # hue alone
    yield {"mixer.yellow.luminance": 70}  # luminance alone
    for _ in range(6):
        yield {f"mixer.{b}.{k}": float(rng.uniform(-100, 100))
               for b in BANDS for k in ("hue", "saturation", "luminance") if rng.random() < 0.4}


@pytest.mark.parametrize("params", list(_settings()))
def test_fast_mixer_matches_reference_within_one_8bit_step(params):
    img = _pixels()
    ref = reference_mixer(img, params)
    fast = mixer(img, 1.0, OpContext(long_edge=1000, params=params))
    assert fast.shape == img.shape and fast.dtype == np.float32
    ref8, _ = to_output(ref, "srgb", 8)
    fast8, _ = to_output(fast, "srgb", 8)
    diff = np.abs(ref8.astype(int) - fast8.astype(int))
    assert diff.max() <= 1, f"{int((diff > 1).sum())} values off by more than one step"
    # and it is the reference up to float rounding, not merely close
    assert np.mean(diff > 0) < 0.002


def test_fast_mixer_on_a_column_of_pixels():
    """The sparse path hands the mixer an N x 1 column of the pixels a mask shows."""
    img = _pixels().reshape(-1, 1, 3)
    params = {"mixer.blue.saturation": 40, "mixer.aqua.hue": -20, "mixer.red.luminance": 30}
    ref8, _ = to_output(reference_mixer(img, params), "srgb", 8)
    fast8, _ = to_output(mixer(img, 1.0, OpContext(long_edge=1000, params=params)), "srgb", 8)
    assert np.abs(ref8.astype(int) - fast8.astype(int)).max() <= 1
