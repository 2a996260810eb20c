"""The library's source tree: all photos, folders, collections, series."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem
from sqlalchemy import func, select

from maskroom.catalog.schema import Collection, CollectionImage, Folder, Image, Series
from maskroom.ui.qtfix import emit


class Sidebar(QTreeWidget):
    source_changed = Signal(dict)  # a catalog.queries filter: {} | {folder} | {collection} | {series}

    def __init__(self, catalog, parent=None):
        super().__init__(parent)
        self.catalog = catalog
        self.setHeaderHidden(True)
        self.setColumnCount(2)
        self.itemClicked.connect(self._clicked)
        self.reload()

    def reload(self) -> None:
        self.clear()
        with self.catalog.session() as s:
            total = s.scalar(select(func.count(Image.id))) or 0
            folders = s.execute(select(Folder.id, Folder.path, func.count(Image.id))
                                .join(Image, Image.folder_id == Folder.id, isouter=True)
                                .group_by(Folder.id).order_by(Folder.path)).all()
            collections = s.execute(select(Collection.id, Collection.name, func.count(CollectionImage.image_id))
                                    .join(CollectionImage, isouter=True).group_by(Collection.id)
                                    .order_by(Collection.name)).all()
            series = s.execute(select(Series.id, Series.name, func.count(Image.id))
                               .join(Image, Image.series_id == Series.id, isouter=True)
                               .group_by(Series.id).order_by(Series.id)).all()
        all_item = QTreeWidgetItem(["All photographs", str(total)])
        all_item.setData(0, Qt.UserRole, {})
        self.addTopLevelItem(all_item)
        for title, rows, key in (("Folders", folders, "folder"), ("Collections", collections, "collection"),
                                 ("Series", series, "series")):
            top = QTreeWidgetItem([title, ""])
            top.setFlags(top.flags() & ~Qt.ItemIsSelectable)
            for rid, name, count in rows:
                label = (Path(name).name or name) if key == "folder" else name
                it = QTreeWidgetItem([label, str(count)])
                it.setToolTip(0, name)
                # Folders filter by path (the folder and its subfolders), the others by id.
                it.setData(0, Qt.UserRole, {key: name if key == "folder" else str(rid)})
                top.addChild(it)
            self.addTopLevelItem(top)
            top.setExpanded(True)
        self.resizeColumnToContents(1)
        self.setColumnWidth(0, 170)

    def _clicked(self, item, _col):
        data = item.data(0, Qt.UserRole)
        if data is not None:
            emit(self.source_changed, dict(data))
