"""The strips of one render on a few threads.

The pipeline already works strip by strip (a few MB per temporary); the strips of a
pointwise run, or of a neighbourhood op's per-pixel pass, are independent, and numpy's
and OpenCV's kernels release the GIL, so a slider's re-render of a 2 MP preview can
use every core the process may use instead of one.

How many threads: OpenCV's thread count (``cv2.getNumThreads()``), which the batch
executor sets to its share of the cores in each worker process (``executor.base.
cap_threads``): ``export --jobs 2`` on 2 cores runs each render on one thread, as
before, instead of four threads fighting over two cores.  A strip function that itself
runs strips (a neighbourhood op inside a layer's run) does them on its own thread: the
pool is never waited on from inside the pool.
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


def threads() -> int:
    """Threads a render may use now."""
    return max(1, min(MAX_THREADS, cv2.getNumThreads()))


def _submit(n: int, fn: Callable[[], None]) -> Future:
    """``fn`` on the pool, grown to ``n`` threads if smaller (submitted under the lock: a
    pool another caller just replaced is never handed a new task)."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < n:
            # the old pool's threads finish what they hold and end; nothing waits on them
            old, _pool, _pool_size = _pool, ThreadPoolExecutor(n, thread_name_prefix="maskroom-strips"), n
            if old is not None:
                old.shutdown(wait=False)
        return _pool.submit(fn)


def for_each(fn: Callable[[object], None], items: Iterable) -> None:
    """``fn(item)`` for every item (strips writing disjoint rows of their outputs), on up
    to ``threads()`` threads, the caller's one of them.  Returns when all are done; the
    first exception raised is raised here, after the other threads have stopped."""
    items = list(items)
    n = min(threads(), len(items))
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

    futures = [_submit(n - 1, drain) for _ in range(n - 1)]
    drain()
    for f in futures:
        f.result()
    if failed:
        raise failed[0]


_END = object()
