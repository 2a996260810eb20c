"""What the person matte takes in beyond the body's pose (engine/masks/people/held.py):
a big blob with no face and no pose landmark in it is cut (a teddy bear, a hugged
dog), one with landmarks in it stays and is reported (a raft under the rafters'
knees), one with a face is someone the pose model missed, slivers are ignored."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from maskroom.core.recipe import MaskComponent
from maskroom.engine.masks.compose import derive
from maskroom.engine.masks.overlay import load_rgb
from maskroom.engine.masks.people.held import HELD_WARN, PoseBody, held_things
from maskroom.engine.masks.registry import MaskInput

SET = Path(__file__).resolve().parents[3] / "bench" / "data" / "hard-cases"


def _scene(blob_w: int):
    """A 200 px tall person (label 1) whose pose covers only its left part; the matte
    also holds a blob ``blob_w`` px wide touching it on the right."""
    fg = np.zeros((240, 240), bool)
    fg[20:220, 60:100] = True  # the body
    fg[100:180, 100:100 + blob_w] = True  # the thing it touches
    labels = fg.astype(np.int32)
    seg = np.zeros(fg.shape, np.float32)
    seg[20:220, 60:100] = 1.0
    joints = np.array([[80, 40], [80, 120], [80, 200]], np.float32)
    return fg, labels, PoseBody(1, 1.0, seg, joints)


def test_a_big_blob_without_face_or_landmark_is_cut():
    fg, labels, body = _scene(80)
    held = held_things(fg, labels, [body], face_points=[])
    assert held.cut[140, 150] and not held.cut[120, 80]
    assert held.kept_share == 0 and 0.3 < held.cut_share < 0.6


def test_a_blob_holding_a_landmark_stays_and_is_reported():
    fg, labels, body = _scene(80)
    body.joints = np.vstack([body.joints, [[160, 140]]])  # a knee in the raft
    held = held_things(fg, labels, [body], face_points=[])
    assert not held.cut.any()
    assert held.kept_share >= HELD_WARN


def test_a_blob_with_a_face_is_a_person_the_pose_missed():
    fg, labels, body = _scene(80)
    held = held_things(fg, labels, [body], face_points=[np.array([150.0, 140.0])])
    assert not held.cut.any() and held.kept_share == 0


def test_slivers_and_unchecked_people_are_left_alone():
    fg, labels, body = _scene(8)  # a sleeve's edge, not a thing
    held = held_things(fg, labels, [body], face_points=[])
    assert not held.cut.any() and held.kept_share == 0
    assert held_things(fg, labels, [], face_points=[]).cut_share == 0


def _case(case_id: str) -> np.ndarray:
    case = next(c for c in json.loads((SET / "manifest.json").read_text())["cases"] if c["id"] == case_id)
    return load_rgb(SET / case["file"])


def test_the_hugged_dog_leaves_the_person_and_the_raft_is_reported():
    dog = _case("dog-human")
    h, w = dog.shape[:2]
    r = derive(MaskInput(dog, digest="held:dog"), MaskComponent("person"))
    assert r.found
    assert r.alpha[int(0.43 * h), int(0.30 * w)] > 0.5  # her jumper
    assert r.alpha[int(0.43 * h), int(0.71 * w)] < 0.5  # the dog's chest
    # No faint outline of the dog is left (its rim had alpha 0.27 before the cut grew outwards).
    assert r.alpha[int(0.31 * h):int(0.88 * h), int(0.70 * w):int(0.875 * w)].max() < 0.15
    raft = derive(MaskInput(_case("kodak-kodim14"), digest="held:raft"), MaskComponent("person"))
    assert raft.found and "something held or touching them" in raft.info["reason"]
