"""Carry-over rules in isolation: geometry moved by a known alignment, people matched."""
from __future__ import annotations

import math

import cv2
import numpy as np

from maskroom.engine.masks.compose import derive
from maskroom.engine.masks.registry import MaskInput
from maskroom.core.recipe import MaskComponent
from maskroom.engine.sync.align import Alignment
from maskroom.engine.sync.transfer import carry_geometry, match_person, rule_for

W, H = 640, 480


def _alignment(angle=0.0, zoom=1.0, dx=0.0, dy=0.0) -> tuple[Alignment, np.ndarray]:
    A = cv2.getRotationMatrix2D((W / 2, H / 2), angle, zoom)
    A[:, 2] += (dx, dy)
    M = np.vstack([A, [0, 0, 1]])
    norm = np.diag([1 / W, 1 / H, 1]) @ M @ np.diag([W, H, 1])
    return Alignment(norm, 1.0, "test", (W, H), (W, H)), M


def _iou(a, b, valid=None):
    a, b = a > 0.5, b > 0.5
    if valid is not None:
        a, b = a[valid], b[valid]
    return np.logical_and(a, b).sum() / np.logical_or(a, b).sum()


def _raster(comp):
    return derive(MaskInput(np.zeros((H, W, 3), np.float32)), comp).alpha


def test_rules():
    assert rule_for("radial") == "move" and rule_for("sky") == "rederive" and rule_for("color-range") == "recompute"


def test_geometric_kinds_equal_the_warped_raster():
    al, M = _alignment(angle=12.0, zoom=1.1, dx=30, dy=-20)
    comps = [
        MaskComponent("radial", params={"cx": 0.4, "cy": 0.45, "rx": 0.2, "ry": 0.1, "angle": 25.0, "feather": 0.3}),
        MaskComponent("linear", params={"x0": 0.2, "y0": 0.2, "x1": 0.6, "y1": 0.5}),
        MaskComponent("brush", params={"strokes": [{"points": [[0.3, 0.3], [0.5, 0.35], [0.6, 0.6]],
                                                    "size": 0.06, "feather": 0.2}]}),
    ]
    # Only where the target sees what the source saw (a gradient goes on past the frame).
    valid = cv2.warpAffine(np.ones((H, W), np.float32), M[:2], (W, H)) > 0.999
    for comp in comps:
        moved = carry_geometry(comp, al)
        truth = cv2.warpAffine(_raster(comp), M[:2], (W, H))
        assert _iou(_raster(moved), truth, valid) > 0.95, comp.kind


def test_prompts_are_mapped_and_lengths_follow_zoom():
    al, M = _alignment(zoom=1.25, dx=20)
    comp = MaskComponent("object", params={"box": [0.4, 0.4, 0.6, 0.6]}, feather=0.01)
    moved = carry_geometry(comp, al)
    x0, y0, x1, y1 = moved.params["box"]
    assert math.isclose(x1 - x0, 0.25, abs_tol=1e-3) and math.isclose((x0 + x1) / 2, 0.5 + 20 / W, abs_tol=1e-3)
    assert math.isclose(moved.feather, 0.0125, abs_tol=1e-4)
    ref = carry_geometry(MaskComponent("face-skin", params={"ref": [0.5, 0.5]}), _alignment(dx=64)[0])
    assert ref.params["ref"] == [0.6, 0.5]


def test_the_same_person_is_found_when_order_changes():
    al, _ = _alignment(dx=-200)  # the camera pans: the left person leaves, indices shift
    src_people = [{"box": [0.05, 0.2, 0.3, 0.9], "face_box": [0.1, 0.2, 0.2, 0.35]},
                  {"box": [0.55, 0.2, 0.8, 0.9], "face_box": [0.6, 0.2, 0.7, 0.35]}]
    shift = 200 / W
    tgt_people = [{"box": [0.55 - shift, 0.2, 0.8 - shift, 0.9], "face_box": [0.6 - shift, 0.2, 0.7 - shift, 0.35]},
                  {"box": [0.7, 0.25, 0.95, 0.9], "face_box": [0.75, 0.25, 0.85, 0.4]}]  # a newcomer
    idx, score = match_person(src_people[1], tgt_people, al)
    assert idx == 0 and score > 0.9
    idx, score = match_person(src_people[0], tgt_people, al)  # gone out of frame
    assert score < 0.2
