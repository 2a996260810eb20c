"""Subject and background kinds (classical saliency + GrabCut + refinement)."""
from __future__ import annotations

import cv2
import numpy as np

from maskroom.engine.masks.compose import derive
from tools.evaluate import iou
from maskroom.engine.masks.registry import MaskInput
from maskroom.engine.masks.subject import (
    border_fraction,
    flooded,
    focus,
    keep_main_regions,
    minimum_barrier,
    saliency,
    spectral_residual,
    subject_alpha,
)
from maskroom.core.recipe import MaskComponent


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


def test_minimum_barrier_is_zero_at_the_border_and_high_on_a_walled_off_blob():
    img = np.full((60, 80, 1), 0.2, np.float32)
    img[20:40, 30:50] = 0.9  # a plateau: reaching the border means crossing a 0.7 wall
    img[0:10, 0:80] = np.linspace(0.2, 0.9, 80)[None, :, None]  # a ramp joined to the border
    d = minimum_barrier(img)
    assert d[0].max() == 0 and d[:, 0].max() == 0
    assert np.allclose(d[25:35, 35:45], 0.7, atol=1e-5)
    assert d[12:18, 5:25].max() < 0.05  # background is background, however far from the edge
    assert d[3:8, 60:75].max() < 0.05  # bright but joined to the border: no barrier


def test_focus_finds_the_sharp_part_of_a_shallow_depth_of_field_photo():
    rng = np.random.default_rng(0)
    h, w = 200, 300
    tex = rng.random((h, w, 3)).astype(np.float32)
    blurred = cv2.GaussianBlur(tex, (0, 0), 6)
    img = blurred.copy()
    img[70:130, 110:190] = tex[70:130, 110:190]  # the only sharp part
    sharp, separation = focus(img, (100, 150))
    assert sharp.shape == (100, 150)
    assert sharp[40:60, 60:90].mean() > sharp[:20].mean() + 0.5
    assert separation > 2.0
    _, flat = focus(tex, (100, 150))  # sharp everywhere: no separation
    assert flat < 0.5


def test_subject_is_the_sharp_thing_when_the_background_is_blurred():
    """A sharp, low-contrast subject off centre; a bright out-of-focus highlight in the
    centre (bokeh).  Colour cues pick the highlight; focus picks the subject."""
    rng = np.random.default_rng(4)
    h, w = 240, 360
    img = np.full((h, w, 3), [0.35, 0.3, 0.25], np.float32) + cv2.GaussianBlur(
        rng.normal(0, 0.05, (h, w, 3)).astype(np.float32), (0, 0), 6)
    yy, xx = np.mgrid[0:h, 0:w]
    bokeh = np.exp(-(((xx - 150) / 45.0) ** 2 + ((yy - 120) / 45.0) ** 2))
    img += (0.55 * bokeh)[..., None].astype(np.float32)
    truth = ((xx - 285) / 45.0) ** 2 + ((yy - 120) / 40.0) ** 2 <= 1
    img[truth] = [0.35, 0.3, 0.25] + rng.normal(0, 0.08, (int(truth.sum()), 3))
    img = np.clip(img, 0, 1).astype(np.float32)
    with_focus = subject_alpha(img) > 0.5
    assert iou(with_focus, truth) > 0.6
    assert iou(with_focus, truth) > iou(subject_alpha(img, cues=False) > 0.5, truth) + 0.2


def test_flooded_masks_are_recognised():
    m = np.zeros((100, 100), bool)
    m[30:70, 30:70] = True
    assert not flooded(m)
    m[:, :60] = True  # the left 60 %: half the border
    assert flooded(m) and border_fraction(m) > 0.4


def test_a_flat_frame_gives_no_numpy_warning():
    # A grey card or a blank frame: the focus cue has no energy at all; log(0) printed a
    # RuntimeWarning on the CLI's stderr.
    import warnings

    from maskroom.engine.masks.subject import focus

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, separation = focus(np.full((120, 160, 3), 0.5, np.float32), (30, 40))
    assert np.isfinite(separation) and separation < 0
