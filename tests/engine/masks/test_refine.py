"""Edge refinement: a coarse matte upsampled onto a photo must follow the photo's edge."""
from __future__ import annotations

import numpy as np
import cv2

from maskroom.engine.masks.refine import (RefineGuide, boundary_band, guided_filter_coefficients, guided_upsample,
                                         refine_alpha, upsample)


def _wavy_scene(size=512, seed=0):
    """A foreground/background composite whose true alpha has detail finer than 1/8 scale."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    edge = size * 0.45 + 18 * np.sin(xx / 6.0) + 10 * np.sin(xx / 2.7)
    alpha = 1.0 / (1.0 + np.exp(np.clip(-(yy - edge) / 1.2, -50, 50)))
    fg = np.array([0.15, 0.45, 0.12], np.float32)
    bg = np.array([0.55, 0.70, 0.95], np.float32)
    img = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    img = np.clip(img + rng.normal(0, 0.01, img.shape).astype(np.float32), 0, 1)
    return img.astype(np.float32), alpha.astype(np.float32)


def test_refine_follows_soft_edge_better_than_bilinear():
    img, truth = _wavy_scene()
    coarse = cv2.resize(truth, (64, 64), interpolation=cv2.INTER_AREA)
    bilinear = upsample(coarse, truth.shape)
    refined = refine_alpha(img, coarse)
    band = boundary_band(truth > 0.5, 24)
    err_bilinear = np.abs(bilinear - truth)[band].mean()
    err_refined = np.abs(refined - truth)[band].mean()
    assert err_refined < 0.5 * err_bilinear, (err_refined, err_bilinear)
    def iou(a):
        return ((a > 0.5) & (truth > 0.5)).sum() / ((a > 0.5) | (truth > 0.5)).sum()
    assert iou(refined) > iou(bilinear)
    assert refined.dtype == np.float32 and refined.shape == truth.shape
    assert 0.0 <= refined.min() and refined.max() <= 1.0


def test_refine_keeps_interior_and_exterior_hard():
    img, truth = _wavy_scene()
    coarse = cv2.resize(truth, (64, 64), interpolation=cv2.INTER_AREA)
    refined = refine_alpha(img, coarse)
    assert refined[-20:, :].min() == 1.0  # deep inside the foreground
    assert refined[:20, :].max() == 0.0  # deep in the background


def test_refine_empty_and_full_masks_stay_so():
    img, _ = _wavy_scene(128)
    assert refine_alpha(img, np.zeros((16, 16), np.float32)).max() == 0.0
    assert refine_alpha(img, np.ones((16, 16), np.float32)).min() == 1.0


def test_guided_filter_on_constant_guide_is_a_box_mean():
    guide = np.full((40, 40, 3), 0.5, np.float32)
    src = np.zeros((40, 40), np.float32)
    src[:, 20:] = 1.0
    a, b = guided_filter_coefficients(guide, src, 3, 1e-3)
    out = np.einsum("hwc,hwc->hw", a, guide) + b
    # Without any edge in the guide the filter only smooths: symmetric around the step.
    assert abs(out[20, 19] + out[20, 20] - 1.0) < 1e-3
    assert 0.0 < out[20, 19] < 0.5 < out[20, 20] < 1.0


def test_matting_prior_runs_and_stays_close():
    img, truth = _wavy_scene(160)
    coarse = cv2.resize(truth, (20, 20), interpolation=cv2.INTER_AREA)
    refined = refine_alpha(img, coarse, matting=True)
    band = boundary_band(truth > 0.5, 10)
    bilinear = upsample(coarse, truth.shape)
    assert np.abs(refined - truth)[band].mean() < np.abs(bilinear - truth)[band].mean()


def test_refine_at_preview_size_uses_working_size_and_keeps_quality():
    # 1600 px: decisions at the 768 px working size, q = a.I + b at full size in the
    # band rows only.  The edge must still follow the photo much better than bilinear,
    # and rows far from the band must be exactly the hard decision.
    img, truth = _wavy_scene(1600)
    coarse = cv2.resize(truth, (200, 200), interpolation=cv2.INTER_AREA)
    refined = refine_alpha(img, coarse)
    bilinear = upsample(coarse, truth.shape)
    band = boundary_band(truth > 0.5, 40)
    assert np.abs(refined - truth)[band].mean() < 0.5 * np.abs(bilinear - truth)[band].mean()
    assert refined[:400].max() == 0.0 and refined[-400:].min() == 1.0
    assert refined.dtype == np.float32 and refined.shape == truth.shape


def test_guided_upsample_smooths_model_grid_artefacts_onto_the_photo_edge_and_leaves_sure_areas_alone():
    # A straight edge at y = 100 in a 400x200 photo, bright "letters" in the background
    # far from it; the coarse matte (1/4 size) has "fingers" one coarse pixel above
    # the edge in every other pair of columns, like the person model's transposed-
    # convolution comb seen above a head.
    img = np.full((200, 400, 3), 0.3, np.float32)
    img[100:] = 0.8
    img[20:40, 20:120] = 0.9
    img += np.random.default_rng(0).normal(0, 0.01, img.shape).astype(np.float32)
    coarse = np.zeros((50, 100), np.float32)
    coarse[25:] = 1.0
    coarse[24, ::4] = coarse[24, 1::4] = 1.0
    bilinear = upsample(coarse, (200, 400))
    snapped = guided_upsample(img, coarse, radius=2, eps=1e-2, coef_edge=100)
    above = slice(88, 97)  # background rows just above the edge
    assert snapped[above].max() < 0.6 * bilinear[above].max()
    assert snapped[94].std() < 0.5 * bilinear[94].std()  # the comb along the edge is gone
    assert snapped[110:].min() > 0.95  # the person side stays the person
    # Far from the edge the matte is the bilinear one: no texture leaks in.
    assert np.array_equal(snapped[:60], bilinear[:60])


def test_hesitant_prior_lets_the_photo_bring_back_sky_between_twigs():
    """Thin dark twigs on bright sky just above the ground (a tree line): the coarse model
    says 0.3 over the whole twig band (a grey mix at its grid).  With ``uncertain`` the
    photo decides there, so the sky between the twigs comes back instead of a solid hull."""
    h = w = 400
    img = np.zeros((h, w, 3), np.float32)
    img[:] = [0.55, 0.7, 0.95]  # sky
    img[300:] = [0.25, 0.3, 0.15]  # ground
    twigs = np.zeros((h, w), bool)
    twigs[230:300, 100:300][:, ::12] = True  # 1 px twigs every 12 px
    twigs[230:300:12, 100:300] = True
    img[twigs] = [0.15, 0.12, 0.1]
    coarse = np.ones((40, 40), np.float32)
    coarse[30:] = 0.0
    coarse[23:30, 10:30] = 0.3  # the hesitant twig band
    gaps = np.zeros((h, w), bool)  # sky pixels at least 2 px from a twig
    near = cv2.dilate(twigs.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    gaps[240:290, 110:290] = ~near[240:290, 110:290]
    hull = refine_alpha(img, coarse)
    assert (hull[gaps] > 0.5).mean() < 0.5  # without: most of the band stays a hull (0.39)
    fine = refine_alpha(img, coarse, uncertain=(0.2, 0.5))
    assert (fine[gaps] > 0.5).mean() > 0.85  # 0.92
    assert (fine[twigs] > 0.5).mean() < 0.05
    assert (fine[320:] > 0.5).mean() < 0.01  # the ground stays ground


def _blob_scene(size: int, seed=1):
    """A wavy-edged blob (a subject) in the middle of a plain background: its outline is a
    box well inside the frame."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    ang = np.arctan2(yy - 0.45, xx - 0.5)
    r = np.hypot(yy - 0.45, xx - 0.5) - (0.2 + 0.02 * np.sin(9 * ang))
    alpha = 1.0 / (1.0 + np.exp(np.clip(r * size / 1.5, -50, 50)))
    img = alpha[..., None] * np.array([0.8, 0.3, 0.2]) + (1 - alpha[..., None]) * np.array([0.3, 0.5, 0.6])
    img = np.clip(img + rng.normal(0, 0.01, img.shape), 0, 1)
    return img.astype(np.float32), alpha.astype(np.float32)


