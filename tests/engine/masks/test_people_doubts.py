"""Doubtful people results say so (issue 15's hard cases), on the shipped Grace Hopper
portrait and the shipped cat, painted or turned (the real models run):

* a face with no skin colour in a colour photo (a grey statue) is not a person, and
  every people kind says why; the same face in a black-and-white photo still is;
* a face turned far in the frame warns on the person matte;
* people too small for the skin/clothes/hair model warn on their pixel parts;
* faces and shapes that nothing confirmed as people are counted in "no person";
* body-skin blobs with nothing of the face skin's colour are dropped (synthetic).
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from maskroom.core.recipe import MaskComponent
from maskroom.engine.imageio.decode import decode_rgb
from maskroom.engine.masks.compose import derive
from maskroom.engine.masks.overlay import load_rgb
from maskroom.engine.masks.people import analysis
from maskroom.engine.masks.registry import MaskInput
from tools import hard_cases

DATA = Path(__file__).resolve().parents[2] / "data" / "people"


@pytest.fixture(scope="module")
def hopper_rgb():
    import maskroom

    img = decode_rgb(Path(maskroom.__file__).parent / "data" / "samples" / "mpl_grace_hopper.jpg")
    return np.ascontiguousarray(img.astype(np.float32) / 255.0)


def _derive(image, digest, kind, **params):
    return derive(MaskInput(image, digest=digest), MaskComponent(kind, params=params))


def _stone(rgb: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Grey with a faint green cast (weathered stone) outside ``keep``."""
    grey = rgb.mean(-1, keepdims=True) * np.array([0.97, 1.0, 0.96], np.float32)
    return np.where(keep[..., None], rgb, grey).astype(np.float32)


