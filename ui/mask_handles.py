"""On-canvas handles of masks (Lightroom Classic's pins and lines): where they are,
which one the pointer is over, and what dragging one does to the component's params.

Pure geometry, no Qt: unit-testable on its own.  It works in screen pixels of the
canvas, given the rectangle the photo is drawn in (``View``); the photo keeps its
aspect ratio there, so screen pixels are image pixels scaled, and angles and
distances measured on screen are the image's.  Params are the engine's
(engine/masks/geometric.py, objects.py): normalised 0..1 coordinates, radii as
fractions of the long edge, ``angle`` in degrees counter-clockwise.

Every drag is computed from the params at the press and the pointer's travel since,
never accumulated tick by tick, so a drag cannot drift.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

PICK_RADIUS = 9.0  # screen pixels around a handle that still grab it
ROTATE_GAP = 28.0  # the rotation knob sits this far outside the shape (screen px)
MIN_FEATHER_PX = 14.0  # a fully feathered radial's knob stays off the centre pin
MIN_SIZE_PX = 3.0  # gradients and boxes cannot collapse below this on screen
EDITABLE_KINDS = ("linear", "radial", "object")

Point = tuple[float, float]


@dataclass(frozen=True)
class View:
    """The photo's rectangle on the canvas, in screen pixels."""

    x: float
    y: float
    w: float
    h: float

    @property
    def long(self) -> float:
        return max(self.w, self.h) or 1.0

    def to_screen(self, nx: float, ny: float) -> Point:
        return self.x + nx * self.w, self.y + ny * self.h

    def to_norm(self, sx: float, sy: float) -> Point:
        return (sx - self.x) / (self.w or 1.0), (sy - self.y) / (self.h or 1.0)


@dataclass
class Shape:
    """One editable mask component as the canvas shows it."""

    uid: str
    kind: str  # linear | radial | object
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Handle:
    """``style``: pin (move), knob (a point), rotate (a knob; ``b``: where its stalk
    meets the shape), line (a segment a..b), area (inside the polygon ``points``).
    ``cursor``: move, rotate, size_hor, size_ver, size_fdiag (\\), size_bdiag (/)."""

    name: str
    style: str
    cursor: str
    a: Point
    b: Point | None = None
    points: tuple[Point, ...] = ()


def editable(kind: str, params: dict) -> bool:
    """A component the canvas can show handles for (its prompt is a shape)."""
    if kind == "linear":
        return all(k in params for k in ("x0", "y0", "x1", "y1"))
    if kind == "radial":
        return "cx" in params and "cy" in params
    if kind == "object":
        return params.get("box") is not None and len(params["box"]) == 4
    return False


# -- small vector helpers ---------------------------------------------------------
def _add(a: Point, b: Point, k: float = 1.0) -> Point:
    return a[0] + k * b[0], a[1] + k * b[1]


def _sub(a: Point, b: Point) -> Point:
    return a[0] - b[0], a[1] - b[1]


def _dot(a: Point, b: Point) -> float:
    return a[0] * b[0] + a[1] * b[1]


def _len(a: Point) -> float:
    return math.hypot(a[0], a[1])


def _rotate(p: Point, about: Point, theta: float) -> Point:
    """Rotate by ``theta`` radians in screen coordinates (y down: positive = clockwise)."""
    c, s = math.cos(theta), math.sin(theta)
    d = _sub(p, about)
    return about[0] + d[0] * c - d[1] * s, about[1] + d[0] * s + d[1] * c


def _seg_distance(p: Point, a: Point, b: Point) -> float:
    ab = _sub(b, a)
    n = _dot(ab, ab)
    t = 0.0 if n <= 0 else min(1.0, max(0.0, _dot(_sub(p, a), ab) / n))
    return _len(_sub(p, _add(a, ab, t)))


def _inside(p: Point, poly: tuple[Point, ...]) -> bool:
    inside = False
    for i in range(len(poly)):
        (x0, y0), (x1, y1) = poly[i], poly[i - 1]
        if (y0 > p[1]) != (y1 > p[1]) and p[0] < (x1 - x0) * (p[1] - y0) / (y1 - y0) + x0:
            inside = not inside
    return inside


