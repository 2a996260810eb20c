"""Series detection on synthetic timestamps, a real-photo portrait series (with
exposure brackets) and the shipped samples; hand edits; auto-sync of new members."""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from maskroom.catalog import edits
from maskroom.catalog.schema import Image, Series
from maskroom.cli.base import main
from maskroom.engine.importer import run_import
from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition, Recipe
from maskroom.engine.series.detect import _Frame, detect_series, group_frames, list_series, parse_gap
from maskroom.engine.series.edit import SeriesError, merge, set_auto_sync, split
from maskroom.engine.series.features import compute_features, hamming, similarity
from sync_frames import camera_move, load_sample, portrait_series, write_jpeg

pytestmark = pytest.mark.catalog

T0 = datetime(2024, 5, 1, 10, 0, 0)
OTHERS = ["immich_prairie_falcon.jpg", "immich_tanners_ridge.jpg", "immich_cyclamen_persicum.jpg"]


def test_features_are_exposure_tolerant_and_tell_scenes_apart():
    base = load_sample()
    ph, f = compute_features(base)
    assert len(ph) == 16 and len(f) == 48 * 4
    for move in (dict(ev=1.0), dict(ev=-1.0), dict(dx=20, dy=-10, angle=2)):
        assert similarity(ph, f, *compute_features(camera_move(base, **move)[0])) > 0.5, move
    for other in OTHERS:
        assert similarity(ph, f, *compute_features(load_sample(other))) < 0.3, other
    assert hamming(ph, ph) == 0


def test_parse_gap():
    assert parse_gap("30s") == 30 and parse_gap("2m") == 120 and parse_gap("1.5") == 1.5
    with pytest.raises(ValueError):
        parse_gap("soon")


def _frame(i, t, body="x-t4", lens="23mm", ph="0" * 16):
    return _Frame(i, T0 + timedelta(seconds=t), ("fuji", body), lens, ph, None, None, f"{i}.jpg")


def test_grouping_by_gap_camera_and_lens():
    frames = [_frame(1, 0), _frame(2, 2), _frame(3, 29), _frame(4, 70), _frame(5, 71),
              _frame(6, 72, body="x-h2"), _frame(7, 73, body="x-h2"), _frame(8, 74, lens="56mm"),
              _Frame(9, None, ("fuji", "x-t4"), "23mm", None, None, None, "9.jpg")]
    groups = [[f.id for f in g] for g in group_frames(frames, gap=30)]
    assert sorted(groups) == [[1, 2, 3], [4, 5], [6, 7]]
    assert sorted([f.id for f in g] for g in group_frames(frames, gap=2)) == [[1, 2], [4, 5], [6, 7]]


def test_a_different_frame_inside_a_burst_does_not_cut_it():
    far = "f" * 16
    frames = [_frame(1, 0), _frame(2, 1), _frame(3, 2, ph=far), _frame(4, 3), _frame(5, 4)]
    assert [[f.id for f in g] for g in group_frames(frames)] == [[1, 2, 3, 4, 5]]


@pytest.fixture
def shoot(catalog, tmp_path, samples_dir):
    folder = tmp_path / "shoot"
    portrait_series(folder)  # 6 frames: shifts, rotations, zoom, +-1 EV brackets
    for i, name in enumerate(OTHERS):
        shutil.copy(samples_dir / name, folder / f"z{i}_{name}")
    run_import(catalog, [folder], jobs=1)
    with catalog.session() as s:
        rows = list(s.scalars(select(Image).order_by(Image.filename)))
        for i, img in enumerate(rows):  # one camera, one frame a second: only the look tells them apart
            img.capture_time = T0 + timedelta(seconds=i)
            img.camera_make, img.camera_model, img.lens = "Canon", "EOS R5", "RF 85mm"
        return [r.id for r in rows]


def test_portrait_brackets_form_one_series_unrelated_photos_none(catalog, shoot):
    found = detect_series(catalog)
    assert [s.image_ids for s in found] == [shoot[:6]]
    again = detect_series(catalog)  # idempotent: same id, same members
    assert [(s.id, s.image_ids) for s in again] == [(found[0].id, shoot[:6])]


def test_gap_splits_and_missing_features_are_filled(catalog, shoot):
    with catalog.session() as s:
        for iid in shoot[3:6]:
            img = s.get(Image, iid)
            img.capture_time += timedelta(seconds=45)
            img.phash, img.features = None, None
        for iid in shoot[6:]:  # the unrelated photos an hour later: not in between
            s.get(Image, iid).capture_time += timedelta(hours=1)
    found = detect_series(catalog)
    assert sorted(s.image_ids for s in found) == [shoot[:3], shoot[3:6]]
    with catalog.session() as s:
        assert all(s.get(Image, i).phash for i in shoot)
    assert [s.image_ids for s in detect_series(catalog, gap=60)] == [shoot[:6]]


