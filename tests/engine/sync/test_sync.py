"""The sync engine on a synthetic portrait series made from a real sample photo."""
from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from maskroom.catalog import edits
from maskroom.catalog.schema import HistoryStep, Image, ReviewItem
from maskroom.engine.importer import run_import
from maskroom.engine.masks.compose import compose, derive
from maskroom.engine.masks.registry import MaskInput
from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition, Recipe
from maskroom.engine.sync.engine import SyncOptions, run_sync
from sync_frames import portrait_series

pytestmark = pytest.mark.catalog

FACE = (0.5, 0.36)  # Grace Hopper's face centre in the sample (normalised)


@pytest.fixture
def series(catalog, tmp_path):
    frames = portrait_series(tmp_path / "shoot")
    rep = run_import(catalog, [tmp_path / "shoot"], jobs=1)
    with catalog.session() as s:
        ids = [i for (i,) in s.execute(select(Image.id).order_by(Image.filename))]
    assert len(ids) == len(frames) == len(rep.imported)
    return ids, [m for _, m in frames], frames[0][0]


def _set_recipe(catalog, image_id: int, layers: list[Layer], adjustments=None) -> int:
    with catalog.session() as s:
        vid = edits.get_version(s, image_id).id
        recipe = Recipe(layers=[Layer("Global", adjustments=adjustments or {"exposure": 0.3})] + layers)
        edits.save_recipe(s, vid, recipe, "test edit")
    return vid


def _recipe(catalog, image_id: int) -> Recipe:
    with catalog.session() as s:
        return edits.load_recipe(s, edits.get_version(s, image_id).id)


def _history_len(catalog, image_id: int) -> int:
    with catalog.session() as s:
        vid = edits.get_version(s, image_id).id
        return s.scalar(select(func.count()).select_from(HistoryStep).where(HistoryStep.version_id == vid))


def _map(M, w, h, x, y):
    p = M @ [x * w, y * h, 1.0]
    return p[0] / w, p[1] / h


def radial_layer():
    return Layer("Face light", adjustments={"exposure": 0.5}, mask=MaskDefinition([
        MaskComponent("radial", params={"cx": FACE[0], "cy": FACE[1], "rx": 0.12, "ry": 0.16, "angle": 10.0,
                                        "feather": 0.4})]))


def test_radial_gradient_follows_the_face(catalog, series):
    ids, Ms, _ = series
    _set_recipe(catalog, ids[0], [radial_layer()])
    rep = run_sync(catalog, ids[0], ids[1:])
    assert [t.status for t in rep.targets] == ["synced"] * (len(ids) - 1)
    with catalog.session() as s:
        w, h = s.get(Image, ids[0]).width, s.get(Image, ids[0]).height
    for iid, M in zip(ids[1:], Ms[1:]):
        r = _recipe(catalog, iid)
        assert r.global_layer.adjustments == {"exposure": 0.3}
        comp = r.layer("Face light").mask.components[0]
        ex, ey = _map(M, w, h, *FACE)
        assert abs(comp.params["cx"] - ex) < 0.01 and abs(comp.params["cy"] - ey) < 0.01
        # The rasterised ellipse equals the source ellipse moved by the true camera move.
        import cv2

        src_alpha = derive(MaskInput(np.zeros((h, w, 3), np.float32)), radial_layer().mask.components[0]).alpha
        truth = cv2.warpAffine(src_alpha, M[:2], (w, h))
        got = derive(MaskInput(np.zeros((h, w, 3), np.float32)), comp).alpha
        inter = np.logical_and(truth > 0.5, got > 0.5).sum()
        union = np.logical_or(truth > 0.5, got > 0.5).sum()
        assert inter / union > 0.93


def test_sync_twice_changes_nothing(catalog, series):
    ids, _, _ = series
    _set_recipe(catalog, ids[0], [radial_layer()])
    run_sync(catalog, ids[0], ids[1:3])
    before = [(_recipe(catalog, i).to_dict(), _history_len(catalog, i)) for i in ids[1:3]]
    rep = run_sync(catalog, ids[0], ids[1:3])
    assert [t.status for t in rep.targets] == ["unchanged", "unchanged"]
    after = [(_recipe(catalog, i).to_dict(), _history_len(catalog, i)) for i in ids[1:3]]
    for (r0, n0), (r1, n1) in zip(before, after):
        assert n0 == n1
        assert Recipe.from_dict(r0).digest() == Recipe.from_dict(r1).digest()


