"""The mask raster cache: hit on the second call, miss when pixels/intent/model change."""
from __future__ import annotations

import numpy as np
import pytest

from maskroom.catalog import edits
from maskroom.catalog.schema import MaskRaster
from maskroom.engine.masks import registry
from maskroom.engine.masks.cache import CachedResolver, read_alpha
from maskroom.engine.mask_refresh import refresh_image
from maskroom.engine.masks.compose import compose
from maskroom.engine.masks.registry import KindSpec, MaskInput, MaskResult
from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition

from mask_helpers import add_image, disc_picture

pytestmark = pytest.mark.catalog


class CountingKind:
    """A stand-in AI kind that counts derivations (the cache, not the model, is under test)."""

    def __init__(self, found=True):
        self.calls = 0
        self.found = found

    def __call__(self, inp, comp):
        self.calls += 1
        h, w = inp.shape
        alpha = np.zeros((h, w), np.float32)
        if self.found:
            alpha[: h // 2] = 1.0
            alpha[h // 2, :] = 0.5
        return MaskResult(alpha, found=self.found, model="counting", model_version="m1")


@pytest.fixture
def version_id(catalog, tmp_path):
    disc_picture(tmp_path / "disc.png")
    image_id = add_image(catalog, tmp_path / "disc.png")
    with catalog.session() as s:
        return edits.get_version(s, image_id).id


def _install(monkeypatch, kind, fn, version="v1"):
    registry.load_kinds()
    monkeypatch.setitem(registry._KINDS, kind, KindSpec(kind, fn, None, version))


def _inp(digest="img-a", shape=(60, 80)):
    return MaskInput(image=np.full(shape + (3,), 0.5, np.float32), digest=digest)


def test_second_call_hits_and_reads_back_same_raster(catalog, version_id, monkeypatch):
    fn = CountingKind()
    _install(monkeypatch, "sky", fn)
    comp = MaskComponent(kind="sky")
    resolver = CachedResolver(catalog, version_id)
    first = resolver(_inp(), comp)
    second = CachedResolver(catalog, version_id)(_inp(), comp)
    assert fn.calls == 1
    assert np.abs(first.alpha - second.alpha).max() < 1e-4
    assert second.alpha[0, 0] == pytest.approx(1.0) and second.alpha[-1, -1] == 0.0
    with catalog.session() as s:
        rows = s.query(MaskRaster).filter_by(version_id=version_id).all()
        assert len(rows) == 1 and rows[0].status == "ok"
        assert read_alpha(catalog.cache_dir / rows[0].path).shape == (60, 80)
    assert comp.derived["status"] == "ok"


def test_digest_intent_and_model_version_changes_recompute(catalog, version_id, monkeypatch):
    fn = CountingKind()
    _install(monkeypatch, "sky", fn)
    comp = MaskComponent(kind="sky")
    resolver = CachedResolver(catalog, version_id)
    resolver(_inp(), comp)
    resolver(_inp(digest="img-b"), comp)  # other pixels
    assert fn.calls == 2
    comp.params["threshold"] = 0.7  # other intent
    resolver(_inp(digest="img-b"), comp)
    assert fn.calls == 3
    comp.feather = 0.01  # applied after the cache: no recompute
    comp.inverted = True
    resolver(_inp(digest="img-b"), comp)
    assert fn.calls == 3
    _install(monkeypatch, "sky", fn, version="v2")  # new model version
    assert resolver.is_stale(_inp(digest="img-b"), comp)
    resolver(_inp(digest="img-b"), comp)
    assert fn.calls == 4
    with catalog.session() as s:  # older rows of the component are replaced, not piled up
        assert s.query(MaskRaster).filter_by(version_id=version_id).count() == 1


def test_nothing_found_is_recorded(catalog, version_id, monkeypatch):
    fn = CountingKind(found=False)
    _install(monkeypatch, "sky", fn)
    comp = MaskComponent(kind="sky")
    resolver = CachedResolver(catalog, version_id)
    r1 = resolver(_inp(), comp)
    r2 = resolver(_inp(), comp)
    assert fn.calls == 1
    assert not r1.found and not r2.found and r2.alpha.max() == 0.0
    with catalog.session() as s:
        row = s.query(MaskRaster).filter_by(version_id=version_id).one()
        assert row.status == "empty" and row.path is None


def test_lost_file_is_rederived(catalog, version_id, monkeypatch):
    fn = CountingKind()
    _install(monkeypatch, "sky", fn)
    comp = MaskComponent(kind="sky")
    resolver = CachedResolver(catalog, version_id)
    resolver(_inp(), comp)
    for f in (catalog.cache_dir / "masks").rglob("*.png"):
        f.unlink()
    resolver(_inp(), comp)
    assert fn.calls == 2


def test_compose_with_cache_inverts_and_feathers_cached_raster(catalog, version_id, monkeypatch):
    fn = CountingKind()
    _install(monkeypatch, "sky", fn)
    definition = MaskDefinition([MaskComponent(kind="sky", inverted=True)])
    resolver = CachedResolver(catalog, version_id)
    a1 = compose(definition, _inp(), resolver)
    a2 = compose(definition, _inp(), resolver)
    assert fn.calls == 1 and np.allclose(a1, a2, atol=1e-4)
    assert a1[0, 0] == pytest.approx(0.0) and a1[-1, 0] == pytest.approx(1.0)


def test_refresh_image_derives_only_stale_components(catalog, tmp_path, monkeypatch):
    fn = CountingKind()
    _install(monkeypatch, "sky", fn)
    disc_picture(tmp_path / "d.png")
    image_id = add_image(catalog, tmp_path / "d.png")
    with catalog.session() as s:
        vid = edits.get_version(s, image_id).id
        recipe = edits.load_recipe(s, vid)
        recipe.layers.append(Layer("Sky", mask=MaskDefinition([MaskComponent(kind="sky"),
                                                                MaskComponent(kind="radial", params={})])))
        edits.save_recipe(s, vid, recipe, "add sky")
    first = refresh_image(catalog, image_id)
    second = refresh_image(catalog, image_id)
    assert first["derived"] == 1 and second["derived"] == 0 and fn.calls == 1
    assert refresh_image(catalog, image_id, force=True)["derived"] == 1


def test_refresh_image_covers_virtual_copies(catalog, tmp_path, monkeypatch):
    """A virtual copy keeps its own rasters: refresh derives them too, and a second
    refresh finds both versions current."""
    fn = CountingKind()
    _install(monkeypatch, "sky", fn)
    disc_picture(tmp_path / "d.png")
    image_id = add_image(catalog, tmp_path / "d.png")
    with catalog.session() as s:
        master = edits.get_version(s, image_id).id
        recipe = edits.load_recipe(s, master)
        recipe.layers.append(Layer("Sky", mask=MaskDefinition([MaskComponent(kind="sky")])))
        edits.save_recipe(s, master, recipe, "add sky")
        copy = edits.create_virtual_copy(s, image_id).id
    first = refresh_image(catalog, image_id)
    assert first["version_ids"] == [master, copy]
    assert first["derived"] == 2 and fn.calls == 2
    with catalog.session() as s:
        stored = {r.version_id for r in s.query(MaskRaster).all()}
    assert stored == {master, copy}
    assert refresh_image(catalog, image_id)["derived"] == 0


def test_refreshed_raster_of_a_raw_with_settings_is_the_one_the_render_uses(catalog, tmp_path, monkeypatch):
    """refresh decodes a RAW with the version's RAW settings, as the render does: the
    render then finds the refreshed raster instead of deriving the mask again."""
    from synth_files import make_dng

    from maskroom.catalog.schema import Folder, Image
    from maskroom.engine.develop import render as R

    fn = CountingKind()
    _install(monkeypatch, "sky", fn)
    dng = make_dng(tmp_path / "ramp.dng", w=256, h=192)
    with catalog.session() as s:
        folder = Folder(path=str(tmp_path))
        s.add(folder)
        s.flush()
        row = Image(folder_id=folder.id, filename=dng.name, path=str(dng), file_size=dng.stat().st_size,
                    mtime=0, content_hash="dng-ramp", format="dng", width=256, height=192)
        s.add(row)
        s.flush()
        image_id = row.id
        vid = edits.get_version(s, image_id).id
        recipe = edits.load_recipe(s, vid)
        recipe.settings["raw"] = {"highlight_mode": "blend"}
        recipe.layers.append(Layer("Sky", adjustments={"exposure": 1.0}, mask=MaskDefinition([MaskComponent(kind="sky")])))
        edits.save_recipe(s, vid, recipe, "sky on a RAW")
    assert refresh_image(catalog, image_id)["derived"] == 1
    R.clear_memory_caches()
    R.render_version(catalog, vid, scale="preview")
    assert fn.calls == 1
