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

from maskroom.engine.develop.adjustments.base import PARAMETERS, OpContext, adjustment, luma
from maskroom.engine.develop.color import LUMA, SRGB_TO_WORK, apply_matrix, srgb_decode


def _normalised_gains(gains: np.ndarray) -> np.ndarray:
    return (gains / float(LUMA @ gains)).astype(np.float32)


def _gain_image(img: np.ndarray, gains: np.ndarray) -> np.ndarray:
    return apply_matrix(img, np.diag(gains))


@adjustment("temperature", -100, 100, "", "White balance blue (-) to yellow (+); 100 = about +-0.7 EV R/B split.")
def temperature(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    t = amount / 100.0
    return _gain_image(img, _normalised_gains(np.array([2 ** (0.35 * t), 1.0, 2 ** (-0.35 * t)])))


@adjustment("tint", -100, 100, "", "White balance green (-) to magenta (+).")
def tint(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    t = amount / 100.0
    return _gain_image(img, _normalised_gains(np.array([1.0, 2 ** (-0.3 * t), 1.0])))


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


@adjustment("hue", -180, 180, "degrees", "Turns every hue around the colour wheel.")
def hue(img: np.ndarray, degrees: float, ctx: OpContext) -> np.ndarray:
    return np.maximum(apply_matrix(img, _hue_matrix(degrees)), 0.0)


def _scale_chroma(img: np.ndarray, factor) -> np.ndarray:
    y = luma(img)[..., None]
    return np.maximum(y + (img - y) * factor, 0.0).astype(np.float32)


@adjustment("saturation", -100, 100, "", "Scales colourfulness; -100 = black and white, +100 = double.")
def saturation(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    return _scale_chroma(img, np.float32(1.0 + amount / 100.0))


@adjustment("vibrance", -100, 100, "", "Saturation that spares already-saturated colours.")
def vibrance(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    mx = np.max(img, axis=2)
    mn = np.min(img, axis=2)
    sat = (mx - mn) / (mx + 1e-6)
    factor = 1.0 + np.float32(amount / 100.0) * np.square(1.0 - np.clip(sat, 0.0, 1.0))
    return _scale_chroma(img, factor[..., None])


PARAMETERS["color_hue"] = (0.0, 360.0, "degrees: the hue of the colour overlay (0 red, 60 yellow, 240 blue)")


@adjustment("color_amount", 0, 100, "", "Colour overlay (mask 'Color' swatch): tints toward color_hue, keeping luminance.")
def color_overlay(img: np.ndarray, amount: float, ctx: OpContext) -> np.ndarray:
    h = (ctx.params.get("color_hue", 30.0) % 360.0) / 360.0
    rgb = np.array(colorsys.hsv_to_rgb(h, 1.0, 1.0), np.float32)
    work = apply_matrix(srgb_decode(rgb).reshape(1, 1, 3), SRGB_TO_WORK).reshape(3)
    work = work / float(LUMA @ work)  # luminance 1: multiplying by Y keeps brightness
    y = luma(img)
    tinted = cv2.merge([y * work[0], y * work[1], y * work[2]])
    k = np.float32(amount / 100.0)
    return img * (1 - k) + tinted * k
