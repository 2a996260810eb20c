"""The local executor: a pool of worker processes on this machine (``--jobs N``).

Workers start from a fork server where there is one, else spawned; never a plain
fork, which would copy the parent's threads' locks (the progress bar) and its open
database connections.  The fork server is a fresh process that imports the
function's module once; each worker forks from it, so N workers do not pay N
interpreter starts.  Workers ignore SIGINT: Ctrl-C reaches the whole process group,
and the parent decides what stops (see engine/executor/base.py).
"""
from __future__ import annotations

import multiprocessing
import pickle
import signal
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import maskroom
from maskroom.core.progress import Progress
from maskroom.engine.executor.base import (
    Executor,
    Outcome,
    Work,
    WorkerLost,
    call,
    cap_threads,
    open_context,
    threads_per_worker,
)

_context = None  # this worker process's WorkerContext


def _init_worker(spec: tuple, threads: int) -> None:
    global _context
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cap_threads(threads)
    _context = open_context(spec)


def _run(fn, item) -> Outcome:
    return portable(call(fn, _context, item))


def portable(out: Outcome) -> Outcome:
    """The outcome, safe to send back: an exception that does not pickle becomes its text."""
    if out.error is not None:
        try:  # an exception that does not pickle would break the pool: send its text
            pickle.loads(pickle.dumps(out.error))
        except Exception:
            out.error = RuntimeError(f"{type(out.error).__name__}: {out.error}")
    return out


def _cwd_shadows_maskroom() -> bool:
    """The fork server imports its preload with the current folder first on its path: in
    a checkout, ./maskroom (the CLI folder alone) would be taken for the installed package
    and every worker would inherit it broken."""
    here = Path.cwd() / "maskroom"
    return here.is_dir() and here.resolve() != Path(maskroom.__file__).resolve().parent


def _mp_context(work: Work):
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        modules = {f.__module__ for f in (work.fn, work.init) if f is not None}
        # Preloaded modules are imported once in the server instead of in every worker.
        ctx.set_forkserver_preload([] if _cwd_shadows_maskroom() else sorted(modules | {__name__}))
        return ctx
    return multiprocessing.get_context("spawn")


class LocalExecutor(Executor):
    def __init__(self, jobs: int):
        self.jobs = max(1, int(jobs))

    def map(self, work: Work, items: Iterable, progress: Progress | None = None) -> Iterator[Outcome]:
        progress = progress or Progress()
        queue = list(items)
        if not queue:
            return
        workers = min(self.jobs, len(queue))
        queue.reverse()  # pop() from the end takes them in order
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context(work), initializer=_init_worker,
                                   initargs=(work.worker_spec(), threads_per_worker(workers)))
        pending: dict[Future, object] = {}
        interrupted = False
        try:
            while queue or pending:
                # A window of 2 per worker: results come back as they finish, memory stays bounded.
                while queue and not (interrupted or self.cancelled) and len(pending) < 2 * workers:
                    item = queue.pop()
                    pending[pool.submit(_run, work.fn, item)] = item
                if not pending:
                    break
                try:
                    done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                except KeyboardInterrupt:
                    done, interrupted = set(), True
                if not interrupted and progress.cancelled():
                    self.cancelled = True
                if interrupted or self.cancelled:
                    queue.clear()
                    for fut in pending:
                        fut.cancel()
                for fut in done:
                    item = pending.pop(fut)
                    if fut.cancelled():
                        continue
                    try:
                        yield fut.result()
                    except BrokenProcessPool:
                        yield Outcome(item, error=WorkerLost("the worker process died on this item"))
                    except Exception as exc:  # the item or its result did not pickle
                        yield Outcome(item, error=exc)
                pending = {f: i for f, i in pending.items() if not f.cancelled()}
        finally:
            for fut in pending:
                fut.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
        if interrupted:
            raise KeyboardInterrupt
