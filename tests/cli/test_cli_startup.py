"""CLI start-up: catalog-only commands import neither Alembic nor the image engine.

The time itself is measured by bench/cli_startup.py; this checks what makes it:
the schema check at head without Alembic, and commands loaded one module at a time.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from maskroom.catalog import Catalog
from maskroom.catalog.database import fast_head_revision, stored_revision

HEAVY = ("alembic", "cv2", "numpy", "onnxruntime", "distributed", "PIL", "scipy")


def _modules_after(catalog_path, *args) -> tuple[list[str], str]:
    code = (
        "import json, sys\n"
        "from maskroom.cli import main\n"
        f"try:\n    main({['--catalog', str(catalog_path), *args]!r}, standalone_mode=False)\n"
        "except SystemExit:\n    pass\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    *printed, last = out.strip().splitlines()
    return json.loads(last), "\n".join(printed)


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.sqlite"
    with Catalog.open(path) as cat:
        from maskroom.catalog.schema import Folder, Image

        with cat.session() as s:
            s.add(Image(folder=Folder(path="/p"), filename="a.jpg", path="/p/a.jpg", file_size=1, mtime=0.0,
                        content_hash="h", format="jpeg", width=4, height=3))
    return path


def test_the_fast_head_is_alembics_head(catalog):
    assert fast_head_revision() == catalog.head_revision()
    assert stored_revision(catalog.engine) == catalog.current_revision() == catalog.head_revision()
    assert not catalog.needs_upgrade()


@pytest.mark.parametrize("args", [("ls",), ("show", "1"), ("rate", "3", "1"), ("flag", "pick", "1"),
                                  ("tag", "add", "Travel", "1")])
def test_catalog_commands_import_nothing_heavy(small, args):
    heavy, printed = _modules_after(small, *args)
    assert heavy == []
    if args == ("ls",):
        assert "a.jpg" in printed  # the command did run


def test_a_command_outside_the_index_still_loads(small):
    heavy, printed = _modules_after(small, "--help")
    assert "export" in printed and "sync" in printed and "cluster" in printed


def test_an_old_catalog_is_still_upgraded(tmp_path):
    from alembic import command

    from maskroom.catalog.database import alembic_config, make_engine
    from maskroom.core.config import resolve_catalog

    location = resolve_catalog(tmp_path / "old.sqlite")
    engine = make_engine(location)
    command.upgrade(alembic_config(engine), "0001")  # a catalog made by the first release
    assert stored_revision(engine) == "0001"
    engine.dispose()
    with Catalog.open(location) as cat:
        assert stored_revision(cat.engine) == fast_head_revision() == cat.head_revision() != "0001"
