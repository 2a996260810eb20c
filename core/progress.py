"""One progress display for every long job (import, export, sync, mask refresh).

Engine code reports through a ``Progress`` callback object so it stays free of any
UI library: the CLI shows a rich bar with items/s, the Qt app a progress dialog,
tests collect the calls.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from maskroom.core.paths import one_line


@dataclass
class Progress:
    """Callbacks a long job calls; the defaults do nothing."""

    on_start: Callable[[int, str], None] = lambda total, label: None
    on_advance: Callable[[int, str], None] = lambda n, item: None
    on_message: Callable[[str], None] = lambda text: None
    cancelled: Callable[[], bool] = lambda: False
    # A live line that replaces the last one (a cluster's running/done per worker);
    # unlike a message it is not kept, so it is only shown where a bar is.
    on_status: Callable[[str], None] = lambda text: None

    def start(self, total: int, label: str) -> None:
        self.on_start(total, label)

    def advance(self, n: int = 1, item: str = "") -> None:
        self.on_advance(n, item)

    def message(self, text: str) -> None:
        self.on_message(text)

    def status(self, text: str) -> None:
        self.on_status(text)


@dataclass
class RecordingProgress(Progress):
    """Keeps what a job reported: for tests and for summaries."""

    events: list = field(default_factory=list)

    def __post_init__(self):
        self.on_start = lambda total, label: self.events.append(("start", total, label))
        self.on_advance = lambda n, item: self.events.append(("advance", n, item))
        self.on_message = lambda text: self.events.append(("message", text))
        self.on_status = lambda text: self.events.append(("status", text))


class RichProgress:
    """A rich progress bar with a rate column; messages print above the bar."""

    def __init__(self, unit: str = "files", enabled: bool | None = None):
        # lazy: rich only for the CLI's bar (start-up time of commands without one)
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
        from rich.progress import Progress as RichBar

        self.unit = unit
        self.console = Console(stderr=True)
        self.enabled = self.console.is_terminal if enabled is None else enabled
        self._bar = RichBar(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[status]}"),
            console=self.console,
            disable=not self.enabled,
        )
        self._task = None
        self._t0 = time.perf_counter()
        self._done = 0

    def __enter__(self) -> Progress:
        self._bar.__enter__()
        return Progress(on_start=self._start, on_advance=self._advance, on_message=self._message,
                        on_status=self._status)

    def __exit__(self, *exc) -> None:
        self._bar.__exit__(*exc)

    @property
    def rate(self) -> float:
        elapsed = time.perf_counter() - self._t0
        return self._done / elapsed if elapsed > 0 else 0.0

    def _start(self, total: int, label: str) -> None:
        self._t0 = time.perf_counter()
        self._done = 0
        self._task = self._bar.add_task(label, total=total, rate="", status="")

    def _advance(self, n: int, item: str) -> None:
        self._done += n
        if self._task is not None:
            self._bar.update(self._task, advance=n, rate=f"{self.rate:.1f} {self.unit}/s")

    def _status(self, text: str) -> None:
        if self._task is not None:
            self._bar.update(self._task, status=text)

    def _message(self, text: str) -> None:
        text = one_line(text)  # a file name's newline or escape must not split or recolour the line
        if self.enabled:
            self._bar.console.print(text, markup=False, highlight=False, soft_wrap=True)  # "PATH: reason" stays one line
        else:
            print(text, file=sys.stderr)
