"""Sync settings from the photo being developed to other photos or its series.

What to carry is chosen with checkboxes; AI mask components are not copied as
pixels but re-derived on each target by the sync service.  Afterwards the targets
the service flagged (nothing found, a big jump from the source) are listed for review.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QRadioButton,
    QVBoxLayout,
)

from maskroom.services import editing, library
from maskroom.services import sync as sync_service
from maskroom.ui.progress_widgets import JobProgress
from maskroom.ui.workers import JobRunner


class SyncDialog(QDialog):
    synced = Signal(list)  # review items

    def __init__(self, catalog, runner: JobRunner, source_version_id: int, selected_image_ids: list[int],
                 parent=None):
        super().__init__(parent)
        self.setWindowTitle("Sync settings")
        self.catalog, self.runner, self.source = catalog, runner, source_version_id
        source_image = editing.image_of_version(catalog, source_version_id)
        self.selected = [i for i in selected_image_ids if i != source_image]
        self.series = sync_service.series_members(catalog, source_image)
        self.review: list[dict] = []
        lay = QVBoxLayout(self)

        box = QGroupBox("Settings to sync")
        bl = QVBoxLayout(box)
        self.checks = {}
        for key, label, default in sync_service.SYNC_PARTS:
            cb = QCheckBox(label)
            cb.setChecked(default)
            bl.addWidget(cb)
            self.checks[key] = cb
        self.mode = QComboBox()
        self.mode.addItem("Replace the targets' masks and settings", "replace")
        self.mode.addItem("Merge into the targets' own edits", "merge")
        bl.addWidget(self.mode)
        lay.addWidget(box)

        tbox = QGroupBox("Targets")
        tl = QVBoxLayout(tbox)
        self.to_selected = QRadioButton(f"Selected photos ({len(self.selected)})")
        self.to_series = QRadioButton(f"The rest of this photo's series ({len(self.series)})")
        self.to_selected.setEnabled(bool(self.selected))
        self.to_series.setEnabled(bool(self.series))
        (self.to_selected if self.selected or not self.series else self.to_series).setChecked(True)
        tl.addWidget(self.to_selected)
        tl.addWidget(self.to_series)
        lay.addWidget(tbox)

        self.progress = JobProgress()
        lay.addWidget(self.progress)
        self.review_label = QLabel("")
        lay.addWidget(self.review_label)
        self.review_list = QListWidget()
        self.review_list.setVisible(False)
        self.review_list.setWordWrap(True)
        lay.addWidget(self.review_list, 1)

        self.buttons = QDialogButtonBox()
        self.sync_button = self.buttons.addButton("Synchronize", QDialogButtonBox.AcceptRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.Close)
        self.sync_button.clicked.connect(self.start)
        self.close_button.clicked.connect(self.reject)
        lay.addWidget(self.buttons)
        self.resize(520, 460)
        self.job = None

    def targets(self) -> list[int]:
        return list(self.series if self.to_series.isChecked() else self.selected)

    def what(self) -> list[str]:
        return [k for k, cb in self.checks.items() if cb.isChecked()]

    def start(self):
        targets = self.targets()
        if not targets:
            self.review_label.setText("Nothing to sync to: select other photos in the grid, or use a series.")
            return
        what, mode = self.what(), self.mode.currentData()
        if not what:
            self.review_label.setText("Choose at least one part of the edit to sync.")
            return
        self.job = self.progress.run(self.runner,
                                     lambda p: sync_service.sync(self.catalog, self.source, targets, what, mode, p),
                                     button=self.sync_button, on_done=self._done)

    def _done(self, review: list[dict]):
        self.review = list(review or [])
        rows = library.image_rows(self.catalog, [item["image_id"] for item in self.review])
        self.review_list.clear()
        for item in self.review:
            row = rows.get(item["image_id"])
            name = row.filename if row else f"image {item['image_id']}"
            conf = item.get("confidence")
            text = f"{name} — {item.get('layer') or 'edit'}: {item['reason']}" + (
                f" (confidence {conf:.0%})" if conf is not None else "")
            li = QListWidgetItem(text)
            li.setData(Qt.UserRole, item["image_id"])
            li.setToolTip(text)
            self.review_list.addItem(li)
        self.review_list.setVisible(bool(self.review))
        n = len(self.targets())
        self.review_label.setText(
            f"Synced {n} photo{'s' if n != 1 else ''}. " + (
                f"{len(self.review)} flagged for review (double-click to open):" if self.review
                else "Nothing flagged for review."))
        self.synced.emit(self.review)
