"""Showing a mask: the photo as float RGB, and the mask drawn over it in red (the
`mask render --overlay` picture, contact sheets, evaluation panels)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps


def load_rgb(path: Path) -> np.ndarray:
    """sRGB float32 0..1 HxWx3, upright."""
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
        return np.asarray(im, np.float32) / 255.0


def overlay(image: np.ndarray, alpha: np.ndarray, colour=(1.0, 0.1, 0.1), strength: float = 0.55) -> np.ndarray:
    """The photo with the matte drawn in red (float32 HxWx3)."""
    if alpha.shape != image.shape[:2]:
        alpha = cv2.resize(alpha, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    a = (np.clip(alpha, 0, 1) * strength)[..., None]
    return image * (1 - a) + np.asarray(colour, np.float32) * a
