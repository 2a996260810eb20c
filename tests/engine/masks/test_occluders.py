"""Occluders and hard faces on the shipped Grace Hopper portrait, painted (the real
models run; the paint is drawn from the face mesh found on the unpainted photo by
tools/hard_cases.py, as the hard-case contact sheets are).

Opaque sunglasses: no sclera or iris on the lenses, and a reason; lenses are not face
skin and not hair.  A face mask: no lips on the fabric, and a reason; the mask is not
face skin.  A small face: "face too small (NN px ...)" instead of guessed parts.  A
tilted small face (kodim18 turned 45 degrees) is found.  Hopper's cap is not hair.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from maskroom.core.recipe import MaskComponent
from maskroom.engine.imageio.decode import decode_rgb
from maskroom.engine.masks.compose import derive
from maskroom.engine.masks.overlay import load_rgb
from maskroom.engine.masks.people import analyse
from maskroom.engine.masks.people.faces import find_faces
from maskroom.engine.masks.registry import MaskInput, warning
from tools import hard_cases

DATA = Path(__file__).resolve().parents[2] / "data" / "people"


@pytest.fixture(scope="module")
def hopper_rgb():
    import maskroom

    img = decode_rgb(Path(maskroom.__file__).parent / "data" / "samples" / "mpl_grace_hopper.jpg")
    return np.ascontiguousarray(img.astype(np.float32) / 255.0)


@pytest.fixture(scope="module")
def hopper_face(hopper_rgb):
    return hard_cases.main_face(hopper_rgb)


def _derive(image, digest, kind, **params):
    return derive(MaskInput(image, digest=digest), MaskComponent(kind, params=params))


def _painted(before, after, min_change=0.2):
    """Pixels the paint changed."""
    return np.abs(after - before).max(-1) > min_change


@pytest.fixture(scope="module")
def sunglasses(hopper_rgb, hopper_face):
    return hard_cases.sunglasses(hopper_rgb, hopper_face)


@pytest.mark.parametrize("kind", ["sclera", "iris"])
def test_sunglasses_hide_the_eyes_with_a_reason(sunglasses, kind):
    r = _derive(sunglasses, "occ:sunglasses", kind)
    assert not r.found and not (r.alpha > 0.5).any()
    assert warning(kind, r).startswith("eyes hidden by sunglasses")


def test_sunglass_lenses_are_not_face_skin_nor_hair(hopper_rgb, sunglasses):
    lens = _painted(hopper_rgb, sunglasses)
    skin = _derive(sunglasses, "occ:sunglasses", "face-skin")
    hair = _derive(sunglasses, "occ:sunglasses", "hair")
    assert skin.found and skin.alpha[lens].mean() < 0.1
    assert hair.alpha[lens].mean() < 0.1
    # The rest of the face is still drawn: eyebrows and lips are not behind the lenses.
    assert _derive(sunglasses, "occ:sunglasses", "lips").found
    assert _derive(sunglasses, "occ:sunglasses", "eyebrows").found


def test_unpainted_eyes_are_not_taken_for_sunglasses(hopper_rgb):
    for kind in ("sclera", "iris"):
        r = _derive(hopper_rgb, "occ:plain", kind)
        assert r.found and warning(kind, r) is None


@pytest.fixture(scope="module")
def masked(hopper_rgb, hopper_face):
    return hard_cases.face_mask(hopper_rgb, hopper_face)


@pytest.mark.parametrize("kind", ["lips", "teeth"])
def test_face_mask_hides_the_mouth_with_a_reason(masked, kind):
    r = _derive(masked, "occ:mask", kind)
    assert not r.found
    assert warning(kind, r).startswith("mouth hidden by a face mask")


def test_face_mask_is_not_face_skin(hopper_rgb, masked):
    cover = _painted(hopper_rgb, masked)
    skin = _derive(masked, "occ:mask", "face-skin")
    assert skin.found and skin.alpha[cover].mean() < 0.15
    # The forehead and the cheeks round the eyes stay skin.
    assert (skin.alpha > 0.5).sum() > 0.2 * (_derive(hopper_rgb, "occ:plain", "face-skin").alpha > 0.5).sum()


def test_small_face_says_too_small_instead_of_guessing(hopper_rgb):
    small = hard_cases.shrink(hopper_rgb, 28)
    for kind in ("eyebrows", "sclera", "iris", "lips", "teeth"):
        r = _derive(small, "occ:small", kind)
        assert not r.found, kind
        assert re.match(r"face too small \(\d+ px; " + kind + r" from \d+ px\)", warning(kind, r)), warning(kind, r)
    assert _derive(small, "occ:small", "face-skin").found  # a 28 px face still has a face-skin oval


def test_all_people_parts_say_who_has_no_face(samples_dir):
    img = load_rgb(samples_dir / "immich_portrait_curies.jpg")
    r = _derive(img, "occ:curies", "face-skin")
    # Marie is drawn; Pierre, in profile, has no mesh: the mask says so.
    assert r.found
    assert "no face found for person 2 (index 1)" in warning("face-skin", r)


def test_tilted_small_face_is_found():
    img = load_rgb(DATA / "kodim18_tilted.jpg")
    faces = [f for f in find_faces(img) if f.landmarks is not None]
    assert len(faces) == 1
    lm = faces[0].landmarks
    tilt = np.degrees(np.arctan2(*(lm[263, :2] - lm[33, :2])[::-1]))
    assert 30 < abs(tilt) < 60


def test_cap_is_not_hair(hopper_rgb, hopper_face):
    r = _derive(hopper_rgb, "occ:plain", "hair")
    lm = hopper_face.landmarks[:, :2]
    fs = hopper_face.size
    eyes_y = float(lm[[33, 263], 1].mean())
    x0, x1 = int(lm[:, 0].min() + 0.2 * fs), int(lm[:, 0].max() - 0.2 * fs)
    # The cap's black band, 0.3-0.6 of the face above the eyes (hair 0.95-1.0 there
    # before the hat rule), and its white top above.
    cap = r.alpha[max(0, int(eyes_y - 0.9 * fs)):int(eyes_y - 0.3 * fs), x0:x1]
    assert cap.size and cap.mean() < 0.05
    assert analyse(MaskInput(hopper_rgb, digest="occ:plain")).people  # the person is still there


def test_a_cat_found_on_a_turned_copy_is_not_a_person():
    # The cat meshes at 0.88 on the frame turned 45 degrees and the selfie model
    # mattes it: a face from a turned copy needs the body detector's word.
    img = load_rgb(DATA / "chelsea_cat.png")
    inp = MaskInput(img, digest="occ:cat")
    assert analyse(inp).people == []
    r = derive(inp, MaskComponent("person"))
    # (The reason may go on to count the shapes the person model saw that nothing confirmed.)
    assert not r.found and warning("person", r).startswith("no person found in this photo")
