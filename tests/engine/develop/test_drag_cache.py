"""A slider drag re-renders from the moved layer on, and inside a pointwise masked layer
from the moved op on (``pipeline._LayerInput``, ``adjustments.base.memo_by_input``).
What it keeps must give the pixels of a render from scratch at every tick, and must be
thrown away when anything upstream changes: an earlier op of the layer, an earlier
layer, the global layer, the mask."""
from __future__ import annotations

import numpy as np
import pytest

from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition, Recipe
from maskroom.engine.develop import pipeline
from maskroom.engine.develop.adjustments import mixer
from maskroom.engine.develop.pipeline import ImageCache, render_recipe

from test_render_golden import H, W, golden_source  # noqa: E402


def drag_recipe() -> Recipe:
    r = Recipe()
    r.global_layer.adjustments.update({"exposure": 0.2, "mixer.orange.saturation": 20, "curve.points": [[0.5, 0.55]]})
    r.layers.append(Layer("Sky", adjustments={"exposure": -0.4, "curve.points": [[0.5, 0.45]]},
                          mask=MaskDefinition([MaskComponent("all")])))
    r.layers.append(Layer("Blob", adjustments={"saturation": 25.0, "hue": -8.0, "mixer.aqua.hue": -20.0,
                                               "mixer.blue.luminance": -15.0},
                          mask=MaskDefinition([MaskComponent("all")]), opacity=0.8))
    return r


def frozen_masks():
    """Masks as the app's render gets them: made once, cached, read-only."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    sky = np.clip(1 - yy / (H * 0.6), 0, 1)
    # a blob that leaves most of its bounding box at 0: the sparse strips
    blob = np.exp(-(((xx - 110) / 40) ** 2 + ((yy - 80) / 25) ** 2))
    blob = np.where((blob > 0.05) & ((xx.astype(int) + yy.astype(int)) % 3 > 0), blob, 0).astype(np.float32)
    masks = {"Sky": sky, "Blob": blob}
    for m in masks.values():
        m.setflags(write=False)
    return lambda layer: masks[layer.name]


@pytest.fixture
def analyses(monkeypatch):
    """Counts the mixer's analyses of its input pixels (made again only for new pixels)."""
    calls = []
    real = mixer._analysis

    def spy(img):
        calls.append(img.shape)
        return real(img)

    monkeypatch.setattr(mixer, "_analysis", spy)
    return calls


def test_a_drag_gives_the_pixels_of_renders_from_scratch_and_upstream_changes_invalidate(analyses):
    src = golden_source()
    src.setflags(write=False)
    mask_for = frozen_masks()
    cache = ImageCache(256 << 20)
    r = drag_recipe()

    def tick(recipe: Recipe) -> int:
        before = len(analyses)
        cached = render_recipe(src, "drag", recipe, mask_for, cache=cache)
        fresh = render_recipe(src.copy(), "drag", recipe, mask_for, cache=None)
        np.testing.assert_allclose(cached, fresh, rtol=0, atol=1e-6)
        return len(analyses) - before

    def blob(**kw):
        nonlocal r
        r = r.copy()
        r.layers[2].adjustments.update(kw)
        return r

    tick(r)
    # the mixer's own slider: its input pixels are kept, so no new analysis at all
    # beyond the one fresh render per tick makes (fresh renders cannot keep anything)
    fresh_only = []
    for v in (10.0, 20.0, 35.0):
        fresh_only.append(tick(blob(**{"mixer.blue.saturation": v})))
    # the mixer's other tables on the same kept input: its memoised turn and luminance
    # steps are keyed by their tables (each tick still equals a render from scratch)
    for kw in ({"mixer.aqua.hue": -40.0}, {"mixer.aqua.hue": 10.0}, {"mixer.blue.luminance": 30.0},
               {"mixer.blue.luminance": -15.0, "mixer.aqua.hue": -20.0}):
        assert tick(blob(**kw)) == fresh_only[0]
    # an op before the mixer in the same layer (hue): the mixer sees new pixels
    moved_hue = tick(blob(hue=-20.0))
    # an earlier layer and the global layer: everything downstream is new
    r = r.copy()
    r.layers[1].adjustments["exposure"] = -0.1
    moved_sky = tick(r)
    r = r.copy()
    r.global_layer.adjustments["exposure"] = 0.5
    moved_global = tick(r)
    back = tick(blob(**{"mixer.blue.saturation": 50.0}))
    # ticks of the mixer's slider analyse only in the uncached render; the others in both
    assert fresh_only == [fresh_only[0]] * 3 and back == fresh_only[0]
    assert moved_hue > fresh_only[0] and moved_sky > fresh_only[0] and moved_global > fresh_only[0]