def test_merge_split_lock_and_cli(catalog, catalog_location, shoot):
    with catalog.session() as s:
        for iid in shoot[3:6]:
            s.get(Image, iid).capture_time += timedelta(seconds=45)
    a, b = [s.id for s in detect_series(catalog)]
    merged = merge(catalog, a, b)
    assert [s.image_ids for s in detect_series(catalog)] == [shoot[:6]]  # locked: not regrouped
    new = split(catalog, merged, shoot[2])
    assert sorted(s.image_ids for s in detect_series(catalog)) == [shoot[:2], shoot[2:6]]
    with pytest.raises(SeriesError):
        split(catalog, new, shoot[0])
    runner = CliRunner()
    env = {"MASKROOM_CATALOG": str(catalog_location.sqlite_path or catalog_location.url)}
    res = runner.invoke(main, ["series", "--json"], env=env)
    assert res.exit_code == 0, res.output
    listed = json.loads(res.output)
    assert sorted(x["image_ids"] for x in listed) == [shoot[:2], shoot[2:6]]
    assert all(x["locked"] for x in listed)
    res = runner.invoke(main, ["series", "merge", str(merged), str(new)], env=env)
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["series", "split", str(merged), "--at", str(shoot[0])], env=env)
    assert res.exit_code == 1 and "first frame" in res.output
    res = runner.invoke(main, ["series", "auto-sync", str(merged), "on"], env=env)
    assert res.exit_code == 0
    with catalog.session() as s:
        assert s.get(Series, merged).auto_sync is True


def test_sync_series_then_auto_sync_gives_new_frames_the_edit(catalog, catalog_location, shoot, tmp_path):
    detect_series(catalog)
    radial = MaskComponent("radial", params={"cx": 0.5, "cy": 0.36, "rx": 0.12, "ry": 0.16})
    with catalog.session() as s:
        vid = edits.get_version(s, shoot[0]).id
        edits.save_recipe(s, vid, Recipe(layers=[Layer("Global", adjustments={"exposure": 0.4}),
                                                 Layer("Face", adjustments={"exposure": 0.3},
                                                       mask=MaskDefinition([radial]))]), "edit")
    runner = CliRunner()
    env = {"MASKROOM_CATALOG": str(catalog_location.sqlite_path or catalog_location.url)}
    res = runner.invoke(main, ["sync", str(shoot[0]), "--series"], env=env)
    assert res.exit_code == 0, res.output
    assert "5 synced" in res.output
    sid = list_series(catalog)[0].id
    res = runner.invoke(main, ["series", "auto-sync", str(sid), "on"], env=env)
    assert res.exit_code == 0, res.output
    # A new frame of the sitting arrives (watch folder, --auto-sync).
    drop = tmp_path / "drop"
    frame, M = camera_move(load_sample(), dx=-18, dy=9, angle=-1.5)
    write_jpeg(drop / "frame_new.jpg", frame)
    from maskroom.engine.watch import FolderWatcher, WatchOptions

    # The new file's capture time comes from the watch-time catalog update below.
    logs = []
    w = FolderWatcher(catalog, [drop], WatchOptions(settle=0.2, poll=0.05, auto_sync=False), log=logs.append)
    (new_id,) = w.run_once(timeout=10)
    with catalog.session() as s:
        img = s.get(Image, new_id)
        img.capture_time = T0 + timedelta(seconds=5.5)
        img.camera_make, img.camera_model, img.lens = "Canon", "EOS R5", "RF 85mm"
    from maskroom.engine.sync.engine import auto_sync_new_images

    results = auto_sync_new_images(catalog, [new_id])
    assert [(r.image_id, r.status) for r in results] == [(new_id, "synced")]
    with catalog.session() as s:
        r = edits.load_recipe(s, edits.get_version(s, new_id).id)
        w_, h_ = s.get(Image, new_id).width, s.get(Image, new_id).height
    assert r.global_layer.adjustments == {"exposure": 0.4}
    comp = r.layer("Face").mask.components[0]
    p = M @ [0.5 * w_, 0.36 * h_, 1]
    assert np.hypot(comp.params["cx"] - p[0] / w_, comp.params["cy"] - p[1] / h_) < 0.01
