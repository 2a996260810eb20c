"""Heap reuse during big renders (glibc only).

A 24 MP render allocates dozens of 100-300 MB temporaries.  glibc serves each from a
fresh ``mmap`` and unmaps it on free, so every temporary pays page faults and kernel
zeroing again: that was ~30 % of a full render's CPU time.  While a big render runs
we ask malloc to serve large blocks from the heap and keep freed memory (so the next
temporary reuses warm pages), then go back to the warm state below and trim the heap.
Elsewhere (other libcs) this is a no-op.

Between big renders the heap is kept *warm* (``warm_heap``): an interactive preview
render (a 2 MP slider move) allocates and frees tens of MB of strip temporaries, and
with glibc's defaults the freed top of the heap is given back after each burst, so the
next temporaries are page-faulted in again.  That was most of the CPU time of a slider
move (the colour mixer on a sky: 4,100 page faults and 10.8 of 16 ms a call; 3.6 ms
with the heap kept).  Warm: blocks under 32 MB come from the heap (glibc's own ceiling
for its adaptive threshold) and up to 128 MB of freed heap is kept for reuse.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD, M_MMAP_MAX = -1, -2, -3, -4
# The state between big renders (any mallopt call switches glibc's adaptive thresholds
# off for good, so heap_reuse restores these rather than glibc's static defaults).
WARM = {M_MMAP_THRESHOLD: 32 << 20, M_TRIM_THRESHOLD: 128 << 20, M_TOP_PAD: 0, M_MMAP_MAX: 65536}
_lock = threading.Lock()
_depth = 0
_warm = False


def _libc():
    try:
        name = ctypes.util.find_library("c")
        libc = ctypes.CDLL(name) if name else None
        return libc if libc is not None and hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _libc()


def warm_heap() -> None:
    """Keep freed heap for reuse between renders (once per process; see the module doc)."""
    global _warm
    if _warm or _LIBC is None:
        return
    with _lock:
        if not _warm and _depth == 0:
            for key, value in WARM.items():
                _LIBC.mallopt(key, value)
            _warm = True


@contextlib.contextmanager
def heap_reuse():
    global _depth, _warm
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
                for key, value in WARM.items():
                    _LIBC.mallopt(key, value)
                _warm = True
                _LIBC.malloc_trim(0)


class KeptPerArray:
    """Values kept per live numpy array (or arrays), in least-recently-used order.

    A drag hands the same read-only arrays back on every tick (a preview's cached
    source, a layer image, a mask): what was derived from them is kept under their
    ``id``s, and found again only while a weak reference still reaches those very
    arrays (an ``id`` is reused once an array dies).  Bounded by a number of entries
    (``slots``) and/or their total ``size`` in bytes (``max_bytes``, the newest entry
    always kept).  Thread-safe.
    """

    def __init__(self, slots: int | None = None, max_bytes: int | None = None):
        self.slots, self.max_bytes = slots, max_bytes
        self._d: OrderedDict = OrderedDict()  # key -> (weak refs to the arrays, value, size)
        self._lock = threading.Lock()

    @staticmethod
    def _key(arrays: tuple, extra: tuple) -> tuple:
        return (*(id(a) for a in arrays), *extra)

    def _live(self, key: tuple, arrays: tuple):
        hit = self._d.get(key)
        if hit is not None and all(ref() is a for ref, a in zip(hit[0], arrays)):
            self._d.move_to_end(key)
            return hit
        return None

    def get(self, arrays: tuple, extra: tuple = ()):
        """The value kept for these arrays (and ``extra``), or None."""
        with self._lock:
            hit = self._live(self._key(arrays, extra), arrays)
        return None if hit is None else hit[1]

    def put(self, arrays: tuple, extra: tuple, value, size: int = 0) -> None:
        with self._lock:
            self._store(self._key(arrays, extra), arrays, value, size)

    def setdefault(self, arrays: tuple, extra: tuple, make: Callable[[], object]):
        """The kept value, else ``make()`` kept and returned (one step: for cheap ``make``)."""
        key = self._key(arrays, extra)
        with self._lock:
            hit = self._live(key, arrays)
            if hit is not None:
                return hit[1]
            value = make()
            self._store(key, arrays, value, 0)
            return value

    def _store(self, key: tuple, arrays: tuple, value, size: int) -> None:
        self._d[key] = (tuple(weakref.ref(a) for a in arrays), value, size)
        while self.slots is not None and len(self._d) > self.slots:
            self._d.popitem(last=False)
        while (self.max_bytes is not None and len(self._d) > 1
               and sum(v[2] for v in self._d.values()) > self.max_bytes):
            self._d.popitem(last=False)

    def holds(self, array) -> bool:
        """Whether an entry is kept for ``array`` (tests: nothing kept for a writable one)."""
        with self._lock:
            return any(ref() is array for refs, _v, _s in self._d.values() for ref in refs)

    def __len__(self) -> int:
        return len(self._d)

    def clear(self) -> None:
        with self._lock:
            self._d.clear()
