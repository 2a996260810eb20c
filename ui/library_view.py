"""The grid: a virtualised thumbnail view that stays smooth with 100k images.

The model holds only the ordered image ids (one cheap query); cell data is fetched
in pages of ``PAGE`` rows the first time a visible cell asks for it, and thumbnails
are decoded on a worker (newest request first, so the cells on screen win after a
fast scroll) into an LRU cache.  QListView with uniform item sizes only asks for the
cells it paints, so nothing is loaded for rows never shown.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QRect,
    QSize,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate

from maskroom.catalog.schema import FLAG_PICK, FLAG_REJECT
from maskroom.ui import services
from maskroom.ui.qtfix import emit

PAGE = 200
CELL = QSize(180, 200)
IdRole = Qt.UserRole + 1
RowRole = Qt.UserRole + 2
LABEL_COLOURS = {"red": "#d9453c", "yellow": "#e3c342", "green": "#4fa34f", "blue": "#4a7fd6", "purple": "#9b59c6"}


class _LoaderSignals(QObject):
    loaded = Signal(int, QImage)  # image id, thumbnail (QImage is safe to make off the GUI thread)
    failed = Signal(int, str)


class ThumbnailCache(QObject):
    """LRU of pixmaps by image id plus the request queue for the loader."""

    ready = Signal(int)

    def __init__(self, catalog, capacity: int = 2000, max_pending: int = 400, parent=None):
        super().__init__(parent)
        self.catalog = catalog
        self.capacity, self.max_pending = capacity, max_pending
        self._pixmaps: OrderedDict[int, QPixmap] = OrderedDict()
        self._queue: OrderedDict[int, None] = OrderedDict()
        self._lock = threading.Lock()
        self._signals = _LoaderSignals()
        self._signals.loaded.connect(self._on_loaded)
        self._signals.failed.connect(self._on_failed)
        self._running = False
        self.failed: dict[int, str] = {}
        self.requested: set[int] = set()  # every id ever requested (tests read it)
        self.pool = QThreadPool.globalInstance()

    def get(self, image_id: int) -> QPixmap | None:
        pm = self._pixmaps.get(image_id)
        if pm is not None:
            self._pixmaps.move_to_end(image_id)
            return pm
        if image_id not in self.failed:
            self.request(image_id)
        return None

    def request(self, image_id: int) -> None:
        self.requested.add(image_id)
        with self._lock:
            self._queue[image_id] = None
            self._queue.move_to_end(image_id)
            while len(self._queue) > self.max_pending:  # scrolled far past: forget the oldest asks
                self._queue.popitem(last=False)
            start = not self._running
            self._running = True
        if start:
            # A callable, not a QRunnable subclass: Qt owns the runnable, see workers.Job.
            self.pool.start(self._drain)

    def _drain(self) -> None:  # worker thread: newest request first, what is on screen now
        signals = self._signals  # held here: the cache may be deleted while this runs
        while True:
            with self._lock:
                if not self._queue:
                    self._running = False  # under the lock: request() starts a new drain
                    return
                image_id, _ = self._queue.popitem(last=True)
            try:
                try:
                    path = services.thumbnail_path(self.catalog, image_id)
                    img = QImage(str(path))
                    if img.isNull():
                        raise OSError(f"{path}: cannot read thumbnail")
                    emit(signals.loaded, image_id, img)
                except Exception as exc:  # noqa: BLE001 - a bad file shows as a broken cell
                    emit(signals.failed, image_id, str(exc))
            except RuntimeError:  # the grid was closed (its signal object is gone): stop quietly
                with self._lock:
                    self._queue.clear()
                    self._running = False
                return

    def _on_loaded(self, image_id: int, img: QImage):
        self._pixmaps[image_id] = QPixmap.fromImage(img)
        while len(self._pixmaps) > self.capacity:
            self._pixmaps.popitem(last=False)
        emit(self.ready, image_id)

    def _on_failed(self, image_id: int, reason: str):
        self.failed[image_id] = reason
        emit(self.ready, image_id)

    def idle(self) -> bool:
        with self._lock:
            return not self._queue and not self._running

    def invalidate(self, image_id: int) -> None:
        self._pixmaps.pop(image_id, None)
        self.failed.pop(image_id, None)


class LibraryModel(QAbstractListModel):
    """Ordered image ids; row data paged in on demand."""

    error = Signal(str)
    reloaded = Signal()

    def __init__(self, catalog, parent=None):
        super().__init__(parent)
        self.catalog = catalog
        self.ids: list[int] = []
        self._rows: dict[int, services.ImageRow] = {}
        self._row_of: dict[int, int] = {}
        self.pages_loaded: set[int] = set()
        self.thumbs = ThumbnailCache(catalog, parent=self)
        self.thumbs.ready.connect(self._thumb_ready)
        self.filters: dict = {}
        self.sort: str | None = None
        self._generation = 0

    # -- loading ---------------------------------------------------------------
    def reload(self, filters: dict | None = None, sort: str | None = None, runner=None) -> None:
        """Query the ordered ids again; with a JobRunner the query runs on a worker
        (100k ids take a few hundred ms) and the grid updates when it lands."""
        if filters is not None:
            self.filters = filters
        if sort is not None:
            self.sort = sort
        if runner is None:
            self._set_ids(services.image_ids(self.catalog, self.filters, self.sort))
            return
        self._generation += 1
        gen, filters, sort = self._generation, dict(self.filters), self.sort
        runner.submit(lambda _p: services.image_ids(self.catalog, filters, sort),
                      on_done=lambda ids: gen == self._generation and self._set_ids(ids),
                      on_error=lambda text: emit(self.error, text))

    def _set_ids(self, ids: list[int]) -> None:
        self.beginResetModel()
        self.ids = ids
        self._row_of = {image_id: i for i, image_id in enumerate(self.ids)}
        self._rows.clear()
        self.pages_loaded.clear()
        self.endResetModel()
        emit(self.reloaded)

    def row(self, r: int) -> services.ImageRow | None:
        if not 0 <= r < len(self.ids):
            return None
        image_id = self.ids[r]
        row = self._rows.get(image_id)
        if row is None:
            page = r // PAGE
            if page not in self.pages_loaded:
                self.pages_loaded.add(page)
                self._rows.update(services.image_rows(self.catalog, self.ids[page * PAGE:(page + 1) * PAGE]))
            row = self._rows.get(image_id)
        return row

    def refresh_rows(self, ids) -> None:
        """Re-read some rows after a rating/flag/label change."""
        fresh = services.image_rows(self.catalog, list(ids))
        self._rows.update(fresh)
        for image_id in fresh:
            r = self._row_of.get(image_id)
            if r is not None:
                idx = self.index(r)
                emit(self.dataChanged, idx, idx)

    def _thumb_ready(self, image_id: int):
        r = self._row_of.get(image_id)
        if r is not None:
            idx = self.index(r)
            emit(self.dataChanged, idx, idx, [Qt.DecorationRole])

    # -- Qt model API -----------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.ids)

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid():
            return None
        if role == IdRole:
            return self.ids[index.row()]
        row = self.row(index.row())
        if row is None:
            return None
        if role == Qt.DisplayRole:
            return row.filename
        if role == RowRole:
            return row
        if role == Qt.DecorationRole:
            return self.thumbs.get(row.id)
        if role == Qt.ToolTipRole:
            return f"{row.filename}\n{row.width}×{row.height}" + (
                f"\n{self.thumbs.failed[row.id]}" if row.id in self.thumbs.failed else "")
        return None


class CellDelegate(QStyledItemDelegate):
    """Lightroom-like cell: dark frame, thumbnail, stars, flag, colour label."""

    def sizeHint(self, option, index):  # noqa: N802
        return CELL

    def paint(self, p: QPainter, option, index):
        model = index.model()
        row: services.ImageRow | None = model.data(index, RowRole)
        rect = option.rect.adjusted(3, 3, -3, -3)
        selected = bool(option.state & QStyle.State_Selected)
        p.save()
        p.fillRect(rect, QColor("#5a5a5a" if selected else "#3a3a3a"))
        if row is not None and row.color_label in LABEL_COLOURS:
            p.setPen(QPen(QColor(LABEL_COLOURS[row.color_label]), 3))
            p.drawRect(rect.adjusted(1, 1, -2, -2))
        img_area = QRect(rect.left() + 8, rect.top() + 8, rect.width() - 16, rect.height() - 44)
        pm = model.data(index, Qt.DecorationRole)
        if pm is not None:
            scaled = pm.scaled(img_area.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation)
            x = img_area.left() + (img_area.width() - scaled.width()) // 2
            y = img_area.top() + (img_area.height() - scaled.height()) // 2
            if row is not None and row.flag == FLAG_REJECT:
                p.setOpacity(0.35)
            p.drawPixmap(x, y, scaled)
            p.setOpacity(1.0)
        else:
            p.fillRect(img_area, QColor("#2b2b2b"))
            if row is not None and row.id in model.thumbs.failed:
                p.setPen(QColor("#c06060"))
                p.drawText(img_area, Qt.AlignCenter, "cannot read")
        if row is not None:
            p.setPen(QColor("#dddddd"))
            f = QFont(p.font())
            f.setPointSizeF(8)
            p.setFont(f)
            p.drawText(QRect(rect.left() + 6, rect.bottom() - 34, rect.width() - 12, 16),
                       Qt.AlignLeft | Qt.AlignVCenter, p.fontMetrics().elidedText(row.filename, Qt.ElideMiddle,
                                                                                  rect.width() - 12))
            stars = "★" * row.rating + "·" * (5 - row.rating)
            p.setPen(QColor("#f0c040" if row.rating else "#777777"))
            p.drawText(QRect(rect.left() + 6, rect.bottom() - 18, 80, 16), Qt.AlignLeft | Qt.AlignVCenter, stars)
            if row.flag == FLAG_PICK:
                p.setPen(QColor("#ffffff"))
                p.drawText(QRect(rect.right() - 40, rect.bottom() - 18, 34, 16), Qt.AlignRight, "⚑ pick")
            elif row.flag == FLAG_REJECT:
                p.setPen(QColor("#e06060"))
                p.drawText(QRect(rect.right() - 40, rect.bottom() - 18, 34, 16), Qt.AlignRight, "✕")
        p.restore()


class LibraryView(QListView):
    """The grid widget."""

    def __init__(self, model: LibraryModel, parent=None):
        super().__init__(parent)
        self.setModel(model)
        self.setViewMode(QListView.IconMode)
        self.setResizeMode(QListView.Adjust)
        self.setMovement(QListView.Static)
        self.setUniformItemSizes(True)  # lets Qt lay out 100k cells without asking for their data
        # Lay out in batches between events: 100k cells paint in ~80 ms instead of ~800.
        self.setLayoutMode(QListView.Batched)
        self.setBatchSize(2000)
        self.setGridSize(CELL)
        self.setItemDelegate(CellDelegate(self))
        self.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(40)
        self.setStyleSheet("QListView { background: #262626; border: none; }")

    def selected_ids(self) -> list[int]:
        return [self.model().ids[i.row()] for i in self.selectionModel().selectedIndexes()]

    def current_id(self) -> int | None:
        idx = self.currentIndex()
        return self.model().ids[idx.row()] if idx.isValid() else None