def test_a_changed_mask_is_not_served_the_kept_layer_input():
    src = golden_source()
    src.setflags(write=False)
    cache = ImageCache(256 << 20)
    r = drag_recipe()
    render_recipe(src, "m", r, frozen_masks(), cache=cache)
    other = frozen_masks()
    shifted = {"Sky": other(r.layers[1]), "Blob": np.ascontiguousarray(np.roll(other(r.layers[2]), 17, axis=1))}
    shifted["Blob"].setflags(write=False)
    r2 = r.copy()
    r2.layers[2].adjustments["mixer.blue.saturation"] = 30.0
    r2.layers[2].mask = MaskDefinition([MaskComponent("all", params={"v": 2})])  # a new mask key, as an edit makes
    cached = render_recipe(src, "m", r2, lambda layer: shifted[layer.name], cache=cache)
    fresh = render_recipe(src.copy(), "m", r2, lambda layer: shifted[layer.name], cache=None)
    np.testing.assert_allclose(cached, fresh, rtol=0, atol=1e-6)


def test_a_new_image_supersedes_the_one_from_the_same_upstream_and_its_chain():
    cache = ImageCache(256 << 20)
    img = lambda: np.zeros((4, 4, 3), np.float32)  # noqa: E731
    cache.put("L0", img(), upstream="src")
    cache.put("L1a", img(), upstream="L0")
    cache.put("L2a", img(), upstream="L1a")
    cache.put("other", img(), upstream="elsewhere")
    cache.put("L1b", img(), upstream="L0")  # a drag tick on layer 1
    assert cache.get("L1a") is None and cache.get("L2a") is None
    assert cache.get("L0") is not None and cache.get("L1b") is not None and cache.get("other") is not None
    cache.put("L1b", img(), upstream="L0")  # the same key again keeps itself
    assert cache.get("L1b") is not None


def test_kept_layer_inputs_are_bounded():
    src = golden_source()
    src.setflags(write=False)
    mask_for = frozen_masks()
    for k in range(6):
        r = drag_recipe()
        r.global_layer.adjustments["exposure"] = 0.1 * k
        render_recipe(src, "b", r, mask_for, cache=ImageCache(256 << 20))
    assert len(pipeline._INPUTS) <= pipeline._INPUT_SLOTS and len(pipeline._PLANS) <= pipeline._PLAN_SLOTS


def test_a_recipe_written_with_ints_hits_the_cache_of_its_normalised_form(monkeypatch):
    """The layer cache keys on one canonical form: ``20`` and ``20.0`` are one setting."""
    src = golden_source()
    src.setflags(write=False)
    mask_for = frozen_masks()
    cache = ImageCache(256 << 20)
    hand = drag_recipe()
    hand.global_layer.adjustments["contrast"] = 20  # an int, as a hand-built recipe has it
    hand.layers[1].adjustments["exposure"] = -1
    stored = hand.copy()  # as loaded from the catalog: every number a float
    assert isinstance(stored.global_layer.adjustments["contrast"], float)
    assert pipeline.layer_key("u", hand.layers[1]) == pipeline.layer_key("u", stored.layers[1])
    first = render_recipe(src, "n", stored, mask_for, cache=cache)
    runs = []
    monkeypatch.setattr(pipeline, "apply_adjustments", lambda *a, **k: runs.append(1))
    monkeypatch.setattr(pipeline, "blend_layer", lambda *a, **k: runs.append(1))
    again = render_recipe(src, "n", hand, mask_for, cache=cache)
    assert runs == [] and np.array_equal(first, again)


