"""The Metadata panel (Library, as Lightroom's): the current photo's EXIF, read-only, and
its IPTC title, caption, creator and copyright, editable.

Reads run on a worker (``library.image_metadata``); each field is saved when the
editing ends (Enter or leaving the field; Ctrl+Enter in the caption) through
``library.set_metadata`` - the service ``maskroom meta`` calls, which checks the text
at the door and updates the XMP sidecar when the catalog writes them.  Each save is one
step on the panel's own undo list: the window's Ctrl+Z outside Develop takes it back.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from maskroom.services import library as library_service

EXIF_ROWS = (("file", "File name"), ("folder", "Folder"), ("dimensions", "Dimensions"), ("captured", "Date"),
             ("camera", "Camera"), ("lens", "Lens"), ("exposure", "Exposure"), ("iso", "ISO"),
             ("focal_length", "Focal length"))
IPTC_ROWS = (("title", "Title"), ("caption", "Caption"), ("creator", "Creator"), ("copyright", "Copyright"))


class ElidedLabel(QLabel):
    """A value that may be long (a file name, a folder): elided in the middle, whole in
    its tooltip, selectable."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.full = ""
        self.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)

    def set_full(self, text: str | None) -> None:
        self.full = text or ""
        self.setToolTip(self.full)
        self._elide()

    def resizeEvent(self, ev):  # noqa: N802 - Qt API
        super().resizeEvent(ev)
        self._elide()

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self.full or "–", Qt.ElideMiddle, max(40, self.width())))


class CaptionEdit(QPlainTextEdit):
    """A caption may have paragraphs: Enter is a new line, Ctrl+Enter or leaving saves."""

    finished = Signal()

    def keyPressEvent(self, ev):  # noqa: N802 - Qt API
        if ev.key() in (Qt.Key_Return, Qt.Key_Enter) and ev.modifiers() & Qt.ControlModifier:
            self.finished.emit()
            return
        super().keyPressEvent(ev)

    def focusOutEvent(self, ev):  # noqa: N802 - Qt API
        super().focusOutEvent(ev)
        self.finished.emit()

    def text(self) -> str:
        return self.toPlainText()

    def setText(self, text: str) -> None:  # noqa: N802 - the QLineEdit spelling, for one code path
        self.setPlainText(text)


class MetadataPanel(QWidget):
    status = Signal(str)
    error = Signal(str)

    def __init__(self, catalog, runner, parent=None):
        super().__init__(parent)
        self.catalog = catalog
        self.runner = runner
        self.image_id: int | None = None
        self.saved: dict[str, str | None] = {}  # the fields as stored (what "changed" compares with)
        self.undo_steps: list[tuple[int, dict[str, str | None], str]] = []  # (image id, previous values, label)
        self._generation = 0
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        iptc = QGroupBox("IPTC")
        form = QFormLayout(iptc)
        self.fields: dict[str, QLineEdit | CaptionEdit] = {}
        for name, label in IPTC_ROWS:
            if name == "caption":
                edit = CaptionEdit()
                edit.setFixedHeight(70)
                edit.setTabChangesFocus(True)
                edit.finished.connect(lambda name=name: self.commit(name))
            else:
                edit = QLineEdit()
                edit.editingFinished.connect(lambda name=name: self.commit(name))
            edit.setEnabled(False)
            form.addRow(label, edit)
            self.fields[name] = edit
        lay.addWidget(iptc)
        exif = QGroupBox("EXIF")
        form = QFormLayout(exif)
        self.exif: dict[str, ElidedLabel] = {}
        for name, label in EXIF_ROWS:
            value = ElidedLabel()
            form.addRow(label, value)
            self.exif[name] = value
        lay.addWidget(exif)
        lay.addStretch(1)

    # -- showing a photo ------------------------------------------------------------------
    def show_image(self, image_id: int | None) -> None:
        """Load the photo's metadata on a worker (the newest ask wins)."""
        self._generation += 1
        gen = self._generation
        if image_id is None:
            self._fill(None)
            return
        self.runner.submit(lambda _p: library_service.image_metadata(self.catalog, image_id),
                           on_done=lambda d: gen == self._generation and self._fill(d),
                           on_error=self.error.emit)

    def _fill(self, data: dict | None) -> None:
        self.image_id = data["id"] if data else None
        self.saved = dict(data["iptc"]) if data else {}
        for name, edit in self.fields.items():
            edit.blockSignals(True)
            edit.setText(self.saved.get(name) or "")
            edit.blockSignals(False)
            edit.setEnabled(data is not None)
        for name, label in self.exif.items():
            label.set_full((data["exif"].get(name) if data else None) or "")

    # -- editing ---------------------------------------------------------------------------
    def set_field(self, name: str, text: str) -> bool:
        """Type a value and finish editing it (keyboard/tests)."""
        self.fields[name].setText(text)
        return self.commit(name)

    def commit(self, name: str) -> bool:
        """Save one field when its text differs from what is stored: one undo step."""
        if self.image_id is None:
            return False
        text = self.fields[name].text()
        if (text.strip() or None) == self.saved.get(name):
            return False
        try:
            before = library_service.set_metadata(self.catalog, [self.image_id], {name: text})
        except Exception as exc:  # noqa: BLE001 - refused at the door: say why, show what is stored
            self.error.emit(str(exc))
            self.fields[name].blockSignals(True)
            self.fields[name].setText(self.saved.get(name) or "")
            self.fields[name].blockSignals(False)
            return False
        label = dict(IPTC_ROWS)[name]
        self.undo_steps.append((self.image_id, before[self.image_id], label))
        self.saved[name] = text.strip() or None
        self.status.emit(f"{label} saved")
        return True

    def undo(self) -> bool:
        """Take the last metadata edit back (whichever photo it was on)."""
        if not self.undo_steps:
            return False
        image_id, previous, label = self.undo_steps.pop()
        library_service.set_metadata(self.catalog, [image_id], {k: v or "" for k, v in previous.items()})
        if image_id == self.image_id:
            for name, value in previous.items():
                self.saved[name] = value
                self.fields[name].blockSignals(True)
                self.fields[name].setText(value or "")
                self.fields[name].blockSignals(False)
        self.status.emit(f"Undid {label.lower()} edit")
        return True
