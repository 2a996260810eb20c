"""The watch folder: files written slowly (partial writes, renames) are imported
exactly once, only when complete; own outputs are ignored; the folder may vanish."""
from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from maskroom.catalog.schema import Image
from maskroom.engine.watch import FolderWatcher, WatchOptions, is_ignored_name
from sync_frames import camera_move, load_sample, write_jpeg

pytestmark = pytest.mark.catalog

SETTLE = 0.6


def _photos(tmp_path: Path, n: int) -> list[bytes]:
    base = load_sample()
    out = []
    for i in range(n):
        p = write_jpeg(tmp_path / "src" / f"p{i}.jpg", camera_move(base[::2, ::2], dx=i * 3, dy=-i)[0])
        out.append(p.read_bytes())
    return out


def _count(catalog) -> int:
    with catalog.session() as s:
        return s.scalar(select(func.count()).select_from(Image))


def _paths(catalog) -> list[str]:
    with catalog.session() as s:
        return sorted(Path(p).name for p in s.scalars(select(Image.path)))


def _run(watcher: FolderWatcher, until, timeout=30.0):
    t0 = time.monotonic()
    th = threading.Thread(target=watcher.run, kwargs={"until": lambda: until() or time.monotonic() - t0 > timeout})
    th.start()
    return th


def test_ignored_names():
    for name in ["a.jpg.part", "a.jpg.tmp", "a.jpg~", ".a.jpg", "~$a.jpg", "a.jpg.crdownload", "notes.txt",
                 "a.jpg.part-1", ".~lock.a.jpg#"]:
        assert is_ignored_name(Path(name)), name
    for name in ["a.jpg", "IMG_0001.CR2", "x.party.jpg"]:
        assert not is_ignored_name(Path(name)), name


def test_slow_writes_and_renames_import_exactly_once(catalog, tmp_path):
    data = _photos(tmp_path, 4)
    watched = tmp_path / "in"
    watched.mkdir()
    # Already there before the watcher starts: caught up by the start scan.
    (watched / "early.jpg").write_bytes(data[0])
    logs: list[str] = []
    w = FolderWatcher(catalog, [watched], WatchOptions(settle=SETTLE, poll=0.1), log=logs.append)
    done = threading.Event()

    def writer():
        # 1) written slowly in chunks under its final name, pausing less than settle.
        with open(watched / "slow.jpg", "wb") as f:
            for i in range(0, len(data[1]), 4096):
                f.write(data[1][i:i + 4096])
                f.flush()
                time.sleep(0.02)
        # 2) written as .part, then renamed to the final name.
        part = watched / "renamed.jpg.part"
        with open(part, "wb") as f:
            half = len(data[2]) // 2
            f.write(data[2][:half])
            f.flush()
            time.sleep(SETTLE * 1.5)  # a partial file that sits still longer than settle
            f.write(data[2][half:])
        part.rename(watched / "renamed.jpg")
        # 3) a lock file and a temp file: never imported.
        (watched / "~$lock.jpg").write_bytes(b"lock")
        (watched / "x.jpg.tmp").write_bytes(data[3])
        # 4) the same photo written twice under the same name (touched again).
        (watched / "twice.jpg").write_bytes(data[3])
        time.sleep(0.1)
        (watched / "twice.jpg").write_bytes(data[3])
        done.set()

    th = threading.Thread(target=writer)
    th.start()
    wt = _run(w, lambda: done.is_set() and _count(catalog) >= 4 and not w.pending)
    th.join()
    wt.join()
    assert _paths(catalog) == ["early.jpg", "renamed.jpg", "slow.jpg", "twice.jpg"]
    assert len(w.imported) == 4
    assert sum(1 for line in logs if line.startswith("imported ")) == 4
    assert not [line for line in logs if "skipped" in line]  # nothing was tried half-written
    # Watching again (a restart) imports nothing new.
    again = FolderWatcher(catalog, [watched], WatchOptions(settle=SETTLE, poll=0.1), log=logs.append)
    assert again.run_once(timeout=10) == []
    assert _count(catalog) == 4


def test_burst_of_files_and_own_outputs_ignored(catalog, tmp_path):
    data = _photos(tmp_path, 3)
    watched = tmp_path / "in"
    (watched / "sub").mkdir(parents=True)
    export_dir = watched / "exports"
    export_dir.mkdir()
    for i in range(60):  # a burst: the same 3 frames under 60 names (duplicates dedupe by content)
        (watched / "sub" / f"b{i:03d}.jpg").write_bytes(data[i % 3])
    (export_dir / "exported.jpg").write_bytes(data[0] + b"\0")  # our own export: never imported
    w = FolderWatcher(catalog, [watched], WatchOptions(recursive=True, settle=SETTLE, poll=0.1,
                                                       ignore=[export_dir]), log=lambda m: None)
    ids = w.run_once(timeout=20)
    assert len(ids) == 3 and _count(catalog) == 3
    assert not any("exported" in p for p in _paths(catalog))


def test_folder_deleted_and_recreated(catalog, tmp_path):
    data = _photos(tmp_path, 2)
    watched = tmp_path / "in"
    watched.mkdir()
    logs: list[str] = []
    w = FolderWatcher(catalog, [watched], WatchOptions(settle=SETTLE, poll=0.1), log=logs.append)
    state = {"phase": 0}

    def actor():
        time.sleep(0.5)
        shutil.rmtree(watched)
        time.sleep(1.5)
        watched.mkdir()
        (watched / "after.jpg").write_bytes(data[1])
        state["phase"] = 1

    th = threading.Thread(target=actor)
    th.start()
    wt = _run(w, lambda: state["phase"] == 1 and _count(catalog) >= 1 and not w.pending)
    th.join()
    wt.join()
    assert _paths(catalog) == ["after.jpg"]
    assert any("gone" in line for line in logs)


def test_cli_watch_imports_and_stops_cleanly_on_ctrl_c(catalog, catalog_location, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    data = _photos(tmp_path, 1)
    watched = tmp_path / "in"
    watched.mkdir()
    env = {**os.environ, "MASKROOM_CATALOG": str(catalog_location.sqlite_path or catalog_location.url),
           "PYTHONUNBUFFERED": "1"}
    # As from a terminal: Ctrl-C's default disposition.  A test run started in the
    # background (`cmd &` in a script) has SIGINT ignored, and a child inherits that.
    proc = subprocess.Popen([sys.executable, "-m", "maskroom", "watch", str(watched), "--settle", "0.3"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines = []
    try:
        lines.append(proc.stdout.readline())
        assert lines[0].startswith("watching"), lines
        (watched / "new.jpg").write_bytes(data[0])
        lines.append(proc.stdout.readline())
        assert lines[-1].startswith("imported ") and "new.jpg" in lines[-1], lines
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            raise AssertionError(f"watch did not stop on Ctrl-C; it printed: {lines} {out!r}") from None
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, (lines, out)
    assert "stopped: 1 imported" in out
    assert _paths(catalog) == ["new.jpg"]
