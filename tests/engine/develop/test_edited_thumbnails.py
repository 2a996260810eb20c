"""Edited thumbnails (engine/thumbnails.py): what the grid and `maskroom thumbs --edited` show."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import run_cli
from maskroom.engine import thumbnails as T
from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition
from maskroom.core.progress import Progress
from maskroom.services import develop as develop_service, editing, importing, library

pytestmark = pytest.mark.catalog

PHOTO = "immich_denali.webp"


@pytest.fixture
def shoot(catalog, sample_copy):
    imported = importing.import_photos(catalog, [sample_copy], Progress(), jobs=1)
    ids, problems = imported.image_ids, imported.problems
    assert not problems, problems
    return {r.filename: r.id for r in library.image_rows(catalog, ids).values()}


def imported(catalog, image_id) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(develop_service.thumbnail_path(catalog, image_id))), cv2.COLOR_BGR2RGB)


def edit(catalog, version_id, label="edit", **adjustments):
    recipe = editing.load_recipe(catalog, version_id)
    recipe.global_layer.adjustments.update(adjustments)
    editing.save_recipe(catalog, version_id, recipe, label)
    return recipe


def edited_files(catalog) -> list[Path]:
    root = Path(catalog.cache_dir) / T.FOLDER
    return sorted(root.rglob("*.jpg")) if root.exists() else []


def test_unedited_photo_uses_the_imported_thumbnail_without_render(catalog, shoot):
    image_id = shoot[PHOTO]
    assert T.edited_thumbnail(catalog, image_id) is None  # never edited: no version at all
    vid = editing.master_version_id(catalog, image_id)
    assert T.edited_thumbnail(catalog, image_id) is None  # a fresh master
    edit(catalog, vid, exposure=0.0, contrast=0.0)  # an edit set back to neutral is still unedited
    plan = T.plan_thumbnails(catalog, [(image_id, None)])[(image_id, None)]
    assert not plan.edited and plan.version_id == vid
    assert T.edited_thumbnail(catalog, image_id) is None
    assert edited_files(catalog) == []


def test_exposure_plus_one_brightens_the_thumbnail(catalog, shoot):
    image_id = shoot[PHOTO]
    vid = editing.master_version_id(catalog, image_id)
    edit(catalog, vid, exposure=1.0)
    thumb = T.edited_thumbnail(catalog, image_id)
    assert thumb is not None and thumb.rendered and not thumb.provisional
    base = imported(catalog, image_id).astype(np.float64)
    assert thumb.rgb.shape == base.shape and max(thumb.rgb.shape[:2]) == T.EDGE
    # +1 EV doubles linear light: every mid-tone brightens, by about 1.3-1.4x in sRGB.
    ratio = thumb.rgb.mean() / base.mean()
    assert 1.15 < ratio < 1.6, ratio
    mid = (base.mean(axis=2) > 40) & (base.mean(axis=2) < 180)
    assert (thumb.rgb.mean(axis=2)[mid] > base.mean(axis=2)[mid]).mean() > 0.95
    # Asking again reads the cached file (no render) with the same pixels up to JPEG.
    again = T.edited_thumbnail(catalog, image_id, load=True)
    assert not again.rendered and again.path == thumb.path
    assert np.abs(again.rgb.astype(int) - thumb.rgb.astype(int)).mean() < 2.0


def test_virtual_copy_gets_its_own_thumbnail(catalog, shoot):
    image_id = shoot[PHOTO]
    master = editing.master_version_id(catalog, image_id)
    edit(catalog, master, exposure=0.5)
    copy = editing.create_virtual_copy(catalog, from_version=master)[0]
    edit(catalog, copy, "B&W", saturation=-100.0)
    m = T.edited_thumbnail(catalog, image_id)
    c = T.edited_thumbnail(catalog, image_id, copy)
    assert m.version_id == master and c.version_id == copy and m.path != c.path
    spread = lambda rgb: float((rgb.max(axis=2).astype(int) - rgb.min(axis=2)).mean())  # noqa: E731
    assert spread(c.rgb) < 2.0 < spread(m.rgb)  # the copy is black and white, the master is not
    # Two versions of one photo never evict each other: both stay cached.
    assert m.path.exists() and c.path.exists()
    assert not T.edited_thumbnail(catalog, image_id).rendered
    assert not T.edited_thumbnail(catalog, image_id, copy).rendered
    # A removed copy's thumbnails go with `prune`.
    library.remove_virtual_copies(catalog, [copy])
    assert T.prune(catalog) == 1 and not c.path.exists() and m.path.exists()


def test_editing_again_invalidates(catalog, shoot):
    image_id = shoot[PHOTO]
    vid = editing.master_version_id(catalog, image_id)
    edit(catalog, vid, exposure=1.0)
    first = T.edited_thumbnail(catalog, image_id)
    key1 = T.plan_thumbnails(catalog, [(image_id, None)])[(image_id, None)].key
    edit(catalog, vid, exposure=-1.0)
    key2 = T.plan_thumbnails(catalog, [(image_id, None)])[(image_id, None)].key
    assert key2 != key1
    second = T.edited_thumbnail(catalog, image_id)
    assert second.rendered and second.path != first.path and not first.path.exists()
    assert second.rgb.mean() < imported(catalog, image_id).mean() < first.rgb.mean()
    # Undo is an edit too: back to +1 EV (a new render, brighter than the original again).
    assert editing.undo(catalog, vid)
    third = T.edited_thumbnail(catalog, image_id)
    assert third.rendered and third.rgb.mean() > imported(catalog, image_id).mean()
    assert [p.name for p in edited_files(catalog)] == [third.path.name]


def test_ai_mask_without_raster_is_provisional_and_runs_no_model(catalog, shoot, monkeypatch):
    from maskroom.engine.masks import registry
    from maskroom.engine.masks.cache import CachedResolver
    from maskroom.engine.mask_refresh import mask_input
    from maskroom.engine.masks.registry import MaskResult

    image_id = shoot[PHOTO]
    vid = editing.master_version_id(catalog, image_id)
    sky = MaskComponent(kind="sky")
    recipe = editing.load_recipe(catalog, vid)
    recipe.layers.append(Layer("Sky", adjustments={"exposure": -2.0}, mask=MaskDefinition([sky])))
    editing.save_recipe(catalog, vid, recipe, "Sky")

    def no_model(inp, comp):
        raise AssertionError("a thumbnail ran a mask model")

    import dataclasses

    monkeypatch.setitem(registry._KINDS, "sky", dataclasses.replace(registry.get_kind("sky"), fn=no_model))
    plan = T.plan_thumbnails(catalog, [(image_id, None)])[(image_id, None)]
    assert plan.edited and plan.raster_missing
    first = T.edited_thumbnail(catalog, image_id)
    assert first.provisional and first.path.name.endswith("-provisional.jpg")
    base = imported(catalog, image_id).astype(np.float64)
    assert abs(first.rgb.mean() - base.mean()) < 3  # the Sky layer waits for its raster

    # The raster appears (as Develop or `mask refresh` would store it): top half is sky.
    inp = mask_input(catalog, image_id, settings=recipe.settings)
    alpha = np.zeros(inp.shape, np.float32)
    alpha[: inp.shape[0] // 2] = 1.0
    CachedResolver(catalog, vid).store(inp, sky, MaskResult(alpha, found=True, score=0.9, model="test"))
    plan2 = T.plan_thumbnails(catalog, [(image_id, None)])[(image_id, None)]
    assert plan2.key != plan.key and not plan2.raster_missing
    second = T.edited_thumbnail(catalog, image_id)
    assert second.rendered and not second.provisional and not first.path.exists()
    h = second.rgb.shape[0]
    top, bottom = second.rgb[: h // 2 - 4].mean(), second.rgb[h // 2 + 4:].mean()
    assert top < 0.7 * base[: h // 2 - 4].mean()  # -2 EV inside the mask
    assert abs(bottom - base[h // 2 + 4:].mean()) < 4  # nothing outside it


def test_cli_prerenders_edited_thumbnails(catalog, shoot):
    image_id = shoot[PHOTO]
    vid = editing.master_version_id(catalog, image_id)
    edit(catalog, vid, exposure=1.0)
    copy = editing.create_virtual_copy(catalog, from_version=vid)[0]
    edit(catalog, copy, saturation=-100.0)
    out = json.loads(run_cli(catalog, "thumbs", "--edited", "--all", "--json").output)
    assert out["cells"] == len(shoot) + 1
    assert out["counts"] == {"rendered": 2, "unedited": len(shoot) - 1}
    rendered = {(r["image_id"], r["version_id"]) for r in out["results"] if r["status"] == "rendered"}
    assert rendered == {(image_id, vid), (image_id, copy)}
    # The UI's function finds them cached.
    assert not develop_service.edited_thumbnail(catalog, image_id, copy).rendered
    again = json.loads(run_cli(catalog, "thumbs", "--edited", str(image_id), "--json").output)
    assert again["counts"] == {"cached": 2}
    bad = run_cli(catalog, "thumbs", "--derive-masks", "--all", ok=False)
    assert bad.exit_code != 0 and "--derive-masks goes with --edited" in bad.output


def test_a_broken_edit_is_reported_and_the_batch_goes_on(catalog, shoot):
    from sqlalchemy import update

    from maskroom.catalog.schema import Layer as LayerRow

    good, bad = shoot[PHOTO], shoot["mpl_grace_hopper.jpg"]
    for image_id in (good, bad):
        edit(catalog, editing.master_version_id(catalog, image_id), exposure=0.5)
    with catalog.session() as s:  # a catalog row no recipe can be made of
        s.execute(update(LayerRow).where(LayerRow.version_id == editing.master_version_id(catalog, bad))
                  .values(opacity=5.0))
    results = {r["image_id"]: r for r in T.render_edited_thumbnails(catalog, [(bad, None), (good, None)])}
    assert results[bad]["status"] == "error" and "opacity" in results[bad]["error"]
    assert results[good]["status"] == "rendered" and Path(results[good]["path"]).exists()


def test_edited_thumbnail_follows_the_lens_default(catalog, shoot):
    """The catalog's lens default changes an edit's pixels without changing its recipe:
    the thumbnail's key follows it, and a JPEG's thumbnail is corrected as its render is."""
    from maskroom.catalog.schema import Image

    image_id = shoot[PHOTO]
    with catalog.session() as s:
        row = s.get(Image, image_id)
        row.camera_make, row.camera_model, row.lens = "Canon", "Canon EOS 6D", "Canon EF 24-105mm f/4L IS USM"
        row.focal_length, row.aperture = 24.0, 4.0
    vid = editing.master_version_id(catalog, image_id)
    edit(catalog, vid, exposure=0.5)
    develop_service.set_lens_default(catalog, "off")
    off_key = T.plan_thumbnails(catalog, [(image_id, None)])[(image_id, None)].key
    off = T.edited_thumbnail(catalog, image_id).rgb.astype(np.int16)
    develop_service.set_lens_default(catalog, "auto")
    on_plan = T.plan_thumbnails(catalog, [(image_id, None)])[(image_id, None)]
    assert on_plan.key != off_key
    on = T.edited_thumbnail(catalog, image_id)
    assert on.rendered and on.rgb.shape == off.shape
    # 24 mm at f/4: the vignetting correction brightens the corners more than the centre.
    diff = on.rgb.astype(np.int16) - off
    h, w = diff.shape[:2]
    a, b = h // 5, w // 5
    corners = np.concatenate([diff[:a, :b], diff[h - a:, w - b:]]).mean()
    assert corners > 2 and corners > diff[2 * h // 5:3 * h // 5, 2 * w // 5:3 * w // 5].mean() + 1
    # An explicit "off" in the edit wins over the default: the key no longer depends on it.
    recipe = editing.load_recipe(catalog, vid)
    recipe.settings["lens"] = {"correct": "off"}
    editing.save_recipe(catalog, vid, recipe, "lens off")
    k_auto = T.plan_thumbnails(catalog, [(image_id, None)])[(image_id, None)].key
    develop_service.set_lens_default(catalog, "off")
    assert T.plan_thumbnails(catalog, [(image_id, None)])[(image_id, None)].key == k_auto
    assert np.abs(T.edited_thumbnail(catalog, image_id).rgb.astype(np.int16) - off).mean() < 1.5