def _clip_line(p: Point, d: Point, view: View, pad: float = 0.0) -> tuple[Point, Point]:
    """The infinite line through ``p`` along unit ``d`` clipped to the photo (Liang-Barsky);
    a short segment around ``p`` when the line misses the photo."""
    lo, hi = -1e9, 1e9
    for pk, dk, a, b in ((p[0], d[0], view.x - pad, view.x + view.w + pad),
                         (p[1], d[1], view.y - pad, view.y + view.h + pad)):
        if abs(dk) < 1e-12:
            if not a <= pk <= b:
                return _add(p, d, -20), _add(p, d, 20)
            continue
        t0, t1 = sorted(((a - pk) / dk, (b - pk) / dk))
        lo, hi = max(lo, t0), min(hi, t1)
    if lo > hi:
        return _add(p, d, -20), _add(p, d, 20)
    return _add(p, d, lo), _add(p, d, hi)


def _size_cursor(direction: Point) -> str:
    """The resize cursor closest to a drag direction on screen."""
    ang = math.degrees(math.atan2(direction[1], direction[0])) % 180.0
    if ang < 22.5 or ang >= 157.5:
        return "size_hor"
    if ang < 67.5:
        return "size_fdiag"  # down-right (y down)
    if ang < 112.5:
        return "size_ver"
    return "size_bdiag"


# -- the handles of each kind ------------------------------------------------------
def _linear_frame(p: dict, view: View):
    p0 = view.to_screen(float(p["x0"]), float(p["y0"]))
    p1 = view.to_screen(float(p["x1"]), float(p["y1"]))
    d = _sub(p1, p0)
    n = _len(d)
    dhat = (d[0] / n, d[1] / n) if n > 1e-9 else (0.0, 1.0)
    along = (-dhat[1], dhat[0])  # the lines run across the gradient's direction
    return p0, p1, _add(p0, d, 0.5), dhat, along


def radial_frame(p: dict, view: View) -> tuple[Point, Point, Point, float, float]:
    """A radial's centre, its u and v axes (unit vectors) and radii, on screen."""
    c = view.to_screen(float(p["cx"]), float(p["cy"]))
    a = math.radians(float(p.get("angle", 0.0)))
    ux = (math.cos(a), -math.sin(a))  # the engine's u axis on screen (y down)
    uy = (math.sin(a), math.cos(a))
    rx = float(p.get("rx", 0.25)) * view.long
    ry = float(p.get("ry", 0.25)) * view.long
    return c, ux, uy, rx, ry


def radial_feather_point(p: dict, view: View) -> Point:
    """Where the feather knob sits: on the inner (fully-on) ellipse at 45 degrees."""
    c, ux, uy, rx, ry = radial_frame(p, view)
    k = radial_inner(p)
    edge45 = _add((ux[0] * rx, ux[1] * rx), (uy[0] * ry, uy[1] * ry), 1.0)  # u*rx + v*ry
    d = (edge45[0] * math.sqrt(0.5) * k, edge45[1] * math.sqrt(0.5) * k)
    if _len(d) < MIN_FEATHER_PX:
        n = _len(edge45) or 1.0
        d = (edge45[0] / n * MIN_FEATHER_PX, edge45[1] / n * MIN_FEATHER_PX)
    return _add(c, d)


def radial_inner(p: dict) -> float:
    """The inner ellipse (where the effect is full) as a fraction of the outer one."""
    return 1.0 - min(1.0, max(0.0, float(p.get("feather", 0.5))))


