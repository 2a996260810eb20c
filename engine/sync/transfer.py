"""Per-component carry-over rules: how a mask component's intent moves to another frame.

* geometric kinds (brush, linear, radial): their points are mapped by the frame
  alignment; lengths scale with the local zoom; a radial's angle turns with it.
* AI kinds: the component is re-derived on the target.  Prompts that point at
  something (object ``box``/``lasso``/``points``, a person's ``ref`` point) are
  mapped first, so the target's model is asked about the same thing; a person
  index is re-chosen on the target as the detected person closest to where the
  source's person moved (position, size, face landmarks when present).
* range kinds: recomputed on the target's own pixels; sample ``points`` (where a
  colour was picked) are mapped like geometry.
"""
from __future__ import annotations

import copy
import math
from dataclasses import asdict

import numpy as np

from maskroom.core.recipe import AI_KINDS, GEOMETRIC_KINDS, MaskComponent
from maskroom.engine.sync.align import Alignment

PERSON_KINDS = frozenset({"person", "face-skin", "body-skin", "eyebrows", "sclera", "iris", "lips", "teeth",
                          "hair", "clothes"})


def _clip01(v: float) -> float:
    return float(min(1.5, max(-0.5, v)))  # gradients may sit slightly outside the frame


def _map_pt(al: Alignment, x: float, y: float) -> tuple[float, float]:
    q = al.map_points([[x, y]])[0]
    return round(_clip01(q[0]), 6), round(_clip01(q[1]), 6)


def _direction(al: Alignment, x: float, y: float, dx: float, dy: float) -> tuple[float, float]:
    """Map a pixel-space direction at normalised (x, y): returns the target pixel direction."""
    J = al.local_linear(x, y)
    d = J @ np.array([dx, dy])
    return float(d[0]), float(d[1])


def _radial(params: dict, al: Alignment) -> dict:
    p = dict(params)
    cx, cy = float(p.get("cx", 0.5)), float(p.get("cy", 0.5))
    rx, ry = float(p.get("rx", 0.25)), float(p.get("ry", 0.25))
    a = math.radians(float(p.get("angle", 0.0)))
    c, s = math.cos(a), math.sin(a)
    # Ellipse axes in pixel space (y down; see geometric.radial_gradient): u along (c, -s), v along (s, c).
    u = _direction(al, cx, cy, c, -s)
    v = _direction(al, cx, cy, s, c)
    ratio = max(al.src_size) / max(al.dst_size)  # long-edge fraction -> pixels -> long-edge fraction
    p["cx"], p["cy"] = _map_pt(al, cx, cy)
    p["rx"] = round(rx * math.hypot(*u) * ratio, 6)
    p["ry"] = round(ry * math.hypot(*v) * ratio, 6)
    p["angle"] = round(math.degrees(math.atan2(-u[1], u[0])), 4)
    return p


def _linear(params: dict, al: Alignment) -> dict:
    p = dict(params)
    p["x0"], p["y0"] = _map_pt(al, float(p["x0"]), float(p["y0"]))
    p["x1"], p["y1"] = _map_pt(al, float(p["x1"]), float(p["y1"]))
    return p


def _points(pts, al: Alignment) -> list[list[float]]:
    if not pts:
        return []
    q = al.map_points(pts)
    return [[round(_clip01(x), 6), round(_clip01(y), 6)] for x, y in q]


def _brush(params: dict, al: Alignment) -> dict:
    p = copy.deepcopy(params)
    for stroke in p.get("strokes") or []:
        pts = stroke.get("points") or []
        if pts:
            c = np.mean(np.asarray(pts, float).reshape(-1, 2), axis=0)
            stroke["size"] = round(float(stroke.get("size", 0.05)) * al.length_scale(*c), 6)
            stroke["points"] = _points(pts, al)
    return p


