"""Recipe persistence: history, undo/redo, truncation, snapshots, virtual copies, presets."""
from __future__ import annotations

import json

import pytest
from develop_support import add_image

from maskroom.catalog import edits
from maskroom.catalog.schema import Layer as LayerRow
from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition, Recipe

pytestmark = pytest.mark.catalog


@pytest.fixture
def image_id(catalog, samples_dir):
    return add_image(catalog, samples_dir / "immich_el_torcal_rocks.jpg")


def _with(recipe: Recipe, **adj) -> Recipe:
    r = recipe.copy()
    r.global_layer.adjustments.update(adj)
    return r


def test_master_created_once_with_default_recipe(catalog, image_id):
    with catalog.session() as s:
        v1 = edits.get_version(s, image_id)
        v2 = edits.get_version(s, image_id)
        assert v1.id == v2.id and v1.is_master
        recipe = edits.load_recipe(s, v1.id)
        assert [x.name for x in recipe.layers] == ["Global"]
        assert v1.recipe_hash == recipe.digest()
        assert [h.label for h in edits.history(s, v1.id)] == ["Import"]


def test_save_writes_layer_rows_and_hash(catalog, image_id):
    r = Recipe()
    r.global_layer.adjustments["exposure"] = 0.5
    r.layers.append(Layer("sky", opacity=0.5, adjustments={"dehaze": 20},
                          mask=MaskDefinition([MaskComponent("linear", params={"x0": 0, "y0": 0, "x1": 0, "y1": 1})])))
    with catalog.session() as s:
        vid = edits.get_version(s, image_id).id
        step = edits.save_recipe(s, vid, r, "two layers")
        assert step.seq == 1
    with catalog.session() as s:
        rows = s.query(LayerRow).filter_by(version_id=vid).order_by(LayerRow.position).all()
        assert [(x.position, x.name, x.opacity) for x in rows] == [(0, "Global", 1.0), (1, "sky", 0.5)]
        assert rows[1].mask["components"][0]["kind"] == "linear"
        loaded = edits.load_recipe(s, vid)
        normalised = Recipe.from_dict(r.to_dict())  # adjustment values stored as floats
        assert loaded.digest() == normalised.digest()
        assert edits.get_version(s, image_id).recipe_hash == normalised.digest()


def test_undo_redo_round_trip(catalog, image_id):
    with catalog.session() as s:
        vid = edits.get_version(s, image_id).id
        base = edits.load_recipe(s, vid)
        edits.save_recipe(s, vid, _with(base, exposure=0.5), "exp")
        edits.save_recipe(s, vid, _with(base, exposure=0.5, contrast=20), "contrast")
        assert edits.undo(s, vid).global_layer.adjustments == {"exposure": 0.5}
        assert edits.load_recipe(s, vid).global_layer.adjustments == {"exposure": 0.5}
        assert edits.undo(s, vid).global_layer.adjustments == {}
        assert edits.undo(s, vid) is None  # at the first step
        assert edits.redo(s, vid).global_layer.adjustments == {"exposure": 0.5}
        assert edits.redo(s, vid).global_layer.adjustments == {"exposure": 0.5, "contrast": 20}
        assert edits.redo(s, vid) is None
        assert edits.get_version(s, image_id).recipe_hash == edits.load_recipe(s, vid).digest()


def test_new_step_after_undo_truncates_redo(catalog, image_id):
    with catalog.session() as s:
        vid = edits.get_version(s, image_id).id
        base = edits.load_recipe(s, vid)
        for i in range(1, 4):
            edits.save_recipe(s, vid, _with(base, exposure=i / 10), f"step {i}")
        edits.undo(s, vid)
        edits.undo(s, vid)
        edits.save_recipe(s, vid, _with(base, saturation=-30), "branch")
        labels = [h.label for h in edits.history(s, vid)]
        assert labels == ["Import", "step 1", "branch"]
        assert edits.redo(s, vid) is None
        assert edits.load_recipe(s, vid).global_layer.adjustments == {"saturation": -30}


def test_virtual_copy_is_independent(catalog, image_id):
    with catalog.session() as s:
        master = edits.get_version(s, image_id).id
        edits.save_recipe(s, master, _with(Recipe(), exposure=1.0), "bright")
        copy = edits.create_virtual_copy(s, image_id, name="BW")
        assert not copy.is_master and copy.name == "BW"
        assert edits.load_recipe(s, copy.id).global_layer.adjustments == {"exposure": 1.0}
        edits.save_recipe(s, copy.id, _with(Recipe(), exposure=1.0, saturation=-100), "bw")
        assert edits.load_recipe(s, master).global_layer.adjustments == {"exposure": 1.0}
        edits.save_recipe(s, master, _with(Recipe(), exposure=-1.0), "dark")
        assert edits.load_recipe(s, copy.id).global_layer.adjustments == {"exposure": 1.0, "saturation": -100}
        assert edits.get_version(s, image_id).id == master
        # Undo on the copy stays within the copy's history.
        assert edits.undo(s, copy.id).global_layer.adjustments == {"exposure": 1.0}
        assert edits.load_recipe(s, master).global_layer.adjustments == {"exposure": -1.0}


