"""Disk full for every writer, on a real small tmpfs (real ENOSPC, not a mock).

Each writer must leave no truncated file under the final name, no temporary file,
count nothing as done, and say so in one line.
"""
from __future__ import annotations

import dataclasses
import shutil
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import SAMPLES
from disk_full import fill, leftovers, small_tmpfs
from maskroom.catalog import Catalog
from maskroom.catalog.edits import get_version, load_recipe, save_recipe
from maskroom.core.files import FileWriteError
from maskroom.engine import thumbnails as T
from maskroom.engine.export.job import ExportSettings, master_version_ids, run_export
from maskroom.engine.imageio.previews import make_derivatives
from maskroom.engine.importer import run_import
from maskroom.engine.masks.cache import write_alpha

PHOTO = "immich_prairie_falcon.jpg"


@pytest.fixture
def full(tmp_path):
    with small_tmpfs(tmp_path / "full") as where:
        yield where


@pytest.fixture
def one_photo(catalog):
    rep = run_import(catalog, [SAMPLES / PHOTO], jobs=1)
    with catalog.session() as s:
        return master_version_ids(s, rep.imported)


@pytest.mark.catalog
@pytest.mark.parametrize("fmt,bits", [("jpeg", 8), ("tiff", 8), ("tiff", 16), ("png", 8), ("png", 16)])
def test_export_on_a_full_disk_leaves_nothing_and_counts_nothing(catalog, one_photo, full, fmt, bits):
    fill(full, leave=8 * 1024)
    report = run_export(catalog, one_photo, full, ExportSettings(format=fmt, bits=bits))
    assert report.exported == []
    assert len(report.failed) == 1
    source, reason = report.failed[0]
    assert "disk full" in reason and "\n" not in reason, reason
    assert leftovers(full) == []  # no truncated export, no hidden temp file


@pytest.mark.catalog
def test_export_with_room_after_a_full_disk_succeeds(catalog, one_photo, full):
    filler = fill(full, leave=8 * 1024)
    assert run_export(catalog, one_photo, full, ExportSettings()).failed
    filler.unlink()
    report = run_export(catalog, one_photo, full, ExportSettings())
    assert report.failed == [] and len(report.exported) == 1
    with Image.open(report.exported[0]) as im:
        im.load()  # complete: decodes to the last byte
    assert leftovers(full) == [Path(report.exported[0]).name]


def test_import_thumbnails_and_previews_on_a_full_disk(tmp_path, full):
    fill(full, leave=8 * 1024)
    with pytest.raises(FileWriteError, match="disk full") as err:
        make_derivatives(SAMPLES / PHOTO, full, "ab" * 32)
    assert "\n" not in str(err.value)
    assert leftovers(full) == []


@pytest.mark.catalog
def test_edited_thumbnail_on_a_full_disk(catalog_location, full):
    cat = Catalog.open(dataclasses.replace(catalog_location, cache_dir=full))
    try:
        image_id = run_import(cat, [SAMPLES / PHOTO], jobs=1).imported[0]
        with cat.session() as s:
            vid = get_version(s, image_id).id
            recipe = load_recipe(s, vid)
            recipe.global_layer.adjustments["exposure"] = 1.0
            save_recipe(s, vid, recipe, "brighter")
        before = leftovers(full)
        fill(full, leave=4 * 1024)
        with pytest.raises(FileWriteError, match="disk full"):
            T.edited_thumbnail(cat, image_id)
        assert leftovers(full) == before  # the import's own thumbnail and preview, nothing new
    finally:
        cat.close()


def test_mask_raster_on_a_full_disk(full):
    fill(full, leave=4 * 1024)
    rng = np.random.default_rng(0)
    alpha = rng.random((400, 600)).astype(np.float32)  # noise: ~1 MB of PNG, far over the room left
    target = full / "masks" / "1" / "raster.png"
    with pytest.raises(FileWriteError, match="disk full"):
        write_alpha(target, alpha)
    assert not target.exists()
    assert leftovers(full) == []


@pytest.mark.catalog
def test_catalog_backup_on_a_full_disk(catalog, one_photo, full):
    if not catalog.location.is_sqlite:
        pytest.skip("backups are SQLite's; a server catalog uses pg_dump")
    size = os.path.getsize(catalog.location.sqlite_path)
    fill(full, leave=max(4096, size // 4))
    dest = full / "backup.sqlite"
    with pytest.raises(FileWriteError, match="disk full"):
        catalog.backup(dest)
    assert not dest.exists()
    assert leftovers(full) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root (CI runs as root)")
def test_import_into_a_catalog_on_a_full_disk_says_so_and_keeps_it_whole(full, tmp_path):
    """The catalog file itself on a full disk (issue 13, defect 8): one line, exit 1, and
    the catalog is as it was once space is back."""
    from click.testing import CliRunner

    from maskroom.catalog import Catalog, checks
    from maskroom.cli import main

    path = full / "catalog.sqlite"
    Catalog.create(path).close()
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    shutil.copy(SAMPLES / PHOTO, shoot / PHOTO)
    filler = fill(full, leave=4 * 1024)
    r = CliRunner().invoke(main, ["--catalog", str(path), "import", str(shoot), "--jobs", "1"],
                           env={"MASKROOM_CACHE": str(tmp_path / "cache")})
    assert r.exit_code != 0
    assert "Traceback" not in r.output and "disk full" in r.output, r.output
    filler.unlink()
    with Catalog.open(path, upgrade=False) as cat:
        assert [f for f in checks.run_all(cat) if f.kind != "cache"] == []
