"""The people kinds on the shipped portraits (real models from the model store).

Photos: maskroom/data/samples (shipped).  Hopper: one face; Curies: two people
(Marie facing the camera, Pierre in profile); orientation-6: the Curies photo stored
sideways with an EXIF orientation tag; a landscape has nobody.
"""
from __future__ import annotations

import numpy as np
import pytest

from maskroom.engine.imageio.decode import decode_rgb
from maskroom.engine.masks.people import face_topology as topo
from maskroom.engine.masks.people import analysis as P
from maskroom.engine.masks.compose import derive
from maskroom.engine.masks.registry import MaskInput, available_kinds
from maskroom.core.recipe import MaskComponent

PARTS = ("face-skin", "body-skin", "eyebrows", "sclera", "iris", "lips", "teeth", "hair", "clothes")


def _load(samples_dir, name, rot=0) -> MaskInput:
    img = decode_rgb(samples_dir / name)
    img = img.astype(np.float32) / (65535.0 if img.dtype == np.uint16 else 255.0)
    if rot:
        img = np.ascontiguousarray(np.rot90(img, rot))
    return MaskInput(img, digest=f"test:{name}:{rot}")


def _derive(inp, kind, **params):
    return derive(inp, MaskComponent(kind, params=params))


def _centroid(alpha):
    ys, xs = np.nonzero(alpha > 0.5)
    return np.array([xs.mean(), ys.mean()])


def _bbox(alpha, thr=0.5):
    ys, xs = np.nonzero(alpha > thr)
    return xs.min(), ys.min(), xs.max(), ys.max()


@pytest.fixture(scope="module")
def hopper(samples_dir_module):
    return _load(samples_dir_module, "mpl_grace_hopper.jpg")


@pytest.fixture(scope="module")
def curies(samples_dir_module):
    return _load(samples_dir_module, "immich_portrait_curies.jpg")


@pytest.fixture(scope="module")
def samples_dir_module():
    from pathlib import Path

    import maskroom

    return Path(maskroom.__file__).parent / "data" / "samples"


def test_all_people_kinds_are_registered():
    kinds = set(available_kinds())
    assert {"person", *PARTS} <= kinds


def test_hopper_one_face_with_parts_in_place(hopper):
    people = P.detect_people(hopper)
    assert len(people) == 1
    p = people[0]
    assert p.face_box is not None and len(p.landmarks) == 468 and 0 < p.score <= 1
    h, w = hopper.shape
    oval = P.fill_polygon((h, w), np.array(p.landmarks)[list(topo.FACE_OVAL), :2] * [w, h])
    results = {k: _derive(hopper, k, person=0) for k in ("person", *PARTS)}
    for kind in ("person", "face-skin", "eyebrows", "sclera", "iris", "lips"):
        assert results[kind].found, kind
        assert results[kind].alpha.shape == (h, w) and results[kind].alpha.dtype == np.float32
    lips, brows, iris = (_centroid(results[k].alpha) for k in ("lips", "eyebrows", "iris"))
    assert lips[1] > iris[1] > brows[1]  # brows above eyes above lips
    # Lips, eyes and brows lie inside the face outline, and inside the person.
    for kind in ("lips", "iris", "sclera", "eyebrows"):
        a = results[kind].alpha > 0.5
        assert (oval[a] > 0.5).mean() > 0.9, kind
        assert (results["person"].alpha[a] > 0.5).mean() > 0.9, kind
    # Face skin excludes the lips and the eyes.
    skin = results["face-skin"].alpha
    assert skin[results["lips"].alpha > 0.5].mean() < 0.2
    assert skin[results["sclera"].alpha > 0.5].mean() < 0.2
    # The iris lies within the bounds of the eye openings (sclera + iris).
    eyes = np.maximum(results["sclera"].alpha, results["iris"].alpha)
    ex0, ey0, ex1, ey1 = _bbox(eyes, 0.3)
    ix0, iy0, ix1, iy1 = _bbox(results["iris"].alpha)
    assert ex0 <= ix0 and ix1 <= ex1 and ey0 <= iy0 and iy1 <= ey1
    # Two irises, one per eye: left and right halves of the face both have some.
    cx = (p.face_box[0] + p.face_box[2]) / 2 * w
    ia = results["iris"].alpha > 0.5
    xs = np.nonzero(ia)[1]
    assert (xs < cx).any() and (xs > cx).any()
    info = results["person"].info
    assert info["count"] == 1 and info["people"][0]["index"] == 0


def test_hopper_polygons_are_antialiased(hopper):
    lips = _derive(hopper, "lips", person=0).alpha
    assert ((lips > 0.05) & (lips < 0.95)).sum() > 0.1 * (lips > 0.5).sum()


def test_curies_two_people_left_to_right(curies):
    people = P.detect_people(curies)
    assert len(people) == 2
    assert people[0].centre[0] < people[1].centre[0]
    assert [p.index for p in people] == [0, 1]
    h, w = curies.shape
    a0 = _derive(curies, "person", person=0).alpha
    a1 = _derive(curies, "person", person=1).alpha
    assert _centroid(a0)[0] < w / 2 < _centroid(a1)[0]
    # The two are disjoint and both inside "all people".
    assert ((a0 > 0.5) & (a1 > 0.5)).sum() < 0.01 * (a0 > 0.5).sum()
    everyone = _derive(curies, "person").alpha
    assert (everyone[(a0 > 0.5) | (a1 > 0.5)] > 0.4).mean() > 0.95
    # Marie faces the camera: her face parts exist.  Pierre is in profile: face parts
    # are reported not found (no mesh), never an exception.
    assert _derive(curies, "lips", person=0).found
    pierre_lips = _derive(curies, "lips", person=1)
    if people[1].landmarks is None:
        assert not pierre_lips.found and not pierre_lips.alpha.any()


