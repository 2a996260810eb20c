"""Filter bar above the grid: text, rating, flag, colour label, keyword, camera, lens, date, sort."""
from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QWidget

from maskroom.services.library import COLOR_LABELS, FilterError, check_filter
from maskroom.ui.keywords_panel import keyword_completer


class FilterBar(QWidget):
    changed = Signal(dict, str)  # filters, sort

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)
        self.text = QLineEdit()
        self.text.setPlaceholderText("Search file names…")
        self.text.setClearButtonEnabled(True)
        self.rating = QComboBox()
        self.rating.addItems(["Any rating"] + [f"≥ {'★' * n}" for n in range(1, 6)])
        self.flag = QComboBox()
        self.flag.addItems(["Any flag", "Picked", "Unflagged", "Rejected"])
        self.label = QComboBox()
        self.label.addItems(["Any label"] + [c.title() for c in COLOR_LABELS])
        # Free-text fields in the syntax of `maskroom ls --filter` (checked as typed).
        self.fields: dict[str, QLineEdit] = {}
        for key, hint, width in (("keyword", "Keyword (A|B)", 120), ("camera", "Camera", 100),
                                 ("lens", "Lens", 100), ("date", "Date 2024-05..2024-06", 160)):
            edit = QLineEdit()
            edit.setPlaceholderText(hint)
            edit.setClearButtonEnabled(True)
            edit.setMaximumWidth(width)
            self.fields[key] = edit
        self.sort = QComboBox()
        self.sort.addItems(["Capture time", "File name", "Rating"])
        self.count = QLabel("")
        for w in (QLabel("Filter:"), self.text, self.rating, self.flag, self.label, *self.fields.values(),
                  QLabel("Sort:"), self.sort):
            lay.addWidget(w)
        lay.addStretch(1)
        lay.addWidget(self.count)
        self._debounce = QTimer(self, singleShot=True, interval=200)
        self._debounce.timeout.connect(self.emit_changed)
        for edit in (self.text, *self.fields.values()):
            edit.textChanged.connect(lambda _t: self._debounce.start())
        for c in (self.rating, self.flag, self.label, self.sort):
            c.currentIndexChanged.connect(lambda _i: self.emit_changed())

    def set_keyword_completion(self, names) -> None:
        """Complete the keyword field from the catalog's keyword paths (a QStringListModel)."""
        self.fields["keyword"].setCompleter(keyword_completer(names, self))

    def filters(self) -> dict:
        """The filter dict of catalog.queries (what `maskroom ls` and smart collections use)."""
        f: dict = {}
        if self.text.text().strip():
            f["text"] = self.text.text().strip()
        if self.rating.currentIndex() > 0:
            f["rating"] = f">={self.rating.currentIndex()}"
        flag = {1: "pick", 2: "unflagged", 3: "reject"}.get(self.flag.currentIndex())
        if flag is not None:
            f["flag"] = flag
        if self.label.currentIndex() > 0:
            f["label"] = COLOR_LABELS[self.label.currentIndex() - 1]
        for key, edit in self.fields.items():
            value = edit.text().strip()
            if not value:
                edit.setStyleSheet("")
                edit.setToolTip("")
                continue
            try:
                check_filter(key, value)  # a value the catalog cannot read is shown, not applied
            except FilterError as exc:
                edit.setStyleSheet("QLineEdit { border: 1px solid #d04040; }")
                edit.setToolTip(str(exc))
                continue
            edit.setStyleSheet("")
            edit.setToolTip("")
            f[key] = value
        return f

    def sort_key(self) -> str:
        return ("capture", "name", "-rating")[self.sort.currentIndex()]

    def emit_changed(self):
        self.changed.emit(self.filters(), self.sort_key())