def handles(shape: Shape, view: View) -> list[Handle]:
    """Every handle of a shape, in the order they are drawn."""
    p = shape.params
    if not editable(shape.kind, p):
        return []
    if shape.kind == "linear":
        p0, p1, c, dhat, along = _linear_frame(p, view)
        lines = [Handle(name, "line", "move" if name == "move" else _size_cursor(dhat), *_clip_line(pt, along, view))
                 for name, pt in (("start", p0), ("end", p1), ("move", c))]
        rot = _add(c, along, ROTATE_GAP * 2)
        return lines + [Handle("move", "pin", "move", c), Handle("rotate", "rotate", "rotate", rot)]
    if shape.kind == "radial":
        c, ux, uy, rx, ry = radial_frame(p, view)
        out = [Handle("rx+", "knob", _size_cursor(ux), _add(c, ux, rx)),
               Handle("rx-", "knob", _size_cursor(ux), _add(c, ux, -rx)),
               Handle("ry+", "knob", _size_cursor(uy), _add(c, uy, ry)),
               Handle("ry-", "knob", _size_cursor(uy), _add(c, uy, -ry)),
               Handle("feather", "knob", "size_all", radial_feather_point(p, view)),
               Handle("rotate", "rotate", "rotate", _add(c, uy, -(ry + ROTATE_GAP)), _add(c, uy, -ry)),
               Handle("move", "pin", "move", c)]
        return out
    x0, y0, x1, y1 = (float(v) for v in p["box"])
    x0, x1 = sorted((x0, x1))
    y0, y1 = sorted((y0, y1))
    a, b = view.to_screen(x0, y0), view.to_screen(x1, y1)
    corners = {"nw": a, "ne": (b[0], a[1]), "se": b, "sw": (a[0], b[1])}
    out = [Handle("move", "area", "move", a, b, tuple(corners.values()))]
    out += [Handle("n", "line", "size_ver", corners["nw"], corners["ne"]),
            Handle("s", "line", "size_ver", corners["sw"], corners["se"]),
            Handle("w", "line", "size_hor", corners["nw"], corners["sw"]),
            Handle("e", "line", "size_hor", corners["ne"], corners["se"])]
    out += [Handle(name, "knob", "size_fdiag" if name in ("nw", "se") else "size_bdiag", pt)
            for name, pt in corners.items()]
    out += [Handle(h.name, "knob", h.cursor, ((h.a[0] + h.b[0]) / 2, (h.a[1] + h.b[1]) / 2)) for h in out[1:5]]
    out.append(Handle("move", "pin", "move", ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)))
    return out


# -- picking ---------------------------------------------------------------------------
_TIER = {"pin": 0, "rotate": 0, "knob": 0, "line": 1, "area": 2}


def hit_test(shapes: list[Shape], view: View, point: Point,
             radius: float = PICK_RADIUS) -> tuple[Shape, Handle] | None:
    """The handle under the pointer: points (pins, knobs) before lines before areas,
    the nearest within ``radius`` screen pixels; earlier shapes win ties."""
    best = None
    for shape in shapes:
        for h in handles(shape, view):
            if h.style == "area":
                dist = 0.0 if _inside(point, h.points) else math.inf
            elif h.style == "line":
                dist = _seg_distance(point, h.a, h.b)
            else:
                dist = _len(_sub(point, h.a))
            if dist > radius and h.style != "area":
                continue
            if dist == math.inf:
                continue
            key = (_TIER[h.style], dist)
            if best is None or key < best[0]:
                best = (key, shape, h)
    return None if best is None else (best[1], best[2])


# -- dragging ------------------------------------------------------------------------------
def _clamp(v: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, v))


def _r(v: float) -> float:
    return round(float(v), 5)


