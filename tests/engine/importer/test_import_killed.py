"""An import killed with SIGKILL leaves a consistent catalog; running it again finishes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image as PILImage
from sqlalchemy import func, select

from maskroom.catalog import Catalog, checks
from maskroom.catalog.schema import Image, ImportSession


@pytest.mark.slow
def test_sigkill_mid_import_then_rerun(tmp_path):
    shoot = tmp_path / "card"
    shoot.mkdir()
    rng = np.random.default_rng(0)
    for i in range(60):  # distinct content: the importer dedupes by hash
        PILImage.fromarray(rng.integers(0, 255, (600, 900, 3), dtype=np.uint8)).save(shoot / f"IMG_{i:03d}.jpg", quality=90)
    db = tmp_path / "cat.sqlite"
    Catalog.create(db).close()  # a catalog at a named path is made on purpose, not by a typo
    env = {**os.environ, "MASKROOM_CATALOG": str(db)}
    cmd = [sys.executable, "-m", "maskroom", "import", str(shoot), "--jobs", "1"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    # Kill once some rows exist but before the end.
    deadline = time.time() + 60
    n = 0
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if db.exists():
            try:
                with Catalog.open(db, upgrade=False) as cat, cat.session() as s:
                    n = s.scalar(select(func.count(Image.id)))
            except Exception:
                continue
            if n >= 5:
                break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 0 < n < 60, "the import ended before it could be killed"
    with Catalog.open(db) as cat:
        assert [f for f in checks.integrity(cat) + checks.orphans(cat)] == []
        with cat.session() as s:
            assert s.scalar(select(ImportSession.status)) == "running"  # it never got to say otherwise
            half = s.scalar(select(func.count(Image.id)))
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with Catalog.open(db) as cat, cat.session() as s:
        assert s.scalar(select(func.count(Image.id))) == 60
        assert f"imported {60 - half}," in done.stdout