def test_a_grey_statue_in_a_colour_photo_is_not_a_person(hopper_rgb):
    h, w = hopper_rgb.shape[:2]
    flag = np.zeros((h, w), bool)
    flag[: h // 2, : w // 4] = True  # the flag keeps its colours: a colour photo
    statue = _stone(hopper_rgb, flag)
    for kind in ("person", "clothes", "face-skin"):
        r = _derive(statue, "doubt:statue", kind)
        assert not r.found and not (r.alpha > 0.5).any(), kind
        assert "without skin colour" in r.info["reason"], r.info["reason"]
    assert r.info["statues"] and r.info["statues"][0]["chroma"] < 7


def test_the_real_portrait_and_a_black_and_white_copy_stay_people(hopper_rgb):
    real = _derive(hopper_rgb, "doubt:real", "person")
    assert real.found and "statues" not in real.info and not real.info.get("reason")
    bw = _stone(hopper_rgb, np.zeros(hopper_rgb.shape[:2], bool))
    grey = _derive(bw, "doubt:bw", "person")
    assert grey.found and "statues" not in grey.info


def test_a_face_turned_far_warns_on_the_person(hopper_rgb):
    turned = hard_cases.rotate(hopper_rgb, -30)
    r = _derive(turned, "doubt:turned", "person")
    assert r.found and "degrees in the frame" in r.info["reason"]


def test_small_people_warn_on_their_pixel_parts(hopper_rgb):
    small = hard_cases.shrink(hopper_rgb, 28)
    for kind in ("hair", "clothes"):
        r = _derive(small, "doubt:small", kind)
        assert "people small in the frame" in r.info["reason"], (kind, r.info.get("reason"))
    assert not _derive(hopper_rgb, "doubt:real", "clothes").info.get("reason")


def test_no_person_counts_the_unconfirmed_shapes():
    cat = load_rgb(DATA / "chelsea_cat.png")
    r = _derive(cat, "doubt:cat", "person")
    assert not r.found
    a = analysis.analyse(MaskInput(cat, digest="doubt:cat"))
    if a.unconfirmed:
        assert "not confirmed" in r.info["reason"]
    else:
        assert "not confirmed" not in r.info["reason"]


def test_body_skin_blobs_without_the_face_colour_go(monkeypatch):
    p = np.zeros((100, 100), np.float32)
    p[10:60, 10:40] = 1.0  # a neck and shoulder, the face's colour
    p[10:60, 60:90] = 1.0  # a curtain, another colour
    p[30, 40:60] = 1.0  # a one-pixel bridge between them
    colour = np.zeros_like(p)
    colour[:, :50] = 0.9
    lab = np.zeros((100, 100, 3), np.float32)
    lab[..., 1] = 10.0  # a colour photo
    monkeypatch.setattr(analysis, "_face_colour_match", lambda a, person: (colour, None, None, lab, []))
    out = analysis._skin_like_face(None, p, None)
    assert out[10:60, 10:40].min() == 1.0
    assert out[10:60, 60:90].max() == 0.0
    # In a black-and-white photo there is no face colour to compare with: all stays.
    lab[..., 1:] = 0.0
    assert np.array_equal(analysis._skin_like_face(None, p, None), p)


def test_stone_face_needs_both_grey_and_no_redder_than_the_scene():
    from maskroom.engine.masks.people.statue import stone_face

    lm = np.zeros((468, 3), np.float32)
    lm[:, :2] = 50.0  # every spot at the image centre
    img = np.zeros((100, 100, 3), np.float32)
    colourful = (0.0, 30.0)  # photo median a* 0, p90 chroma 30

    def face(rgb):
        img[:] = rgb
        return stone_face(img, lm, 60.0, colourful)

    assert face((0.55, 0.57, 0.55)) is not None  # grey-green stone
    assert face((0.8, 0.6, 0.5)) is None  # skin
    assert face((0.55, 0.52, 0.52)) is None  # grey but redder than the scene (cold-lit skin)
    img[:] = (0.55, 0.57, 0.55)
    assert stone_face(img, lm, 60.0, (0.0, 3.0)) is None  # a black-and-white photo: not judged
    assert stone_face(img, lm, 20.0, colourful) is None  # a face too small to judge
    assert cv2.cvtColor(img[:1, :1], cv2.COLOR_RGB2LAB)[0, 0, 1] < 0


@pytest.mark.parametrize("sure", [True, False])
def test_small_bodies_label_what_they_keep_and_count_what_they_drop(monkeypatch, sure):
    # A lone pedestrian kept by the pose model must own its matte blob (its crop,
    # its membership); a rejected one is counted for the "no person" reason.
    a = object.__new__(analysis.PeopleAnalysis)
    a.prob = np.zeros((96, 128), np.float32)
    a.prob[30:70, 60:72] = 0.9
    a.statues, a.unconfirmed = [], 0
    score = 0.95 if sure else 0.1
    monkeypatch.setattr(analysis, "pose_presence", lambda img, box: score)
    monkeypatch.setattr(analysis, "body_score", lambda img, box: score)
    labels, bodies = a._small_bodies(np.zeros((192, 256, 3), np.float32), [])
    if sure:
        assert len(bodies) == 1 and (labels[30:70, 60:72] == 1).all() and a.unconfirmed == 0
    else:
        assert bodies == [] and not labels.any() and a.unconfirmed == 1


def test_a_white_painted_face_over_skin_is_a_person_not_stone():
    """Face paint greys the forehead and cheeks; the neck under the chin is still skin
    (the hard-case face_paint), where a statue's neck is stone like its face."""
    from maskroom.engine.masks.people.statue import stone_face

    lm = np.zeros((468, 3), np.float32)
    lm[:, :2] = 40.0  # face spots and chin at (40, 40); the neck patch 0.35 face sizes lower
    img = np.full((100, 100, 3), (0.55, 0.57, 0.55), np.float32)  # grey-green, face and all
    colourful = (0.0, 30.0)
    assert stone_face(img, lm, 60.0, colourful) is not None  # stone all the way down
    img[55:] = (0.45, 0.28, 0.2)  # a brown neck: skin under the paint
    assert stone_face(img, lm, 60.0, colourful) is None
    img[55:] = (0.5, 0.52, 0.5)  # a grey neck in the shadow of the chin: still stone
    assert stone_face(img, lm, 60.0, colourful) is not None
