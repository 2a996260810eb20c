"""Two imports of one folder at once: each photo is catalogued once, both runs end cleanly."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image as PILImage
from sqlalchemy import func, select

from maskroom.catalog.schema import Image, ImportSession
from maskroom.engine import importer

pytestmark = pytest.mark.catalog


def write_shoot(folder, n: int, size=(240, 320)):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    for i in range(n):  # distinct content: the importer dedupes by hash
        PILImage.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(folder / f"IMG_{i:03d}.jpg")
    return folder


def test_two_imports_of_one_folder_at_once(catalog, tmp_path):
    shoot = write_shoot(tmp_path / "card", 12)
    env = {**os.environ, "MASKROOM_CATALOG": catalog.location.url, "MASKROOM_CACHE": str(catalog.cache_dir)}
    cmd = [sys.executable, "-m", "maskroom", "import", str(shoot), "--jobs", "1"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0 and "Traceback" not in err, err
    with catalog.session() as s:
        assert s.scalar(select(func.count(Image.id))) == 12
        assert s.scalar(select(func.count(func.distinct(Image.path)))) == 12
        sessions = s.execute(select(ImportSession.status, ImportSession.imported, ImportSession.duplicates)).all()
    assert [st for st, _, _ in sessions] == ["completed", "completed"]
    assert sum(n for _, n, _ in sessions) == 12  # each photo imported by exactly one of them
    assert sum(d for _, _, d in sessions) == 12  # ... and a duplicate for the other


def test_an_import_that_dies_is_not_recorded_completed(catalog, tmp_path, monkeypatch):
    shoot = write_shoot(tmp_path / "card", 3)
    real = importer._record
    calls = []

    def dies_on_the_second(*args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(*args)

    monkeypatch.setattr(importer, "_record", dies_on_the_second)
    with pytest.raises(RuntimeError):
        importer.run_import(catalog, [shoot], jobs=1)
    with catalog.session() as s:
        assert s.scalar(select(ImportSession.status)) == "failed"
        assert s.scalar(select(func.count(Image.id))) == 1
