"""Each adjustment on its own, on synthetic linear Rec.2020 pixels."""
from __future__ import annotations

import numpy as np
import pytest

from maskroom.engine.develop.adjustments import REGISTRY, OpContext
from maskroom.engine.develop.adjustments.base import luma
from maskroom.engine.develop.pipeline import FINISHING, ORDER


def ctx(img, mask=None):
    return OpContext(long_edge=max(img.shape[:2]), mask=mask)


def run(name, img, value, mask=None):
    return REGISTRY[name].fn(img, value, ctx(img, mask))


def flat(rgb, h=64, w=64):
    return np.broadcast_to(np.asarray(rgb, np.float32), (h, w, 3)).copy()


def ramp(h=32, w=256):
    y = np.linspace(0.001, 0.9, w, dtype=np.float32)
    return np.repeat(np.repeat(y[None, :, None], h, 0), 3, 2)


def test_every_adjustment_has_a_place_in_the_order_and_a_range():
    assert set(ORDER) | set(FINISHING) == set(REGISTRY) and not set(ORDER) & set(FINISHING)
    for spec in REGISTRY.values():
        assert spec.lo < spec.hi and spec.doc


def test_exposure_plus_one_doubles_linear_values():
    img = np.random.default_rng(0).uniform(0.0, 0.4, (16, 16, 3)).astype(np.float32)
    assert np.allclose(run("exposure", img, 1.0), img * 2, rtol=1e-6)
    assert np.allclose(run("exposure", img, -2.0), img / 4, rtol=1e-6)


def test_temperature_moves_blue_yellow_the_right_way():
    grey = flat([0.2, 0.2, 0.2])
    warm = run("temperature", grey, 50)[0, 0]
    cool = run("temperature", grey, -50)[0, 0]
    assert warm[0] > warm[2]  # warmer: more red/yellow than blue
    assert cool[2] > cool[0]
    # brightness of grey is kept
    assert luma(warm.reshape(1, 1, 3))[0, 0] == pytest.approx(0.2, rel=1e-4)


def test_tint_plus_is_magenta():
    out = run("tint", flat([0.2, 0.2, 0.2]), 60)[0, 0]
    assert out[1] < out[0] and out[1] < out[2]
    out = run("tint", flat([0.2, 0.2, 0.2]), -60)[0, 0]
    assert out[1] > out[0]


def test_contrast_pivots_on_middle_grey():
    img = ramp()
    out = run("contrast", img, 60)
    y_in, y_out = img[0, :, 1], out[0, :, 1]
    mid = np.argmin(np.abs(y_in ** (1 / 2.2) - 0.5))
    assert abs(y_out[mid] - y_in[mid]) < 0.01
    assert y_out[10] < y_in[10] and y_out[-10] > y_in[-10]
    flat_out = run("contrast", img, -60)[0, :, 1]
    assert flat_out[10] > y_in[10] and flat_out[-10] < y_in[-10]
    assert np.all(np.diff(y_out) >= 0)  # still monotone: no tone reversal


def _two_regions():
    img = flat([0.02, 0.02, 0.02], 64, 128)
    img[:, 64:] = 0.6
    return img


def test_highlights_minus_darkens_bright_regions_only():
    img = _two_regions()
    out = run("highlights", img, -100)
    assert out[32, 100, 0] < 0.6 * 0.8
    assert abs(out[32, 20, 0] - 0.02) < 0.002


def test_shadows_plus_brightens_dark_regions_only():
    img = _two_regions()
    out = run("shadows", img, 100)
    assert out[32, 20, 0] > 0.02 * 1.8
    assert abs(out[32, 100, 0] - 0.6) < 0.03


def test_whites_and_blacks_move_their_ends():
    img = ramp()
    w = run("whites", img, 80)[0, :, 0]
    assert w[-1] > img[0, -1, 0] * 1.3 and abs(w[5] - img[0, 5, 0]) < 1e-4
    b = run("blacks", img, 80)[0, :, 0]
    assert b[0] > img[0, 0, 0] + 0.001 and abs(b[-1] - img[0, -1, 0]) < 1e-5
    assert run("blacks", flat([0, 0, 0]), 100)[0, 0, 0] > 0  # lifts pure black
    assert run("blacks", img, -80)[0, 3, 0] < img[0, 3, 0]


def test_saturation_minus_100_is_grey_and_plus_increases_chroma():
    img = flat([0.4, 0.1, 0.05])
    grey = run("saturation", img, -100)[0, 0]
    assert np.ptp(grey) < 1e-6
    more = run("saturation", img, 50)[0, 0]
    assert (more[0] - more[2]) > (img[0, 0, 0] - img[0, 0, 2])


