"""The object kind: a loose box or lasso snapped to the object's edges."""
from __future__ import annotations

import numpy as np
import pytest

from maskroom.engine.masks.compose import compose, derive
from maskroom.engine.masks.overlay import load_rgb
from tools.evaluate import iou

from conftest import SAMPLES
from maskroom.engine.masks.objects import PromptError, object_alpha
from maskroom.engine.masks.registry import MaskInput
from maskroom.core.recipe import MaskComponent, MaskDefinition


def _scene(w=360, h=270, seed=1):
    """A textured background with a yellow rounded object; returns (image, truth)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    truth = ((xx - 150) / 70.0) ** 2 + ((yy - 140) / 55.0) ** 2 <= 1.0
    img = np.empty((h, w, 3), np.float32)
    img[:] = [0.25, 0.35, 0.3]
    img += (rng.random((h, w, 1)) * 0.15).astype(np.float32)
    img[truth] = [0.9, 0.75, 0.2]
    return np.clip(img, 0, 1), truth


def test_loose_box_snaps_to_object():
    img, truth = _scene()
    loose = [60 / 360, 60 / 270, 250 / 360, 225 / 270]  # ~20 px slack on every side
    alpha = object_alpha(img, {"box": loose})
    box_region = np.zeros_like(truth)
    box_region[60:225, 60:250] = True
    assert iou(alpha > 0.5, truth) > 0.9
    assert iou(alpha > 0.5, truth) > iou(box_region, truth) + 0.15


def test_lasso_prompt_and_outside_stays_empty():
    img, truth = _scene()
    lasso = [[0.15, 0.2], [0.7, 0.25], [0.66, 0.85], [0.2, 0.82]]
    alpha = object_alpha(img, {"lasso": lasso})
    assert iou(alpha > 0.5, truth) > 0.9
    assert alpha[:, 300:].max() == 0.0  # nothing outside the prompt's crop


def test_object_on_shipped_sample_falcon():
    img = load_rgb(SAMPLES / "immich_prairie_falcon.jpg")
    img = img[::4, ::4].copy()
    h, w = img.shape[:2]
    box = [0.25, 0.33, 0.62, 0.66]
    alpha = object_alpha(img, {"box": box}) > 0.5
    x0, y0, x1, y1 = int(box[0] * w), int(box[1] * h), int(box[2] * w), int(box[3] * h)
    inside = alpha[y0:y1, x0:x1]
    # The bird is a minority of its loose box; (almost) nothing is selected outside it.
    assert 0.05 < inside.mean() < 0.6
    assert inside.sum() >= 0.95 * alpha.sum()
    # What is selected is darker/browner than the pale rock around it.
    assert img[alpha].mean() < img[y0:y1, x0:x1][~inside].mean() - 0.1


def test_bad_prompts_raise_clear_errors():
    img, _ = _scene()
    with pytest.raises(PromptError, match="box"):
        object_alpha(img, {})
    with pytest.raises(PromptError, match="3 points"):
        object_alpha(img, {"lasso": [[0.1, 0.1], [0.2, 0.2]]})
    with pytest.raises(PromptError, match="too small"):
        object_alpha(img, {"box": [0.5, 0.5, 0.5, 0.5]})


def test_object_composes_with_invert_and_intersect():
    img, truth = _scene()
    inp = MaskInput(image=img, digest="scene")
    obj = MaskComponent(kind="object", params={"box": [0.15, 0.2, 0.7, 0.85]})
    base = derive(inp, obj).alpha > 0.5
    inv = compose(MaskDefinition([MaskComponent(kind="object", params=obj.params, inverted=True)]), inp) > 0.5
    assert (inv == ~base).mean() > 0.99
    half = compose(MaskDefinition([obj, MaskComponent(kind="object", params={"box": [0.0, 0.0, 1.0, 0.5]},
                                                        mode="intersect")]), inp)
    assert (half[200:] > 0.5).sum() == 0 or (half[200:] > 0.5).mean() < 0.01


def _hopper() -> MaskInput:
    path = SAMPLES / "mpl_grace_hopper.jpg"
    return MaskInput(load_rgb(path), digest="test-object:hopper")


def test_box_round_a_person_takes_the_person_matte():
    inp = _hopper()
    person = derive(inp, MaskComponent("person")).alpha > 0.5
    ys, xs = np.nonzero(person)
    h, w = person.shape
    box = [max(0, xs.min() / w - 0.03), max(0, ys.min() / h - 0.03), 1.0, 1.0]
    res = derive(inp, MaskComponent("object", params={"box": box}))
    assert res.info["method"] == "people"
    assert iou(res.alpha > 0.5, person) > 0.97
    # The classical path on the same box floods into the flag and the backdrop.
    grabcut = derive(inp, MaskComponent("object", params={"box": box, "people": False, "salient": False}))
    assert grabcut.info["method"] == "grabcut"
    assert iou(grabcut.alpha > 0.5, person) < iou(res.alpha > 0.5, person)


def test_box_round_part_of_a_person_is_not_the_person():
    inp = _hopper()
    # Her cap only: most of her matte lies outside the box.
    res = derive(inp, MaskComponent("object", params={"box": [0.2, 0.0, 0.8, 0.22]}))
    assert res.info["method"] in ("salient", "grabcut")
    assert (res.alpha[int(0.3 * inp.shape[0]):] > 0.5).mean() == 0.0  # nothing below the box


def test_salient_region_smaller_than_the_box_grows_to_the_thing_the_box_was_drawn_round():
    from maskroom.engine.masks.objects import span_box

    img, truth = _scene()  # a yellow object on a textured background
    ys, xs = np.nonzero(truth)
    inside = np.zeros(truth.shape, np.uint8)
    inside[ys.min() - 8:ys.max() + 9, xs.min() - 8:xs.max() + 9] = 1  # a loose box round it
    small = np.zeros(truth.shape, bool)
    small[130:150, 140:160] = True  # the salient model found only a patch of it
    grown = span_box(img, small, inside)
    assert grown[small].all()  # what the model found stays
    assert iou(grown, truth) > 0.9  # the whole object, not the box
    assert not grown[inside == 0].any()
    # A region that already spans the box is left as it is.
    assert (span_box(img, truth, inside) == truth).all()


def test_a_box_round_several_things_takes_them_all_without_the_background_between():
    from maskroom.engine.masks.objects import span_box

    img, _ = _scene()
    h, w = img.shape[:2]
    inside = np.zeros((h, w), np.uint8)
    inside[40:h - 40, 40:w - 40] = 1  # a loose box round two things
    left = np.zeros((h, w), bool)
    left[60:h - 60, 50:90] = True  # the main salient region: one of them
    right = np.zeros((h, w), bool)
    right[60:h - 60, w - 90:w - 50] = True  # the other, a separate region
    both = span_box(img, left, inside, every=left | right)
    assert (both == (left | right)).all()  # both things, nothing between them


def test_a_box_with_nobody_in_it_skips_the_people_analysis(monkeypatch):
    # The person model's quick look finds nobody in a box round the falcon: the full
    # people analysis (faces on turned copies, bodies, pose) is not run for it.
    from maskroom.engine.masks import objects
    from maskroom.engine.masks.people import analysis

    calls = []
    real = objects.analyse
    monkeypatch.setattr(objects, "analyse", lambda inp: calls.append(inp) or real(inp))
    analysis.clear_cache()
    falcon = MaskInput(load_rgb(SAMPLES / "immich_prairie_falcon.jpg"), digest="test-object:falcon")
    res = derive(falcon, MaskComponent("object", params={"box": [0.15, 0.05, 0.85, 0.95]}))
    assert res.info["method"] == "salient" and (res.alpha > 0.5).mean() > 0.05
    assert calls == []
    # A box round a person still looks: the quick look sees her.
    derive(_hopper(), MaskComponent("object", params={"box": [0.05, 0.1, 1.0, 1.0]}))
    assert len(calls) == 1
