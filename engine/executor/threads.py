"""Threads inside one item of work: the strips of a render, a model beside another.

The batch executor (``base``, ``local``) runs many images in worker processes; this
module shares the cores a process may use among the pieces of *one* image:

- ``for_each``: the strips of a render (a pointwise run, a masked layer's blend, a
  neighbourhood op's per-pixel pass) are independent, and numpy's and OpenCV's
  kernels release the GIL, so a slider's re-render of a 2 MP preview uses every core
  instead of one;
- ``start``: a model run (the sky's U²-Netp) goes on in the background while the
  caller runs another model and the work that needs neither.

How many threads (``count``): OpenCV's thread count, which the batch executor sets to
its share of the cores in each worker process (``base.cap_threads``): ``export --jobs
2`` on 2 cores runs each render on one thread, as before, instead of four threads
fighting over two cores.  One pool serves both; a strip function that itself runs
strips does them on its own thread (the pool never waits on itself).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor

import cv2

MAX_THREADS = 8  # past this the strips (about 16 at 2 MP) are too few to share out
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()
_inside = threading.local()


STRIP_PIXELS = 1 << 18  # pixels per strip: a few MB per float32 temporary, many strips to share out


def row_strips(h: int, w: int, pixels: int | None = None):
    """Row slices of about ``pixels`` (STRIP_PIXELS) pixels each, at least 8 rows, covering h rows."""
    rows = max(8, (pixels or STRIP_PIXELS) // max(1, w))
    for y in range(0, h, rows):
        yield slice(y, min(h, y + rows))


def count() -> int:
    """Threads the pieces of one item may use now."""
    return max(1, min(MAX_THREADS, cv2.getNumThreads()))


def start(fn: Callable, *args) -> Future:
    """``fn(*args)`` running on the pool (``.result()`` waits for it), the pool grown to
    ``count()`` threads (at least 2: a background model run and a render's strips at
    once) if smaller.  Submitted under the lock: a pool another caller just replaced is
    never handed a task."""
    global _pool, _pool_size
    with _pool_lock:
        n = max(2, count())
        if _pool is None or _pool_size < n:
            # the old pool's threads finish what they hold and end; nothing waits on them
            old, _pool, _pool_size = _pool, ThreadPoolExecutor(n, thread_name_prefix="maskroom-work"), n
            if old is not None:
                old.shutdown(wait=False)
        return _pool.submit(fn, *args)


class Later:
    """``fn(*args)`` run in the caller when its result is asked for (never, if not): what
    ``start`` is in a process allowed one thread (a batch worker)."""

    def __init__(self, fn: Callable, *args):
        self._fn, self._args = fn, args

    def result(self):
        return self._fn(*self._args)


def for_each(fn: Callable[[object], None], items: Iterable) -> None:
    """``fn(item)`` for every item (strips writing disjoint rows of their outputs), on up
    to ``count()`` threads, the caller's one of them.  Returns when all are done; the
    first exception raised is raised here, after the other threads have stopped."""
    items = list(items)
    n = min(count(), len(items))
    if n <= 1 or getattr(_inside, "active", False):
        for item in items:
            fn(item)
        return
    queue = iter(items)
    lock = threading.Lock()
    failed: list[BaseException] = []

    def drain() -> None:
        _inside.active = True
        try:
            while not failed:
                with lock:
                    item = next(queue, _END)
                if item is _END:
                    return
                try:
                    fn(item)
                except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
                    failed.append(exc)
        finally:
            _inside.active = False

    helpers = [start(drain) for _ in range(n - 1)]
    drain()
    for f in helpers:
        # A helper still queued (the pool busy with a background model run) has nothing
        # left to take: it is called off rather than waited for.
        if not f.cancel():
            f.result()
    if failed:
        raise failed[0]


_END = object()
