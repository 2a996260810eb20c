"""Heap reuse during big renders (glibc only).

A 24 MP render allocates dozens of 100-300 MB temporaries.  glibc serves each from a
fresh ``mmap`` and unmaps it on free, so every temporary pays page faults and kernel
zeroing again: that was ~30 % of a full render's CPU time.  While a big render runs
we ask malloc to serve large blocks from the heap and keep freed memory (so the next
temporary reuses warm pages), then restore the defaults and trim the heap.
Elsewhere (other libcs) this is a no-op.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import threading

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_MAX = -1, -2, -4
_DEFAULTS = {M_TRIM_THRESHOLD: 128 * 1024, M_TOP_PAD: 0, M_MMAP_MAX: 65536}
_lock = threading.Lock()
_depth = 0


def _libc():
    try:
        name = ctypes.util.find_library("c")
        libc = ctypes.CDLL(name) if name else None
        return libc if libc is not None and hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _libc()


@contextlib.contextmanager
def heap_reuse():
    global _depth
    if _LIBC is None:
        yield
        return
    with _lock:
        _depth += 1
        if _depth == 1:
            _LIBC.mallopt(M_MMAP_MAX, 0)
            _LIBC.mallopt(M_TRIM_THRESHOLD, 1 << 30)
            _LIBC.mallopt(M_TOP_PAD, 64 << 20)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                for key, value in _DEFAULTS.items():
                    _LIBC.mallopt(key, value)
                _LIBC.malloc_trim(0)
