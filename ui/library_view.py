"""The grid: a virtualised thumbnail view that stays smooth with a million images.

The model holds only the ordered image ids (one cheap query, on a worker); cell data
is fetched in pages of ``PAGE`` rows on a worker the first time a visible cell asks
for it (the cell shows its frame until the page lands), and thumbnails are decoded
and scaled to the cell on a worker (newest request first, so the cells on screen win
after a fast scroll) into an LRU cache.  QListView with uniform item sizes only asks
for the cells it paints, so nothing is loaded for rows never shown, and the GUI
thread never waits on the catalog while painting or scrolling.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from functools import partial
from dataclasses import dataclass, field

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
GIL_SLICE = 20_000  # cells indexed between two chances for the GUI thread to run
FIRST_CELLS = 600  # photos in the first answer of a reload: a screenful with room to scroll
MAX_PAGES_WANTED = 16  # pages asked for but not read yet; older asks are dropped (scrolled past)
IDS_MIME = "application/x-maskroom-image-ids"  # a drag of grid cells: JSON list of image ids
CELL = QSize(180, 200)
THUMB_FIT = QSize(CELL.width() - 22, CELL.height() - 50)  # the delegate's image area
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


class _PageSignals(QObject):
    loaded = Signal(int, int, object, object)  # generation, page, {id: ImageRow}, {version id: name}
    failed = Signal(int, int, str)


class ThumbnailCache(QObject):
    """LRU of pixmaps plus the request queues for the loader.

    Two layers: the imported thumbnail of each photo (keyed by image id, shared by its
    cells) and, per cell ``(image id, copy version id or None)``, the *edited*
    thumbnail (engine.thumbnails) when that version's edit is not the default.
    A cell shows the imported one at once and the edited one when the worker has it.
    The worker drains imported thumbnails first (cheap), then edited ones (a cached
    file, or a render of ~30 ms) newest first, so the cells on screen win after a scroll.
    ``revalidate`` (the grid calls it when shown again, e.g. back from Develop) asks on
    the worker for the current key of every cell shown so far: one batched query, and
    only cells whose recipe digest or mask rasters changed render again.
    """

    ready = Signal(int)
    edited_ready = Signal(object)  # cell

    def __init__(self, catalog, capacity: int = 2000, max_pending: int = 400, fit: QSize | None = None,
                 parent=None):
        super().__init__(parent)
        self.catalog = catalog
        # Scaled to the cell on the worker: a paint then only blits (scaling each
        # visible thumbnail on every paint cost the GUI thread ~0.2 ms a cell).
        self.fit = fit
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
            img = self._fitted(QImage(str(path)))
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
                img = self._fitted(QImage(str(thumb.path)))
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

    def _fitted(self, img: QImage) -> QImage:
        if self.fit is None or img.isNull() or (img.width() <= self.fit.width() and img.height() <= self.fit.height()):
            return img
        return img.scaled(self.fit, Qt.KeepAspectRatio, Qt.SmoothTransformation)

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
    xmp_changed: set[int] = field(default_factory=set)  # photos whose sidecar changed outside maskroom


def index_cells(ids: list[int], versions: list[int | None]) -> CellIndex:
    if not any(versions):
        # Built in slices, like the list itself (catalog.queries.list_cells): one
        # dict(zip(...)) of a million ids holds the GIL ~80 ms while the GUI thread waits.
        row_of: dict[int, int] = {}
        for lo in range(0, len(ids), GIL_SLICE):
            row_of.update(zip(ids[lo:lo + GIL_SLICE], range(lo, lo + GIL_SLICE)))
        return CellIndex(ids, versions, row_of, {}, {})
    row_of, copy_rows, row_of_version = {}, {}, {}
    for r, (image_id, vid) in enumerate(zip(ids, versions)):
        if vid is None:
            row_of[image_id] = r
        else:
            copy_rows.setdefault(image_id, []).append(r)
            row_of_version[vid] = r
    return CellIndex(ids, versions, row_of, copy_rows, row_of_version)


def load_cells(catalog, filters: dict, sort: str | None, limit: int | None = None) -> CellIndex:
    """Everything a reload needs from the catalog, in one call a worker can make
    (with ``limit``, the cells of the first photos only)."""
    index = index_cells(*library.image_cells(catalog, filters, sort, limit=limit))
    index.xmp_changed = xmp_service.changed_image_ids(catalog)
    return index


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
        self.pages_loaded: set[int] = set()  # pages whose rows have landed
        self._pages_wanted: OrderedDict[int, int] = OrderedDict()  # page -> generation, newest last
        self._pages_asked: dict[int, int] = {}  # page -> generation: wanted or in flight
        self._pages_running = False
        self._pages_lock = threading.Lock()
        self._page_signals = _PageSignals()
        self._page_signals.loaded.connect(self._page_loaded)
        self._page_signals.failed.connect(self._page_failed)
        self.thumbs = ThumbnailCache(catalog, fit=THUMB_FIT, parent=self)
        self.thumbs.ready.connect(self._thumb_ready)
        self.thumbs.edited_ready.connect(self._edited_ready)
        self.filters: dict = {}
        self.sort: str | None = None
        self.xmp_changed: set[int] = set()  # photos whose sidecar changed outside maskroom (badge)
        self.loading = False
        self.partial = False  # showing the first FIRST_CELLS photos while the whole list loads
        self._generation = 0  # of reloads: a slower, older reload's answer is dropped
        self._cells_version = 0  # of the cell list: a page read from an older list is dropped

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
            self._set_entries(load_cells(self.catalog, self.filters, self.sort))
            return
        self._generation += 1
        gen, filters, sort = self._generation, dict(self.filters), self.sort
        self._set_loading(True)

        def failed(text):
            if gen == self._generation:
                self._set_loading(False)
            self.error.emit(text)

        def current() -> bool:
            return isValid(self) and gen == self._generation

        def first_done(index: CellIndex):
            if not current():
                return
            if sum(v is None for v in index.versions) < FIRST_CELLS:
                self._set_entries(index)  # that was all of them
                return
            self._set_entries(index, final=False)
            runner.submit(lambda _p: load_cells(self.catalog, filters, sort),
                          on_done=lambda whole: current() and self._set_entries(whole), on_error=failed)

        # First the cells of one screen (an ORDER BY ... LIMIT the indexes answer in
        # milliseconds), then the whole list: a million ids take a second or two to read.
        # The worker also builds the lookups: the GUI thread only swaps them in.
        runner.submit(lambda _p: load_cells(self.catalog, filters, sort, limit=FIRST_CELLS),
                      on_done=first_done, on_error=failed)

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

    def _set_entries(self, index: CellIndex, final: bool = True) -> None:
        """Show ``index``; not ``final``: it is the first screen of a list still loading."""
        n = len(self.ids)
        if self.partial and index.ids[:n] == self.ids and index.versions[:n] == self.versions:
            self._extend_entries(index)
            return
        self.partial = not final
        self.beginResetModel()
        self._take(index)
        self._rows.clear()
        self.copy_names.clear()
        self.pages_loaded.clear()
        self.endResetModel()
        if final:
            self._set_loading(False)
            self.reloaded.emit()

    def _extend_entries(self, index: CellIndex) -> None:
        """The whole list after its first screen: rows are appended, so what the user
        already scrolled to, selected or loaded stays."""
        n = len(self.ids)
        self.partial = False
        if n % PAGE:
            self.pages_loaded.discard(n // PAGE)  # the short list ended inside this page
        if len(index.ids) > n:
            self.beginInsertRows(QModelIndex(), n, len(index.ids) - 1)
        self._take(index)
        if len(index.ids) > n:
            self.endInsertRows()
        self._set_loading(False)
        self.reloaded.emit()

    def _take(self, index: CellIndex) -> None:
        """The cell list and its lookups from ``index``; pages asked for from the list
        before are forgotten (their answers are dropped: ``_cells_version``)."""
        self._cells_version += 1
        with self._pages_lock:
            self._pages_wanted.clear()
            self._pages_asked.clear()
        self.ids, self.versions = index.ids, index.versions
        self._row_of, self._copy_rows, self._row_of_version = index.row_of, index.copy_rows, index.row_of_version
        self.xmp_changed = index.xmp_changed

    def rows_of(self, image_id: int) -> list[int]:
        """Every cell showing the photo: its master and its virtual copies."""
        r = self._row_of.get(image_id)
        return ([r] if r is not None else []) + self._copy_rows.get(image_id, [])

    def row_of_version(self, version_id: int) -> int | None:
        return self._row_of_version.get(version_id)

    def entry(self, r: int) -> tuple[int, int | None]:
        return self.ids[r], self.versions[r]

    def row(self, r: int) -> library.ImageRow | None:
        """The cell's row, read now if its page has not landed (for actions that need it
        at once; painting uses ``peek_row``, which never waits)."""
        if not 0 <= r < len(self.ids):
            return None
        row = self._rows.get(self.ids[r])
        if row is None and r // PAGE not in self.pages_loaded:
            page = r // PAGE
            rows, names = self._read_page(self.ids, self.versions, page)
            self._store_page(page, rows, names)
            row = self._rows.get(self.ids[r])
        return row

    def peek_row(self, r: int) -> library.ImageRow | None:
        """The cell's row if its page has landed; else None, and the page is asked for
        on a worker (the cells repaint when it lands)."""
        if not 0 <= r < len(self.ids):
            return None
        row = self._rows.get(self.ids[r])
        if row is None and r // PAGE not in self.pages_loaded:
            self._ask_page(r // PAGE)
        return row

    def copy_label(self, r: int) -> str | None:
        """"Copy 1" for a virtual copy's cell, None for a master's."""
        vid = self.versions[r] if 0 <= r < len(self.versions) else None
        if vid is None:
            return None
        self.peek_row(r)  # the name comes with the row's page
        return self.copy_names.get(vid) or f"Copy {self._copy_rows.get(self.ids[r], []).index(r) + 1}"

    @property
    def pages_pending(self) -> bool:
        with self._pages_lock:
            return bool(self._pages_asked)

    # -- rows paged in on a worker ----------------------------------------------------
    def _read_page(self, ids: list[int], versions: list[int | None], page: int):
        lo, hi = page * PAGE, (page + 1) * PAGE
        rows = library.image_rows(self.catalog, ids[lo:hi])
        names = library.version_names(self.catalog, [v for v in versions[lo:hi] if v is not None])
        return rows, names

    def _store_page(self, page: int, rows: dict, names: dict) -> None:
        self.pages_loaded.add(page)
        self._rows.update(rows)
        self.copy_names.update(names)

    def _ask_page(self, page: int) -> None:
        with self._pages_lock:
            if self._pages_asked.get(page) == self._cells_version:
                return
            self._pages_asked[page] = self._pages_wanted[page] = self._cells_version
            self._pages_wanted.move_to_end(page)
            while len(self._pages_wanted) > MAX_PAGES_WANTED:  # scrolled far past: forget the oldest
                old, _ = self._pages_wanted.popitem(last=False)
                self._pages_asked.pop(old, None)
            start = not self._pages_running
            self._pages_running = True
        if start:
            # The cell list is passed by reference: a reload swaps in new lists, it never
            # changes these in place, so the worker reads a consistent (if stale) one.
            QThreadPool.globalInstance().start(partial(self._drain_pages, self.ids, self.versions))

    def _drain_pages(self, ids, versions) -> None:  # worker thread
        signals = self._page_signals
        try:
            while True:
                with self._pages_lock:
                    if not self._pages_wanted:
                        self._pages_running = False
                        return
                    page, gen = self._pages_wanted.popitem(last=True)  # newest first: what is on screen
                try:
                    rows, names = self._read_page(ids, versions, page)
                except Exception as exc:  # noqa: BLE001 - the catalog is busy or gone: the cells stay blank
                    signals.failed.emit(gen, page, str(exc))
                    continue
                signals.loaded.emit(gen, page, rows, names)
        except RuntimeError:  # the grid was closed (its signal object is gone)
            with self._pages_lock:
                self._pages_running = False

    def _page_landed(self, gen: int, page: int) -> None:
        with self._pages_lock:
            if self._pages_asked.get(page) == gen:
                del self._pages_asked[page]

    def _page_loaded(self, gen: int, page: int, rows: dict, names: dict) -> None:
        self._page_landed(gen, page)
        if gen != self._cells_version:
            return  # the cell list changed in between: the new list asks again
        self._store_page(page, rows, names)
        lo, hi = page * PAGE, min((page + 1) * PAGE, len(self.ids)) - 1
        if lo <= hi:
            self.dataChanged.emit(self.index(lo), self.index(hi))

    def _page_failed(self, gen: int, page: int, reason: str) -> None:
        self._page_landed(gen, page)
        if gen == self._cells_version:
            self.pages_loaded.add(page)  # not asked again on every paint; a reload retries
            self.error.emit(f"cannot read photos {page * PAGE + 1}–{(page + 1) * PAGE} of the grid: {reason}")

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
        return _CELL_FLAGS if index.isValid() else Qt.NoItemFlags

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
        r = index.row()
        if role == IdRole:
            return self.ids[r]
        # The id is known without the row: thumbnails are asked for before the page lands.
        if role == Qt.DecorationRole:
            return self.thumbs.cell_pixmap(self.ids[r], self.versions[r])
        if role == ProvisionalRole:
            return (self.ids[r], self.versions[r]) in self.thumbs.provisional
        row = self.peek_row(r)
        if row is None:
            return None
        if role == Qt.DisplayRole:
            return row.filename
        if role == RowRole:
            return row
        if role == Qt.ToolTipRole:
            provisional = (row.id, self.versions[index.row()]) in self.thumbs.provisional
            return f"{row.filename}\n{row.width}×{row.height}" + (
                f"\n{self.thumbs.failed[row.id]}" if row.id in self.thumbs.failed else "") + (
                "\nAI masks not derived yet: the thumbnail shows the edit without them" if provisional else "") + (
                "\nXMP sidecar changed outside maskroom: Read metadata from XMP" if row.id in self.xmp_changed else "")
        return None


# Made once: a paint runs for every cell on screen at each scroll step, and building
# Qt enums, colours and pens from Python costs more than drawing with them.
_LEFT_VCENTER = Qt.AlignLeft | Qt.AlignVCenter
_CELL_FILL, _CELL_FILL_SELECTED = QColor("#3a3a3a"), QColor("#5a5a5a")
_IMAGE_FILL, _BROKEN_TEXT = QColor("#2b2b2b"), QColor("#c06060")
_XMP_FILL, _XMP_TEXT = QColor("#e0a030"), QColor("#202020")
_PROVISIONAL_PEN = QPen(QColor("#e0a030"), 2)
_NAME_TEXT, _STARS_ON, _STARS_OFF = QColor("#dddddd"), QColor("#f0c040"), QColor("#777777")
_PICK_TEXT, _REJECT_TEXT, _FOLD = QColor("#ffffff"), QColor("#e06060"), QColor("#e8e8e8")
_CELL_FLAGS = Qt.ItemIsSelectable | Qt.ItemIsEnabled | Qt.ItemNeverHasChildren | Qt.ItemIsDragEnabled
_LABEL_PENS = {name: QPen(QColor(c), 3) for name, c in LABEL_COLOURS.items()}
_STARS = ["★" * n + "·" * (5 - n) for n in range(6)]


class CellDelegate(QStyledItemDelegate):
    """Lightroom-like cell: dark frame, thumbnail, stars, flag, colour label.

    Reads the model directly (not through ``data()`` roles): one Python call per value
    instead of a round trip through Qt, which at a million cells is what scrolling costs.
    A cell whose row page has not landed yet shows its frame and thumbnail only."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._fonts: dict[tuple, QFont] = {}

    def _font(self, p: QPainter, size: float, bold: bool = False) -> QFont:
        """The view's font at a size, made once (the grid's font does not change while
        it lives; asking Qt for a font's identity on every cell costs as much as drawing)."""
        key = (size, bold)
        f = self._fonts.get(key)
        if f is None:
            f = self._fonts[key] = QFont(p.font())
            f.setPointSizeF(size)
            f.setBold(bold)
        return f

    def sizeHint(self, option, index):  # noqa: N802
        return CELL

    def paint(self, p: QPainter, option, index):
        model: LibraryModel = index.model()
        r = index.row()
        image_id, version = model.ids[r], model.versions[r]
        row = model.peek_row(r)
        rect = option.rect.adjusted(3, 3, -3, -3)
        selected = bool(option.state & QStyle.State_Selected)
        p.save()
        p.fillRect(rect, _CELL_FILL_SELECTED if selected else _CELL_FILL)
        if row is not None and row.color_label in _LABEL_PENS:
            p.setPen(_LABEL_PENS[row.color_label])
            p.drawRect(rect.adjusted(1, 1, -2, -2))
        img_area = QRect(rect.left() + 8, rect.top() + 8, rect.width() - 16, rect.height() - 44)
        pm = model.thumbs.cell_pixmap(image_id, version)
        if pm is not None:
            scaled = pm  # the cache scales thumbnails to the cell on its worker (THUMB_FIT)
            if pm.width() > img_area.width() or pm.height() > img_area.height():
                scaled = pm.scaled(img_area.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation)
            x = img_area.left() + (img_area.width() - scaled.width()) // 2
            y = img_area.top() + (img_area.height() - scaled.height()) // 2
            if row is not None and row.flag == FLAG_REJECT:
                p.setOpacity(0.35)
            p.drawPixmap(x, y, scaled)
            p.setOpacity(1.0)
            if (image_id, version) in model.thumbs.provisional:
                # Edited thumbnail without some AI masks yet (see engine/thumbnails.py):
                # a hollow amber ring, top right, until the rasters exist.
                p.setPen(_PROVISIONAL_PEN)
                p.setBrush(Qt.NoBrush)
                p.drawEllipse(QRect(x + scaled.width() - 15, y + 5, 10, 10))
        else:
            p.fillRect(img_area, _IMAGE_FILL)
            if image_id in model.thumbs.failed:
                p.setPen(_BROKEN_TEXT)
                p.drawText(img_area, Qt.AlignCenter, "cannot read")
        if image_id in model.xmp_changed:
            # Lightroom's "metadata changed on disk" mark: a small amber XMP tag, top left.
            p.save()
            p.setFont(self._font(p, 7, bold=True))
            tag = QRect(img_area.left(), img_area.top(), 28, 13)
            p.fillRect(tag, _XMP_FILL)
            p.setPen(_XMP_TEXT)
            p.drawText(tag, Qt.AlignCenter, "XMP")
            p.restore()
        copy = model.copy_label(r) if row is not None else None
        if copy is not None:
            # Lightroom's mark of a virtual copy: a turned-down page corner, bottom left.
            target = img_area if pm is None else QRect(x, y, scaled.width(), scaled.height())
            c = 18
            corner = QPolygon([QPoint(target.left(), target.bottom() - c), QPoint(target.left() + c, target.bottom()),
                               QPoint(target.left(), target.bottom())])
            fold = QPolygon([QPoint(target.left(), target.bottom() - c), QPoint(target.left() + c, target.bottom() - c),
                             QPoint(target.left() + c, target.bottom())])
            p.setPen(Qt.NoPen)
            p.setBrush(_CELL_FILL_SELECTED if selected else _CELL_FILL)
            p.drawPolygon(corner)
            p.setBrush(_FOLD)
            p.drawPolygon(fold)
            p.setBrush(Qt.NoBrush)
        if row is not None:
            p.setPen(_NAME_TEXT)
            p.setFont(self._font(p, 8))
            title = row.filename if copy is None else f"{row.filename} · {copy}"
            # Full names elide in the middle (IMG_20261207_…_0042.CR3): both ends tell photos apart.
            p.drawText(QRect(rect.left() + 6, rect.bottom() - 34, rect.width() - 12, 16), _LEFT_VCENTER,
                       p.fontMetrics().elidedText(title, Qt.ElideMiddle, rect.width() - 12))
            p.setPen(_STARS_ON if row.rating else _STARS_OFF)
            p.drawText(QRect(rect.left() + 6, rect.bottom() - 18, 80, 16), _LEFT_VCENTER, _STARS[row.rating])
            if row.flag == FLAG_PICK:
                p.setPen(_PICK_TEXT)
                p.drawText(QRect(rect.right() - 40, rect.bottom() - 18, 34, 16), Qt.AlignRight, "⚑ pick")
            elif row.flag == FLAG_REJECT:
                p.setPen(_REJECT_TEXT)
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
        # 500 a batch: each costs 500 calls into the Python model, so scrolling while a
        # million cells are still being laid out pauses ≤ 40 ms (2000: 81 ms; bench/ui.py).
        self.setLayoutMode(QListView.Batched)
        self.setBatchSize(500)
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
        # While a large list loads, its first screen (model.partial) shows undimmed.
        if (model.loading and not model.partial) or not model.rowCount():
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
