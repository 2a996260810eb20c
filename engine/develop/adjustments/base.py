"""The adjustment registry and the context an adjustment runs in.

An adjustment is a function ``(img, value, ctx) -> img`` on linear Rec.2020 float32
HxWx3 pixels; it returns a new array (the pipeline caches intermediate images, so
inputs are never modified).  Each registers its key, its range and a one-line
description; the pipeline runs them in ``engine.develop.pipeline.ORDER``.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from maskroom.core.values import ADJUSTMENT_PARAMETERS, MAX_CURVE_POINTS, register_adjustment  # noqa: F401 (MAX_CURVE_POINTS re-exported)
from maskroom.core.values import CURVE_KEYS as VALUE_CURVE_KEYS
from maskroom.engine.develop.color import LUMA
from maskroom.engine.develop.memory import KeptPerArray

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
    # A *module* (tone curve, colour mixer, colour grading...) is not set by its own
    # name: it reads several keys (``curve.points``, ``mixer.blue.saturation``...) from
    # ``OpContext.params`` and runs when any of ``keys`` differs from its default.
    keys: tuple[str, ...] = ()
    # Finishing effects (post-crop vignette, grain) run once on the global layer after
    # crop and straighten; they are refused in masked layers.
    finishing: bool = False


REGISTRY: dict[str, Adjustment] = {}
# Keys that are parameters of another adjustment rather than operations themselves.
# The same dicts core/values.py validates against: registering here is all it takes.
PARAMETERS: dict[str, tuple[float, float, str]] = ADJUSTMENT_PARAMETERS
# The value a module key has when it is not set (a module runs when one differs).
DEFAULTS: dict[str, float] = {}
# Keys whose value is a curve (core/values.py checks them: MAX_CURVE_POINTS points in
# 0..1 with strictly increasing x): ``curve.points``, ``curve.red``...
CURVE_KEYS: dict[str, str] = VALUE_CURVE_KEYS
# Module keys that shape an effect but make none on their own (a curve's splits, the
# picked hue of a point colour, grading's blending): setting only these changes nothing.
SHAPE_KEYS: set[str] = set()


def adjustment(name: str, lo: float, hi: float, unit: str, doc: str, *, pointwise: bool = False):
    def deco(fn: AdjustFn) -> AdjustFn:
        REGISTRY[name] = Adjustment(name, fn, lo, hi, unit, doc, pointwise=pointwise)
        register_adjustment(name, lo, hi)  # every value entering is checked against this range
        return fn

    return deco


def module(name: str, doc: str, keys: dict[str, tuple[float, float, float, str]], *,
           curves: dict[str, str] | None = None, shape: tuple[str, ...] = (), pointwise: bool = False,
           finishing: bool = False):
    """Register a module: ``keys`` maps each key to (lo, hi, default, doc); ``curves``
    maps curve keys to their doc.  The function gets ``value`` 1.0 and reads
    ``ctx.params`` (use ``setting(ctx, key)`` for a key's value or its default)."""
    def deco(fn: AdjustFn) -> AdjustFn:
        all_keys = tuple(keys) + tuple(curves or {})
        REGISTRY[name] = Adjustment(name, fn, 0.0, 1.0, "", doc, neutral=0.0, pointwise=pointwise,
                                    keys=all_keys, finishing=finishing)
        for key, (lo, hi, default, kdoc) in keys.items():
            PARAMETERS[key] = (float(lo), float(hi), kdoc)
            DEFAULTS[key] = float(default)
        CURVE_KEYS.update(curves or {})
        SHAPE_KEYS.update(shape)
        return fn

    return deco


def memo_tables(ctx: "OpContext", prefix: str, build: Callable[[dict], Any]) -> Any:
    """``build(ctx.params)`` computed once per layer run: a pointwise module runs strip by
    strip, and its tables only depend on the layer's settings."""
    key = (prefix, repr(sorted((k, v) for k, v in ctx.params.items() if k.startswith(prefix))))
    if key not in ctx.memo:
        ctx.memo[key] = build(ctx.params)
    return ctx.memo[key]


_BY_INPUT = KeptPerArray(max_bytes=128 << 20)  # (input, name) -> the arrays built from it


def memo_by_input(img: np.ndarray, name: str, build: Callable[[np.ndarray], tuple]) -> tuple:
    """``build(img)`` (a tuple of arrays) made once per read-only input array while it lives.

    While a masked layer's slider drags, the pipeline hands a module the same kept,
    read-only pixels on every tick (``pipeline._LayerInput``): what the module derives
    from the pixels alone (the mixer's hue and table index) is then not derived again.
    Writable inputs may change, so they are never memoised.  At most 128 MB is kept
    (the mixer's analyses of a whole 2 MP frame: about 100 MB).
    """
    if img.flags.writeable:
        return build(img)
    hit = _BY_INPUT.get((img,), (name,))
    if hit is not None:
        return hit
    value = build(img)
    for v in value:
        v.setflags(write=False)  # shared by every later call: a stray in-place write would fail, not spread
    _BY_INPUT.put((img,), (name,), value, size=sum(v.nbytes for v in value))
    return value


def setting(ctx: "OpContext", key: str) -> float:
    """A module key's value in this layer, or its default."""
    return float(ctx.params.get(key, DEFAULTS[key]))


def is_identity_curve(points) -> bool:
    """No points, or every point on the diagonal: a curve that changes nothing."""
    return all(abs(float(x) - float(y)) < 1e-9 for x, y in points or [])


def is_active(spec: Adjustment, adjustments: dict) -> bool:
    """Whether ``spec`` changes anything with these layer adjustments."""
    # Values are validated at the door; a malformed one that got into a stored recipe
    # anyway (a list for a number...) switches its adjustment off instead of failing.
    try:
        if not spec.keys:
            value = adjustments.get(spec.name)
            return value is not None and float(value) != spec.neutral
        for key in spec.keys:
            if key not in adjustments or key in SHAPE_KEYS:
                continue
            if key in CURVE_KEYS:
                if not is_identity_curve(adjustments[key]):
                    return True
            elif float(adjustments[key]) != DEFAULTS[key]:
                return True
    except (TypeError, ValueError):
        return False
    return False


def linear_matrix(name: str):
    """Register the 3x3 matrix form of a linear pointwise adjustment (see Adjustment.matrix)."""
    def deco(fn):
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
    y = cv2.transform(np.ascontiguousarray(img, np.float32), LUMA.reshape(1, 3).astype(np.float32))
    return y if y.ndim == 2 else y[..., 0]


def apply_gain(img: np.ndarray, gain: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Scale RGB by a per-pixel gain: keeps hue and saturation (ratio-preserving tone).

    Strip by strip with cv2 (SIMD, threaded): about 2x numpy's broadcast multiply at 24 MP.
    """
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
