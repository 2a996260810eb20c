"""The executor: the same per-item function serially and on a local process pool."""
from __future__ import annotations

import os
import sys

import pytest

from conftest import TESTS

sys.path.insert(0, str(TESTS))  # workers import tests/executor_tasks.py by name

from executor_tasks import count_images, init_offset, square_plus_offset  # noqa: E402

from maskroom.core.progress import Progress  # noqa: E402
from maskroom.engine.executor import LocalExecutor, SerialExecutor, Work, WorkerLost, make_executor  # noqa: E402


@pytest.fixture(autouse=True)
def _tests_on_path(monkeypatch):
    # Spawned / fork-server workers find the tasks module through PYTHONPATH.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))


def _by_item(outcomes):
    return {o.item: o for o in outcomes}


def test_serial_and_pool_give_the_same_values_and_keep_failures_per_item():
    work = Work(square_plus_offset, None, init_offset, (100,))
    items = [1, 2, 3, 4, 6, 7]
    serial = _by_item(SerialExecutor().map(work, items))
    with LocalExecutor(2) as ex:
        pooled = _by_item(ex.map(work, items))
    assert sorted(serial) == sorted(pooled) == items
    for n in items:
        if n == 3:
            assert isinstance(serial[n].error, ValueError) and isinstance(pooled[n].error, ValueError)
            assert "three is bad" in str(pooled[n].error)
        else:
            assert serial[n].value[0] == pooled[n].value[0] == n * n + 100
    pids = {o.value[1] for o in pooled.values() if o.ok}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2  # ran in workers, initialised once each
    assert {o.value[2] for o in pooled.values() if o.ok} <= {"1", os.environ.get("OMP_NUM_THREADS")}


def test_a_dying_worker_loses_only_its_items():
    work = Work(square_plus_offset, None, init_offset, (0,))
    with LocalExecutor(2) as ex:
        out = _by_item(ex.map(work, [5]))
    assert isinstance(out[5].error, WorkerLost)


def test_cancel_stops_submitting():
    seen = []
    progress = Progress(cancelled=lambda: len(seen) >= 2)
    ex = SerialExecutor()
    for o in ex.map(Work(square_plus_offset, None, init_offset, (0,)), range(10), progress):
        seen.append(o)
    assert len(seen) == 2 and ex.cancelled
    seen.clear()
    with LocalExecutor(2) as pool:
        for o in pool.map(Work(square_plus_offset, None, init_offset, (0,)), [1, 2, 4, 6, 7, 8, 9, 10, 11, 12], progress):
            seen.append(o)
        assert pool.cancelled
    assert 2 <= len(seen) < 10


@pytest.mark.catalog
def test_workers_open_the_catalog(catalog):
    with make_executor(catalog, jobs=2) as ex:
        values = sorted(o.value for o in ex.map(Work(count_images, catalog.location), [10, 20]))
    assert values == [10, 20]  # an empty catalog, opened in each worker



def test_no_fork_server_preload_from_a_folder_holding_another_maskroom(tmp_path, monkeypatch):
    """Run from a checkout (README's `pip install .` then `maskroom demo` in the clone),
    ./maskroom is only the CLI folder: the fork server, which imports its preload with the
    current folder first, must not preload (it would take that folder for the package;
    an editable install hides this, a wheel does not)."""
    from maskroom.engine.executor.local import _cwd_shadows_maskroom, _mp_context

    monkeypatch.chdir(tmp_path)
    assert not _cwd_shadows_maskroom()
    (tmp_path / "maskroom").mkdir()
    assert _cwd_shadows_maskroom()
    ctx = _mp_context(Work(square_plus_offset, None, init_offset, (0,)))
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        assert forkserver._forkserver._preload_modules == []
