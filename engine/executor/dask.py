"""The Dask executor: per-image work on a Dask distributed cluster (``--cluster ADDRESS``).

The same ``Work`` as the local pool, sent to the workers of a running scheduler:

* Each worker process opens the catalog itself (PostgreSQL: an SQLite file shared
  over a network file system is not safe, so an SQLite catalog is refused) and runs
  the work's init once per batch, cached in the worker process; model sessions are
  cached per process by engine/masks/model_store, so a model loads once per worker.
* Paths are mapped to the worker's mount points (engine/executor/paths.py), with
  the mapping stored in the catalog.
* Items go in chunks (about sixteen per worker, at most ``MAX_CHUNK`` items), so a
  100,000-frame batch is a few thousand tasks, not 100,000.
* A worker that dies mid-chunk: the scheduler runs the chunk again on another
  worker.  Every per-image write is one transaction keyed by the image and its
  recipe digest (sync saves a recipe only when its digest changes, a mask raster is
  keyed by its input digest, an export target was decided before the batch and is
  replaced atomically), so the items the dead worker had finished are found done
  and nothing is written twice or half.
* While the batch runs, the scheduler is asked every ``STATUS_EVERY`` seconds which
  of the batch's chunks each worker is processing: a live "running/done/failed per
  worker" line for the progress bar (``Progress.status``).
* Ctrl-C cancels every future not yet finished; a chunk already running on a worker
  finishes its current item's transaction, the catalog stays consistent, and the
  same command run again picks up what is left.
"""
from __future__ import annotations

import math
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator

from distributed import Client, as_completed, get_worker

from maskroom.core.progress import Progress
from maskroom.engine.executor.base import (
    ClusterError, Executor, Outcome, Work, cap_threads, call, open_context, refuse_sqlite,
)
from maskroom.engine.executor.local import portable
from maskroom.engine.executor.paths import PathMap, load_path_map

MAX_CHUNK = 32
# Enough chunks per worker that the batch's tail is short (a worker idle while the
# last chunk runs elsewhere), few enough that the scheduler's ~10 ms per task is noise.
CHUNKS_PER_WORKER = 16
STATUS_EVERY = 0.5  # seconds between two asks of the scheduler for the running counts


def chunks(items: list, workers: int) -> list[list]:
    size = max(1, min(MAX_CHUNK, math.ceil(len(items) / (max(1, workers) * CHUNKS_PER_WORKER))))
    return [items[i:i + size] for i in range(0, len(items), size)]


# -- in the worker process ------------------------------------------------------

_contexts: OrderedDict = OrderedDict()  # batch key -> WorkerContext, the last few batches
_lock = threading.Lock()
_KEEP = 4


def _context(key: str, spec: tuple, paths: PathMap):
    with _lock:
        ctx = _contexts.get(key)
        if ctx is None:
            # One thread per task: a worker's task threads (or its processes) are the parallelism.
            cap_threads(1)
            ctx = _contexts[key] = open_context(spec, paths)
            while len(_contexts) > _KEEP:
                _, old = _contexts.popitem(last=False)
                if old.catalog is not None:
                    old.catalog.close()
        return ctx


def run_chunk(key: str, spec: tuple, paths: PathMap, fn, chunk: list) -> tuple[str, list[Outcome]]:
    """The chunk's outcomes and the address of the worker that made them."""
    ctx = _context(key, spec, paths)
    return get_worker().address, [portable(call(fn, ctx, item)) for item in chunk]


# -- in the calling process -----------------------------------------------------

class DaskExecutor(Executor):
    def __init__(self, address: str, catalog=None, paths: PathMap | None = None):
        refuse_sqlite(getattr(catalog, "location", None))
        try:
            self.client = Client(address, timeout="10s", set_as_default=False)
        except OSError as exc:
            raise ClusterError(f"{address}: cannot reach the Dask scheduler ({exc})") from None
        if paths is None and catalog is not None:
            with catalog.session() as s:
                paths = load_path_map(s)
        self.paths = paths or PathMap()
        self.jobs = len(self.client.scheduler_info().get("workers", {}))
        if not self.jobs:
            self.client.close()
            raise ClusterError(f"{address}: no workers are connected to this scheduler (start some: docs/cluster.md)")

    def close(self) -> None:
        self.client.close()

    def map(self, work: Work, items: Iterable, progress: Progress | None = None) -> Iterator[Outcome]:
        progress = progress or Progress()
        items = list(items)
        if not items:
            return
        key = uuid.uuid4().hex  # this batch's worker state (the sync source, ...)
        spec = work.worker_spec()
        left = {self.client.submit(run_chunk, key, spec, self.paths, work.fn, chunk, pure=False,
                                   key=f"maskroom-{key}-{n}"): chunk
                for n, chunk in enumerate(chunks(items, self.jobs))}
        tally: dict[str, list[int]] = {}  # worker -> [done, failed]
        sizes = {fut.key: len(chunk) for fut, chunk in left.items()}
        stop = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(sizes, tally, progress, stop), daemon=True)
        watcher.start()
        try:
            for fut in as_completed(list(left), loop=self.client.loop):
                chunk = left.pop(fut)
                try:
                    worker, outcomes = fut.result()
                except Exception as exc:  # the chunk itself failed (its workers kept dying)
                    worker, outcomes = "lost", [Outcome(item, error=exc) for item in chunk]
                counts = tally.setdefault(worker, [0, 0])
                for out in outcomes:
                    counts[0 if out.ok else 1] += 1
                yield from outcomes
                if progress.cancelled():
                    self.cancelled = True
                    break
        except KeyboardInterrupt:
            self.client.cancel(list(left))
            raise
        finally:
            stop.set()
            watcher.join()
        if left:
            self.client.cancel(list(left))
        progress.message(summary(tally))

    def _watch(self, sizes: dict[str, int], tally: dict[str, list[int]], progress: Progress,
               stop: threading.Event) -> None:
        """Report the items each worker is running (its chunks of this batch that the
        scheduler lists as processing) with what it has done and failed so far."""
        while True:
            try:
                processing = self.client.processing()
            except Exception:  # noqa: BLE001 - the scheduler is gone: the batch itself reports that
                return
            running = {w: sum(sizes.get(k, 0) for k in keys) for w, keys in processing.items()}
            progress.status(live_status(running, tally))
            if stop.wait(STATUS_EVERY):
                return


def live_status(running: dict[str, int], tally: dict[str, list[int]]) -> str:
    """"tcp://10.0.0.5:40123 16 running, 48 done · tcp://10.0.0.6:41011 …" for every worker
    that has run or is running items of the batch."""
    parts = []
    for w in sorted(set(running) | set(tally)):
        done, failed = tally.get(w, (0, 0))
        parts.append(f"{w} {running.get(w, 0)} running, {done} done" + (f", {failed} failed" if failed else ""))
    return " · ".join(parts)


def summary(tally: dict[str, list[int]]) -> str:
    """One line: what each worker did ("cluster: 2 workers; tcp://10.0.0.5:40123 48 done, ...")."""
    parts = [f"{w} {d} done" + (f", {f} failed" if f else "") for w, (d, f) in sorted(tally.items())]
    return f"cluster: {len(tally)} worker(s); " + "; ".join(parts)

