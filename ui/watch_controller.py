"""The watch folder in the app: one FolderWatcher (services.sync) on its own thread,
remembered in the settings, with the grid reloaded as photos land."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QThreadPool, QTimer, Signal

from maskroom.services.sync import FolderWatcher, watch_options
from maskroom.ui.workers import JobRunner


class WatchController(QObject):
    imported = Signal()  # new photos came in: reload the grid and the sidebar
    status = Signal(str, int)  # a status-bar line and how long to show it (ms)
    error = Signal(str)

    def __init__(self, catalog, settings: QSettings, parent=None):
        super().__init__(parent)
        self.catalog = catalog
        self.settings = settings
        # Its own pool: a watcher holds its thread for hours, renders must not wait for it.
        self.runner = JobRunner(self, pool=QThreadPool(self))
        self.job = None
        self.watcher: FolderWatcher | None = None
        self._seen = 0
        self._timer = QTimer(self, interval=2000)
        self._timer.timeout.connect(self._poll)
        self._timer.start()

    @property
    def on(self) -> bool:
        return bool(self.settings.value("import/watch", False, type=bool))

    @property
    def folder(self) -> str | None:
        return self.settings.value("import/watch_folder") or None

    def mode(self) -> str:
        # A watch saved before the choice existed auto-synced: it keeps doing so.
        return str(self.settings.value("import/watch_mode", "sync"))

    def resume(self) -> None:
        """Start the watch the settings remember (at start-up)."""
        if self.on:
            self.set_watch(str(self.settings.value("import/watch_folder", "")), True, self.mode(),
                           bool(self.settings.value("import/watch_recursive", True, type=bool)))

    def set_watch(self, folder: str, on: bool, mode: str = "import", recursive: bool = True) -> None:
        """Watch a folder; ``mode`` is a key of WATCH_MODES: "import" (`maskroom watch -r`)
        or "sync" (`maskroom watch -r --auto-sync`)."""
        options = watch_options(mode, recursive=recursive)  # refuses an unknown mode
        self.settings.setValue("import/watch", bool(on))
        self.settings.setValue("import/watch_folder", folder)
        self.settings.setValue("import/watch_mode", mode)
        self.settings.setValue("import/watch_recursive", bool(recursive))
        if self.job is not None:
            self.job.cancel()
            self.job = None
        if not on:
            self.status.emit("Stopped watching", 3000)
            return
        if not folder or not Path(folder).is_dir():
            self.error.emit(f"{folder or '(no folder)'}: not a folder, cannot watch it")
            return

        def watch(progress):
            watcher = FolderWatcher(self.catalog, [folder], options, log=progress.message)
            self.watcher = watcher
            return watcher.run(until=progress.cancelled)

        job = self.runner.prepare(watch, on_error=self.error.emit)
        job.signals.message.connect(lambda text: self.status.emit(f"Watch: {text}", 8000))
        self.job = self.runner.start(job)
        what = "import + series sync" if options.auto_sync else "import only"
        self.status.emit(f"Watching {folder} ({what})", 3000)

    def stop(self, wait_ms: int = 5000) -> None:
        self.runner.cancel_all()
        self.runner.wait(wait_ms)

    def _poll(self) -> None:
        n = len(self.watcher.imported) if self.watcher is not None else 0
        if n != self._seen:
            self._seen = n
            self.imported.emit()
