"""An original changed by another program after import (retouched, rewritten by a
converter): importing its folder again re-reads it and keeps what was given to it
here; `catalog check` names it until then.  Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import os
import shutil

import pytest
from sqlalchemy import func, select

from maskroom.catalog import checks, edits
from maskroom.catalog.schema import Image, PreviewCacheEntry
from maskroom.core.recipe import Layer, Recipe
from maskroom.engine.imageio.previews import derivative_path
from maskroom.engine.importer import run_import

pytestmark = pytest.mark.catalog


@pytest.fixture
def imported(catalog, tmp_path, samples_dir):
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    shutil.copy(samples_dir / "immich_prairie_falcon.jpg", shoot / "bird.jpg")
    run_import(catalog, [shoot], jobs=1)
    with catalog.session() as s:
        img = s.scalar(select(Image))
        img.rating = 4
        vid = edits.get_version(s, img.id).id
        edits.save_recipe(s, vid, Recipe(layers=[Layer("Global", adjustments={"exposure": 0.5})]), "brighter")
        return shoot, img.id, img.content_hash, (img.width, img.height)


def _replace(path, by):
    before = os.stat(path)
    shutil.copy(by, path)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 5_000_000_000))


def test_changed_original_is_named_by_check_then_reread_on_import(catalog, imported, samples_dir):
    shoot, image_id, old_hash, old_size = imported
    assert not [f for f in checks.changed_files(catalog)]
    _replace(shoot / "bird.jpg", samples_dir / "immich_cyclamen_persicum.jpg")
    found = checks.changed_files(catalog)
    assert len(found) == 1 and f"image {image_id}: original changed since import" in found[0].message

    report = run_import(catalog, [shoot], jobs=1)
    assert report.updated == [image_id] and report.imported == [] and not report.skipped
    assert any("bird.jpg: changed since it was imported" in w for w in report.warnings)
    with catalog.session() as s:
        img = s.get(Image, image_id)
        assert img.content_hash != old_hash and (img.width, img.height) != old_size
        assert img.rating == 4  # what was given here stays
        recipe = edits.load_recipe(s, edits.get_version(s, image_id).id)
        assert recipe.global_layer.adjustments == {"exposure": 0.5}
        entries = s.scalars(select(PreviewCacheEntry).where(PreviewCacheEntry.image_id == image_id)).all()
        assert sorted(e.kind for e in entries) == ["preview", "thumb"]
        assert {e.key for e in entries} == {img.content_hash}
        assert s.scalar(select(func.count()).select_from(Image)) == 1
        new_hash = img.content_hash
    assert derivative_path(catalog.cache_dir, "preview", new_hash).exists()
    assert not checks.changed_files(catalog)
    again = run_import(catalog, [shoot], jobs=1)
    assert again.updated == [] and len(again.duplicates) == 1


def test_a_touched_original_is_not_changed(catalog, imported):
    shoot, _, _, _ = imported
    st = os.stat(shoot / "bird.jpg")
    os.utime(shoot / "bird.jpg", ns=(st.st_atime_ns, st.st_mtime_ns + 60_000_000_000))
    assert checks.changed_files(catalog) == []


def test_a_full_render_refuses_a_changed_original_until_it_is_read_again(catalog, imported, samples_dir):
    from maskroom.engine.develop import render as R
    from maskroom.engine.develop.source import SourceError

    shoot, image_id, _, _ = imported
    with catalog.session() as s:
        vid = edits.get_version(s, image_id).id
    assert R.render_version(catalog, vid, scale="full").linear.size  # as imported: fine
    _replace(shoot / "bird.jpg", samples_dir / "immich_cyclamen_persicum.jpg")
    with pytest.raises(SourceError, match="bird.jpg: the original changed since it was imported"):
        R.render_version(catalog, vid, scale="full")
    run_import(catalog, [shoot], jobs=1)
    res = R.render_version(catalog, vid, scale="full")
    assert (res.width, res.height) == (512, 848)  # the new photo, with the kept edit