def drag(kind: str, params: dict, handle: str, view: View, start: Point, now: Point) -> dict:
    """The params after dragging ``handle`` from ``start`` to ``now`` (screen pixels),
    starting from ``params`` as they were at the press.  Returns a new dict."""
    out = dict(params)
    delta = _sub(now, start)
    if kind == "linear":
        p0, p1, c, dhat, _along = _linear_frame(params, view)
        if handle == "move":
            c2 = view.to_screen(*(_clamp(v, 0.0, 1.0) for v in view.to_norm(*_add(c, delta))))
            p0, p1 = _add(p0, _sub(c2, c)), _add(p1, _sub(c2, c))
        elif handle in ("start", "end"):
            half = max(MIN_SIZE_PX, abs(_dot(_sub(now, c), dhat)))  # both lines move: width about the centre
            p0, p1 = _add(c, dhat, -half), _add(c, dhat, half)
        elif handle == "rotate":
            theta = math.atan2(*reversed(_sub(now, c))) - math.atan2(*reversed(_sub(start, c)))
            p0, p1 = _rotate(p0, c, theta), _rotate(p1, c, theta)
        else:
            raise ValueError(f"linear gradient has no handle {handle!r}")
        (out["x0"], out["y0"]), (out["x1"], out["y1"]) = view.to_norm(*p0), view.to_norm(*p1)
        for k in ("x0", "y0", "x1", "y1"):
            out[k] = _r(out[k])
        return out
    if kind == "radial":
        c, ux, uy, rx, ry = radial_frame(params, view)
        rel = _sub(now, c)
        if handle == "move":
            cx, cy = view.to_norm(*_add(c, delta))
            out["cx"], out["cy"] = _r(_clamp(cx, 0.0, 1.0)), _r(_clamp(cy, 0.0, 1.0))
        elif handle in ("rx+", "rx-"):
            out["rx"] = _r(max(MIN_SIZE_PX, abs(_dot(rel, ux))) / view.long)
        elif handle in ("ry+", "ry-"):
            out["ry"] = _r(max(MIN_SIZE_PX, abs(_dot(rel, uy))) / view.long)
        elif handle == "rotate":
            # Screen y points down: a clockwise turn on screen is a negative angle.
            theta = math.atan2(*reversed(rel)) - math.atan2(*reversed(_sub(start, c)))
            ang = float(params.get("angle", 0.0)) - math.degrees(theta)
            out["angle"] = _r((ang + 180.0) % 360.0 - 180.0)
        elif handle == "feather":
            # Where the pointer sits in the ellipse's own frame: 0 at the centre, 1 on the edge.
            r = math.hypot(_dot(rel, ux) / max(rx, 1e-9), _dot(rel, uy) / max(ry, 1e-9))
            out["feather"] = _r(1.0 - _clamp(r, 0.0, 1.0))
        else:
            raise ValueError(f"radial gradient has no handle {handle!r}")
        return out
    if kind == "object":
        x0, y0, x1, y1 = (float(v) for v in params["box"])
        x0, x1 = sorted((x0, x1))
        y0, y1 = sorted((y0, y1))
        dx, dy = delta[0] / (view.w or 1.0), delta[1] / (view.h or 1.0)
        if handle == "move":
            dx = _clamp(dx, -x0, 1.0 - x1)
            dy = _clamp(dy, -y0, 1.0 - y1)
            x0, x1, y0, y1 = x0 + dx, x1 + dx, y0 + dy, y1 + dy
        elif handle in ("n", "s", "e", "w", "nw", "ne", "sw", "se"):
            if "w" in handle:
                x0 += dx
            if "e" in handle:
                x1 += dx
            if "n" in handle:
                y0 += dy
            if "s" in handle:
                y1 += dy
            x0, x1 = sorted((_clamp(x0, 0.0, 1.0), _clamp(x1, 0.0, 1.0)))  # dragged past: the box flips
            y0, y1 = sorted((_clamp(y0, 0.0, 1.0), _clamp(y1, 0.0, 1.0)))
            min_w, min_h = MIN_SIZE_PX / (view.w or 1.0), MIN_SIZE_PX / (view.h or 1.0)
            if x1 - x0 < min_w:
                x1 = min(1.0, x0 + min_w)
                x0 = x1 - min_w
            if y1 - y0 < min_h:
                y1 = min(1.0, y0 + min_h)
                y0 = y1 - min_h
        else:
            raise ValueError(f"object box has no handle {handle!r}")
        out["box"] = [_r(x0), _r(y0), _r(x1), _r(y1)]
        return out
    raise ValueError(f"{kind} masks have no handles")


ACTION_LABEL = {"move": "Move", "rotate": "Rotate", "feather": "Feather", "start": "Width", "end": "Width"}


def action_label(handle: str) -> str:
    """The verb a history step names a handle drag by (Move, Rotate, Resize...)."""
    return ACTION_LABEL.get(handle, "Resize")