def test_every_pointwise_adjustment_in_a_dragged_layer_matches_a_render_from_scratch():
    """The kept inputs and op results are read-only: an op writing into its input would
    raise here, and a prefix key missing a setting an op reads would give other pixels."""
    from maskroom.engine.develop.adjustments import REGISTRY

    src = golden_source()
    src.setflags(write=False)
    mask_for = frozen_masks()
    cache = ImageCache(256 << 20)
    r = drag_recipe()
    plain = [n for n in pipeline.ORDER if REGISTRY[n].pointwise and not REGISTRY[n].keys]
    r.layers[2].adjustments.update({n: min(REGISTRY[n].hi, 30.0) for n in plain})
    r.layers[2].adjustments.update({"grade.shadows.hue": 215.0, "grade.shadows.saturation": 25.0,
                                    "curve.points": [[0.4, 0.5]], "color_hue": 120.0})
    ticks = [{"mixer.blue.saturation": v} for v in (10.0, 20.0)] + [{n: 5.0} for n in plain + ["color_hue"]]
    for kw in ticks:
        r2 = r.copy()
        r2.layers[2].adjustments.update(kw)
        cached = render_recipe(src, "p", r2, mask_for, cache=cache)
        fresh = render_recipe(src.copy(), "p", r2, mask_for, cache=None)
        np.testing.assert_allclose(cached, fresh, rtol=0, atol=1e-6, err_msg=str(kw))


def global_recipe() -> Recipe:
    """A global layer with neighbourhood ops before the modules a drag moves."""
    r = drag_recipe()
    r.global_layer.adjustments.update({
        "highlights": -40.0, "shadows": 30.0, "contrast": 20.0, "clarity": 25.0, "vibrance": 20.0,
        "curve.shadows": 15.0, "curve.blue": [[0.3, 0.33]], "mixer.blue.saturation": -30.0,
        "grade.shadows.hue": 215.0, "grade.shadows.saturation": 25.0, "color_noise_reduction": 25.0,
        "vignette.amount": -30.0, "grain.amount": 15.0})
    return r


@pytest.fixture
def op_calls(monkeypatch):
    """Counts the runs of the global layer's neighbourhood ops."""
    import dataclasses

    from maskroom.engine.develop.adjustments import REGISTRY

    calls: list[str] = []
    for name in ("highlights", "shadows", "clarity", "color_noise_reduction"):
        spec = REGISTRY[name]

        def spy(img, value, ctx, name=name, fn=spec.fn):
            calls.append(name)
            return fn(img, value, ctx)

        monkeypatch.setitem(REGISTRY, name, dataclasses.replace(spec, fn=spy))
    return calls


