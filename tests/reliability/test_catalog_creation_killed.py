"""kill -9 while a new catalog is being made: afterwards there is no catalog, or a whole one.

The child process stops after each SQL statement of the creation until the test lets
it go on, so each trial kills it right after a chosen statement (the first table,
half-way through the schema, the revision stamp, after the last statement) rather
than at a moment that depends on the machine's speed.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import inspect

from maskroom.catalog import Catalog, checks

CHILD = textwrap.dedent("""
    import sys
    from sqlalchemy import Engine, event
    from maskroom.catalog import Catalog

    n = 0
    def pause(*_):
        global n
        n += 1
        print(f"stmt {n}", flush=True)
        sys.stdin.readline()

    event.listen(Engine, "after_cursor_execute", pause)
    Catalog.open(sys.argv[1]).close()
    print("done", flush=True)
""")


def _statements(tmp_path, in_place: bool = False) -> int:
    """How many statements a whole creation runs (a trial run, let go each time);
    ``in_place``: of an upgrade of an existing empty file."""
    path = tmp_path / ("count-in-place.sqlite" if in_place else "count.sqlite")
    if in_place:
        path.touch()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    n = 0
    for line in proc.stdout:
        if line.startswith("stmt"):
            n += 1
            proc.stdin.write("\n")
            proc.stdin.flush()
    assert proc.wait(timeout=120) == 0
    return n


def kill_after(path, statement: int) -> None:
    """Start creating ``path`` and SIGKILL the creator right after its ``statement``-th statement."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    seen = 0
    try:
        for line in proc.stdout:
            if line.startswith("stmt"):
                seen += 1
                if seen >= statement:
                    break
                proc.stdin.write("\n")
                proc.stdin.flush()
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert seen == statement, f"the creation ran only {seen} statements"


def assert_none_or_whole(path) -> bool:
    """No catalog file, or one that opens as is, at the newest schema, and passes the checks."""
    if not path.exists():
        return False
    with Catalog.open(path, upgrade=False) as cat:
        assert cat.current_revision() == cat.head_revision(), "a half-made schema"
        assert "images" in inspect(cat.engine).get_table_names()
        assert checks.run_all(cat) == []
    return True


@pytest.mark.slow
def test_kill_during_catalog_creation_leaves_none_or_a_whole_one(tmp_path):
    total = _statements(tmp_path)
    assert total > 20  # the schema's tables and indexes, the revision stamp
    points = sorted({1, 2, total // 4, total // 2, 3 * total // 4, total - 1, total})
    assert len(points) >= 5
    outcomes = []
    for k in points:
        path = tmp_path / f"cat-{k}" / "catalog.sqlite"
        path.parent.mkdir()
        kill_after(path, k)
        outcomes.append((k, assert_none_or_whole(path)))
        # And the catalog can be made afterwards; nothing of the killed try is left.
        with Catalog.open(path) as cat:
            assert cat.current_revision() == cat.head_revision()
        assert sorted(p.name for p in path.parent.iterdir() if not p.name.startswith("catalog.")) == []
    assert any(not whole for _, whole in outcomes)  # kills before the end left nothing


@pytest.mark.slow
def test_kill_during_an_upgrade_in_place_rolls_it_back(tmp_path):
    """An existing (here: empty) SQLite file is upgraded where it is, in one transaction:
    killed half-way, it keeps no table of the half-run migration, and the next open
    upgrades it (before: "table ... already exists")."""
    total = _statements(tmp_path, in_place=True)
    for k in sorted({2, total // 3, 2 * total // 3, total - 1}):
        path = tmp_path / f"up-{k}" / "catalog.sqlite"
        path.parent.mkdir()
        path.touch()  # a catalog file from before any schema: upgraded in place
        kill_after(path, k)
        with Catalog.open(path, upgrade=False) as cat:
            tables = set(inspect(cat.engine).get_table_names())
            assert cat.current_revision() is None and tables <= {"alembic_version"}, sorted(tables)
        with Catalog.open(path) as cat:
            assert cat.current_revision() == cat.head_revision()
            assert checks.run_all(cat) == []
