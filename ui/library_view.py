"""The grid: a virtualised thumbnail view that stays smooth with 100k images.

The model holds only the ordered image ids (one cheap query); cell data is fetched
in pages of ``PAGE`` rows the first time a visible cell asks for it, and thumbnails
are decoded on a worker (newest request first, so the cells on screen win after a
fast scroll) into an LRU cache.  QListView with uniform item sizes only asks for the
cells it paints, so nothing is loaded for rows never shown.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QEvent,
    QEventLoop,
    QMimeData,
    QModelIndex,
    QObject,
    QPoint,
    QRect,
    QSize,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPixmap, QPolygon
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate
from shiboken6 import isValid

from maskroom.services import develop as develop_service
from maskroom.services import library
from maskroom.services import xmp as xmp_service
from maskroom.services.library import FLAG_PICK, FLAG_REJECT

PAGE = 200
IDS_MIME = "application/x-maskroom-image-ids"  # a drag of grid cells: JSON list of image ids
CELL = QSize(180, 200)
IdRole = Qt.UserRole + 1
RowRole = Qt.UserRole + 2
ProvisionalRole = Qt.UserRole + 3  # the cell's edited thumbnail still lacks some AI mask rasters
LABEL_COLOURS = {"red": "#d9453c", "yellow": "#e3c342", "green": "#4fa34f", "blue": "#4a7fd6", "purple": "#9b59c6"}


def ids_mime(ids: list[int]) -> QMimeData:
    md = QMimeData()
    md.setData(IDS_MIME, QByteArray(json.dumps([int(i) for i in ids]).encode()))
    return md


def ids_from_mime(md: QMimeData) -> list[int]:
    if not md.hasFormat(IDS_MIME):
        return []
    try:
        return [int(i) for i in json.loads(bytes(md.data(IDS_MIME)).decode())]
    except (ValueError, TypeError):
        return []


class _LoaderSignals(QObject):
    loaded = Signal(int, QImage)  # image id, thumbnail (QImage is safe to make off the GUI thread)
    failed = Signal(int, str)
    edited = Signal(object, object, str, bool)  # cell, QImage or None (unedited), key, provisional
    edit_failed = Signal(object, str)
    stale = Signal(object)  # a cell whose pixels changed since they were shown


class ThumbnailCache(QObject):
    """LRU of pixmaps plus the request queues for the loader.

    Two layers: the imported thumbnail of each photo (keyed by image id, shared by its
    cells) and, per cell ``(image id, copy version id or None)``, the *edited*
    thumbnail (engine.develop.thumbnails) when that version's edit is not the default.
    A cell shows the imported one at once and the edited one when the worker has it.
    The worker drains imported thumbnails first (cheap), then edited ones (a cached
    file, or a render of ~30 ms) newest first, so the cells on screen win after a scroll.
    ``revalidate`` (the grid calls it when shown again, e.g. back from Develop) asks on
    the worker for the current key of every cell shown so far: one batched query, and
    only cells whose recipe digest or mask rasters changed render again.
    """

    ready = Signal(int)
    edited_ready = Signal(object)  # cell

    def __init__(self, catalog, capacity: int = 2000, max_pending: int = 400, parent=None):
        super().__init__(parent)
        self.catalog = catalog
        self.capacity, self.max_pending = capacity, max_pending
        self._pixmaps: OrderedDict[int, QPixmap] = OrderedDict()
        self._queue: OrderedDict[int, None] = OrderedDict()
        self._edited: OrderedDict[tuple, QPixmap] = OrderedDict()  # cell -> edited thumbnail
        self._keys: OrderedDict[tuple, str] = OrderedDict()  # cell -> key of what it shows (checked)
        self._edit_queue: OrderedDict[tuple, None] = OrderedDict()
        self._asked: set[tuple] = set()  # cells queued or in flight
        self._lock = threading.Lock()
        self._signals = _LoaderSignals()
        self._signals.loaded.connect(self._on_loaded)
        self._signals.failed.connect(self._on_failed)
        self._signals.edited.connect(self._on_edited)
        self._signals.edit_failed.connect(self._on_edit_failed)
        self._signals.stale.connect(self._on_stale)
        self._running = False
        self._revalidating = False
        self.failed: dict[int, str] = {}
        self.edit_failed: dict[tuple, str] = {}
        self.provisional: set[tuple] = set()  # cells whose edited thumbnail lacks AI mask rasters
        self.requested: set[int] = set()  # every id ever requested (tests read it)
        self.rendered: list[tuple] = []  # cells whose edited thumbnail was rendered (not read from disk)
        self.pool = QThreadPool.globalInstance()

    def get(self, image_id: int) -> QPixmap | None:
        """The imported thumbnail of a photo (requested when missing)."""
        pm = self._pixmaps.get(image_id)
        if pm is not None:
            self._pixmaps.move_to_end(image_id)
            return pm
        if image_id not in self.failed:
            self.request(image_id)
        return None

    def cell_pixmap(self, image_id: int, version_id: int | None = None) -> QPixmap | None:
        """What a cell shows: its edited thumbnail when there is one, else the imported one."""
        cell = (image_id, version_id)
        pm = self._edited.get(cell)
        imported = self.get(image_id) if pm is None else None
        if cell in self._keys:
            self._keys.move_to_end(cell)
        elif cell not in self._asked and cell not in self.edit_failed:
            # Never checked, or stale (its old edited pixmap shows until the new one lands).
            self.request_edited(cell)
        if pm is not None:
            self._edited.move_to_end(cell)
            return pm
        return imported

    def edited_pixmap(self, image_id: int, version_id: int | None = None) -> QPixmap | None:
        return self._edited.get((image_id, version_id))

    def request(self, image_id: int) -> None:
        self.requested.add(image_id)
        with self._lock:
            self._queue[image_id] = None
            self._queue.move_to_end(image_id)
            while len(self._queue) > self.max_pending:  # scrolled far past: forget the oldest asks
                self._queue.popitem(last=False)
        self._start()

    def request_edited(self, cell: tuple) -> None:
        self._asked.add(cell)
        with self._lock:
            self._edit_queue[cell] = None
            self._edit_queue.move_to_end(cell)
            while len(self._edit_queue) > self.max_pending:
                dropped, _ = self._edit_queue.popitem(last=False)
                self._asked.discard(dropped)  # asked again if it is painted again
        self._start()

    def _start(self) -> None:
        with self._lock:
            start = not self._running
            self._running = True
        if start:
            # A callable, not a QRunnable subclass: Qt owns the runnable, see workers.Job.
            self.pool.start(self._drain)

    def _drain(self) -> None:  # worker thread
        signals = self._signals  # held here: the cache may be deleted while this runs
        try:
            while True:
                with self._lock:
                    if self._queue:
                        image_id, _ = self._queue.popitem(last=True)
                        cells = None
                    elif self._edit_queue:
                        cells = [self._edit_queue.popitem(last=True)[0] for _ in range(min(32, len(self._edit_queue)))]
                    else:
                        self._running = False  # under the lock: request() starts a new drain
                        return
                if cells is None:
                    self._load_imported(signals, image_id)
                else:
                    self._load_edited(signals, cells)
        except RuntimeError:  # the grid was closed (its signal object is gone): stop quietly
            with self._lock:
                self._queue.clear()
                self._edit_queue.clear()
                self._running = False

    def _load_imported(self, signals, image_id: int) -> None:
        # Work errors are caught; only a RuntimeError from emit (the grid is gone) leaves.
        try:
            path = develop_service.thumbnail_path(self.catalog, image_id)
            img = QImage(str(path))
            error = f"{path}: cannot read thumbnail" if img.isNull() else None
        except Exception as exc:  # noqa: BLE001 - a bad file shows as a broken cell
            error = str(exc)
        if error is None:
            signals.loaded.emit(image_id, img)
        else:
            signals.failed.emit(image_id, error)

    def _load_edited(self, signals, cells: list[tuple]) -> None:
        """Plan a batch of cells in one query; unedited ones answer at once, the others
        read their cached file or render.  Imported thumbnails waiting go first: after
        each render the rest of the batch is put back."""
        try:
            plans = develop_service.thumbnail_plans(self.catalog, cells)
        except Exception as exc:  # noqa: BLE001 - the catalog went away: cells keep the imported thumbnail
            for cell in cells:
                signals.edit_failed.emit(cell, str(exc))
            return
        for n, cell in enumerate(cells):
            plan = plans.get(cell)
            if plan is None:
                signals.edit_failed.emit(cell, "no such photo or version")
                continue
            if not plan.edited:
                signals.edited.emit(cell, None, plan.key, False)
                continue
            thumb = None
            try:
                thumb = develop_service.edited_thumbnail(self.catalog, cell[0], cell[1], plan=plan, load=False)
                img = QImage(str(thumb.path))
                error = f"{thumb.path}: cannot read edited thumbnail" if img.isNull() else None
            except Exception as exc:  # noqa: BLE001 - the cell keeps its imported thumbnail
                error = str(exc)
            if error is not None:
                signals.edit_failed.emit(cell, error)
                continue
            if thumb.rendered:
                self.rendered.append(cell)
            signals.edited.emit(cell, img, plan.key, thumb.provisional)
            if thumb.rendered and n + 1 < len(cells):
                with self._lock:
                    if self._queue:  # new cells scrolled in: serve them, then the rest of this batch
                        for rest in reversed(cells[n + 1:]):
                            if rest not in self._edit_queue:
                                self._edit_queue[rest] = None
                        return

    def _on_loaded(self, image_id: int, img: QImage):
        self._pixmaps[image_id] = QPixmap.fromImage(img)
        while len(self._pixmaps) > self.capacity:
            self._pixmaps.popitem(last=False)
        self.ready.emit(image_id)

    def _on_failed(self, image_id: int, reason: str):
        self.failed[image_id] = reason
        self.ready.emit(image_id)

    def _on_edited(self, cell: tuple, img, key: str, provisional: bool):
        self._asked.discard(cell)
        self._keys[cell] = key
        self._keys.move_to_end(cell)
        while len(self._keys) > 2 * self.capacity:
            old, _ = self._keys.popitem(last=False)
            self._edited.pop(old, None)
            self.provisional.discard(old)
        had = self._edited.pop(cell, None) is not None
        if img is None:
            self.provisional.discard(cell)
            if not had:
                return  # unedited, as shown: nothing to repaint
        else:
            self._edited[cell] = QPixmap.fromImage(img)
            (self.provisional.add if provisional else self.provisional.discard)(cell)
            while len(self._edited) > self.capacity:
                old, _ = self._edited.popitem(last=False)
                self._keys.pop(old, None)  # asked again (from the disk cache) when painted
        self.edited_ready.emit(cell)

    def _on_edit_failed(self, cell: tuple, reason: str):
        self._asked.discard(cell)
        self.edit_failed[cell] = reason

    def _on_stale(self, cell: tuple):
        if self._keys.pop(cell, None) is not None and cell not in self._asked:
            self.request_edited(cell)  # the old pixmap stays until the new one lands

    def revalidate(self) -> None:
        """Check on a worker whether cells shown so far changed (an edit in Develop, a sync,
        a mask refresh, undo...); changed cells load again.  One batched query, no polling."""
        known = dict(self._keys)
        self.edit_failed.clear()
        if not known or self._revalidating:
            return
        self._revalidating = True
        signals = self._signals

        def check():
            try:
                plans = develop_service.thumbnail_plans(self.catalog, list(known))
                for cell, key in known.items():
                    plan = plans.get(cell)
                    if plan is None or plan.key != key:
                        signals.stale.emit(cell)
            except RuntimeError:  # the grid was closed
                pass
            except Exception:  # noqa: BLE001 - the catalog is busy or gone: keep what is shown
                pass
            finally:
                self._revalidating = False

        self.pool.start(check)

    def drop_pending_edits(self) -> None:
        with self._lock:
            dropped = list(self._edit_queue)
            self._edit_queue.clear()
        self._asked.difference_update(dropped)

    def idle(self) -> bool:
        with self._lock:
            return not self._queue and not self._edit_queue and not self._running and not self._revalidating

    def invalidate(self, image_id: int) -> None:
        self._pixmaps.pop(image_id, None)
        self.failed.pop(image_id, None)
        for cell in [c for c in self._keys if c[0] == image_id]:
            self._keys.pop(cell, None)
            self._edited.pop(cell, None)


@dataclass
class CellIndex:
    """The grid's cell list and its lookups, built off the GUI thread."""

    ids: list[int]
    versions: list[int | None]
    row_of: dict[int, int]  # image id -> its master's cell
    copy_rows: dict[int, list[int]]  # image id -> its copies' cells
    row_of_version: dict[int, int]  # copy version id -> cell


