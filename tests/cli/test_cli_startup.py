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


# -- the command server (maskroom/launcher.py, maskroom/cli/server.py) ---------------------

def _maskroom(args, env, cwd):
    return subprocess.run([sys.executable, "-m", "maskroom", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def server_env(tmp_path):
    import os

    env = {**os.environ, "MASKROOM_RUNTIME_DIR": str(tmp_path / "run"), "MASKROOM_SERVER": "1",
           "MASKROOM_SERVER_CPU_LOG": str(tmp_path / "answered.log")}
    yield env
    _stop_servers_of(env["MASKROOM_RUNTIME_DIR"])


def _stop_servers_of(run_dir: str) -> None:
    """Stop the command server this test left: only the one started with its runtime folder
    (a user's own server in the same account is not touched)."""
    import os
    import signal
    from pathlib import Path

    mark = f"MASKROOM_RUNTIME_DIR={run_dir}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if b"maskroom.cli.server" in (proc / "cmdline").read_bytes() and mark in (proc / "environ").read_bytes():
                os.kill(int(proc.name), signal.SIGTERM)
        except (OSError, ProcessLookupError):  # gone meanwhile, or not ours to read
            continue


def _wait_for_socket(run_dir, timeout=60.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if list(run_dir.glob("*.sock")):
            return True
        time.sleep(0.05)
    return False


def test_quick_commands_are_answered_by_the_command_server(small, tmp_path, server_env):
    """The first quick command runs in its own process and leaves a server; the next ones
    are run by it, with the caller's working folder, environment, output and exit status."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "cat.sqlite").write_bytes(small.read_bytes())
    log = tmp_path / "answered.log"
    first = _maskroom(["--catalog", "cat.sqlite", "ls"], server_env, work)  # a relative path: the caller's cwd
    assert first.returncode == 0 and "a.jpg" in first.stdout and not log.exists()
    assert _wait_for_socket(tmp_path / "run"), "no server was left behind"

    alone = _maskroom(["--catalog", "cat.sqlite", "ls", "--json"], {**server_env, "MASKROOM_SERVER": "0"}, work)
    served = _maskroom(["--catalog", "cat.sqlite", "ls", "--json"], server_env, work)
    assert served.returncode == 0 and served.stdout == alone.stdout and served.stderr == alone.stderr
    assert len(log.read_text().split()) == 1  # the server answered it
    assert _maskroom(["--catalog", "cat.sqlite", "rate", "4", "1"], server_env, work).stdout == "rated 1 image(s) 4\n"
    shown = json.loads(_maskroom(["--catalog", "cat.sqlite", "show", "1", "--json"], server_env, work).stdout)
    assert shown["rating"] == 4
    bad = _maskroom(["--catalog", "cat.sqlite", "show", "99"], server_env, work)
    assert bad.returncode == 1 and bad.stderr.strip() == "Error: no image with id 99" and bad.stdout == ""
    env_catalog = _maskroom(["ls"], {**server_env, "MASKROOM_CATALOG": str(work / "cat.sqlite")}, tmp_path)
    assert "a.jpg" in env_catalog.stdout  # the caller's environment, not the server's
    assert len(log.read_text().split()) == 5
    # Other commands never go to the server.
    assert "1 problem(s)" in _maskroom(["--catalog", "cat.sqlite", "catalog", "check"], server_env, work).stdout
    assert len(log.read_text().split()) == 5


def test_a_server_from_older_code_hands_the_command_back(tmp_path, monkeypatch):
    """The server compares the mtimes of the maskroom files it imported with those on
    disk: after an upgrade or an edit it is stale, answers "run it yourself" and leaves."""
    import importlib

    from maskroom.cli.server import code_stamp

    probe = tmp_path / "maskroom_stamp_probe.py"
    probe.write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("maskroom_stamp_probe")
    try:
        before = code_stamp()
        import os

        os.utime(probe, (before + 10, before + 10))
        assert code_stamp() == before + 10
    finally:
        import sys as _sys

        _sys.modules.pop("maskroom_stamp_probe", None)


def test_only_quick_commands_go_to_a_server():
    from maskroom.launcher import _quick

    assert _quick(["ls"]) and _quick(["--catalog", "x.sqlite", "rate", "3", "1"]) and _quick(["--catalog=x", "show", "1"])
    assert not _quick(["import", "dir"]) and not _quick(["ls", "--help"]) and not _quick([]) and not _quick(["ui"])
    assert not _quick(["--catalog", "ls"])  # "ls" is the catalog's name there, not a command
