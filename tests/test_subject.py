"""Subject and background kinds (classical saliency + GrabCut + refinement)."""
from __future__ import annotations

import numpy as np

from maskroom.engine.masks.compose import derive
from maskroom.engine.masks.evaluate import iou
from maskroom.engine.masks.registry import MaskInput
from maskroom.engine.masks.subject import keep_main_regions, saliency, spectral_residual, subject_alpha
from maskroom.engine.recipe import MaskComponent


def _flower(w=400, h=300, centre=(0.55, 0.5), seed=3):
    """A magenta blob with petals on green foliage texture."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = centre[0] * w, centre[1] * h
    ang = np.arctan2(yy - cy, xx - cx)
    r = np.hypot(xx - cx, yy - cy)
    truth = r < 60 + 12 * np.cos(5 * ang)
    base = np.array([0.2, 0.45, 0.15], np.float32)
    img = base + rng.normal(0, 0.06, (h, w, 3)).astype(np.float32)
    img = np.clip(img, 0, 1)
    img[truth] = [0.85, 0.2, 0.6]
    return img.astype(np.float32), truth


def test_subject_finds_the_distinct_object():
    img, truth = _flower()
    alpha = subject_alpha(img)
    assert alpha.shape == truth.shape and alpha.dtype == np.float32
    assert iou(alpha > 0.5, truth) > 0.85


def test_subject_off_centre():
    img, truth = _flower(centre=(0.3, 0.4), seed=5)
    assert iou(subject_alpha(img) > 0.5, truth) > 0.8


def test_background_is_the_complement():
    img, truth = _flower()
    inp = MaskInput(image=img, digest="flower")
    subj = derive(inp, MaskComponent(kind="subject", params={"people": False})).alpha
    back = derive(inp, MaskComponent(kind="background", params={"people": False}))
    assert back.found
    assert np.allclose(subj + back.alpha, 1.0, atol=1e-5)
    assert iou(back.alpha > 0.5, ~truth) > 0.9


def test_saliency_maps_are_higher_on_the_object():
    img, truth = _flower()
    for sal in (saliency(img), spectral_residual(img)):
        assert sal.shape == truth.shape
        assert sal[truth].mean() > sal[~truth].mean() + 0.1


def test_keep_main_regions_drops_specks_and_fills_holes():
    m = np.zeros((100, 100), bool)
    m[20:80, 20:80] = True
    m[40:50, 40:50] = False  # a hole
    m[2:4, 2:4] = True  # a speck
    out = keep_main_regions(m)
    assert out[45, 45] and not out[3, 3] and out[20:80, 20:80].all()