def test_snapshot_restore_is_undoable(catalog, image_id):
    with catalog.session() as s:
        vid = edits.get_version(s, image_id).id
        edits.save_recipe(s, vid, _with(Recipe(), contrast=40), "punchy")
        edits.save_snapshot(s, vid, "punchy")
        edits.save_recipe(s, vid, _with(Recipe(), contrast=-40), "flat")
        restored = edits.restore_snapshot(s, vid, "punchy")
        assert restored.global_layer.adjustments == {"contrast": 40}
        assert edits.load_recipe(s, vid).global_layer.adjustments == {"contrast": 40}
        assert edits.undo(s, vid).global_layer.adjustments == {"contrast": -40}
        with pytest.raises(edits.EditError):
            edits.restore_snapshot(s, vid, "missing")


def _sky_recipe() -> Recipe:
    r = Recipe()
    r.global_layer.adjustments.update({"exposure": 0.3, "vibrance": 15})
    r.layers.append(Layer("sky", adjustments={"exposure": -0.5}, mask=MaskDefinition(
        [MaskComponent("sky"), MaskComponent("linear", mode="intersect",
                                             params={"x0": 0.5, "y0": 0, "x1": 0.5, "y1": 0.6})])))
    r.layers.append(Layer("vignette", adjustments={"exposure": -0.6}, mask=MaskDefinition(
        [MaskComponent("radial", inverted=True, params={"cx": 0.5, "cy": 0.5, "rx": 0.4, "ry": 0.3})])))
    r.settings["crop"] = {"x0": 0.1, "y0": 0.1, "x1": 0.9, "y1": 0.9}
    return r


def test_preset_apply_on_another_image(catalog, image_id, samples_dir, tmp_path):
    other = add_image(catalog, samples_dir / "immich_denali.webp")
    with catalog.session() as s:
        src = edits.get_version(s, image_id).id
        edits.save_recipe(s, src, _sky_recipe(), "look")
        edits.save_preset(s, "Moody sky", edits.load_recipe(s, src), layers=["Global", "sky"])
        dst = edits.get_version(s, other).id
        edits.save_recipe(s, dst, _with(Recipe(), contrast=10, exposure=-1), "own")
        applied = edits.apply_preset(s, dst, "Moody sky")
        # merge: preset keys overwrite, other keys stay; the sky layer arrives with its intent.
        assert applied.global_layer.adjustments == {"contrast": 10, "exposure": 0.3, "vibrance": 15}
        assert [x.name for x in applied.layers] == ["Global", "sky"]
        comps = applied.layer("sky").mask.components
        assert [c.kind for c in comps] == ["sky", "linear"] and comps[1].mode == "intersect"
        src_uids = {c.uid for c in edits.load_recipe(s, src).layer("sky").mask.components}
        assert not src_uids & {c.uid for c in comps}
        assert "crop" not in edits.load_recipe(s, dst).settings  # settings belong to one photo
        assert edits.history(s, dst)[-1].label == "Preset Moody sky"
        replaced = edits.apply_preset(s, dst, "Moody sky", mode="replace")
        assert replaced.global_layer.adjustments == {"exposure": 0.3, "vibrance": 15}
        assert [p.name for p in edits.list_presets(s)] == ["Moody sky"]


def test_preset_file_round_trip(catalog, image_id, tmp_path):
    with catalog.session() as s:
        src = edits.get_version(s, image_id).id
        edits.save_recipe(s, src, _sky_recipe(), "look")
        edits.save_preset(s, "Look", edits.load_recipe(s, src))
        path = edits.export_preset(s, "Look", tmp_path / "look.json")
    body = json.loads(path.read_text())
    assert body["format"] == edits.PRESET_FORMAT and body["name"] == "Look"
    assert [x["name"] for x in body["layers"]] == ["sky", "vignette"]
    assert all(c["derived"] == {} for x in body["layers"] for c in x["mask"]["components"])
    with catalog.session() as s:
        p = edits.import_preset(s, path, name="Look copy")
        assert p.name == "Look copy"
        assert edits.get_preset(s, "Look copy").body["layers"] == body["layers"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "something-else"}))
    with catalog.session() as s, pytest.raises(edits.EditError, match="bad.json"):
        edits.import_preset(s, bad)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with catalog.session() as s, pytest.raises(edits.EditError, match="broken.json"):
        edits.import_preset(s, broken)
