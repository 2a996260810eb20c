"""The render pipeline end to end on catalog images: masks, layers, scales, caches, output."""
from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from develop_support import add_image
from PIL import Image as PILImage
from PIL import ImageCms

from maskroom.catalog import edits
from maskroom.catalog.schema import PreviewCacheEntry
from maskroom.engine.develop import render as R
from maskroom.engine.develop.color import SRGB_TO_WORK, apply_matrix
from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition, Recipe

pytestmark = pytest.mark.catalog

LOOK = {"exposure": 0.4, "contrast": 25, "clarity": 40, "saturation": 20, "temperature": 15, "shadows": 30}


@pytest.fixture(autouse=True)
def _fresh_memory_caches():
    R.clear_memory_caches()
    yield
    R.clear_memory_caches()


@pytest.fixture
def image_id(catalog, samples_dir):
    return add_image(catalog, samples_dir / "immich_el_torcal_rocks.jpg")


def _save(catalog, image_id, recipe: Recipe, label="test") -> int:
    with catalog.session() as s:
        vid = edits.get_version(s, image_id).id
        edits.save_recipe(s, vid, recipe, label)
    return vid


def _render(catalog, vid, **kw):
    return R.render_version(catalog, vid, **kw).linear


def test_default_recipe_renders_the_source(catalog, image_id, samples_dir):
    vid = _save(catalog, image_id, Recipe())
    rgb, _ = R.to_output(_render(catalog, vid, scale="full"), "srgb", 8)
    original = np.asarray(PILImage.open(samples_dir / "immich_el_torcal_rocks.jpg").convert("RGB"))
    assert rgb.shape == original.shape
    assert np.abs(rgb.astype(int) - original).max() <= 1  # linearise -> Rec.2020 -> back is lossless


def test_empty_mask_layer_changes_nothing(catalog, image_id):
    base = Recipe()
    base.global_layer.adjustments.update({"exposure": 0.3})
    plain = _render(catalog, _save(catalog, image_id, base))
    r = base.copy()
    r.layers.append(Layer("nothing", adjustments={"exposure": 2.0, "clarity": 80},
                          mask=MaskDefinition([MaskComponent("brush", params={"strokes": []})])))
    r.layers.append(Layer("no components", adjustments={"saturation": -100}, mask=MaskDefinition([])))
    masked = _render(catalog, _save(catalog, image_id, r))
    assert np.array_equal(plain, masked)


def test_full_mask_layer_equals_the_global_layer(catalog, image_id):
    g = Recipe()
    g.global_layer.adjustments.update(LOOK)
    as_global = _render(catalog, _save(catalog, image_id, g))
    m = Recipe()
    m.layers.append(Layer("everything", adjustments=dict(LOOK), mask=MaskDefinition([MaskComponent("all")])))
    as_layer = _render(catalog, _save(catalog, image_id, m))
    assert np.allclose(as_global, as_layer, atol=1e-5)


def test_masked_layer_changes_only_inside_its_mask(catalog, image_id):
    r = Recipe()
    r.layers.append(Layer("top", adjustments={"exposure": -1.0}, mask=MaskDefinition(
        [MaskComponent("linear", params={"x0": 0.5, "y0": 0.0, "x1": 0.5, "y1": 0.3})])))
    out = _render(catalog, _save(catalog, image_id, r))
    src = _render(catalog, _save(catalog, image_id, Recipe()))
    h = out.shape[0]
    a0 = 1 - 0.5 / (0.3 * h)  # the gradient's alpha at the first row's pixel centres
    # blended linearly: src + a * (src / 2 - src)
    assert np.allclose(out[0], src[0] * (1 - 0.5 * a0), rtol=1e-4)
    assert np.array_equal(out[int(0.35 * h):], src[int(0.35 * h):])  # below the gradient: untouched
    ratio = (out[int(0.15 * h)] / np.maximum(src[int(0.15 * h)], 1e-6)).mean()
    assert 0.6 < ratio < 0.8  # half way down the ramp: about -0.5 EV


def test_opacity_scales_the_layer(catalog, image_id):
    def with_opacity(o):
        r = Recipe()
        r.layers.append(Layer("all", opacity=o, adjustments={"exposure": 1.0},
                              mask=MaskDefinition([MaskComponent("all")])))
        return _render(catalog, _save(catalog, image_id, r))

    src = with_opacity(0.0)
    half = with_opacity(0.5)
    assert np.allclose(half, src * 1.5, rtol=1e-4, atol=1e-6)