def test_refine_in_the_window_round_the_outline_matches_the_whole_frame():
    for size in (512, 1600):  # working size = the photo; working size 768 < the photo
        img, truth = _blob_scene(size)
        coarse = cv2.resize(truth, (160, 160), interpolation=cv2.INTER_AREA)
        whole = refine_alpha(img, coarse)
        window = refine_alpha(img, coarse, window=True)
        assert window.dtype == np.float32 and window.shape == truth.shape
        band = boundary_band(truth > 0.5, size // 40)
        assert np.abs(window - whole)[band].mean() < 0.01
        assert np.abs(window - whole)[~band].max() < 0.02  # sure areas: the same hard decision
        assert ((window > 0.5) & (whole > 0.5)).sum() / ((window > 0.5) | (whole > 0.5)).sum() > 0.995
        # And it still follows the photo's edge much better than a bilinear upsample.
        bilinear = upsample(coarse, truth.shape)
        assert np.abs(window - truth)[band].mean() < 0.5 * np.abs(bilinear - truth)[band].mean()


def test_a_guide_prepared_beforehand_gives_the_same_matte():
    # The sky kind prepares the photo's side while its model runs: nothing may change.
    img, truth = _wavy_scene(600, seed=3)
    coarse = cv2.resize(truth, (64, 64), interpolation=cv2.INTER_AREA)
    prepared = RefineGuide(img, work_edge=320)
    prepared.statistics()
    assert np.array_equal(refine_alpha(img, coarse, work_edge=320, uncertain=(0.2, 0.5)),
                          refine_alpha(img, coarse, uncertain=(0.2, 0.5), prepared=prepared))
    try:
        refine_alpha(img[:300], coarse, prepared=prepared)
    except ValueError as exc:
        assert "guide prepared for" in str(exc)
    else:
        raise AssertionError("a guide of another image was accepted")
