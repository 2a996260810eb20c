"""A real full disk for tests: a small tmpfs mounted for the test, filled to a margin.

Mounting needs root (CI runs the suite as root); elsewhere the tests that use it skip.
"""
from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from pathlib import Path

import pytest

FILLER = "filler.bin"


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str = "8m"):
    if os.geteuid() != 0:
        pytest.skip("disk-full tests mount a tmpfs, which needs root (CI runs as root)")
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(folder: Path, leave: int = 16 * 1024) -> Path:
    """Fill the file system of ``folder`` up to ``leave`` free bytes (rounded to pages)."""
    filler = folder / FILLER
    with open(filler, "ab") as fh:
        block = b"\0" * (64 * 1024)
        while True:
            try:
                fh.write(block)
                fh.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                break
    st = os.statvfs(folder)
    size = filler.stat().st_size
    free = st.f_bavail * st.f_frsize
    os.truncate(filler, max(0, size - max(0, leave - free)))
    return filler


def leftovers(folder: Path) -> list[str]:
    """Every file under ``folder`` except the filler: temp files show up here."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != FILLER)