def test_crop_and_straighten(catalog, image_id):
    r = Recipe(settings={"crop": {"x0": 0.25, "y0": 0.0, "x1": 0.75, "y1": 0.5}})
    res = R.render_version(catalog, _save(catalog, image_id, r), scale="full")
    full = R.render_version(catalog, _save(catalog, image_id, Recipe()), scale="full")
    assert (res.width, res.height) == (round(full.width * 0.5), round(full.height * 0.5))
    assert np.array_equal(res.linear, full.linear[: res.height, full.width // 4: full.width // 4 + res.width])
    tilted = R.render_version(catalog, _save(catalog, image_id, Recipe(settings={"straighten": 5.0})), scale="full")
    assert (tilted.width, tilted.height) == (full.width, full.height)
    assert not np.allclose(tilted.linear, full.linear)
    assert tilted.linear[:3, :3].min() > 0  # filled corners: no empty wedge


def test_preview_render_matches_downscaled_full_render(catalog, tmp_path, samples_dir):
    # An image bigger than the 2048 px preview, so the two scales really differ.
    src = np.asarray(PILImage.open(samples_dir / "immich_el_torcal_rocks.jpg").convert("RGB"))
    big = cv2.resize(src, (3000, 2000), interpolation=cv2.INTER_CUBIC)
    path = tmp_path / "big.jpg"
    PILImage.fromarray(big).save(path, quality=95)
    iid = add_image(catalog, path)
    r = Recipe()
    r.global_layer.adjustments.update({**LOOK, "texture": 30, "sharpness": 40, "dehaze": 15})
    r.layers.append(Layer("vignette", adjustments={"exposure": -0.8, "blur": 40}, mask=MaskDefinition(
        [MaskComponent("radial", inverted=True, params={"cx": 0.5, "cy": 0.5, "rx": 0.4, "ry": 0.3})])))
    r.layers.append(Layer("sky", adjustments={"temperature": -30, "highlights": -50}, mask=MaskDefinition(
        [MaskComponent("color-range", params={"colors": [[0.1, 0.3, 0.6]], "tolerance": 25})])))
    vid = _save(catalog, iid, r)
    preview = _render(catalog, vid, scale="preview")
    full = _render(catalog, vid, scale="full")
    assert preview.shape[:2] == (1365, 2048) and full.shape[:2] == (2000, 3000)
    down = cv2.resize(full, (preview.shape[1], preview.shape[0]), interpolation=cv2.INTER_AREA)
    p8, _ = R.to_output(preview)
    d8, _ = R.to_output(down)
    diff = np.abs(p8.astype(np.float32) - d8).mean()
    assert diff < 2.0, diff  # mean difference under 2/255
    # and the edit really did something
    plain, _ = R.to_output(_render(catalog, _save(catalog, iid, Recipe()), scale="preview"))
    assert np.abs(plain.astype(np.float32) - p8).mean() > 10


def test_preview_cache_keyed_by_content_and_recipe(catalog, image_id):
    r = Recipe()
    r.global_layer.adjustments["exposure"] = 0.5
    vid = _save(catalog, image_id, r)
    first = R.render_preview_srgb(catalog, vid)
    with catalog.session() as s:
        entries = s.query(PreviewCacheEntry).filter_by(image_id=image_id, kind="render").all()
        assert len(entries) == 1 and entries[0].key.split(":")[1] == r.digest()
        path = catalog.cache_dir / entries[0].path
    # a cache hit reads the file: prove it by changing the file behind the entry
    marker = first.copy()
    marker[0, 0] = [1, 2, 3]
    cv2.imwrite(str(path), cv2.cvtColor(marker, cv2.COLOR_RGB2BGR))
    assert R.render_preview_srgb(catalog, vid)[0, 0].tolist() == [1, 2, 3]
    # a new recipe misses, and replaces the old entry
    r.global_layer.adjustments["exposure"] = -0.5
    _save(catalog, image_id, r)
    darker = R.render_preview_srgb(catalog, vid)
    assert darker.mean() < first.mean()
    assert not path.exists()
    with catalog.session() as s:
        entries = s.query(PreviewCacheEntry).filter_by(image_id=image_id, kind="render").all()
        assert len(entries) == 1 and entries[0].key.split(":")[1] == r.digest()
        # a changed photo (new content hash) misses too
        from maskroom.catalog.schema import Image

        s.get(Image, image_id).content_hash = "changed"
    assert R.render_preview_srgb(catalog, vid).tolist() == darker.tolist()
    with catalog.session() as s:
        keys = [e.key for e in s.query(PreviewCacheEntry).filter_by(image_id=image_id, kind="render")]
        assert len(keys) == 1 and keys[0].startswith("changed:")


def test_slider_change_reuses_cached_upstream_layers(catalog, image_id, monkeypatch):
    r = Recipe()
    r.global_layer.adjustments.update({"clarity": 30})
    r.layers.append(Layer("a", adjustments={"exposure": 0.5}, mask=MaskDefinition(
        [MaskComponent("radial", params={"cx": 0.3, "cy": 0.5, "rx": 0.2, "ry": 0.2})])))
    r.layers.append(Layer("b", adjustments={"saturation": 30}, mask=MaskDefinition(
        [MaskComponent("linear", params={"x0": 0.5, "y0": 1.0, "x1": 0.5, "y1": 0.5})])))
    vid = _save(catalog, image_id, r)
    first = _render(catalog, vid)
    from maskroom.engine.develop.adjustments import REGISTRY

    calls = []
    spec = REGISTRY["clarity"]
    monkeypatch.setitem(REGISTRY, "clarity", type(spec)(**{**spec.__dict__, "fn": lambda *a: calls.append(1) or spec.fn(*a)}))
    r.layers[2].adjustments["saturation"] = 60
    _save(catalog, image_id, r)
    second = _render(catalog, vid)
    assert calls == []  # the global layer came from the cache
    assert not np.array_equal(first, second)
    R.clear_memory_caches()
    assert np.allclose(_render(catalog, vid), second, atol=1e-6)  # same as an uncached render
    assert calls == [1]


def test_mask_alpha_and_source_mask_input(catalog, image_id):
    r = Recipe()
    r.layers.append(Layer("spot", adjustments={"exposure": 1}, mask=MaskDefinition(
        [MaskComponent("radial", params={"cx": 0.25, "cy": 0.5, "rx": 0.1, "ry": 0.1, "feather": 0})])))
    vid = _save(catalog, image_id, r)
    a = R.mask_alpha(catalog, vid, "spot")
    h, w = a.shape
    assert a[h // 2, w // 4] == 1.0 and a[h // 2, 3 * w // 4] == 0.0
    assert R.mask_alpha(catalog, vid, "Global").min() == 1.0
    with catalog.session() as s:
        from maskroom.catalog.schema import Image

        img = s.get(Image, image_id)
        s.expunge(img)
    inp = R.source_mask_input(catalog, img, "preview")
    assert inp.image.shape == (h, w, 3) and inp.image.dtype == np.float32 and 0 <= inp.image.min() <= inp.image.max() <= 1
    assert inp.digest and inp.digest == R.source_mask_input(catalog, img, 1.0).digest


def test_to_output_spaces_and_profiles():
    srgb_lin = np.array([[[1.0, 0.0, 0.0], [0.18, 0.18, 0.18], [1.0, 1.0, 1.0]]], np.float32)
    work = apply_matrix(srgb_lin, SRGB_TO_WORK)
    out8, icc = R.to_output(work, "srgb", 8)
    assert out8.dtype == np.uint8 and out8[0, 0].tolist() == [255, 0, 0] and out8[0, 2].tolist() == [255, 255, 255]
    assert abs(int(out8[0, 1, 0]) - 118) <= 1  # 18 % grey encodes to 118 in sRGB
    out16, _ = R.to_output(work, "srgb", 16)
    assert out16.dtype == np.uint16 and out16[0, 2].tolist() == [65535] * 3
    p3, p3_icc = R.to_output(work, "display-p3", 8)
    assert p3[0, 0, 0] < 255 and p3[0, 0, 1] > 0  # sRGB red sits inside the P3 gamut
    adobe, adobe_icc = R.to_output(work, "adobe-rgb", 8)
    assert adobe[0, 1, 0] != out8[0, 1, 0]  # different curve
    for profile, pixels in ((icc, out8), (p3_icc, p3), (adobe_icc, adobe)):
        prof = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        back = ImageCms.profileToProfile(PILImage.fromarray(pixels), prof, ImageCms.createProfile("sRGB"))
        assert np.abs(np.asarray(back).astype(int) - out8).max() <= 3  # every profile describes its pixels
    with pytest.raises(ValueError):
        R.to_output(work, "cmyk")


def test_in_place_full_render_path_equals_the_cached_preview_path():
    """A full render works in place in an uncached source; a preview copies. Same result."""
    from maskroom.engine.develop.pipeline import ImageCache, render_recipe
    from maskroom.engine.masks.compose import compose
    from maskroom.engine.masks.registry import MaskInput

    rng = np.random.default_rng(5)
    src = cv2.resize(rng.uniform(0.0, 0.6, (24, 36, 3)).astype(np.float32), (360, 240))
    r = Recipe()
    r.global_layer.adjustments.update({**LOOK, "dehaze": 10, "hue": 5})
    r.layers.append(Layer("a", adjustments={"exposure": -0.5, "temperature": 20, "saturation": 10},
                          mask=MaskDefinition([MaskComponent("radial", params={"rx": 0.3, "ry": 0.2})])))
    r.layers.append(Layer("b", opacity=0.7, adjustments={"clarity": 50, "blur": 30}, mask=MaskDefinition(
        [MaskComponent("linear", params={"x0": 0, "y0": 0, "x1": 1, "y1": 1})])))

    def mask_for(layer):
        return compose(layer.mask, MaskInput(image=np.zeros((240, 360, 3), np.float32)))

    frozen = src.copy()
    frozen.setflags(write=False)
    cached = render_recipe(frozen, "d", r, mask_for, cache=ImageCache(1 << 28))
    writable = src.copy()
    in_place = render_recipe(writable, "d", r, mask_for, cache=None)
    assert np.allclose(cached, in_place, atol=1e-6)
    assert np.array_equal(frozen, src)  # the cached path never wrote into its source
