"""An edit made to a sync target while its masks are being derived is not overwritten."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from maskroom.catalog import edits
from maskroom.catalog.schema import Image
from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition, Recipe
from maskroom.engine.importer import run_import
from maskroom.engine.sync import engine as sync_engine
from sync_frames import portrait_series

pytestmark = pytest.mark.catalog


def test_sync_builds_on_an_edit_made_meanwhile(catalog, tmp_path, monkeypatch):
    portrait_series(tmp_path / "shoot")
    run_import(catalog, [tmp_path / "shoot"], jobs=1)
    with catalog.session() as s:
        src, target = list(s.scalars(select(Image.id).order_by(Image.filename)))[:2]
        vid = edits.get_version(s, src).id
        edits.save_recipe(s, vid, Recipe(layers=[
            Layer("Global", adjustments={"exposure": 0.3}),
            Layer("Face", adjustments={"exposure": 0.5}, mask=MaskDefinition([
                MaskComponent("radial", params={"cx": 0.5, "cy": 0.36, "rx": 0.12, "ry": 0.16})]))]), "source edit")
        target_vid = edits.get_version(s, target).id
    real_input = sync_engine._mask_input

    def input_while_someone_edits(cat, image_id, settings):
        if image_id == target:  # another process edits the target after sync read it
            with catalog.session() as s:
                recipe = edits.load_recipe(s, target_vid)
                recipe.global_layer.adjustments["clarity"] = 25.0
                edits.save_recipe(s, target_vid, recipe, "clarity +25")
        return real_input(cat, image_id, settings)

    monkeypatch.setattr(sync_engine, "_mask_input", input_while_someone_edits)
    # merge: the source's adjustments join the target's own (replace would swap them all)
    rep = sync_engine.run_sync(catalog, src, [target], options=sync_engine.SyncOptions(mode="merge"))
    assert [t.status for t in rep.targets] == ["synced"]
    with catalog.session() as s:
        now = edits.load_recipe(s, target_vid)
        labels = [h.label for h in edits.history(s, target_vid)]
    assert labels == ["Import", "clarity +25", f"Sync from image {src}"]
    assert now.global_layer.adjustments == {"exposure": 0.3, "clarity": 25.0}  # the edit survived the sync
    assert now.layer("Face") is not None
