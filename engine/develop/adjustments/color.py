"""Colour: white balance (temperature, tint), hue, saturation, vibrance, colour overlay.

All in linear Rec.2020.  White balance is a per-channel gain normalised so white
keeps its luminance: +temperature = warmer (more red/yellow, less blue), +tint =
more magenta (less green), as in Lightroom.
"""
from __future__ import annotations

import colorsys
import math

import cv2
import numpy as np

from maskroom.engine.develop.adjustments.base import PARAMETERS, OpContext, adjustment, linear_matrix, luma
from maskroom.engine.develop.color import LUMA, SRGB_TO_WORK, apply_matrix, srgb_decode


def _normalised_gains(gains: np.ndarray) -> np.ndarray:
    return (gains / float(LUMA @ gains)).astype(np.float32)


@adjustment("temperature", -100, 100, "", "White balance blue (-) to yellow (+); 100 = about +-0.7 EV R/B split.", pointwise=True)
def temperature(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    return apply_matrix(img, _temperature_matrix(amount, ctx))


@linear_matrix("temperature")
def _temperature_matrix(amount: float, ctx: OpContext) -> np.ndarray:
    t = amount / 100.0
    return np.diag(_normalised_gains(np.array([2 ** (0.35 * t), 1.0, 2 ** (-0.35 * t)])))


@adjustment("tint", -100, 100, "", "White balance green (-) to magenta (+).", pointwise=True)
def tint(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    return apply_matrix(img, _tint_matrix(amount, ctx))


@linear_matrix("tint")
def _tint_matrix(amount: float, ctx: OpContext) -> np.ndarray:
    t = amount / 100.0
    return np.diag(_normalised_gains(np.array([1.0, 2 ** (-0.3 * t), 1.0])))


def neutralising_white_balance(rgb) -> tuple[float, float]:
    """The (temperature, tint) amounts whose gains above make the linear work-space colour
    ``rgb`` neutral (R = G = B): the white-balance eyedropper for photos that are not RAW.
    Each gain is 2 ** (k * amount / 100), so solving R = B gives the temperature and then
    G = R the tint; both are clamped to -100..100 (a colour further off than that is
    only brought that far)."""
    r, g, b = (math.log2(max(float(c), 1e-6)) for c in rgb)
    t = (b - r) / 0.7  # R * 2^(0.35 t) = B * 2^(-0.35 t)
    u = (g - r - 0.35 * t) / 0.3  # G * 2^(-0.3 u) = R * 2^(0.35 t)
    clamp = lambda v: max(-100.0, min(100.0, 100.0 * v))  # noqa: E731
    return clamp(t), clamp(u)


def _hue_matrix(degrees: float) -> np.ndarray:
    """Rotation about the grey axis (1,1,1): turns every hue by ``degrees``."""
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    k = 1.0 / 3.0
    sq = math.sqrt(k)
    return np.array([
        [c + (1 - c) * k, k * (1 - c) - sq * s, k * (1 - c) + sq * s],
        [k * (1 - c) + sq * s, c + (1 - c) * k, k * (1 - c) - sq * s],
        [k * (1 - c) - sq * s, k * (1 - c) + sq * s, c + (1 - c) * k],
    ], np.float32)


@adjustment("hue", -180, 180, "degrees", "Turns every hue around the colour wheel.", pointwise=True)
def hue(img: np.ndarray, degrees: float, ctx: OpContext) -> np.ndarray:
    return cv2.max(apply_matrix(img, _hue_matrix(degrees)), 0.0)


linear_matrix("hue")(lambda degrees, ctx: _hue_matrix(degrees))


def _scale_chroma(img: np.ndarray, factor) -> np.ndarray:
    """y + (img - y) * factor, factor a scalar or an HxW map (cv2 ops: fast on big images)."""
    y = luma(img)
    y3 = cv2.merge([y, y, y])
    if np.isscalar(factor) or np.ndim(factor) == 0:
        out = cv2.addWeighted(img, float(factor), y3, 1.0 - float(factor), 0.0)
    else:
        f = factor if factor.ndim == 2 else factor[..., 0]
        out = cv2.add(y3, cv2.multiply(cv2.subtract(img, y3), cv2.merge([f, f, f])))
    return cv2.max(out, 0.0)


@adjustment("saturation", -100, 100, "", "Scales colourfulness; -100 = black and white, +100 = double.", pointwise=True)
def saturation(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    return _scale_chroma(img, np.float32(1.0 + amount / 100.0))


@linear_matrix("saturation")
def _saturation_matrix(amount: float, ctx: OpContext) -> np.ndarray:
    k = 1.0 + amount / 100.0  # y + k (c - y) = k c + (1 - k) y
    return k * np.eye(3) + (1.0 - k) * np.outer(np.ones(3), LUMA)


@adjustment("vibrance", -100, 100, "", "Saturation that spares already-saturated colours.", pointwise=True)
def vibrance(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    r, g, b = cv2.split(img)
    mx = cv2.max(cv2.max(r, g), b)
    mn = cv2.min(cv2.min(r, g), b)
    sat = cv2.divide(mx - mn, mx + np.float32(1e-6))
    spare = 1.0 - np.clip(sat, 0.0, 1.0)
    factor = 1.0 + np.float32(amount / 100.0) * cv2.multiply(spare, spare)
    return _scale_chroma(img, factor)


PARAMETERS["color_hue"] = (0.0, 360.0, "degrees: the hue of the colour overlay (0 red, 60 yellow, 240 blue)")


@adjustment("color_amount", 0, 100, "", "Colour overlay (mask 'Color' swatch): tints toward color_hue, keeping luminance.", pointwise=True)
def color_overlay(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    h = (ctx.params.get("color_hue", 30.0) % 360.0) / 360.0
    rgb = np.array(colorsys.hsv_to_rgb(h, 1.0, 1.0), np.float32)
    work = apply_matrix(srgb_decode(rgb).reshape(1, 1, 3), SRGB_TO_WORK).reshape(3)
    work = work / float(LUMA @ work)  # luminance 1: multiplying by Y keeps brightness
    y = luma(img)
    tinted = cv2.merge([y * work[0], y * work[1], y * work[2]])
    k = float(amount / 100.0)
    return cv2.addWeighted(img, 1.0 - k, tinted, k, 0.0)
