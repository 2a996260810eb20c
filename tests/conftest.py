"""Shared fixtures.

``catalog`` opens a fresh catalog: an SQLite file in a temp folder, or, when
``MASKROOM_TEST_DB`` names a PostgreSQL URL (scripts/test.sh sets it for the second
run), a freshly emptied PostgreSQL database.  Tests that use it and are marked
``catalog`` run on both.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from maskroom.catalog import Catalog
from maskroom.core.config import CatalogLocation, resolve_catalog

TESTS = Path(__file__).resolve().parent  # the tests mirror the source layout below it
DATA = TESTS / "data"  # small files the tests need (a clone without ../shared still passes)
SAMPLES = TESTS.parent / "maskroom" / "data" / "samples"
TEST_DB = os.environ.get("MASKROOM_TEST_DB")
# `maskroom` run as a process by a test never starts a command server (maskroom/launcher.py)
# that would outlive the test; tests/cli/test_command_server.py turns it on where it is tested.
os.environ["MASKROOM_SERVER"] = "0"


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def catalog_location(tmp_path) -> CatalogLocation:
    if TEST_DB:
        _empty_postgres(TEST_DB)
        return CatalogLocation(url=TEST_DB, cache_dir=tmp_path / "cache", sqlite_path=None)
    return resolve_catalog(tmp_path / "catalog.sqlite")


@pytest.fixture
def catalog(catalog_location):
    cat = Catalog.open(catalog_location)
    yield cat
    cat.close()


@pytest.fixture
def samples_dir() -> Path:
    return SAMPLES


@pytest.fixture
def sample_copy(tmp_path) -> Path:
    """A writable copy of the shipped sample photos (tests must not touch the package)."""
    dest = tmp_path / "shoot"
    shutil.copytree(SAMPLES, dest, ignore=shutil.ignore_patterns("*.md"))
    return dest


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def tree_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file under a folder: compare before/after to prove originals untouched."""
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def add_missing_photos(catalog, names, folder: str = "/nonexistent/shoot", capture_times=None) -> list[int]:
    """Catalog rows for photos whose files do not exist (a thumbnail or render of them
    fails, visibly), inserted in one statement: for tests of lists, grids and filters
    at sizes no sample folder has.  Returns their ids in ``names`` order."""
    from sqlalchemy import insert, select

    from maskroom.catalog.schema import Folder, Image

    names = list(names)
    times = list(capture_times) if capture_times is not None else [None] * len(names)
    with catalog.session() as s:
        row = Folder(path=folder)
        s.add(row)
        s.flush()
        s.execute(insert(Image), [dict(folder_id=row.id, filename=name, path=f"{folder}/{name}", file_size=1,
                                       mtime=0.0, content_hash=f"{i:032x}", format="jpeg", width=600, height=400,
                                       capture_time=t)
                                  for i, (name, t) in enumerate(zip(names, times))])
        by_name = dict(s.execute(select(Image.filename, Image.id).where(Image.folder_id == row.id)).all())
    return [by_name[name] for name in names]


def run_cli(catalog, *args, ok: bool = True):
    """Run `maskroom --catalog <this catalog> ARGS` in-process; with ok, insist on exit 0."""
    from click.testing import CliRunner

    from maskroom.cli import main

    result = CliRunner().invoke(main, ["--catalog", catalog.location.url, *map(str, args)],
                                env={"MASKROOM_CACHE": str(catalog.cache_dir)})
    if ok:
        assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def user_models(tmp_path, monkeypatch):
    """An empty user model folder (MASKROOM_MODELS_DIR), with the session cache cleared around it."""
    from maskroom.engine.masks import model_store

    d = tmp_path / "models"
    monkeypatch.setenv(model_store.ENV_MODELS_DIR, str(d))
    model_store.clear_sessions()
    yield d
    model_store.clear_sessions()


@pytest.fixture
def exiftool() -> str:
    """exiftool's path: the reference for EXIF tests (scripts/test.sh installs it)."""
    path = shutil.which("exiftool")
    if path is None:
        pytest.fail("exiftool is required: apt-get install libimage-exiftool-perl (scripts/test.sh does)")
    return path
