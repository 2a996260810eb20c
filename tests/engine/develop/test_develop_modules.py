"""Tone curve, colour mixer, colour grading, colour noise reduction, vignette and grain,
each as a function; hues are measured with colorsys (not our hue code)."""
from __future__ import annotations

import colorsys

import numpy as np
import pytest

from maskroom.engine.develop.adjustments import REGISTRY, OpContext
from maskroom.engine.develop.adjustments.base import luma
from maskroom.engine.develop.adjustments.curves import parametric_curve
from maskroom.engine.develop.color import SRGB_TO_WORK, WORK_TO_SRGB, apply_matrix, srgb_decode, srgb_encode
from maskroom.engine.develop.pipeline import apply_adjustments, apply_finishing, is_identity
from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition


def run(name, params, img, long_edge=None):
    ctx = OpContext(long_edge=long_edge or max(img.shape[:2]), params=dict(params))
    return REGISTRY[name].fn(img, 1.0, ctx)


def from_srgb(rgb):
    """Display sRGB 0..1 (..., 3) -> linear working space HxWx3 float32."""
    rgb = np.asarray(rgb, np.float32)
    img = rgb.reshape(1, -1, 3) if rgb.ndim < 3 else rgb
    return apply_matrix(srgb_decode(img), SRGB_TO_WORK)


def to_srgb(img):
    return srgb_encode(np.clip(apply_matrix(img, WORK_TO_SRGB), 0, 1))


def hsv(img):
    """colorsys HSV of every pixel of a working-space image: (N, 3), hue in degrees."""
    out = np.array([colorsys.rgb_to_hsv(*px) for px in to_srgb(img).reshape(-1, 3).astype(np.float64)])
    out[:, 0] *= 360.0
    return out


def hue_ramp(n=720, s=0.7, v=0.8):
    return from_srgb([colorsys.hsv_to_rgb(i / n, s, v) for i in range(n)])


def grey_ramp(n=256):
    p = np.linspace(0.0, 1.0, n, dtype=np.float32)
    return np.repeat(p[None, :, None] ** 2.2, 3, axis=2).astype(np.float32)


def perceptual_luma(img):
    return np.power(np.maximum(luma(img), 0), 1 / 2.2)


