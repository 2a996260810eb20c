"""The adjustment registry and the context an adjustment runs in.

An adjustment is a function ``(img, value, ctx) -> img`` on linear Rec.2020 float32
HxWx3 pixels; it returns a new array (the pipeline caches intermediate images, so
inputs are never modified).  Each registers its key, its range and a one-line
description; the pipeline runs them in ``engine.develop.pipeline.ORDER``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from maskroom.core.values import ADJUSTMENT_PARAMETERS, register_adjustment
from maskroom.engine.develop.color import LUMA

AdjustFn = Callable[[np.ndarray, float, "OpContext"], np.ndarray]


@dataclass(frozen=True)
class Adjustment:
    name: str
    fn: AdjustFn
    lo: float
    hi: float
    unit: str
    doc: str
    neutral: float = 0.0
    # Pointwise adjustments only look at each pixel: the pipeline runs runs of them
    # fused, strip by strip (cache-sized temporaries instead of 300 MB ones at 24 MP).
    pointwise: bool = False
    # Linear colour operations also give their 3x3 matrix: a run of them folds into
    # one matrix (one pass instead of several).
    matrix: Callable[[float, "OpContext"], np.ndarray] | None = None


REGISTRY: dict[str, Adjustment] = {}
# Keys that are parameters of another adjustment rather than operations themselves.
# The same dict core/values.py validates against: registering here is all it takes.
PARAMETERS: dict[str, tuple[float, float, str]] = ADJUSTMENT_PARAMETERS


def adjustment(name: str, lo: float, hi: float, unit: str, doc: str, *, pointwise: bool = False):
    def deco(fn: AdjustFn) -> AdjustFn:
        REGISTRY[name] = Adjustment(name, fn, lo, hi, unit, doc, pointwise=pointwise)
        register_adjustment(name, lo, hi)  # every value entering is checked against this range
        return fn

    return deco


def linear_matrix(name: str):
    """Register the 3x3 matrix form of a linear pointwise adjustment (see Adjustment.matrix)."""
    def deco(fn):
        import dataclasses

        REGISTRY[name] = dataclasses.replace(REGISTRY[name], matrix=fn)
        return fn

    return deco


@dataclass
class OpContext:
    """What an adjustment may need besides the pixels.

    ``long_edge``: the long edge in pixels of the *whole* image being rendered
    (radii are fractions of it); ``mask``: the layer's alpha (None for the global
    layer), used by blur so the subject does not bleed into the background;
    ``params``: the layer's full adjustment dict (for parameter keys like color_hue).
    """

    long_edge: int
    mask: np.ndarray | None = None
    params: dict[str, float] = field(default_factory=dict)
    # Analyses shared by the adjustments of one layer run (highlights and shadows
    # judge by the same local-brightness map, computed once).
    memo: dict = field(default_factory=dict)
    # True when the image handed to the adjustment is an intermediate nobody else
    # holds: gain-type adjustments then write their result into it (saves a full
    # image of memory per neighbourhood adjustment at 24 MP).
    owned: bool = False

    def px(self, fraction: float, minimum: float = 0.5) -> float:
        return max(minimum, fraction * self.long_edge)


def luma(img: np.ndarray) -> np.ndarray:
    """Linear luminance (Y) of a working-space image, float32 HxW."""
    import cv2

    y = cv2.transform(np.ascontiguousarray(img, np.float32), LUMA.reshape(1, 3).astype(np.float32))
    return y if y.ndim == 2 else y[..., 0]


def apply_gain(img: np.ndarray, gain: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Scale RGB by a per-pixel gain: keeps hue and saturation (ratio-preserving tone).

    Strip by strip with cv2 (SIMD, threaded): about 2x numpy's broadcast multiply at 24 MP.
    """
    import cv2

    h, w = gain.shape
    if out is None:
        out = np.empty_like(img)
    rows = max(8, (1 << 18) // max(1, w))
    for y in range(0, h, rows):
        g = gain[y:y + rows]
        cv2.multiply(img[y:y + rows], cv2.merge([g, g, g]), dst=out[y:y + rows])
    return out


def clamp_value(name: str, value: float) -> float:
    spec = REGISTRY.get(name)
    if spec is None:
        lo, hi, _ = PARAMETERS[name]
    else:
        lo, hi = spec.lo, spec.hi
    return float(min(hi, max(lo, value)))
