"""The library's source tree: all photos, folders, collections, series.

Collections are edited here (right-click: new, rename, delete; drop grid cells onto
one to add them); the window calls services.library for it, as `maskroom collection`.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QMenu, QTreeWidget, QTreeWidgetItem
from shiboken6 import isValid

from maskroom.services.library import plain_collection_name, sidebar_data
from maskroom.ui.library_view import IDS_MIME, ids_from_mime

NameRole = Qt.UserRole + 1  # a collection item's name
SmartRole = Qt.UserRole + 2


class Sidebar(QTreeWidget):
    source_changed = Signal(dict)  # a catalog.queries filter: {} | {folder} | {collection} | {series}
    dropped = Signal(str, list)  # collection name, image ids dragged onto it
    new_collection_requested = Signal()
    rename_requested = Signal(str)  # collection name
    delete_requested = Signal(str)
    remove_selection_requested = Signal(str)

    def __init__(self, catalog, parent=None, runner=None):
        super().__init__(parent)
        self.catalog = catalog
        self.setHeaderHidden(True)
        self.setColumnCount(2)
        self.itemClicked.connect(self._clicked)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DropOnly)
        self.setContextMenuPolicy(Qt.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.collections: list[dict] = []
        self.current_source: dict = {}
        self._generation = 0
        self.reload(runner)

    def reload(self, runner=None) -> None:
        """Re-read the tree; with a JobRunner the counts are read on a worker."""
        self._generation += 1
        if runner is None:
            self._fill(sidebar_data(self.catalog))
            return
        gen = self._generation
        runner.submit(lambda _p: sidebar_data(self.catalog),
                      on_done=lambda d: isValid(self) and gen == self._generation and self._fill(d))

    def _fill(self, d: dict) -> None:
        self.clear()
        self.collections = d["collections"]
        all_item = QTreeWidgetItem(["All photographs", str(d["total"])])
        all_item.setData(0, Qt.UserRole, {})
        self.addTopLevelItem(all_item)
        coll_rows = [(c["id"], c["name"], c["images"]) for c in d["collections"]]
        for title, rows, key in (("Folders", d["folders"], "folder"), ("Collections", coll_rows, "collection"),
                                 ("Series", d["series"], "series")):
            top = QTreeWidgetItem([title, ""])
            top.setFlags(top.flags() & ~Qt.ItemIsSelectable)
            top.setData(0, NameRole, f"__{key}s__")
            for n, (rid, name, count) in enumerate(rows):
                label = (Path(name).name or name) if key == "folder" else name
                it = QTreeWidgetItem([label, str(count)])
                it.setToolTip(0, name)
                if key == "collection":
                    c = d["collections"][n]
                    it.setData(0, NameRole, name)
                    it.setData(0, SmartRole, c["smart"])
                    # A smart collection lists what its filter matches (as `ls --filter collection=`).
                    it.setData(0, Qt.UserRole, c["filter"])
                    if c["smart"]:
                        it.setText(0, f"{name} ⚙")
                else:
                    # Folders filter by path (the folder and its subfolders), series by id.
                    it.setData(0, Qt.UserRole, {key: name if key == "folder" else str(rid)})
                top.addChild(it)
            self.addTopLevelItem(top)
            top.setExpanded(True)
        self.resizeColumnToContents(1)
        self.setColumnWidth(0, 170)

    def collection_item(self, name: str) -> QTreeWidgetItem | None:
        for i in range(self.topLevelItemCount()):
            top = self.topLevelItem(i)
            for j in range(top.childCount()):
                if top.child(j).data(0, NameRole) == name:
                    return top.child(j)
        return None

    def plain_collections(self) -> list[str]:
        """Names of the collections photos can be added to (not smart ones)."""
        return [c["name"] for c in self.collections if not c["smart"]]

    def current_collection(self) -> str | None:
        """The (plain) collection the grid is showing, if any."""
        cid = self.current_source.get("collection")
        if not cid:
            return None
        # by id: the name may have changed since the tree was read
        return plain_collection_name(self.catalog, int(cid))

    def _clicked(self, item, _col):
        data = item.data(0, Qt.UserRole)
        if data is not None:
            self.current_source = dict(data)
            self.source_changed.emit(dict(data))

    # -- collections: menu and drops -------------------------------------------------
    def _menu(self, pos):
        it = self.itemAt(pos)
        name = it.data(0, NameRole) if it is not None else None
        menu = QMenu(self)
        menu.addAction("New collection…", lambda: self.new_collection_requested.emit())
        if name and not name.startswith("__"):
            menu.addSeparator()
            if not it.data(0, SmartRole):
                menu.addAction(f"Remove selected photos from “{name}”",
                               lambda: self.remove_selection_requested.emit(name))
            menu.addAction(f"Rename “{name}”…", lambda: self.rename_requested.emit(name))
            menu.addAction(f"Delete “{name}”", lambda: self.delete_requested.emit(name))
        menu.exec(self.viewport().mapToGlobal(pos))

    def _drop_target(self, pos) -> str | None:
        it = self.itemAt(pos)
        if it is None or it.data(0, SmartRole) is not False:
            return None
        name = it.data(0, NameRole)
        return name if name and not name.startswith("__") else None

    def dragEnterEvent(self, ev):  # noqa: N802
        if ev.mimeData().hasFormat(IDS_MIME):
            ev.acceptProposedAction()
        else:
            ev.ignore()

    def dragMoveEvent(self, ev):  # noqa: N802
        if ev.mimeData().hasFormat(IDS_MIME) and self._drop_target(ev.position().toPoint()):
            ev.acceptProposedAction()
        else:
            ev.ignore()

    def dropEvent(self, ev):  # noqa: N802
        name = self._drop_target(ev.position().toPoint())
        ids = ids_from_mime(ev.mimeData())
        if name and ids:
            ev.acceptProposedAction()
            self.dropped.emit(name, ids)
        else:
            ev.ignore()