def test_a_global_drag_starts_from_the_kept_prefix_and_gives_the_pixels_of_renders_from_scratch(op_calls, analyses):
    src = golden_source()
    src.setflags(write=False)
    mask_for = frozen_masks()
    cache = ImageCache(256 << 20)
    r = global_recipe()

    def tick(**kw) -> list[str]:
        nonlocal r
        r = r.copy()
        r.global_layer.adjustments.update(kw)
        del op_calls[:]
        cached = render_recipe(src, "g", r, mask_for, cache=cache)
        ran = list(op_calls)
        fresh = render_recipe(src.copy(), "g", r, mask_for, cache=None)
        np.testing.assert_allclose(cached, fresh, rtol=0, atol=1e-6, err_msg=str(kw))
        return ran

    tick()
    # the mixer's first tick keeps the result before the mixer; later ticks start there
    # (colour noise reduction, after the mixer, runs on every tick)
    assert tick(**{"mixer.blue.saturation": -20.0}) == ["highlights", "shadows", "clarity", "color_noise_reduction"]
    for v in (-10.0, 0.5, 40.0):
        before = len(analyses)
        assert tick(**{"mixer.blue.saturation": v}) == ["color_noise_reduction"]
        # the global mixer finds its analysis of the kept strips made: of the whole frame
        # (one strip here), only the render from scratch analyses
        assert analyses[before:].count((H, W, 3)) == 1
    # grading and the curve: the first tick of each keeps the result before it
    tick(**{"grade.shadows.saturation": 40.0})
    assert tick(**{"grade.shadows.saturation": 50.0}) == ["color_noise_reduction"]
    tick(**{"curve.shadows": 30.0})
    assert tick(**{"curve.shadows": 40.0}) == ["color_noise_reduction"]
    # shadows after highlights: the kept prefix brings back highlights' brightness map
    # (shadows judges by the map of the pixels before highlights, as in a full render)
    tick(shadows=40.0)
    assert tick(shadows=50.0) == ["shadows", "clarity", "color_noise_reduction"]
    # anything before the kept result moves: everything is redone
    assert tick(exposure=0.4)[:3] == ["highlights", "shadows", "clarity"]
    assert tick(**{"mixer.blue.saturation": 10.0})[:3] == ["highlights", "shadows", "clarity"]
    assert tick(**{"mixer.blue.saturation": 20.0}) == ["color_noise_reduction"]
    # an op switched on before the kept result (texture, off so far), and off again
    assert "clarity" in tick(texture=10.0)
    assert "clarity" in tick(texture=0.0)
    # another source (same shape, other pixels): nothing of the first one is used
    other = np.ascontiguousarray(src[::-1])
    other.setflags(write=False)
    del op_calls[:]
    cached = render_recipe(other, "g2", r, mask_for, cache=cache)
    assert op_calls[:3] == ["highlights", "shadows", "clarity"]
    np.testing.assert_allclose(cached, render_recipe(other.copy(), "g2", r, mask_for, cache=None), rtol=0, atol=1e-6)
    assert len(pipeline._PREFIXES) <= pipeline._PREFIX_SLOTS


def test_a_writable_source_or_no_cache_keeps_no_global_prefix(op_calls):
    src = golden_source()
    r = global_recipe()
    for v in (-20.0, -10.0, 0.0):
        r = r.copy()
        r.global_layer.adjustments["mixer.blue.saturation"] = v
        del op_calls[:]
        render_recipe(src, "w", r, frozen_masks(), cache=ImageCache(256 << 20))
        assert op_calls[:3] == ["highlights", "shadows", "clarity"]
    assert not pipeline._PREFIXES.holds(src)


def test_moving_a_finishing_slider_renders_no_layer(monkeypatch):
    """Vignette and grain act on the cropped frame after the layers: their keys are not
    in the layers' cache keys, and the pixels equal a render from scratch."""
    src = golden_source()
    src.setflags(write=False)
    mask_for = frozen_masks()
    cache = ImageCache(256 << 20)
    r = global_recipe()
    render_recipe(src, "f", r, mask_for, cache=cache)
    runs = []
    real_apply, real_blend = pipeline.apply_adjustments, pipeline.blend_layer
    monkeypatch.setattr(pipeline, "apply_adjustments", lambda *a, **k: runs.append(1) or real_apply(*a, **k))
    monkeypatch.setattr(pipeline, "blend_layer", lambda *a, **k: runs.append(1) or real_blend(*a, **k))
    for kw in ({"vignette.amount": -60.0}, {"vignette.midpoint": 20.0}, {"grain.amount": 40.0}, {"grain.size": 60.0}):
        r = r.copy()
        r.global_layer.adjustments.update(kw)
        del runs[:]
        cached = render_recipe(src, "f", r, mask_for, cache=cache)
        assert runs == [], kw
        np.testing.assert_allclose(cached, render_recipe(src.copy(), "f", r, mask_for, cache=None),
                                   rtol=0, atol=1e-6, err_msg=str(kw))
    r = r.copy()
    r.global_layer.adjustments["exposure"] = 0.3  # a layer setting still re-renders
    del runs[:]
    render_recipe(src, "f", r, mask_for, cache=cache)
    assert runs