def hue_diff(a, b):
    return (np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0


# -- tone curve -----------------------------------------------------------------------

def test_identity_point_curve_changes_nothing_and_is_not_active():
    img = hue_ramp()
    assert np.array_equal(run("tone_curve", {"curve.points": [[0, 0], [0.5, 0.5], [1, 1]]}, img), img)
    assert is_identity(Layer("x", adjustments={"curve.points": [[0, 0], [1, 1]], "curve.split_shadows": 30},
                             mask=MaskDefinition([MaskComponent("all")])))


def test_point_curve_passes_through_its_points_monotone_without_overshoot():
    img = grey_ramp(1024)
    pts = [[0.2, 0.1], [0.3, 0.6], [0.35, 0.62], [0.8, 0.9]]  # a steep step then a flat run
    out = perceptual_luma(run("tone_curve", {"curve.points": pts}, img))[0]
    p = perceptual_luma(img)[0]
    for x, y in pts:
        assert abs(np.interp(x, p, out) - y) < 0.01
    assert np.all(np.diff(out) >= -1e-4)  # monotone
    flat = (p > 0.3) & (p < 0.35)
    assert out[flat].max() <= 0.62 + 1e-3 and out[flat].min() >= 0.6 - 1e-3  # no overshoot between points


def test_point_curve_works_on_luminance_keeping_hue_and_saturation():
    img = hue_ramp(360, s=0.5, v=0.5)
    out = run("tone_curve", {"curve.points": [[0.5, 0.65]]}, img)
    before, after = hsv(img), hsv(out)
    assert (luma(out) > luma(img) * 1.1).all()
    assert np.abs(hue_diff(after[:, 0], before[:, 0])).max() < 1.5
    # ratio-preserving in linear light: chromaticity identical
    ratio = out / np.maximum(out.sum(axis=2, keepdims=True), 1e-6)
    assert np.allclose(ratio, img / img.sum(axis=2, keepdims=True), atol=1e-4)


def test_lifted_black_point_lifts_pure_black():
    black = np.zeros((4, 4, 3), np.float32)
    out = run("tone_curve", {"curve.points": [[0.0, 0.1], [1.0, 1.0]]}, black)
    assert np.allclose(perceptual_luma(out), 0.1, atol=0.005)


def test_parametric_regions_move_their_tones_keep_the_ends_and_stay_monotone():
    p = np.linspace(0, 1, 1001)
    up = parametric_curve({"shadows": 100}, (0.25, 0.5, 0.75), p)
    assert up[0] == 0.0 and up[-1] == 1.0
    assert up[125] > p[125] + 0.05 and abs(up[875] - p[875]) < 1e-9
    hi = parametric_curve({"highlights": -100}, (0.25, 0.5, 0.75), p)
    assert hi[875] < p[875] - 0.05 and abs(hi[125] - p[125]) < 1e-9
    extreme = parametric_curve({"shadows": -100, "darks": 100, "lights": -100, "highlights": 100}, (0.05, 0.2, 0.95), p)
    assert np.all(np.diff(extreme) >= 0)
    # moving the split moves where "darks" acts
    a = parametric_curve({"darks": 100}, (0.25, 0.5, 0.75), p)
    b = parametric_curve({"darks": 100}, (0.1, 0.3, 0.75), p)
    assert np.argmax(b - p) < np.argmax(a - p)


def test_channel_curve_changes_only_its_channel():
    img = grey_ramp(64)
    out = run("tone_curve", {"curve.blue": [[0.5, 0.6]]}, img)
    assert np.allclose(out[..., 0], img[..., 0]) and np.allclose(out[..., 1], img[..., 1])
    assert (out[0, 1:-1, 2] > img[0, 1:-1, 2]).all()


# -- colour mixer ---------------------------------------------------------------------

def test_mixer_output_hue_is_continuous_on_a_hue_ramp():
    img = hue_ramp(1440, s=0.5, v=0.7)  # inside sRGB after the mix: display clipping would add kinks
    rng = np.random.default_rng(3)
    params = {f"mixer.{b}.{k}": float(rng.uniform(-70, 70))
              for b in ("red", "orange", "yellow", "green", "aqua", "blue", "purple", "magenta")
              for k in ("hue", "saturation", "luminance")}
    out = run("mixer", params, img)
    h = hsv(out)
    step = np.abs(hue_diff(np.roll(h[:, 0], -1), h[:, 0]))
    assert step.max() < 4.0  # input steps are 0.25 degrees; a band edge would jump tens of degrees
    assert np.abs(np.diff(h[:, 1])).max() < 0.02 and np.abs(np.diff(h[:, 2])).max() < 0.02
    assert np.abs(hue_diff(h[:, 0], hsv(img)[:, 0])).max() > 10  # the sliders did turn hues


def test_mixer_band_acts_on_its_hues_only():
    colours = {"red": 0, "orange": 30, "yellow": 60, "green": 120, "aqua": 180, "blue": 240, "purple": 270,
               "magenta": 300}
    img = from_srgb([colorsys.hsv_to_rgb(h / 360.0, 0.8, 0.8) for h in colours.values()])
    out = hsv(run("mixer", {"mixer.blue.saturation": -100}, img))
    before = hsv(img)
    blue = list(colours).index("blue")
    assert out[blue, 1] < 0.05  # grey
    for i, name in enumerate(colours):
        if name not in ("blue", "aqua", "purple"):
            assert abs(out[i, 1] - before[i, 1]) < 0.01, name


def test_mixer_red_hue_turns_red_toward_orange_and_keeps_luminance():
    img = from_srgb([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8]])
    out = run("mixer", {"mixer.red.hue": 100}, img)
    h0, h1 = hsv(img), hsv(out)
    assert 8 < hue_diff(h1[0, 0], h0[0, 0]) < 40
    assert abs(hue_diff(h1[1, 0], h0[1, 0])) < 0.5
    assert np.allclose(luma(out), luma(img), rtol=1e-3)


def test_mixer_luminance_spares_greys():
    img = np.concatenate([grey_ramp(16), from_srgb([[0.1, 0.2, 0.8]] * 16)], axis=0)
    out = run("mixer", {"mixer.blue.luminance": -100}, img)
    assert np.allclose(out[0], img[0], atol=1e-5)
    assert (luma(out[1:]) < luma(img[1:]) * 0.6).all()


def test_point_colour_shifts_the_picked_hue_not_the_opposite():
    img = from_srgb([[0.2, 0.6, 0.2], [0.6, 0.2, 0.6]])  # green, magenta
    out = run("mixer", {"mixer.point.hue": 120, "mixer.point.range": 30, "mixer.point.saturation": -80}, img)
    s0, s1 = hsv(img)[:, 1], hsv(out)[:, 1]
    assert s1[0] < s0[0] - 0.3 and abs(s1[1] - s0[1]) < 1e-3


# -- colour grading -------------------------------------------------------------------

def test_grading_tints_shadows_keeps_highlights_and_luminance():
    img = grey_ramp(256)
    out = run("grading", {"grade.shadows.hue": 220, "grade.shadows.saturation": 100}, img)
    h = hsv(out)
    dark, bright = slice(20, 60), slice(235, 255)
    assert (np.abs(hue_diff(h[dark, 0], 220)) < 15).all() and (h[dark, 1] > 0.1).all()
    assert (h[bright, 1] < 0.03).all()
    assert np.allclose(luma(out), luma(img), rtol=2e-3, atol=1e-6)


