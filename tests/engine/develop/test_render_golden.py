"""Memory and speed work on the renderer must not change its pixels.

``tests/data/modules_render.npy`` is the 16-bit sRGB output of the renderer as it was
before the strip/in-place work (written by ``make_golden`` below on that code): a
synthetic photo, lens-corrected, with every develop module on in the global layer
and three masked layers (pointwise-only, neighbourhood, and a mixer/curve one),
straightened and cropped, then the finishing effects.  The renderer now must give
the same output within one 8-bit step (1/255), whether it renders in place (a full
export), through the layer cache (the app's preview) or in tiny strips (the strip
code paths of a 24 MP render run on this small image).
"""
from __future__ import annotations

import numpy as np
import pytest

from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition, Recipe
from maskroom.engine.develop import color, lens, pipeline
from maskroom.engine.executor import threads
from maskroom.engine.develop.color import srgb8_to_work
from maskroom.engine.develop.pipeline import ImageCache, render_recipe
from maskroom.engine.develop.render import to_output

from conftest import DATA  # noqa: E402

GOLDEN = DATA / "modules_render.npy"
H, W = 120, 180
CANON = lens.LensKey("Canon", "Canon EOS 6D", "Canon EF 24-105mm f/4L IS USM", 24.0, 4.0, True, True, True)
ONE_STEP = 65535 / 255  # one 8-bit step in 16-bit output units


def golden_source() -> np.ndarray:
    rng = np.random.default_rng(16)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    img = np.stack([xx / W, yy / H, 0.5 + 0.4 * np.sin(xx / 9.0) * np.cos(yy / 13.0)], axis=2)
    img[30:70, 40:100] = (0.85, 0.35, 0.1)  # a saturated orange patch (mixer, point colour)
    img[80:110, 120:170] = (0.1, 0.3, 0.8)  # and a blue one
    img += rng.normal(0, 0.03, img.shape).astype(np.float32)  # noise for NR and detail
    return srgb8_to_work((np.clip(img, 0, 1) * 255).astype(np.uint8))


def golden_mask(layer: Layer) -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    if layer.name == "Sky":
        return np.clip(1 - yy / (H * 0.6), 0, 1)
    if layer.name == "Right":
        return np.clip((xx - W * 0.4) / (W * 0.3), 0, 1)
    blob = np.exp(-(((xx - 70) / 30) ** 2 + ((yy - 50) / 20) ** 2))
    return np.where(blob > 0.01, blob, 0).astype(np.float32)


def golden_recipe() -> Recipe:
    r = Recipe()
    r.global_layer.adjustments.update({
        "temperature": 10, "tint": -5, "exposure": 0.3, "highlights": -40, "shadows": 30, "whites": 10,
        "blacks": -10, "contrast": 20, "dehaze": 15, "texture": 20, "clarity": 25,
        "curve.points": [[0.25, 0.2], [0.5, 0.52], [0.78, 0.85]], "curve.shadows": 15, "curve.blue": [[0.3, 0.33]],
        "vibrance": 20, "saturation": 5, "mixer.blue.saturation": -30, "mixer.blue.luminance": -25,
        "mixer.orange.saturation": 20, "mixer.red.hue": 15, "mixer.point.hue": 100, "mixer.point.saturation": -20,
        "grade.shadows.hue": 215, "grade.shadows.saturation": 25, "grade.highlights.hue": 45,
        "grade.highlights.saturation": 20, "grade.midtones.luminance": 10,
        "noise_reduction": 30, "color_noise_reduction": 25, "sharpness": 40,
        "vignette.amount": -30, "grain.amount": 15})
    r.layers.append(Layer("Sky", adjustments={"exposure": -0.5, "temperature": -15, "dehaze": 20,
                                              "mixer.blue.saturation": 20, "curve.points": [[0.5, 0.45]]},
                          mask=MaskDefinition([MaskComponent("all")])))
    r.layers.append(Layer("Right", adjustments={"exposure": -0.6, "curve.points": [[0.3, 0.25], [0.7, 0.72]]},
                          mask=MaskDefinition([MaskComponent("all")])))
    r.layers.append(Layer("Blob", adjustments={"saturation": 25, "hue": -8, "mixer.aqua.hue": -20,
                                               "mixer.blue.luminance": -15, "clarity": 30},
                          mask=MaskDefinition([MaskComponent("all")]), opacity=0.8))
    r.settings["straighten"] = 2.0
    r.settings["crop"] = {"x0": 0.05, "y0": 0.04, "x1": 0.97, "y1": 0.95}
    return r


