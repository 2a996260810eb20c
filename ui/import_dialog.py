"""Import photos from a folder: progress with cancel, problems listed, watch-folder toggle."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from maskroom.ui import services
from maskroom.ui.progress_widgets import JobProgress
from maskroom.ui.workers import JobRunner
from maskroom.ui.qtfix import emit


class ImportDialog(QDialog):
    imported = Signal(list)  # image ids
    watch_changed = Signal(str, bool)  # folder, on

    def __init__(self, catalog, runner: JobRunner, source: Path | None = None, watching: bool = False,
                 watch_folder: str | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Import photos")
        self.catalog, self.runner = catalog, runner
        self.imported_ids: list[int] = []
        self.problems: list[str] = []
        lay = QVBoxLayout(self)
        form = QFormLayout()
        row = QHBoxLayout()
        self.source = QLineEdit(str(source or watch_folder or ""))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        row.addWidget(self.source, 1)
        row.addWidget(browse)
        w = QWidget()
        row.setContentsMargins(0, 0, 0, 0)
        w.setLayout(row)
        form.addRow("From folder", w)
        self.recursive = QCheckBox("Include subfolders")
        self.recursive.setChecked(True)
        form.addRow("", self.recursive)
        self.watch = QCheckBox("Watch this folder and import new photos automatically")
        self.watch.setChecked(watching)
        self.watch.toggled.connect(lambda on: emit(self.watch_changed, self.source.text(), on))
        form.addRow("", self.watch)
        lay.addLayout(form)
        self.progress = JobProgress()
        lay.addWidget(self.progress)
        self.summary = QLabel("")
        lay.addWidget(self.summary)
        lay.addStretch(1)
        buttons = QDialogButtonBox()
        self.import_button = buttons.addButton("Import", QDialogButtonBox.AcceptRole)
        close = buttons.addButton(QDialogButtonBox.Close)
        self.import_button.clicked.connect(self.start)
        close.clicked.connect(self.reject)
        lay.addWidget(buttons)
        self.resize(520, 300)
        self.job = None

    def _browse(self):
        d = QFileDialog.getExistingDirectory(self, "Import from", self.source.text())
        if d:
            self.source.setText(d)

    def start(self):
        src = Path(self.source.text()).expanduser()
        if not src.exists():
            self.summary.setText(f"{src}: no such folder")
            return
        self.import_button.setEnabled(False)
        recursive = self.recursive.isChecked()
        self.job = self.runner.prepare(lambda p: services.run_import(self.catalog, [src], p, recursive=recursive),
                                      on_done=self._done, on_error=self.summary.setText)
        self.progress.bind(self.job)
        self.job.signals.done.connect(lambda: self.import_button.setEnabled(True))
        self.runner.start(self.job)

    def _done(self, result):
        self.imported_ids, self.problems = result
        listed = {self.progress.messages.item(i).text() for i in range(self.progress.messages.count())}
        for p in self.problems:
            if p not in listed:  # the importer may already have reported it as a message
                self.progress.add_message(p)
        self.summary.setText(f"Imported {len(self.imported_ids)} photo(s)"
                             + (f", {len(self.problems)} problem(s)" if self.problems else ""))
        emit(self.imported, self.imported_ids)
