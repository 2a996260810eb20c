"""Crop and straighten: the global layer's geometry, applied last.

Recipe settings: ``straighten`` (degrees, -45..45, positive turns the picture
counter-clockwise) and ``crop`` ``{"x0","y0","x1","y1"}`` normalised to the
straightened frame.  Straightening scales the image just enough that no empty
corner shows (as Lightroom's "constrain to image").  Masks and neighbourhood
adjustments work on the uncropped frame, so changing the crop never moves a mask.
"""
from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from maskroom.core.values import check_settings


def validate_geometry(settings: dict[str, Any]) -> None:
    check_settings(settings)  # the one validation layer (core/values.py); InvalidValue is a ValueError


def fill_scale(w: int, h: int, degrees: float) -> float:
    """Zoom that keeps a w x h frame covered after rotating the image by ``degrees``."""
    a = math.radians(abs(degrees))
    c, s = math.cos(a), math.sin(a)
    return max((w * c + h * s) / w, (w * s + h * c) / h)


def straighten(img: np.ndarray, degrees: float) -> np.ndarray:
    if not degrees:
        return img
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), degrees, fill_scale(w, h, degrees))
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def crop(img: np.ndarray, rect: dict[str, float] | None) -> np.ndarray:
    if not rect:
        return img
    h, w = img.shape[:2]
    x0 = int(round(float(rect["x0"]) * w))
    x1 = max(x0 + 1, int(round(float(rect["x1"]) * w)))
    y0 = int(round(float(rect["y0"]) * h))
    y1 = max(y0 + 1, int(round(float(rect["y1"]) * h)))
    return img[y0:y1, x0:x1]


def source_point(x: float, y: float, settings: dict[str, Any], w: int, h: int) -> tuple[float, float]:
    """Where a point of the rendered frame (normalised, after straighten and crop) lies on
    the w x h source, normalised: a click on the cropped photo picks the right pixel."""
    c = settings.get("crop") or {"x0": 0.0, "y0": 0.0, "x1": 1.0, "y1": 1.0}
    px = (c["x0"] + x * (c["x1"] - c["x0"])) * w
    py = (c["y0"] + y * (c["y1"] - c["y0"])) * h
    degrees = float(settings.get("straighten", 0.0) or 0.0)
    if degrees:
        m = cv2.invertAffineTransform(cv2.getRotationMatrix2D((w / 2.0, h / 2.0), degrees, fill_scale(w, h, degrees)))
        px, py = m @ np.array([px, py, 1.0])
    return min(1.0, max(0.0, px / w)), min(1.0, max(0.0, py / h))


def apply_geometry(img: np.ndarray, settings: dict[str, Any]) -> np.ndarray:
    validate_geometry(settings)
    return crop(straighten(img, float(settings.get("straighten", 0.0) or 0.0)), settings.get("crop"))


# -- auto-straighten ---------------------------------------------------------------
HORIZON_EDGE = 800  # px: the long edge the estimate works at (line lengths scale with it)
MAX_TILT = 10.0  # degrees: lines steeper than this off level (or plumb) are not the horizon
AGREE = 1.0  # degrees: lines this close to the winning tilt support it
SUPPORT = 0.5  # supporting lines must add up to half the long edge...
SHARE = 0.5  # ...and to half the length of all the candidate lines


def level_angle(rgb: np.ndarray) -> float | None:
    """The ``straighten`` angle (degrees) that levels the photo, or None when no
    straight horizon or upright shows.

    Probabilistic Hough on Canny edges finds long straight segments; those within
    MAX_TILT of level vote with their tilt, those within MAX_TILT of plumb with their
    lean (buildings, trees), each weighted by its length; the weighted median wins, so
    a few diagonal roof lines do not tip it.  The answer must be supported: lines within
    AGREE of it add up to SUPPORT of the long edge and SHARE of all candidates (one
    short edge, rock strata or a flower stem are not a horizon: None).  sky_horizon.py finds where water meets
    sky only for a level horizon, so it cannot say how far one is tilted; this does.
    Sign: a horizon whose right end is lower (turned clockwise) gives a positive angle,
    which turns the picture counter-clockwise (the engine's convention)."""
    h, w = rgb.shape[:2]
    scale = HORIZON_EDGE / max(h, w)
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA) \
        if scale < 1 else rgb
    grey = cv2.cvtColor(np.ascontiguousarray(small[..., :3]).astype(np.uint8, copy=False), cv2.COLOR_RGB2GRAY)
    grey = cv2.GaussianBlur(grey, (0, 0), 1.2)
    edges = cv2.Canny(grey, 40, 120)
    long_edge = max(small.shape[:2])
    lines = cv2.HoughLinesP(edges, 1, np.pi / 720, threshold=60, minLineLength=long_edge // 6,
                            maxLineGap=long_edge // 80)
    if lines is None:
        return None
    tilts, weights = [], []
    for x0, y0, x1, y1 in lines.reshape(-1, 4).astype(float):
        dx, dy = x1 - x0, y1 - y0
        length = math.hypot(dx, dy)
        angle = math.degrees(math.atan2(dy, dx))  # y down: positive = right end lower
        angle = (angle + 90.0) % 180.0 - 90.0  # the same line either way round: -90..90
        if abs(angle) <= MAX_TILT:
            tilts.append(angle)
        elif abs(abs(angle) - 90.0) <= MAX_TILT:  # an upright leaning by 90 - |angle|
            tilts.append(angle - math.copysign(90.0, angle))
        else:
            continue
        weights.append(length)
    if not tilts:
        return None
    tilts, weights = np.asarray(tilts), np.asarray(weights)
    order = np.argsort(tilts)
    cum = np.cumsum(weights[order])
    median = float(tilts[order][np.searchsorted(cum, cum[-1] / 2.0)])
    support = float(weights[np.abs(tilts - median) <= AGREE].sum())
    if support < SUPPORT * long_edge or support < SHARE * float(weights.sum()):
        return None
    return round(median, 2)