def test_ref_point_picks_the_same_person(curies):
    people = P.detect_people(curies)
    for p in people:
        res = _derive(curies, "person", ref=p.centre)
        assert res.info["person"] == p.index


def test_person_index_out_of_range_is_not_found(hopper):
    res = _derive(hopper, "lips", person=5)
    assert not res.found and not res.alpha.any() and "not found" in res.info["reason"]
    res = _derive(hopper, "person", person="x")
    assert not res.found


def test_exif_rotated_portrait_is_decoded_upright(samples_dir_module):
    inp = _load(samples_dir_module, "immich_portrait-orientation-6.jpg")
    people = P.detect_people(inp)
    faces = [p for p in people if p.landmarks is not None]
    assert faces, "the upright face must be found after EXIF orientation"
    lm = np.array(faces[0].landmarks)
    # Upright: the chin is below the forehead.
    assert lm[topo.CHIN, 1] > lm[topo.FOREHEAD, 1]


def test_rotated_copy_finds_face_or_reports_cleanly(samples_dir_module):
    inp = _load(samples_dir_module, "mpl_grace_hopper.jpg", rot=1)
    res = _derive(inp, "lips")
    assert res.alpha.shape == inp.shape
    if res.found:
        # Lips found on the sideways face lie right of the eyes (rot90 turns the
        # picture counter-clockwise: the forehead goes left, the chin right).
        iris = _derive(inp, "iris")
        assert iris.found and _centroid(res.alpha)[0] > _centroid(iris.alpha)[0]
    else:
        assert not res.alpha.any()


def test_landscape_has_no_face_parts(samples_dir_module):
    inp = _load(samples_dir_module, "immich_tanners_ridge.jpg")
    for kind in ("face-skin", "lips", "iris", "teeth"):
        res = _derive(inp, kind)
        assert not res.found and not res.alpha.any(), kind
    assert P.detect_people(inp) == [] or all(p.face_box is None for p in P.detect_people(inp))


@pytest.mark.parametrize("name", ["immich_denali.webp", "immich_cyclamen_persicum.jpg", "immich_notocactus_minimus.jpg"])
def test_no_person_on_nature_photos(samples_dir_module, name):
    # The selfie and skin/clothes/hair models both fire on these (a mountain, a
    # flower, a cactus: 26 %, 35 % and 5 % of the frame over 0.5); without a face
    # a blob must also pass the pose model to be a person.
    inp = _load(samples_dir_module, name)
    assert (P.analyse(inp).prob > 0.5).mean() > 0.01  # the selfie model does fire here
    assert P.detect_people(inp) == []
    for kind in ("person", "hair", "clothes", "body-skin", "face-skin"):
        res = _derive(inp, kind)
        assert not res.found and not res.alpha.any(), kind
    assert not P.all_people_alpha(inp).found


def test_pose_gate_sees_a_body_and_not_a_mountain(curies, samples_dir_module):
    from maskroom.engine.masks.people.segmentation import POSE_PRESENCE, pose_presence

    h, w = curies.shape
    marie = min(P.detect_people(curies), key=lambda p: p.centre[0])
    box = np.array(marie.box) * [w, h, w, h]
    assert pose_presence(curies.image, box) >= POSE_PRESENCE
    denali = _load(samples_dir_module, "immich_denali.webp")
    a = P.analyse(denali)
    ys, xs = np.nonzero(a.prob > 0.5)  # the blob the selfie model took for a person
    box = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]) / a.sx
    assert pose_presence(denali.image, box) < POSE_PRESENCE


def test_synthetic_blank_image_is_not_found():
    inp = MaskInput(np.full((120, 160, 3), 0.5, np.float32), digest="blank")
    for kind in ("person", "face-skin", "hair", "clothes", "body-skin"):
        res = _derive(inp, kind)
        assert not res.found and not res.alpha.any(), kind
    assert not P.all_people_alpha(inp).found


def test_analysis_is_cached_per_input(hopper):
    a1 = P.analyse(hopper)
    a2 = P.analyse(MaskInput(hopper.image, digest=hopper.digest))
    assert a1 is a2
    other = P.analyse(MaskInput(hopper.image[::2, ::2].copy(), digest="half"))
    assert other is not a1


def test_all_people_alpha_and_hair_clothes(hopper):
    res = P.all_people_alpha(hopper)
    assert res.found and 0.2 < res.score < 0.9
    clothes = _derive(hopper, "clothes", person=0)
    assert clothes.found
    # Clothes are below the face.
    face_bottom = P.detect_people(hopper)[0].face_box[3] * hopper.shape[0]
    assert _centroid(clothes.alpha)[1] > face_bottom


def test_person_and_clothes_reach_the_frame_bottom_of_a_near_square_portrait(hopper):
    # Hopper is 512x600 (ratio 1.17): her jacket fills the bottom rows.  The person
    # model once saw only the top 512x512 square there, so both masks stopped ~15 %
    # above the frame's bottom edge.
    h, w = hopper.shape
    person = P.all_people_alpha(hopper).alpha
    clothes = _derive(hopper, "clothes", person=0).alpha
    for alpha in (person, clothes):
        bottom = alpha[int(0.95 * h):, int(0.3 * w):int(0.7 * w)]
        assert (bottom > 0.5).mean() > 0.9
