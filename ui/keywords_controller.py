"""The keyword panel's controller: tag and untag the selection, and the keyword list
with counts, ticked for the selection (read on a worker after the selection settles),
as ``maskroom tag`` and ``maskroom keywords`` do."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from shiboken6 import isValid

from maskroom.services import library
from maskroom.ui.keywords_panel import SELECTION_CAP, KeywordsPanel
from maskroom.ui.workers import JobRunner, readable_error


class KeywordsController(QObject):
    status = Signal(str, int)
    error = Signal(str)

    def __init__(self, catalog, runner: JobRunner, panel: KeywordsPanel, target_ids: Callable[[], list[int]],
                 parent=None):
        super().__init__(parent)
        self.catalog = catalog
        self.runner = runner
        self.panel = panel
        self.target_ids = target_ids  # the photos a keyword acts on; [] when nothing applies
        self._gen = 0
        # The ticks follow the selection; worked out after it settles (a drag-select
        # changes it at every row).
        self.timer = QTimer(self, singleShot=True, interval=120)
        self.timer.timeout.connect(self.refresh)
        panel.add_requested.connect(self.add)
        panel.remove_requested.connect(self.remove)

    def add(self, paths: list[str]) -> None:
        ids = self.target_ids()
        if ids and paths:
            self._run(library.add_keywords, ids, paths,
                      text=f"Keyword {', '.join(paths)} ({len(ids)} photo{'s' if len(ids) != 1 else ''})")

    def remove(self, path: str) -> None:
        ids = self.target_ids()
        if ids:
            self._run(library.remove_keyword, ids, path,
                      text=f"Removed keyword {path} ({len(ids)} photo{'s' if len(ids) != 1 else ''})")

    def refresh(self) -> None:
        """The keyword list with counts, ticked for the selection (read on a worker)."""
        ids = self.target_ids()
        self._gen += 1
        gen = self._gen

        def read(_p):
            mine = library.keywords_of(self.catalog, ids) if 0 < len(ids) <= SELECTION_CAP else None
            return library.keyword_counts(self.catalog), mine

        panel = self.panel
        # (isValid: a read may land after the window is gone)
        self.runner.submit(read, on_done=lambda r: isValid(panel) and gen == self._gen and
                           panel.set_keywords(r[0], r[1], len(ids)), on_error=self.error.emit)

    def _run(self, fn, *args, text: str) -> None:
        try:
            fn(self.catalog, *args)
        except Exception as exc:  # noqa: BLE001  (a refusal is one status line)
            self.error.emit(readable_error(exc))
            return
        self.refresh()
        self.status.emit(text, 3000)