def render_golden(*, cache: ImageCache | None = None) -> np.ndarray:
    src = lens.correct(golden_source(), CANON)
    if cache is not None:
        src.setflags(write=False)  # as a cached source arrives
    linear = render_recipe(src, "golden", golden_recipe(), golden_mask, cache=cache)
    out, _ = to_output(linear, "srgb", 16)
    return out


def make_golden() -> None:  # pragma: no cover - run by hand on the reference code only
    np.save(GOLDEN, render_golden())


def _assert_matches_golden(out: np.ndarray) -> None:
    ref = np.load(GOLDEN)
    assert out.shape == ref.shape
    diff = np.abs(out.astype(np.int32) - ref.astype(np.int32))
    assert diff.max() <= ONE_STEP, f"max difference {diff.max()} (16-bit units) exceeds one 8-bit step"
    assert diff.mean() < 4, f"mean difference {diff.mean():.2f} (16-bit units)"


def test_in_place_render_matches_the_reference_renderer():
    _assert_matches_golden(render_golden())


def test_cached_render_matches_the_reference_renderer():
    cache = ImageCache(64 * 1024 * 1024)
    _assert_matches_golden(render_golden(cache=cache))
    _assert_matches_golden(render_golden(cache=cache))  # every layer from the cache


def test_tiny_strips_match_the_reference_renderer(monkeypatch):
    # The strip loops of a 24 MP render, exercised on this small image: a few rows each.
    monkeypatch.setattr(threads, "STRIP_PIXELS", W * 7)
    monkeypatch.setattr(color, "STRIP_PIXELS", W * 5)
    monkeypatch.setattr(lens, "STRIP_PIXELS", W * 6, raising=False)
    _assert_matches_golden(render_golden())


def test_strips_on_several_threads_give_the_same_pixels(monkeypatch):
    # Many tiny strips shared out between 4 threads (executor.threads.for_each), with the cache
    # and without: the same pixels, bit for bit, as on one thread.
    import cv2

    monkeypatch.setattr(threads, "STRIP_PIXELS", W * 7)
    before = cv2.getNumThreads()
    try:
        cv2.setNumThreads(1)
        one = render_golden()
        cv2.setNumThreads(4)
        assert threads.count() == 4
        many = render_golden()
        cached = render_golden(cache=ImageCache(64 * 1024 * 1024))
    finally:
        cv2.setNumThreads(before)
    assert np.array_equal(one, many)
    assert np.array_equal(one, cached)
    _assert_matches_golden(many)


@pytest.mark.parametrize("share", [0.0, 1.01])
def test_pointwise_layers_on_shown_pixels_only_match_the_reference_renderer(monkeypatch, share):
    # 1.01: every strip of a pointwise masked layer runs on its shown pixels alone; 0: never
    monkeypatch.setattr(pipeline, "SPARSE_SHARE", share)
    monkeypatch.setattr(threads, "STRIP_PIXELS", W * 7)
    _assert_matches_golden(render_golden())


def test_the_reference_is_not_trivial():
    # the golden image must carry the edit: far from the unedited source's output
    plain, _ = to_output(golden_source(), "srgb", 16)
    ref = np.load(GOLDEN)
    assert ref.shape != plain.shape or np.abs(ref.astype(np.int32) - plain).mean() > 1000


@pytest.mark.parametrize("name", ["modules_render.npy"])
def test_golden_file_is_small(name):
    assert (DATA / name).stat().st_size < 300_000
