"""Import photos from a folder: progress with cancel, problems listed, watch-folder toggle.

The watch toggle comes with its mode (engine.watch.WATCH_MODES): import new photos
only, or also apply their series' sync, as `maskroom watch [--auto-sync]`; the
dialog shows that command line.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
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

from maskroom.services import importing
from maskroom.services.sync import WATCH_MODES, watch_command, watch_options
from maskroom.ui.progress_widgets import JobProgress
from maskroom.ui.workers import JobRunner


class ImportDialog(QDialog):
    imported = Signal(list)  # image ids
    watch_changed = Signal(str, bool, str)  # folder, on, mode (a key of WATCH_MODES)

    def __init__(self, catalog, runner: JobRunner, source: Path | None = None, watching: bool = False,
                 watch_folder: str | None = None, watch_mode: str = "import", parent=None):
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
        self.watch_mode = QComboBox()
        for key, text in WATCH_MODES.items():
            self.watch_mode.addItem(text, key)
        self.watch_mode.setCurrentIndex(max(0, self.watch_mode.findData(watch_mode)))
        self.watch_cli = QLabel("")
        self.watch_cli.setStyleSheet("color: #999; font-family: monospace;")
        self.watch_cli.setTextInteractionFlags(self.watch_cli.textInteractionFlags() | Qt.TextSelectableByMouse)
        self.watch.toggled.connect(lambda _on: self._watch_changed())
        # A new mode while watching restarts the watch with it.
        self.watch_mode.currentIndexChanged.connect(lambda _i: self.watch.isChecked() and self._watch_changed())
        self.watch_mode.currentIndexChanged.connect(lambda _i: self._show_cli())
        self.source.textChanged.connect(lambda _t: self._show_cli())
        self.recursive.toggled.connect(lambda _on: self._show_cli())
        form.addRow("", self.watch)
        form.addRow("New photos", self.watch_mode)
        form.addRow("Same as", self.watch_cli)
        self._show_cli()
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

    def mode(self) -> str:
        return self.watch_mode.currentData()

    def _watch_changed(self):
        self.watch_changed.emit(self.source.text(), self.watch.isChecked(), self.mode())

    def _show_cli(self):
        opts = watch_options(self.mode(), recursive=self.recursive.isChecked())
        self.watch_cli.setText(watch_command([self.source.text() or "FOLDER"], opts))

    def _browse(self):
        d = QFileDialog.getExistingDirectory(self, "Import from", self.source.text())
        if d:
            self.source.setText(d)

    def start(self):
        src = Path(self.source.text()).expanduser()
        if not src.exists():
            self.summary.setText(f"{src}: no such folder")
            return
        recursive = self.recursive.isChecked()
        self.job = self.progress.run(self.runner,
                                     lambda p: importing.import_photos(self.catalog, [src], p, recursive=recursive),
                                     button=self.import_button, on_done=self._done, on_error=self.summary.setText)

    def _done(self, result):
        self.imported_ids, self.problems = result.image_ids, result.problems
        listed = {self.progress.messages.item(i).text() for i in range(self.progress.messages.count())}
        for p in self.problems:
            if p not in listed:  # the importer may already have reported it as a message
                self.progress.add_message(p)
        self.summary.setText(f"Imported {len(self.imported_ids)} photo(s)"
                             + (f", {len(self.problems)} problem(s)" if self.problems else ""))
        self.imported.emit(self.imported_ids)
