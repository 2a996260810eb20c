"""core/files: the one atomic writer, its checks and the sweep of abandoned temp files."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from conftest import SAMPLES
from maskroom.core import files as F
from maskroom.engine.export.job import ExportSettings, master_version_ids, run_export
from maskroom.engine.importer import run_import


def _jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 96, 3), np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


def _png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 96, 3), np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def _tiff_bytes() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(2).integers(0, 255, (64, 96, 3), np.uint8)).save(buf, "TIFF")
    return buf.getvalue()


@pytest.mark.parametrize("make", [_jpeg_bytes, _png_bytes, _tiff_bytes])
def test_verify_image_accepts_whole_files_and_refuses_truncated_ones(tmp_path, make):
    data = make()
    whole = tmp_path / "whole"
    whole.write_bytes(data)
    F.verify_image(whole)
    cut = tmp_path / "cut"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(Exception):
        F.verify_image(cut)


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path):
    target = tmp_path / "a.jpg"
    target.write_bytes(b"old")
    with pytest.raises(F.FileWriteError, match="a.jpg: cannot write"):
        F.atomic_write_bytes(target, b"not a jpeg", verify=F.verify_image)
    assert target.read_bytes() == b"old"  # the previous file stays whole
    with pytest.raises(RuntimeError):
        with F.atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("writer died")
    assert target.read_bytes() == b"old"
    data = _jpeg_bytes()
    F.atomic_write_bytes(target, data, verify=F.verify_image)
    assert target.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg"]  # no temp file left


def test_an_empty_result_is_refused(tmp_path):
    with pytest.raises(F.FileWriteError, match="empty"):
        F.atomic_write_bytes(tmp_path / "x.bin", b"")
    assert list(tmp_path.iterdir()) == []


def test_written_file_gets_ordinary_permissions(tmp_path):
    path = F.atomic_write_bytes(tmp_path / "x.txt", b"hi")
    assert path.stat().st_mode & 0o777 == 0o666 & ~F._UMASK


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_sweep_removes_only_abandoned_temp_files(tmp_path):
    host = F._HOST
    dead = tmp_path / f"{F.TEMP_PREFIX}{host}-{_dead_pid()}-abcd1234-photo.jpg"
    live = tmp_path / f"{F.TEMP_PREFIX}{host}-{os.getpid()}-abcd1234-photo.jpg"
    old_export = tmp_path / ".export-k2j3h4.jpg"  # what a killed export left before
    fresh_export = tmp_path / ".export-zzzzzz.jpg"
    photo = tmp_path / "photo.jpg"
    for p in (dead, live, old_export, fresh_export, photo):
        p.write_bytes(b"x")
    hours_ago = time.time() - 2 * F.STALE_SECONDS
    os.utime(old_export, (hours_ago, hours_ago))
    removed = F.sweep_stale_temps(tmp_path)
    assert sorted(removed) == sorted([dead, old_export])
    assert live.exists() and fresh_export.exists() and photo.exists()


@pytest.mark.catalog
def test_export_sweeps_temp_files_a_killed_export_left(catalog, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    left = out / ".export-q8w7e6.jpg"
    left.write_bytes(b"\xff\xd8half a jpeg")
    hours_ago = time.time() - 2 * F.STALE_SECONDS
    os.utime(left, (hours_ago, hours_ago))
    ids = run_import(catalog, [SAMPLES / "immich_cyclamen_persicum.jpg"], jobs=1).imported
    with catalog.session() as s:
        versions = master_version_ids(s, ids)
    report = run_export(catalog, versions, out, ExportSettings())
    assert report.failed == []
    assert sorted(p.name for p in out.iterdir()) == ["immich_cyclamen_persicum.jpg"]


def test_cache_sweep_runs_now_and_then(tmp_path):
    dead = tmp_path / "thumbs" / "ab" / f"{F.TEMP_PREFIX}{F._HOST}-{_dead_pid()}-0000-ab.jpg"
    dead.parent.mkdir(parents=True)
    dead.write_bytes(b"x")
    assert F.sweep_tree_now_and_then(tmp_path) == [dead]
    dead.write_bytes(b"x")
    assert F.sweep_tree_now_and_then(tmp_path) == []  # swept a moment ago: not again yet
    assert dead.exists()


def test_a_replaced_file_keeps_its_mode(tmp_path):
    path = tmp_path / "IMG_1.xmp"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    F.atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new" and path.stat().st_mode & 0o777 == 0o600
