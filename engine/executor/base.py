"""The executor interface: one per-image function mapped over a batch.

Import, export, sync, mask refresh and thumbnails all have the same shape: a
function of one item (an image id, a file, an export task) that is independent of
the others, run in worker processes that each prepare something once (open the
catalog, find the sync source's features, load model sessions) and then take item
after item.  ``Work`` says what to run; an ``Executor`` runs it:

* ``SerialExecutor`` (``jobs=1``): in this process, with the caller's catalog.
* ``LocalExecutor`` (``--jobs N``, engine/executor/local.py): a process pool.
* ``DaskExecutor`` (``--cluster ADDRESS``, engine/executor/dask.py): a Dask cluster.

Every executor yields one ``Outcome`` per item (its value, or the exception the
function raised, or the worker crash that lost it); the caller records it and
advances its ``Progress``.  Cancel and Ctrl-C mean the same everywhere: no new item
starts, the items already running finish (so no file is left half-written and each
catalog write is whole), their outcomes are yielded, then a ``KeyboardInterrupt`` is
raised again (``progress.cancelled()`` just ends the batch, ``batch.cancelled`` set).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm.attributes import set_committed_value

from maskroom.catalog import Catalog
from maskroom.catalog.schema import Image, Sidecar
from maskroom.core.config import CatalogLocation
from maskroom.core.errors import MaskroomError
from maskroom.core.progress import Progress
from maskroom.engine.executor.paths import PathMap


@dataclass
class WorkerContext:
    """What a worker prepared once: the catalog it opened and ``Work.init``'s result.

    ``paths`` maps catalog paths to this worker's mount points and back (identity
    except on cluster workers): a function that gets paths in its item maps them.
    """

    catalog: Any = None
    state: Any = None
    paths: PathMap = field(default_factory=PathMap)


@dataclass(frozen=True)
class Work:
    """A per-image function and what each worker prepares once for it.

    ``fn(ctx, item)`` and ``init(ctx, *init_args)`` must be module-level functions
    (they are pickled to the workers); ``init``'s return value becomes ``ctx.state``.
    ``location`` is the catalog each worker opens (None: the function needs none).
    ``local_state``, when given, is the in-process state the serial executor uses
    instead of calling ``init`` (the caller has it already; it is never pickled).
    """

    fn: Callable[[WorkerContext, Any], Any]
    location: CatalogLocation | None = None
    init: Callable[..., Any] | None = None
    init_args: tuple = ()
    local_state: Any = field(default=None, compare=False)

    def worker_spec(self) -> tuple:
        """The picklable part a worker needs to build its context."""
        return (self.location, self.init, self.init_args)


@dataclass
class Outcome:
    item: Any
    value: Any = None
    error: BaseException | None = None  # what fn raised, or the crash that lost the item

    @property
    def ok(self) -> bool:
        return self.error is None


ENV_CLUSTER = "MASKROOM_CLUSTER"  # a Dask scheduler's address, as --cluster


class ClusterError(MaskroomError):
    """A cluster that cannot be used (no scheduler there, an SQLite catalog)."""


def refuse_sqlite(location) -> None:
    """Cluster workers open the catalog themselves: SQLite over a network file system is unsafe."""
    if location is not None and location.is_sqlite:
        raise ClusterError(f"{location.sqlite_path}: a cluster needs a PostgreSQL catalog (--catalog "
                           "postgresql+psycopg://...); an SQLite file is not safe to share between machines")


class WorkerLost(RuntimeError):
    """The worker process running an item died (a decoder crash, the OOM killer)."""


class Executor:
    """Maps ``Work.fn`` over items; subclasses decide where it runs."""

    jobs: int = 1
    cancelled: bool = False

    def map(self, work: Work, items: Iterable, progress: Progress | None = None) -> Iterator[Outcome]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SerialExecutor(Executor):
    """One item after the other in this process, with the caller's catalog."""

    def __init__(self, catalog=None):
        self.catalog = catalog

    def map(self, work: Work, items: Iterable, progress: Progress | None = None) -> Iterator[Outcome]:
        progress = progress or Progress()
        ctx = WorkerContext(catalog=self.catalog)
        ctx.state = work.local_state if work.local_state is not None else (
            work.init(ctx, *work.init_args) if work.init else None)
        for item in items:
            if progress.cancelled():
                self.cancelled = True
                return
            yield call(work.fn, ctx, item)


def call(fn, ctx: WorkerContext, item) -> Outcome:
    """One item: its value, or the exception it raised (one bad image never stops a batch)."""
    try:
        return Outcome(item, fn(ctx, item))
    except Exception as exc:
        return Outcome(item, error=exc)


# -- inside a worker process ----------------------------------------------------

def cap_threads(threads: int) -> None:
    """Each worker's libraries use ``threads`` threads: the workers are the parallelism.

    Values the user set in the environment win (they are the way to tune this).
    Set before any model session exists: onnxruntime reads MASKROOM_ONNX_THREADS
    when a worker creates its first session (engine/masks/model_store).
    """
    n = str(max(1, int(threads)))
    for var in ("OMP_NUM_THREADS", "MASKROOM_ONNX_THREADS"):
        os.environ.setdefault(var, n)
    import cv2  # here, not at the top: only workers need it, and the CLI starts faster without


    cv2.setNumThreads(int(os.environ.get("OMP_NUM_THREADS", n)))


def threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def open_context(spec: tuple, paths: PathMap | None = None) -> WorkerContext:
    """Open the catalog and run the init of a worker spec (``Work.worker_spec``)."""
    location, init, init_args = spec
    ctx = WorkerContext(paths=paths or PathMap())
    if location is not None:
        if paths:
            location = replace(location, cache_dir=Path(paths.local(location.cache_dir)))
        ctx.catalog = Catalog.open(location, upgrade=False)
        if paths:
            _map_loaded_paths(ctx.catalog, paths)
    if init is not None:
        ctx.state = init(ctx, *init_args)
    return ctx


def _map_loaded_paths(catalog: Catalog, paths: PathMap) -> None:
    """Every original and sidecar this worker loads from the catalog carries its local path.

    Set as the committed value, so the mapped path is never written back.
    """

    def loaded(session, instance) -> None:
        if isinstance(instance, (Image, Sidecar)) and instance.path:
            set_committed_value(instance, "path", paths.local(instance.path))

    # The catalog's own session factory: only this worker's sessions see mapped paths.
    event.listen(catalog._sessions, "loaded_as_persistent", loaded)
