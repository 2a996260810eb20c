"""Keywording: a field that tags the selection (completing from the catalog's keywords)
and the keyword list with photo counts, ticked for what the selection has.

The panel only shows and asks; the window calls the services (catalog.library, the
same functions as `maskroom tag` / `maskroom keywords`).
"""
from __future__ import annotations

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtWidgets import (
    QCompleter,
    QLabel,
    QLineEdit,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

SELECTION_CAP = 20_000  # beyond this many selected photos the ticks are not worked out


def split_keywords(text: str) -> list[str]:
    """'Travel|Japan, sunset' -> ['Travel|Japan', 'sunset'] (commas separate, | nests)."""
    return ["|".join(x.strip() for x in k.split("|")) for k in text.split(",") if k.strip()]


def keyword_completer(names: QStringListModel, parent) -> QCompleter:
    """Completion from the catalog's keyword paths, matching anywhere in the path."""
    c = QCompleter(names, parent)
    c.setCaseSensitivity(Qt.CaseInsensitive)
    c.setFilterMode(Qt.MatchContains)
    # The popup is a window of its own: the main window's dark style does not reach it.
    c.popup().setStyleSheet("QListView { background: #242424; color: #dcdcdc; border: 1px solid #555; }"
                            "QListView::item:selected { background: #4d5b70; }")
    return c


class KeywordsPanel(QWidget):
    add_requested = Signal(list)  # keyword paths to add to the selection
    remove_requested = Signal(str)  # keyword path to take off the selection
    filter_requested = Signal(str)  # show the photos with this keyword

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.field = QLineEdit()
        self.field.setPlaceholderText("Add keywords to the selection (A|B, C)…")
        self.field.setClearButtonEnabled(True)
        self.names = QStringListModel(self)  # every keyword path (the filter bar completes from it too)
        self.completer = keyword_completer(self.names, self)
        self.field.setCompleter(self.completer)
        self.field.returnPressed.connect(self._submit)
        self.target = QLabel("")
        self.target.setStyleSheet("color: #999;")
        self.list = QTreeWidget()
        self.list.setHeaderHidden(True)
        self.list.setColumnCount(2)
        self.list.setRootIsDecorated(False)
        self.list.itemChanged.connect(self._item_changed)
        # Ticks readable on the dark theme: filled = all selected photos, half = some.
        self.list.setStyleSheet(
            "QTreeWidget::indicator { width: 10px; height: 10px; border: 1px solid #888; background: #242424; }"
            "QTreeWidget::indicator:checked { background: #9cc0f0; }"
            "QTreeWidget::indicator:indeterminate { background: qlineargradient(x1:0, y1:1, x2:1, y2:0,"
            " stop:0 #9cc0f0, stop:0.5 #9cc0f0, stop:0.51 #242424, stop:1 #242424); }")
        self.list.itemDoubleClicked.connect(lambda it, _c: self.filter_requested.emit(it.data(0, Qt.UserRole)))
        self.list.setContextMenuPolicy(Qt.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        for w in (self.field, self.target, self.list):
            lay.addWidget(w)
        self._updating = False
        self._selected = 0

    # -- filling ---------------------------------------------------------------
    def set_keywords(self, counts: list[tuple[str, int]], of_selection: dict[str, int] | None,
                     selected: int) -> None:
        """All keywords with their photo counts; ticked (all) / part-ticked (some) for the
        ``selected`` photos, whose keyword counts are ``of_selection`` (None: not worked out)."""
        self._updating = True
        self._selected = selected
        try:
            self.names.setStringList([k for k, _ in counts])
            self.list.clear()
            for path, n in counts:
                depth = path.count("|")
                it = QTreeWidgetItem(["    " * depth + path.rsplit("|", 1)[-1], str(n)])
                it.setData(0, Qt.UserRole, path)
                it.setToolTip(0, path)
                it.setTextAlignment(1, Qt.AlignRight | Qt.AlignVCenter)
                if selected and of_selection is not None:
                    have = of_selection.get(path, 0)
                    it.setFlags(it.flags() | Qt.ItemIsUserCheckable)
                    it.setCheckState(0, Qt.Checked if have >= selected else
                                     Qt.PartiallyChecked if have else Qt.Unchecked)
                self.list.addTopLevelItem(it)
            self.list.resizeColumnToContents(1)
            self.list.setColumnWidth(0, max(120, self.list.width() - self.list.columnWidth(1) - 24))
            self.target.setText(
                f"{selected} photo{'s' if selected != 1 else ''} selected" if selected else "Select photos to tag them")
            self.field.setEnabled(bool(selected))
        finally:
            self._updating = False

    def item(self, path: str) -> QTreeWidgetItem | None:
        for i in range(self.list.topLevelItemCount()):
            it = self.list.topLevelItem(i)
            if it.data(0, Qt.UserRole) == path:
                return it
        return None

    # -- actions ------------------------------------------------------------------
    def _submit(self):
        paths = split_keywords(self.field.text())
        if paths:
            self.field.clear()
            self.add_requested.emit(paths)

    def _item_changed(self, it: QTreeWidgetItem, col: int):
        if self._updating or col != 0:
            return
        path = it.data(0, Qt.UserRole)
        if it.checkState(0) == Qt.Checked:
            self.add_requested.emit([path])
        elif it.checkState(0) == Qt.Unchecked:
            self.remove_requested.emit(path)

    def _menu(self, pos):
        it = self.list.itemAt(pos)
        if it is None:
            return
        path = it.data(0, Qt.UserRole)
        menu = QMenu(self)
        if self._selected:
            menu.addAction(f"Add “{path}” to the selection", lambda: self.add_requested.emit([path]))
            menu.addAction(f"Remove “{path}” from the selection", lambda: self.remove_requested.emit(path))
        menu.addAction("Show photos with this keyword", lambda: self.filter_requested.emit(path))
        menu.exec(self.list.viewport().mapToGlobal(pos))
