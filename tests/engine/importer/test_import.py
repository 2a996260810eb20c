"""Importing real sample photos and synthetic files; runs on SQLite and PostgreSQL."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from maskroom.catalog.schema import Image, ImportProblem, ImportSession, Sidecar
from maskroom.engine.imageio.previews import derivative_path
from maskroom.engine.importer import run_import
from maskroom.core.progress import Progress, RecordingProgress
from synth_files import make_dng, make_heic, make_png_bomb, make_tiff16, truncate

from conftest import tree_digest

pytestmark = pytest.mark.catalog


def count(catalog, model=Image):
    with catalog.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_import_samples_and_reimport_adds_nothing(catalog, sample_copy):
    before = tree_digest(sample_copy)
    report = run_import(catalog, [sample_copy], jobs=1)
    assert len(report.imported) == 10 and not report.skipped
    assert tree_digest(sample_copy) == before  # originals byte-identical
    again = run_import(catalog, [sample_copy], jobs=1)
    assert again.imported == [] and len(again.duplicates) == 10
    assert count(catalog) == 10
    with catalog.session() as s:
        img = s.scalar(select(Image).where(Image.filename == "immich_portrait-orientation-6.jpg"))
        assert (img.orientation, img.width, img.height) == (6, 840, 700)  # as displayed
        gps = s.scalar(select(Image).where(Image.filename == "immich_thompson-springs.jpg"))
        assert gps.gps_lat == pytest.approx(39.115, abs=1e-3) and gps.gps_lon < 0
        for i in s.scalars(select(Image)):
            assert derivative_path(catalog.cache_dir, "thumb", i.content_hash).exists()
            assert derivative_path(catalog.cache_dir, "preview", i.content_hash).exists()


def test_parallel_import_matches_serial(catalog, sample_copy):
    report = run_import(catalog, [sample_copy], jobs=2)
    assert len(report.imported) == 10
    with catalog.session() as s:
        assert s.scalar(select(ImportSession)).status == "completed"


def test_moved_file_is_found_again_not_duplicated(catalog, sample_copy, tmp_path):
    run_import(catalog, [sample_copy], jobs=1)
    with catalog.session() as s:
        img = s.scalar(select(Image).where(Image.filename == "mpl_grace_hopper.jpg"))
        image_id = img.id
    new_home = tmp_path / "renamed folder"
    new_home.mkdir()
    shutil.move(sample_copy / "mpl_grace_hopper.jpg", new_home / "hopper ünïcode.jpg")
    report = run_import(catalog, [new_home], jobs=1)
    assert report.moved == [image_id] and report.imported == []
    with catalog.session() as s:
        assert s.get(Image, image_id).path == str(new_home / "hopper ünïcode.jpg")
    assert count(catalog) == 10


def test_bad_files_are_reported_and_the_batch_goes_on(catalog, tmp_path, samples_dir):
    shoot = tmp_path / "card"
    shoot.mkdir()
    good = shutil.copy(samples_dir / "mpl_grace_hopper.jpg", shoot / "good one.jpg")
    (shoot / "zero.jpg").write_bytes(b"")
    truncate(samples_dir / "immich_prairie_falcon.jpg", shoot / "truncated.jpg")
    (shoot / "notes.jpg").write_text("this is not a photo")
    make_png_bomb(shoot / "bomb.png")
    (shoot / "broken.cr2").write_bytes(b"II*\x00" + os.urandom(2000))
    loop = shoot / "loop"
    loop.mkdir()
    (loop / "back").symlink_to(shoot, target_is_directory=True)
    before = tree_digest(shoot)
    progress = RecordingProgress()
    report = run_import(catalog, [shoot], recursive=True, jobs=1, progress=progress)
    reasons = dict(report.skipped)
    assert len(report.imported) == 1
    with catalog.session() as s:
        assert s.get(Image, report.imported[0]).path == str(good)
    assert "empty file" in reasons[str(shoot / "zero.jpg")]
    assert "truncated" in reasons[str(shoot / "truncated.jpg")] or "corrupt" in reasons[str(shoot / "truncated.jpg")]
    assert "not a readable image" in reasons[str(shoot / "notes.jpg")]
    assert "too large" in reasons[str(shoot / "bomb.png")] or "absurd" in reasons[str(shoot / "bomb.png")]
    assert "RAW" in reasons[str(shoot / "broken.cr2")]
    assert any("symlink loop" in r for r in reasons.values())
    # every problem is one line naming the file, also recorded in the session
    messages = [e[1] for e in progress.events if e[0] == "message"]
    assert all("\n" not in m and m.split(": ", 1)[0] in reasons for m in messages)
    assert count(catalog, ImportProblem) == len(report.skipped)
    assert tree_digest(shoot) == before


def test_unreadable_file_is_reported(catalog, tmp_path, samples_dir, monkeypatch):
    # Tests run as root in CI, where chmod 000 does not stop reads: make the access check say no.
    photo = shutil.copy(samples_dir / "mpl_grace_hopper.jpg", tmp_path / "locked.jpg")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(photo) else real_access(p, mode))
    report = run_import(catalog, [tmp_path], jobs=1)
    assert report.skipped == [(str(photo), "permission denied")]


def test_raw_dng_jpeg_pair_becomes_one_image_with_sidecar(catalog, tmp_path, samples_dir):
    dng = make_dng(tmp_path / "IMG_0001.dng")
    jpg = shutil.copy(samples_dir / "mpl_grace_hopper.jpg", tmp_path / "IMG_0001.JPG")
    make_dng(tmp_path / "IMG_0002.dng", seed=3)
    report = run_import(catalog, [tmp_path], jobs=1)
    assert len(report.imported) == 2, report.skipped
    with catalog.session() as s:
        pair = s.scalar(select(Image).where(Image.filename == "IMG_0001.dng"))
        assert pair.format == "raw-dng" and (pair.width, pair.height) == (256, 192)
        assert pair.camera_make == "Synthetic"
        assert [sc.path for sc in pair.sidecars] == [str(jpg)]
        assert s.scalar(select(func.count()).select_from(Sidecar)) == 1
    assert dng.exists()


def test_16bit_tiff_and_heic_import(catalog, tmp_path):
    make_tiff16(tmp_path / "scan.tif")
    make_heic(tmp_path / "phone.heic")
    report = run_import(catalog, [tmp_path], jobs=1)
    assert len(report.imported) == 2, report.skipped
    with catalog.session() as s:
        assert sorted(i.format for i in s.scalars(select(Image))) == ["heic", "tiff"]


def test_cancelled_import_is_consistent_and_rerun_completes(catalog, sample_copy):
    done = []
    progress = Progress(on_advance=lambda n, item: done.append(item), cancelled=lambda: len(done) >= 3)
    first = run_import(catalog, [sample_copy], jobs=1, progress=progress)
    assert first.interrupted and len(first.imported) == 3
    with catalog.session() as s:
        assert s.scalar(select(ImportSession)).status == "interrupted"
    second = run_import(catalog, [sample_copy], jobs=1)
    assert len(second.imported) == 7 and len(second.duplicates) == 3
    assert count(catalog) == 10


def test_copy_to_template_makes_date_folders(catalog, sample_copy, tmp_path):
    library = tmp_path / "Library"
    report = run_import(catalog, [sample_copy / "immich_el_torcal_rocks.jpg"], copy_to=library,
                        template="{date:%Y/%Y-%m-%d}/{name}", jobs=1)
    assert len(report.imported) == 1
    copied = library / "2012" / "2012-08-05" / "immich_el_torcal_rocks.jpg"
    assert copied.read_bytes() == (sample_copy / "immich_el_torcal_rocks.jpg").read_bytes()
    with catalog.session() as s:
        assert s.scalar(select(Image)).path == str(copied)
    again = run_import(catalog, [sample_copy / "immich_el_torcal_rocks.jpg"], copy_to=library, jobs=1)
    assert again.imported == [] and len(list(library.rglob("*.jpg"))) == 1