def test_grading_balance_moves_the_crossover_and_global_tints_everything():
    img = grey_ramp(256)
    base = {"grade.highlights.hue": 40, "grade.highlights.saturation": 100}
    sat_mid = lambda params: hsv(run("grading", params, img))[128, 1]  # noqa: E731
    assert sat_mid({**base, "grade.balance": 80}) > sat_mid({**base, "grade.balance": -80}) + 0.05
    g = hsv(run("grading", {"grade.global.hue": 120, "grade.global.saturation": 60}, img))
    assert (np.abs(hue_diff(g[10:250, 0], 120)) < 15).all()
    lum = run("grading", {"grade.midtones.luminance": 100}, img)
    assert luma(lum)[0, 128] > luma(img)[0, 128] * 1.3 and luma(lum)[0, 2] < luma(img)[0, 2] * 1.1


# -- detail and finishing ------------------------------------------------------------

def test_color_noise_reduction_smooths_chroma_keeps_luminance_and_edges():
    rng = np.random.default_rng(0)
    img = np.full((128, 128, 3), 0.2, np.float32)
    img[:, 64:] = (0.02, 0.05, 0.4)  # a blue half: a colour edge
    noisy = np.clip(img * (1 + rng.normal(0, 0.25, img.shape).astype(np.float32)), 0, None)
    out = apply_adjustments(noisy, {"color_noise_reduction": 100}, OpContext(long_edge=2000))
    chroma = lambda x: (x / np.maximum(luma(x)[..., None], 1e-6))[8:-8, 8:56].std(axis=(0, 1)).mean()  # noqa: E731
    assert chroma(out) < 0.5 * chroma(noisy)
    assert np.allclose(luma(out), luma(noisy), rtol=1e-3, atol=1e-5)
    assert hsv(out[:, 100:101])[:, 0].mean() == pytest.approx(hsv(img[:, 100:101])[:, 0].mean(), abs=10)


def test_vignette_darkens_corners_and_leaves_the_centre():
    img = np.full((200, 300, 3), 0.3, np.float32)
    out = apply_finishing(img, {"vignette.amount": -100})
    assert out[0, 0, 1] < 0.3 * 0.5 and abs(out[100, 150, 1] - 0.3) < 1e-4
    lighter = apply_finishing(img, {"vignette.amount": 60, "vignette.midpoint": 0})
    assert lighter[0, 0, 1] > 0.3 and lighter[100, 150, 1] == pytest.approx(0.3, abs=1e-4)
    round_ = apply_finishing(img, {"vignette.amount": -100, "vignette.roundness": 100})
    assert round_[100, 0, 1] < out[100, 0, 1]  # a circle reaches further into the long sides


def test_grain_is_reproducible_textured_and_keeps_the_mean():
    img = np.full((300, 400, 3), 0.2, np.float32)
    a = apply_finishing(img, {"grain.amount": 80})
    b = apply_finishing(img.copy(), {"grain.amount": 80})
    assert np.array_equal(a, b)
    assert luma(a).std() > 0.005 and abs(luma(a).mean() - 0.2) < 0.01
    coarse = apply_finishing(img, {"grain.amount": 80, "grain.size": 100, "grain.roughness": 0})
    fine_energy = lambda x: np.abs(np.diff(luma(x), axis=1)).mean() / luma(x).std()  # noqa: E731
    assert fine_energy(coarse) < fine_energy(a)


# -- against colour-science's CIELAB (a reference we did not write) ----------------------

def _lch(img):
    import colour  # colour-science is in the test extra: a missing install must fail, not skip
    space = colour.RGB_COLOURSPACES["ITU-R BT.2020"]
    xyz = colour.RGB_to_XYZ(img.reshape(-1, 3).astype(np.float64), space, apply_cctf_decoding=False)
    return colour.Lab_to_LCHab(colour.XYZ_to_Lab(xyz, space.whitepoint))


def test_colour_science_lightness_and_hue_of_the_mixer_grading_and_curve():
    img = from_srgb([[0.8, 0.15, 0.1], [0.15, 0.3, 0.85], [0.5, 0.5, 0.5]])
    before = _lch(img)
    turned = _lch(run("mixer", {"mixer.red.hue": 100}, img))
    assert np.abs(turned[:, 0] - before[:, 0]).max() < 0.05  # L* kept (luminance is kept)
    assert hue_diff(turned[0, 2], before[0, 2]) > 5 and abs(hue_diff(turned[1, 2], before[1, 2])) < 0.1
    grey = _lch(run("mixer", {"mixer.blue.saturation": -100}, img))
    assert grey[1, 1] < 1.0 and abs(grey[0, 1] - before[0, 1]) < 0.5  # blue to grey, red kept
    graded = _lch(run("grading", {"grade.global.hue": 200, "grade.global.saturation": 80}, grey_ramp(32)))
    assert np.abs(graded[:, 0] - _lch(grey_ramp(32))[:, 0]).max() < 0.05
    curved = _lch(run("tone_curve", {"curve.points": [[0.4, 0.55]]}, img))
    assert (curved[:, 0] > before[:, 0] + 3).all()
    assert np.abs(hue_diff(curved[:2, 2], before[:2, 2])).max() < 1.0  # hue of colours kept
