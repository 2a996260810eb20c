"""Range mask kinds: colour range, luminance range, and the whole image.

Both ranges are computed from the unedited source as display sRGB (MaskInput.image)
in CIELAB, so a range picks what a person sees and moves to other photos by
re-evaluating on their own pixels.

* ``color-range``: params colors: [[r, g, b], ...] sRGB 0..1 sampled colours (or
  points: [[x, y], ...] normalised positions to sample, 5x5 px average), tolerance:
  CIELAB deltaE (CIE76, default 20).  Alpha 1 within tolerance/2 of the nearest
  sample, falling smoothly to 0 at tolerance.
* ``luminance-range``: params min, max (0..1 of L*/100, perceptual lightness),
  feather (0..1, the soft width outside the range, default 0.1).
* ``all``: the whole image (alpha 1), to invert or subtract from.
"""
from __future__ import annotations

import cv2
import numpy as np

from maskroom.core.recipe import MaskComponent, RecipeError
from maskroom.engine.masks.registry import MaskInput, MaskResult, register


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB float32 0..1 -> CIELAB (L 0..100, D65), OpenCV's exact float conversion."""
    return cv2.cvtColor(np.ascontiguousarray(np.clip(rgb, 0.0, 1.0), np.float32), cv2.COLOR_RGB2Lab)


def _sample_points(image: np.ndarray, points) -> list[list[float]]:
    h, w = image.shape[:2]
    out = []
    for x, y in points:
        cx = min(w - 1, max(0, int(float(x) * w)))
        cy = min(h - 1, max(0, int(float(y) * h)))
        patch = image[max(0, cy - 2):cy + 3, max(0, cx - 2):cx + 3].reshape(-1, 3)
        out.append(patch.mean(axis=0).tolist())
    return out


@register("color-range")
def color_range(inp: MaskInput, comp: MaskComponent) -> MaskResult:
    colors = list(comp.params.get("colors") or [])
    if comp.params.get("points"):
        colors += _sample_points(inp.image, comp.params["points"])
    if not colors:
        raise RecipeError("color-range mask needs colors (sRGB 0..1 triples) or points to sample")
    tol = float(comp.params.get("tolerance", 20.0))
    if tol <= 0:
        raise RecipeError("color-range mask: tolerance must be > 0")
    lab = to_lab(inp.image)
    samples = to_lab(np.asarray(colors, np.float32).reshape(-1, 1, 3)).reshape(-1, 3)
    best = None
    for s in samples:
        de = np.sqrt(np.sum(np.square(lab - s.astype(np.float32)), axis=2))
        best = de if best is None else np.minimum(best, de)
    t = np.clip((tol - best) / np.float32(tol / 2.0), 0.0, 1.0)
    alpha = t * t * (3.0 - 2.0 * t)
    return MaskResult(alpha=alpha.astype(np.float32), found=bool(alpha.max() > 0))


@register("luminance-range")
def luminance_range(inp: MaskInput, comp: MaskComponent) -> MaskResult:
    lo = float(comp.params.get("min", 0.0))
    hi = float(comp.params.get("max", 1.0))
    feather = float(comp.params.get("feather", 0.1))
    if not 0.0 <= lo <= hi <= 1.0:
        raise RecipeError(f"luminance-range mask needs 0 <= min <= max <= 1, not {lo}..{hi}")
    lum = to_lab(inp.image)[..., 0] / np.float32(100.0)
    if feather <= 0:
        alpha = ((lum >= lo) & (lum <= hi)).astype(np.float32)
    else:
        below = np.clip((lum - (lo - feather)) / np.float32(feather), 0.0, 1.0)
        above = np.clip(((hi + feather) - lum) / np.float32(feather), 0.0, 1.0)
        alpha = np.minimum(below, above)
    return MaskResult(alpha=alpha.astype(np.float32), found=bool(alpha.max() > 0))


@register("all")
def whole_image(inp: MaskInput, comp: MaskComponent) -> MaskResult:
    return MaskResult(alpha=np.ones(inp.shape, np.float32))
