"""Output sharpening, done last at the output size, as Lightroom's "Sharpen for".

The loss that sharpening makes up for depends on where the picture goes: a screen
shows pixels as they are (light touch), matte paper spreads ink (strong), glossy
paper sits between.  The radius is in output pixels, so it is the same for any
--long-edge.  Only luminance is sharpened: sharpening R, G and B apart makes coloured
halos on saturated edges.  Works on the encoded output values (gamma space), where
a halo's brightness matches what the eye sees.
"""
from __future__ import annotations

import cv2
import numpy as np

# mode -> (gaussian sigma in output pixels, amount, threshold on the 0..1 scale)
SHARPEN_MODES = {
    "none": None,
    "screen": (0.6, 0.45, 0.004),
    "glossy": (0.9, 0.6, 0.004),
    "matte": (1.1, 0.85, 0.004),
}
_LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)


def sharpen(pixels: np.ndarray, mode: str) -> np.ndarray:
    """An unsharp mask on luminance; returns an array of the same dtype and shape."""
    if mode not in SHARPEN_MODES:
        raise ValueError(f"sharpen must be one of {', '.join(SHARPEN_MODES)}, not {mode!r}")
    params = SHARPEN_MODES[mode]
    if params is None:
        return pixels

    sigma, amount, threshold = params
    scale = float(np.iinfo(pixels.dtype).max) if pixels.dtype.kind == "u" else 1.0
    img = pixels.astype(np.float32) / scale
    luma = img @ _LUMA
    detail = luma - cv2.GaussianBlur(luma, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    # Soft threshold: leave noise-level detail (flat sky, skin) alone.
    detail = np.sign(detail) * np.maximum(np.abs(detail) - threshold, 0.0)
    out = img + (amount * detail)[..., None]
    out = np.clip(out, 0.0, 1.0)
    if pixels.dtype.kind == "u":
        return np.rint(out * scale).astype(pixels.dtype)
    return out.astype(pixels.dtype)
