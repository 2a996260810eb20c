"""Export: presets, format, size, quality, colour space, naming template, destination.

Builds the export service's own ``ExportSettings`` (the CLI's flags map to the same
fields) and runs the batch on a worker with progress and cancel; a failed photo is
listed and the batch goes on.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from maskroom.services import export as export_service
from maskroom.services.export import (
    COLORSPACES,
    CONFLICT_MODES,
    SHARPEN_MODES,
    ExportSettings,
)
from maskroom.ui.progress_widgets import JobProgress
from maskroom.ui.workers import JobRunner


class ExportDialog(QDialog):
    exported = Signal(list, list)  # written paths, problems

    def __init__(self, catalog, runner: JobRunner, version_ids: list[int], destination: Path | None = None,
                 parent=None):
        super().__init__(parent)
        self.catalog, self.runner, self.version_ids = catalog, runner, list(version_ids)
        self.written: list[Path] = []
        self.problems: list[str] = []
        self.setWindowTitle(f"Export {len(self.version_ids)} photo{'s' if len(self.version_ids) != 1 else ''}")
        lay = QVBoxLayout(self)
        form = QFormLayout()

        prow = QHBoxLayout()
        self.preset = QComboBox()
        self.preset.addItem("(no preset)")
        self.presets = export_service.export_presets(catalog)
        self.preset.addItems(list(self.presets))
        self.preset.currentTextChanged.connect(self._apply_preset)
        save = QPushButton("Save as preset…")
        save.clicked.connect(self._save_preset)
        prow.addWidget(self.preset, 1)
        prow.addWidget(save)
        form.addRow("Preset", self._wrap(prow))

        self.format = QComboBox()
        self.format.addItems(["jpeg", "png", "tiff"])
        self.format.currentTextChanged.connect(self._format_changed)
        self.bits = QComboBox()
        self.bits.addItems(["8", "16"])
        self.quality = QSpinBox()
        self.quality.setRange(1, 100)
        self.quality.setValue(90)
        self.long_edge = QSpinBox()
        self.long_edge.setRange(0, 65500)
        self.long_edge.setSpecialValueText("Full size")
        self.long_edge.setSuffix(" px")
        self.colorspace = QComboBox()
        self.colorspace.addItems(list(COLORSPACES))
        self.sharpen = QComboBox()
        self.sharpen.addItems(list(SHARPEN_MODES))
        self.template = QLineEdit(ExportSettings().template)
        self.template.setToolTip("Fields: {name} {id} {seq} {date:%Y-%m-%d} {rating} {camera} {version}; "
                                 "'/' makes subfolders")
        self.conflict = QComboBox()
        self.conflict.addItems(list(CONFLICT_MODES))
        drow = QHBoxLayout()
        self.destination = QLineEdit(str(destination or Path.home() / "maskroom-export"))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        drow.addWidget(self.destination, 1)
        drow.addWidget(browse)
        for label, w in (("Format", self.format), ("Bit depth", self.bits), ("Quality", self.quality),
                         ("Long edge", self.long_edge), ("Colour space", self.colorspace),
                         ("Output sharpening", self.sharpen), ("File names", self.template),
                         ("If the file exists", self.conflict), ("Destination", self._wrap(drow))):
            form.addRow(label, w)
        lay.addLayout(form)
        self.progress = JobProgress()
        lay.addWidget(self.progress)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        lay.addStretch(1)
        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.AcceptRole)
        close = self.buttons.addButton(QDialogButtonBox.Close)
        self.export_button.clicked.connect(self.start)
        close.clicked.connect(self.reject)
        lay.addWidget(self.buttons)
        self._format_changed(self.format.currentText())
        self.resize(520, 520)
        self.job = None

    @staticmethod
    def _wrap(layout) -> QWidget:
        w = QWidget()
        layout.setContentsMargins(0, 0, 0, 0)
        w.setLayout(layout)
        return w

    def _format_changed(self, fmt):
        self.bits.setEnabled(fmt != "jpeg")
        if fmt == "jpeg":
            self.bits.setCurrentText("8")
        self.quality.setEnabled(fmt == "jpeg")

    def _browse(self):
        d = QFileDialog.getExistingDirectory(self, "Export to", self.destination.text())
        if d:
            self.destination.setText(d)

    def values(self) -> dict:
        return {"format": self.format.currentText(), "bits": int(self.bits.currentText()),
                "quality": self.quality.value(), "long_edge": self.long_edge.value() or None,
                "colorspace": self.colorspace.currentText(), "sharpen": self.sharpen.currentText(),
                "template": self.template.text().strip() or "{name}", "on_conflict": self.conflict.currentText()}

    def settings(self):
        return ExportSettings().merged(self.values()).validate()

    def _apply_preset(self, name):
        body = self.presets.get(name)
        if not body:
            return
        widgets = {"format": self.format, "bits": self.bits, "colorspace": self.colorspace,
                   "sharpen": self.sharpen, "on_conflict": self.conflict}
        for key, w in widgets.items():
            if key in body:
                w.setCurrentText(str(body[key]))
        if "quality" in body:
            self.quality.setValue(int(body["quality"]))
        if "long_edge" in body:
            self.long_edge.setValue(int(body["long_edge"] or 0))
        if "template" in body:
            self.template.setText(body["template"])

    def _save_preset(self):
        name, ok = QInputDialog.getText(self, "Save export preset", "Preset name:")
        if not (ok and name.strip()):
            return
        try:
            export_service.save_export_preset(self.catalog, name.strip(), self.values())
        except Exception as exc:  # noqa: BLE001
            self.summary.setText(str(exc))
            return
        self.presets = export_service.export_presets(self.catalog)
        if self.preset.findText(name.strip()) < 0:
            self.preset.addItem(name.strip())

    def start(self):
        try:
            settings = self.settings()
        except Exception as exc:  # noqa: BLE001 - bad settings: say which, don't start
            self.summary.setText(str(exc))
            return
        dest = Path(self.destination.text()).expanduser()
        self.summary.setText("")
        self.job = self.progress.run(self.runner,
                                     lambda p: export_service.export_versions(self.catalog, self.version_ids, dest, settings, p),
                                     button=self.export_button, on_done=self._done, on_error=self.summary.setText)

    def _done(self, result):
        self.written, self.problems = result
        text = f"Exported {len(self.written)} to {self.destination.text()}"
        if self.problems:
            text += f"; {len(self.problems)} failed (listed above)"
        self.summary.setText(text)
        self.exported.emit(self.written, self.problems)