def test_vibrance_favours_muted_colours():
    muted = flat([0.22, 0.2, 0.18])
    vivid = flat([0.5, 0.05, 0.02])

    def chroma_gain(img):
        out = run("vibrance", img, 80)[0, 0]
        return np.ptp(out) / np.ptp(img[0, 0])

    assert chroma_gain(muted) > chroma_gain(vivid) > 1.0


def test_hue_rotation():
    red = flat([0.5, 0.02, 0.02])
    assert np.allclose(run("hue", red, 360)[0, 0], red[0, 0], atol=1e-5)
    turned = run("hue", red, 120)[0, 0]
    assert np.argmax(turned) == 1  # red -> green


def test_color_overlay_tints_toward_hue_and_keeps_luminance():
    grey = flat([0.2, 0.2, 0.2])
    c = OpContext(long_edge=64)
    c.params = {"color_hue": 240.0}
    out = REGISTRY["color_amount"].fn(grey, 60, c)
    assert out[0, 0, 2] > out[0, 0, 0]
    assert luma(out)[0, 0] == pytest.approx(0.2, rel=1e-3)


def _step_edge(h=96, w=256):
    img = flat([0.03, 0.03, 0.03], h, w)
    img[:, w // 2:] = 0.5
    return img


def test_clarity_does_not_halo_at_a_strong_edge():
    img = _step_edge()
    out = REGISTRY["clarity"].fn(img, 100, OpContext(long_edge=2000))  # radius 40 px
    # flat regions on both sides stay flat up to a thin band at the edge (radius/8 = 5 px):
    # no bright/dark rims spreading over the clarity radius
    left, right = out[48, : 128 - 6, 1], out[48, 128 + 6:, 1]
    assert np.ptp(left) / 0.03 < 0.05 and np.ptp(right) / 0.5 < 0.05


def test_clarity_boosts_mid_frequency_contrast():
    rng = np.random.default_rng(1)
    base = 0.15 + 0.1 * np.sin(np.linspace(0, 12 * np.pi, 256))[None, :] * np.ones((64, 1))
    img = np.repeat(base[..., None], 3, 2).astype(np.float32) + rng.normal(0, 0.001, (64, 256, 3)).astype(np.float32)
    c = OpContext(long_edge=2000)  # radius 40 px: the sine's period is mid-frequency
    out = REGISTRY["clarity"].fn(img, 80, c)
    assert out[..., 1].std() > img[..., 1].std() * 1.1
    assert REGISTRY["clarity"].fn(img, -80, c)[..., 1].std() < img[..., 1].std()


def test_texture_and_sharpness_add_fine_detail():
    rng = np.random.default_rng(2)
    img = (0.2 + 0.05 * rng.standard_normal((128, 128, 1))).clip(0.01).repeat(3, 2).astype(np.float32)
    # use a big image context so the radii are several pixels
    c = OpContext(long_edge=4000)
    hf = lambda x: np.abs(np.diff(x[..., 1], axis=1)).mean()  # noqa: E731
    assert hf(REGISTRY["texture"].fn(img, 100, c)) > hf(img)
    assert hf(REGISTRY["sharpness"].fn(img, 100, c)) > hf(img)


def test_noise_reduction_smooths_noise_but_keeps_edges():
    rng = np.random.default_rng(3)
    img = _step_edge() * np.exp(rng.normal(0, 0.08, (96, 256, 1))).astype(np.float32)
    out = REGISTRY["noise_reduction"].fn(img, 80, OpContext(long_edge=4000))
    assert out[:, 20:100, 1].std() < img[:, 20:100, 1].std() * 0.7
    assert out[:, 140:, 1].mean() / out[:, :100, 1].mean() > 0.9 * img[:, 140:, 1].mean() / img[:, :100, 1].mean()


def test_dehaze_restores_contrast_of_a_hazy_scene():
    rng = np.random.default_rng(4)
    scene = rng.uniform(0.02, 0.4, (32, 32, 3)).repeat(4, 0).repeat(4, 1).astype(np.float32)
    hazy = 0.5 * scene + 0.5 * np.float32(0.8)
    out = run("dehaze", hazy, 80)
    assert out.std() > hazy.std() * 1.3
    assert run("dehaze", hazy, -80).std() < hazy.std()


def test_masked_blur_does_not_bleed_the_subject_into_the_background():
    img = flat([0.05, 0.05, 0.6], 64, 256)  # blue background
    img[:, :128] = [0.6, 0.05, 0.05]  # red subject on the left
    mask = np.zeros((64, 256), np.float32)
    mask[:, 128:] = 1.0  # the layer masks the background
    out = REGISTRY["blur"].fn(img, 100, OpContext(long_edge=4000, mask=mask))
    # background pixels right next to the subject stay blue (no red halo)
    assert out[32, 129, 0] < 0.06 and out[32, 129, 2] > 0.59
    # an unmasked blur would have mixed them
    plain = REGISTRY["blur"].fn(img, 100, OpContext(long_edge=4000))
    assert plain[32, 129, 0] > 0.2
