"""Combining a mask definition's components into one alpha matte.

Order of operations per component: derive (or fetch from cache) -> grow/shrink ->
feather -> invert -> density; then components fold left to right with their mode:
add = max, subtract = a * (1 - c), intersect = a * c.  The first component's mode is
ignored (it starts from an empty mask), as in Lightroom.
"""
from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from maskroom.core.recipe import MaskComponent, MaskDefinition
from maskroom.engine.masks.registry import MaskInput, MaskResult, get_kind

Resolver = Callable[[MaskInput, MaskComponent], MaskResult]


def derive(inp: MaskInput, comp: MaskComponent) -> MaskResult:
    """Evaluate one component's kind without any cache."""
    result = get_kind(comp.kind).fn(inp, comp)
    alpha = result.alpha.astype(np.float32, copy=False)
    # a kind's fresh raster is clipped in place (a full-size copy less at 24 MP);
    # clipping is idempotent, so a raster a kind also keeps stays what it was
    result.alpha = np.clip(alpha, 0.0, 1.0, out=alpha if alpha.flags.writeable else None)
    return result


def grow_shrink(alpha: np.ndarray, grow: float) -> np.ndarray:
    if not grow:
        return alpha
    h, w = alpha.shape
    radius = max(1, int(round(abs(grow) * max(h, w))))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    op = cv2.dilate if grow > 0 else cv2.erode
    return op(alpha, kernel)


def feather(alpha: np.ndarray, amount: float) -> np.ndarray:
    if amount <= 0:
        return alpha
    sigma = amount * max(alpha.shape)
    return cv2.GaussianBlur(alpha, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)


def finish_component(alpha: np.ndarray, comp: MaskComponent) -> np.ndarray:
    alpha = feather(grow_shrink(alpha, comp.grow), comp.feather)
    if comp.inverted:
        alpha = 1.0 - alpha
    return alpha if comp.density == 1.0 else alpha * np.float32(comp.density)


def combine(acc: np.ndarray | None, alpha: np.ndarray, mode: str) -> np.ndarray:
    if acc is None:
        return alpha.copy()
    if mode == "add":
        return np.maximum(acc, alpha)
    if mode == "subtract":
        return acc * (1.0 - alpha)
    if mode == "intersect":
        return acc * alpha
    raise ValueError(f"unknown mask mode {mode!r}")


def compose(definition: MaskDefinition | None, inp: MaskInput, resolver: Resolver = derive) -> np.ndarray:
    """The definition's alpha (float32 HxW, 0..1).  No definition: the whole image."""
    h, w = inp.shape
    if definition is None:
        return np.ones((h, w), np.float32)
    acc = None
    for comp in definition.components:
        alpha = resolver(inp, comp).alpha
        if alpha.shape != (h, w):
            alpha = cv2.resize(alpha, (w, h), interpolation=cv2.INTER_LINEAR)
        acc = combine(acc, finish_component(alpha, comp), comp.mode)
    if acc is None:
        return np.zeros((h, w), np.float32)
    acc = acc.astype(np.float32, copy=False)  # combine() made it: ours to clip in place
    return np.clip(acc, 0.0, 1.0, out=acc)