def test_merge_keeps_target_layers_and_replace_drops_them(catalog, series):
    ids, _, _ = series
    _set_recipe(catalog, ids[0], [radial_layer()])
    own = Layer("Own", adjustments={"contrast": 0.2}, mask=MaskDefinition([
        MaskComponent("linear", params={"x0": 0, "y0": 0, "x1": 0, "y1": 0.3})]))
    _set_recipe(catalog, ids[1], [own], adjustments={"temperature": 5.0})
    run_sync(catalog, ids[0], [ids[1]], options=SyncOptions(what=("masks",), mode="merge"))
    r = _recipe(catalog, ids[1])
    assert [x.name for x in r.layers] == ["Global", "Own", "Face light"]
    assert r.global_layer.adjustments == {"temperature": 5.0}
    run_sync(catalog, ids[0], [ids[1]], options=SyncOptions(what=("masks", "adjustments"), mode="replace"))
    r = _recipe(catalog, ids[1])
    assert [x.name for x in r.layers] == ["Global", "Face light"]
    assert r.global_layer.adjustments == {"exposure": 0.3}


def test_an_unreadable_target_fails_alone_and_stays_untouched(catalog, series):
    ids, _, _ = series
    _set_recipe(catalog, ids[0], [radial_layer()])
    with catalog.session() as s:
        bad = s.get(Image, ids[2])
        bad_path, content_hash = bad.path, bad.content_hash
    # Corrupt the file and lose its cached preview: a real read failure mid-batch.
    from pathlib import Path

    Path(bad_path).write_bytes(b"not a jpeg any more")
    for p in Path(catalog.cache_dir).rglob(f"{content_hash}*"):
        p.unlink()
    from maskroom.engine.develop import render

    render.clear_memory_caches()
    before = (_recipe(catalog, ids[2]).digest(), _history_len(catalog, ids[2]))
    rep = run_sync(catalog, ids[0], ids[1:])
    status = {t.image_id: t.status for t in rep.targets}
    assert status[ids[2]] == "failed"
    assert all(status[i] == "synced" for i in ids[1:] if i != ids[2])
    assert (_recipe(catalog, ids[2]).digest(), _history_len(catalog, ids[2])) == before
    with catalog.session() as s:
        assert s.scalar(select(func.count()).select_from(ReviewItem)) == 0


def test_a_failure_inside_the_write_rolls_the_target_back(catalog, series):
    ids, _, _ = series
    _set_recipe(catalog, ids[0], [radial_layer()])
    before = {i: (_recipe(catalog, i).digest(), _history_len(catalog, i)) for i in ids[1:]}

    def boom(image_id):
        if image_id == ids[3]:
            raise OSError("disk full (injected after the recipe was written)")

    rep = run_sync(catalog, ids[0], ids[1:], fail_hook=boom)
    status = {t.image_id: t.status for t in rep.targets}
    assert status[ids[3]] == "failed" and "disk full" in rep.targets[2].error
    assert (_recipe(catalog, ids[3]).digest(), _history_len(catalog, ids[3])) == before[ids[3]]
    for i in ids[1:]:
        if i != ids[3]:
            assert _history_len(catalog, i) == before[i][1] + 1
    # Resuming: the second run syncs only what is missing.
    rep2 = run_sync(catalog, ids[0], ids[1:])
    assert {t.image_id: t.status for t in rep2.targets} == {i: ("synced" if i == ids[3] else "unchanged")
                                                            for i in ids[1:]}


def test_dry_run_writes_nothing(catalog, series):
    ids, _, _ = series
    _set_recipe(catalog, ids[0], [radial_layer()])
    before = [_history_len(catalog, i) for i in ids[1:]]
    rep = run_sync(catalog, ids[0], ids[1:], dry_run=True)
    assert {t.status for t in rep.targets} == {"would-sync"}
    assert [_history_len(catalog, i) for i in ids[1:]] == before


def test_parallel_jobs_give_the_same_result(catalog, series):
    ids, _, _ = series
    _set_recipe(catalog, ids[0], [radial_layer()])
    rep = run_sync(catalog, ids[0], ids[1:4], jobs=2)
    assert [t.status for t in rep.targets] == ["synced"] * 3
    parallel = {i: _recipe(catalog, i).digest() for i in ids[1:4]}
    rep = run_sync(catalog, ids[0], ids[1:4], jobs=1)
    assert [t.status for t in rep.targets] == ["unchanged"] * 3
    assert {i: _recipe(catalog, i).digest() for i in ids[1:4]} == parallel