def _box(box, al: Alignment) -> list[float]:
    x0, y0, x1, y1 = (float(v) for v in box)
    q = al.map_points([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    q = np.clip(q, 0.0, 1.0)
    return [round(float(q[:, 0].min()), 6), round(float(q[:, 1].min()), 6),
            round(float(q[:, 0].max()), 6), round(float(q[:, 1].max()), 6)]


def map_prompts(params: dict, al: Alignment) -> dict:
    """Map any pointing prompt of an AI or range component."""
    p = copy.deepcopy(params)
    if p.get("box") is not None:
        p["box"] = _box(p["box"], al)
    # A prompt points into the photo: a point the move carries past the edge is held on
    # it (the value schema refuses prompts outside 0..1, as sampling there reads nothing).
    for key in ("lasso", "points"):
        if p.get(key):
            p[key] = _inside(_points(p[key], al))
    if p.get("ref") is not None:
        p["ref"] = _inside(_points([p["ref"]], al))[0]
    return p


def _inside(points: list[list[float]]) -> list[list[float]]:
    return [[min(1.0, max(0.0, x)), min(1.0, max(0.0, y))] for x, y in points]


def carry_geometry(comp: MaskComponent, al: Alignment) -> MaskComponent:
    """A copy of ``comp`` whose geometry/prompt is moved onto the target frame."""
    out = MaskComponent.from_dict(copy.deepcopy(_asdict(comp)))
    out.derived = {}
    if comp.kind == "radial":
        out.params = _radial(comp.params, al)
    elif comp.kind == "linear":
        out.params = _linear(comp.params, al)
    elif comp.kind == "brush":
        out.params = _brush(comp.params, al)
    else:
        out.params = map_prompts(comp.params, al)
    # Feather/grow are long-edge fractions of the *content*: follow the zoom.
    scale = al.length_scale()
    if abs(scale - 1.0) > 0.02:
        out.feather = round(comp.feather * scale, 6)
        out.grow = round(comp.grow * scale, 6)
    return out


def _asdict(comp: MaskComponent) -> dict:
    return asdict(comp)


def rule_for(kind: str) -> str:
    if kind in GEOMETRIC_KINDS:
        return "move"
    if kind in AI_KINDS:
        return "rederive"
    return "recompute"


# -- people -----------------------------------------------------------------

def people_of(info: dict | None) -> list[dict]:
    """Detected people from a MaskResult.info: [{box: [x0,y0,x1,y1] normalised, landmarks?}]."""
    if not info:
        return []
    for key in ("people", "persons", "faces"):
        items = info.get(key)
        if items:
            return [x for x in items if isinstance(x, dict) and x.get("box") is not None]
    return []


def match_person(src_person: dict, targets: list[dict], al: Alignment) -> tuple[int | None, float]:
    """Index of the target person that is the source's person moved; and a 0..1 match score.

    Scores by overlap of the mapped source box with each target box (position and
    size), and by mean landmark distance when both carry landmarks.
    """
    if not targets:
        return None, 0.0
    use_face = src_person.get("face_box") is not None
    mapped = _box(src_person["face_box"] if use_face else src_person["box"], al)
    best, best_score = None, -1.0
    for i, t in enumerate(targets):
        tbox = t.get("face_box") if use_face and t.get("face_box") is not None else t["box"]
        score = box_iou(mapped, [float(v) for v in tbox])
        ls, lt = src_person.get("landmarks"), t.get("landmarks")
        if ls and lt and len(ls) == len(lt):
            q = al.map_points(np.asarray(ls, float)[:, :2])
            d = float(np.mean(np.hypot(*(q - np.asarray(lt, float)[:, :2]).T)))
            diag = math.hypot(mapped[2] - mapped[0], mapped[3] - mapped[1]) or 1.0
            score = 0.5 * score + 0.5 * max(0.0, 1.0 - d / diag)
        if score > best_score:
            best, best_score = i, score
    return best, max(0.0, best_score)


def box_iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
