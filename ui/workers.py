"""Background jobs on the global QThreadPool with progress and cancel.

Engine jobs take a ``maskroom.core.progress.Progress``; ``Job`` builds one whose callbacks
emit Qt signals (queued across threads, so slots run on the GUI thread) and whose
``cancelled`` reads the job's cancel flag.  Any exception becomes one readable line
(``failed`` signal), never a traceback in the user's face.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal

from maskroom.core.progress import Progress

log = logging.getLogger(__name__)


class JobSignals(QObject):
    started = Signal(int, str)  # total, label
    advanced = Signal(int, str)  # n, item
    message = Signal(str)
    status = Signal(str)  # a live line replacing the last (a cluster's per-worker counts)
    finished = Signal(object)  # the function's return value
    failed = Signal(str)  # one readable line
    done = Signal()  # after finished/failed/cancel, always


def readable_error(exc: BaseException) -> str:
    """One line a person can act on: the message, prefixed by its kind when it has none."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, (FileNotFoundError, PermissionError)) and getattr(exc, "filename", None):
        return f"{exc.filename}: {exc.strerror or text}"
    if not text:
        return type(exc).__name__
    if isinstance(exc, (KeyError,)):
        return text.strip("'\"")
    return text


class Job:
    """Run ``fn(progress, *args, **kwargs)`` on a worker thread.

    ``fn`` receives a Progress wired to this job's signals as its first argument.
    A plain Python object, not a QRunnable subclass: the pool runs ``job.run`` through
    a runnable Qt owns, so neither side can delete the other's object while the worker
    thread is still returning from ``run`` (a crash PySide6 otherwise allows).
    """

    def __init__(self, fn: Callable[..., Any], *args, **kwargs):
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.signals = JobSignals()
        self._cancel = threading.Event()
        self.thread_name: str | None = None
        self.result: Any = None
        self.error: str | None = None
        self.finished_flag = threading.Event()
        self.progress = Progress(
            on_start=lambda total, label: self.signals.started.emit(int(total), str(label)),
            on_advance=lambda n, item: self.signals.advanced.emit(int(n), str(item)),
            on_message=lambda text: self.signals.message.emit(str(text)),
            on_status=lambda text: self.signals.status.emit(str(text)),
            cancelled=self._cancel.is_set,
        )

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> None:  # worker thread
        self.thread_name = threading.current_thread().name
        try:
            self.result = self.fn(self.progress, *self.args, **self.kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message
            log.debug("job failed", exc_info=True)
            self.error = readable_error(exc)
            self.signals.failed.emit(self.error)
        else:
            self.signals.finished.emit(self.result)
        finally:
            self.finished_flag.set()
            self.signals.done.emit()


class JobRunner(QObject):
    """Starts jobs and keeps them alive until they end (the pool doesn't own them)."""

    def __init__(self, parent=None, pool: QThreadPool | None = None):
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        self._running: set[Job] = set()

    def start(self, job: Job) -> Job:
        self._running.add(job)
        job.signals.done.connect(lambda j=job: self._running.discard(j))
        self.pool.start(job.run)
        return job

    def prepare(self, fn: Callable[..., Any], *args, on_done=None, on_error=None, **kwargs) -> Job:
        """A job not started yet: connect its progress signals, then ``start`` it."""
        job = Job(fn, *args, **kwargs)
        if on_done is not None:
            job.signals.finished.connect(on_done)
        if on_error is not None:
            job.signals.failed.connect(on_error)
        return job

    def submit(self, fn: Callable[..., Any], *args, on_done=None, on_error=None, **kwargs) -> Job:
        return self.start(self.prepare(fn, *args, on_done=on_done, on_error=on_error, **kwargs))

    @property
    def running(self) -> int:
        return len(self._running)

    def cancel_all(self) -> None:
        for job in list(self._running):
            job.cancel()

    def wait(self, msecs: int = 30000) -> bool:
        return self.pool.waitForDone(msecs)
