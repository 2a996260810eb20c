"""Geometric mask kinds: brush strokes, linear gradient, radial gradient.

Coordinates are normalised to the displayed image (x across the width, y down the
height); lengths (brush size, radii) are fractions of the long edge, so a
definition rasterises the same at any size.  They read only the input's shape.

* ``linear``: params x0, y0, x1, y1: alpha 1 at and before (x0, y0), falling
  linearly to 0 at and beyond (x1, y1), measured along the line between them.
* ``radial``: params cx, cy (centre), rx, ry (radii, fractions of the long edge),
  angle (degrees, rotates the ellipse counter-clockwise), feather (0..1: the
  inner fraction of the radius that stays at 1 is 1 - feather).  Inside = 1.
* ``brush``: params strokes: [{points: [[x, y], ...], size (diameter, fraction of
  the long edge), feather (0..1 of the radius that is soft), flow (0..1),
  erase (bool)}]; strokes paint over each other in order, erasing strokes remove.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from maskroom.core.recipe import MaskComponent, RecipeError
from maskroom.engine.executor import threads
from maskroom.engine.masks.registry import MaskInput, MaskResult, register


def _param(comp: MaskComponent, name: str, default=None) -> float:
    value = comp.params.get(name, default)
    if value is None:
        raise RecipeError(f"{comp.kind} mask needs parameter {name!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise RecipeError(f"{comp.kind} mask parameter {name!r} must be a number, not {value!r}") from None


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    # Pixel centres in pixel units.
    xs = (np.arange(w, dtype=np.float32) + 0.5)[None, :]
    ys = (np.arange(h, dtype=np.float32) + 0.5)[:, None]
    return xs, ys


@register("linear")
def linear_gradient(inp: MaskInput, comp: MaskComponent) -> MaskResult:
    h, w = inp.shape
    x0, y0 = _param(comp, "x0") * w, _param(comp, "y0") * h
    x1, y1 = _param(comp, "x1") * w, _param(comp, "y1") * h
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    if length2 < 1e-9:
        raise RecipeError("linear mask: start and end points must differ")
    xs, ys = _grid(h, w)
    alpha = np.empty((h, w), np.float32)
    for rows in threads.row_strips(h, w):  # a few MB of temporaries instead of several full-size ones
        t = ((xs - x0) * np.float32(dx / length2)) + ((ys[rows] - y0) * np.float32(dy / length2))
        np.clip(1.0 - t, 0.0, 1.0, out=alpha[rows])
    return MaskResult(alpha=alpha)


@register("radial")
def radial_gradient(inp: MaskInput, comp: MaskComponent) -> MaskResult:
    h, w = inp.shape
    long_edge = max(h, w)
    cx, cy = _param(comp, "cx", 0.5) * w, _param(comp, "cy", 0.5) * h
    rx, ry = _param(comp, "rx", 0.25) * long_edge, _param(comp, "ry", 0.25) * long_edge
    if rx <= 0 or ry <= 0:
        raise RecipeError("radial mask: rx and ry must be > 0")
    feather = min(1.0, max(0.0, _param(comp, "feather", 0.5)))
    a = math.radians(_param(comp, "angle", 0.0))
    c, s = math.cos(a), math.sin(a)
    xs, ys = _grid(h, w)
    alpha = np.empty((h, w), np.float32)
    for rows in threads.row_strips(h, w):
        dx, dy = xs - cx, ys[rows] - cy
        # Rotate into the ellipse's frame (counter-clockwise on screen: y points down).
        u = dx * np.float32(c) - dy * np.float32(s)
        v = dx * np.float32(s) + dy * np.float32(c)
        r = np.sqrt(np.square(u / np.float32(rx)) + np.square(v / np.float32(ry)))
        if feather <= 0:
            alpha[rows] = r <= 1.0
        else:
            t = np.clip((1.0 - r) / np.float32(feather), 0.0, 1.0)
            alpha[rows] = t * t * (3.0 - 2.0 * t)  # 1 inside r <= inner, smooth to 0 at r = 1
    return MaskResult(alpha=alpha)


def _stroke_alpha(h: int, w: int, stroke: dict) -> tuple[np.ndarray, tuple[slice, slice]] | None:
    long_edge = max(h, w)
    pts = np.asarray(stroke.get("points") or [], np.float64).reshape(-1, 2)
    if len(pts) == 0:
        return None
    radius = max(0.5, float(stroke.get("size", 0.05)) * long_edge / 2.0)
    feather = min(1.0, max(0.0, float(stroke.get("feather", 0.5))))
    flow = min(1.0, max(0.0, float(stroke.get("flow", 1.0))))
    px = pts * np.array([w, h])
    pad = int(math.ceil(radius)) + 2
    x0 = max(0, int(px[:, 0].min()) - pad)
    x1 = min(w, int(px[:, 0].max()) + pad + 1)
    y0 = max(0, int(px[:, 1].min()) - pad)
    y1 = min(h, int(px[:, 1].max()) + pad + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    # Distance from every pixel to the stroke's centre line (sub-pixel via 4x supersampled line).
    centre = np.full((y1 - y0, x1 - x0), 255, np.uint8)
    local = np.round((px - [x0, y0]) * 16).astype(np.int32)
    if len(local) == 1:
        cv2.circle(centre, tuple(int(v) for v in local[0]), 0, 0, 1, cv2.LINE_8, shift=4)
    else:
        cv2.polylines(centre, [local.reshape(-1, 1, 2)], False, 0, 1, cv2.LINE_8, shift=4)
    dist = cv2.distanceTransform(centre, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    soft = max(1.0, feather * radius)
    alpha = np.clip((radius - dist) / np.float32(soft), 0.0, 1.0) * np.float32(flow)
    return alpha.astype(np.float32), (slice(y0, y1), slice(x0, x1))


@register("brush")
def brush(inp: MaskInput, comp: MaskComponent) -> MaskResult:
    h, w = inp.shape
    strokes = comp.params.get("strokes") or []
    if not isinstance(strokes, list):
        raise RecipeError("brush mask: strokes must be a list")
    acc = np.zeros((h, w), np.float32)
    for stroke in strokes:
        res = _stroke_alpha(h, w, stroke)
        if res is None:
            continue
        alpha, roi = res
        if stroke.get("erase"):
            acc[roi] *= 1.0 - alpha
        else:
            acc[roi] += alpha * (1.0 - acc[roi])  # paint over: flow accumulates toward 1
    return MaskResult(alpha=acc, found=bool(acc.max() > 0))
