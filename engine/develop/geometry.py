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


def apply_geometry(img: np.ndarray, settings: dict[str, Any]) -> np.ndarray:
    validate_geometry(settings)
    return crop(straighten(img, float(settings.get("straighten", 0.0) or 0.0)), settings.get("crop"))