def index_entries(entries: list[tuple[int, int | None]]) -> CellIndex:
    ids = [e[0] for e in entries]
    versions = [e[1] for e in entries]
    if not any(versions):
        return CellIndex(ids, versions, dict(zip(ids, range(len(ids)))), {}, {})
    row_of, copy_rows, row_of_version = {}, {}, {}
    for r, (image_id, vid) in enumerate(entries):
        if vid is None:
            row_of[image_id] = r
        else:
            copy_rows.setdefault(image_id, []).append(r)
            row_of_version[vid] = r
    return CellIndex(ids, versions, row_of, copy_rows, row_of_version)


class LibraryModel(QAbstractListModel):
    """The grid's cells in order: one per photo, then one per virtual copy of it
    (``ids[r]`` is the cell's image, ``versions[r]`` the copy's version id or None for
    the photo's master); row data paged in on demand."""

    error = Signal(str)
    reloaded = Signal()
    loading_changed = Signal(bool)

    def __init__(self, catalog, parent=None):
        super().__init__(parent)
        self.catalog = catalog
        self.ids: list[int] = []
        self.versions: list[int | None] = []
        self._rows: dict[int, library.ImageRow] = {}
        self._row_of: dict[int, int] = {}  # image id -> its master's cell
        self._copy_rows: dict[int, list[int]] = {}  # image id -> its copies' cells
        self._row_of_version: dict[int, int] = {}  # copy version id -> cell
        self.copy_names: dict[int, str] = {}  # copy version id -> "Copy 1"
        self.pages_loaded: set[int] = set()
        self.thumbs = ThumbnailCache(catalog, parent=self)
        self.thumbs.ready.connect(self._thumb_ready)
        self.thumbs.edited_ready.connect(self._edited_ready)
        self.filters: dict = {}
        self.sort: str | None = None
        self.xmp_changed: set[int] = set()  # photos whose sidecar changed outside maskroom (badge)
        self.loading = False
        self._generation = 0

    # -- loading ---------------------------------------------------------------
    def reload(self, filters: dict | None = None, sort: str | None = None, runner=None) -> None:
        """Query the ordered cells again; with a JobRunner the query runs on a worker
        (100k ids take a few hundred ms), the grid shows "Loading…" and fills when it lands."""
        if filters is not None:
            self.filters = filters
        if sort is not None:
            self.sort = sort
        if runner is None:
            self._generation += 1
            self._set_entries(index_entries(library.image_entries(self.catalog, self.filters, self.sort)))
            return
        self._generation += 1
        gen, filters, sort = self._generation, dict(self.filters), self.sort
        self._set_loading(True)

        def failed(text):
            if gen == self._generation:
                self._set_loading(False)
            self.error.emit(text)

        # The worker also builds the lookups: the GUI thread only swaps them in.
        runner.submit(lambda _p: index_entries(library.image_entries(self.catalog, filters, sort)),
                      on_done=lambda entries: isValid(self) and gen == self._generation and self._set_entries(entries),
                      on_error=failed)

    def _set_loading(self, on: bool) -> None:
        if on != self.loading:
            self.loading = on
            self.loading_changed.emit(on)

    def wait_loaded(self, timeout_ms: int = 60000) -> bool:
        """Run the event loop (the window stays live) until a pending load lands; for code
        that must address a cell by image id right after opening the window."""
        if not self.loading:
            return True

        loop = QEventLoop()
        self.loading_changed.connect(loop.quit)
        QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()
        self.loading_changed.disconnect(loop.quit)
        return not self.loading

    def _set_entries(self, index: CellIndex) -> None:
        self.beginResetModel()
        self.ids, self.versions = index.ids, index.versions
        self._row_of, self._copy_rows, self._row_of_version = index.row_of, index.copy_rows, index.row_of_version
        self._rows.clear()
        self.copy_names.clear()
        self.pages_loaded.clear()
        self.xmp_changed = xmp_service.changed_image_ids(self.catalog)
        self.endResetModel()
        self._set_loading(False)
        self.reloaded.emit()

    def rows_of(self, image_id: int) -> list[int]:
        """Every cell showing the photo: its master and its virtual copies."""
        r = self._row_of.get(image_id)
        return ([r] if r is not None else []) + self._copy_rows.get(image_id, [])

    def row_of_version(self, version_id: int) -> int | None:
        return self._row_of_version.get(version_id)

    def entry(self, r: int) -> tuple[int, int | None]:
        return self.ids[r], self.versions[r]

    def row(self, r: int) -> library.ImageRow | None:
        if not 0 <= r < len(self.ids):
            return None
        image_id = self.ids[r]
        row = self._rows.get(image_id)
        if row is None:
            page = r // PAGE
            if page not in self.pages_loaded:
                self.pages_loaded.add(page)
                lo, hi = page * PAGE, (page + 1) * PAGE
                self._rows.update(library.image_rows(self.catalog, self.ids[lo:hi]))
                copies = [v for v in self.versions[lo:hi] if v is not None]
                self.copy_names.update(library.version_names(self.catalog, copies))
            row = self._rows.get(image_id)
        return row

    def copy_label(self, r: int) -> str | None:
        """"Copy 1" for a virtual copy's cell, None for a master's."""
        vid = self.versions[r] if 0 <= r < len(self.versions) else None
        if vid is None:
            return None
        self.row(r)  # pages in the name with the row
        return self.copy_names.get(vid) or f"Copy {self._copy_rows.get(self.ids[r], []).index(r) + 1}"

    def refresh_rows(self, ids) -> None:
        """Re-read some rows after a rating/flag/label change (a copy's cell shows its photo's)."""
        fresh = library.image_rows(self.catalog, list(ids))
        self._rows.update(fresh)
        for image_id in fresh:
            for r in self.rows_of(image_id):
                idx = self.index(r)
                self.dataChanged.emit(idx, idx)

    def _thumb_ready(self, image_id: int):
        for r in self.rows_of(image_id):
            idx = self.index(r)
            self.dataChanged.emit(idx, idx, [Qt.DecorationRole])

    def _edited_ready(self, cell: tuple):
        image_id, vid = cell
        r = self._row_of.get(image_id) if vid is None else self._row_of_version.get(vid)
        if r is not None and r < len(self.ids) and self.ids[r] == image_id:
            idx = self.index(r)
            self.dataChanged.emit(idx, idx, [Qt.DecorationRole])

    # -- drag and drop: cells onto a collection in the sidebar ---------------------
    def flags(self, index):
        f = super().flags(index)
        return f | Qt.ItemIsDragEnabled if index.isValid() else f

    def mimeTypes(self):  # noqa: N802
        return [IDS_MIME]

    def mimeData(self, indexes):  # noqa: N802
        ids = list(dict.fromkeys(self.ids[i.row()] for i in indexes if i.isValid()))
        return ids_mime(ids)

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
            return self.thumbs.cell_pixmap(row.id, self.versions[index.row()])
        if role == ProvisionalRole:
            return (row.id, self.versions[index.row()]) in self.thumbs.provisional
        if role == Qt.ToolTipRole:
            provisional = (row.id, self.versions[index.row()]) in self.thumbs.provisional
            return f"{row.filename}\n{row.width}×{row.height}" + (
                f"\n{self.thumbs.failed[row.id]}" if row.id in self.thumbs.failed else "") + (
                "\nAI masks not derived yet: the thumbnail shows the edit without them" if provisional else "") + (
                "\nXMP sidecar changed outside maskroom: Read metadata from XMP" if row.id in self.xmp_changed else "")
        return None


class CellDelegate(QStyledItemDelegate):
    """Lightroom-like cell: dark frame, thumbnail, stars, flag, colour label."""

    def sizeHint(self, option, index):  # noqa: N802
        return CELL

    def paint(self, p: QPainter, option, index):
        model = index.model()
        row: library.ImageRow | None = model.data(index, RowRole)
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
            if model.data(index, ProvisionalRole):
                # Edited thumbnail without some AI masks yet (see engine/develop/thumbnails.py):
                # a hollow amber ring, top right, until the rasters exist.
                p.setPen(QPen(QColor("#e0a030"), 2))
                p.setBrush(Qt.NoBrush)
                p.drawEllipse(QRect(x + scaled.width() - 15, y + 5, 10, 10))
        else:
            p.fillRect(img_area, QColor("#2b2b2b"))
            if row is not None and row.id in model.thumbs.failed:
                p.setPen(QColor("#c06060"))
                p.drawText(img_area, Qt.AlignCenter, "cannot read")
        if row is not None and row.id in model.xmp_changed:
            # Lightroom's "metadata changed on disk" mark: a small amber XMP tag, top left.
            p.save()
            f = QFont(p.font())
            f.setPointSizeF(7)
            f.setBold(True)
            p.setFont(f)
            tag = QRect(img_area.left(), img_area.top(), 28, 13)
            p.fillRect(tag, QColor("#e0a030"))
            p.setPen(QColor("#202020"))
            p.drawText(tag, Qt.AlignCenter, "XMP")
            p.restore()
        copy = model.copy_label(index.row()) if row is not None else None
        if copy is not None:
            # Lightroom's mark of a virtual copy: a turned-down page corner, bottom left.
            target = img_area if pm is None else QRect(x, y, scaled.width(), scaled.height())
            c = 18
            corner = QPolygon([QPoint(target.left(), target.bottom() - c), QPoint(target.left() + c, target.bottom()),
                               QPoint(target.left(), target.bottom())])
            fold = QPolygon([QPoint(target.left(), target.bottom() - c), QPoint(target.left() + c, target.bottom() - c),
                             QPoint(target.left() + c, target.bottom())])
            p.setPen(Qt.NoPen)
            p.setBrush(QColor("#3a3a3a" if not selected else "#5a5a5a"))
            p.drawPolygon(corner)
            p.setBrush(QColor("#e8e8e8"))
            p.drawPolygon(fold)
            p.setBrush(Qt.NoBrush)
        if row is not None:
            p.setPen(QColor("#dddddd"))
            f = QFont(p.font())
            f.setPointSizeF(8)
            p.setFont(f)
            title = row.filename if copy is None else f"{row.filename} · {copy}"
            p.drawText(QRect(rect.left() + 6, rect.bottom() - 34, rect.width() - 12, 16),
                       Qt.AlignLeft | Qt.AlignVCenter, p.fontMetrics().elidedText(title, Qt.ElideMiddle,
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
    """The grid widget: cells drag onto a collection in the sidebar; "Loading…" while
    the cell list is being queried on a worker."""

    context_menu = Signal(QPoint)  # global position; the window builds the menu

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
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragOnly)
        self.setContextMenuPolicy(Qt.CustomContextMenu)
        self.customContextMenuRequested.connect(lambda pos: self.context_menu.emit(self.viewport().mapToGlobal(pos)))
        model.loading_changed.connect(lambda _on: self.viewport().update())
        self._watched_window = None

    # -- edited thumbnails follow edits made elsewhere ---------------------------------
    def showEvent(self, ev):  # noqa: N802
        """Back to the grid (from Loupe/Develop): cells whose edit changed load again."""
        super().showEvent(ev)
        win = self.window()
        if win is not self and win is not self._watched_window:
            win.installEventFilter(self)  # a dialog (sync, mask refresh) closing re-activates it
            self._watched_window = win
        self.model().thumbs.revalidate()

    def hideEvent(self, ev):  # noqa: N802
        """Off to Loupe/Develop: renders queued for cells no longer on screen would only
        compete with the photo being edited; they are asked again when painted."""
        super().hideEvent(ev)
        self.model().thumbs.drop_pending_edits()

    def eventFilter(self, obj, ev):  # noqa: N802
        # Also called for the view's own viewport, from inside __init__: no attribute yet.
        if obj is getattr(self, "_watched_window", None) and ev.type() == QEvent.WindowActivate and self.isVisible():
            self.model().thumbs.revalidate()
        return super().eventFilter(obj, ev)

    def paintEvent(self, ev):  # noqa: N802
        super().paintEvent(ev)
        model = self.model()
        if model.loading or not model.rowCount():
            p = QPainter(self.viewport())
            p.setPen(QColor("#9a9a9a"))
            text = "Loading…" if model.loading else "No photos"
            if model.loading and model.rowCount():  # a filter change: the old cells stay, dimmed
                p.fillRect(self.viewport().rect(), QColor(38, 38, 38, 140))
            p.drawText(self.viewport().rect(), Qt.AlignCenter, text)
            p.end()

    def selected_ids(self) -> list[int]:
        """The selected photos (a photo selected as master and copy counts once)."""
        ids = self.model().ids
        return list(dict.fromkeys(ids[i.row()] for i in sorted(self.selectionModel().selectedIndexes(),
                                                                key=lambda i: i.row())))

    def selected_entries(self) -> list[tuple[int, int | None]]:
        """(image id, copy version id or None) of each selected cell, in grid order."""
        model = self.model()
        return [model.entry(i.row()) for i in sorted(self.selectionModel().selectedIndexes(), key=lambda i: i.row())]

    def current_id(self) -> int | None:
        idx = self.currentIndex()
        return self.model().ids[idx.row()] if idx.isValid() else None

    def current_version(self) -> int | None:
        """The current cell's virtual-copy version id; None on a master's cell."""
        idx = self.currentIndex()
        return self.model().versions[idx.row()] if idx.isValid() else None
