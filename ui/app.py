"""The main window: library grid, loupe, develop; keyboard like Lightroom Classic.

Views: G grid, E loupe, D develop.  0-5 rate, P/X/U flag, 6-9 colour labels, O mask
overlay, backslash before/after, R crop tool, Left/Right filmstrip, Ctrl+Shift+T title,
Ctrl+Z / Ctrl+Shift+Z undo/redo.  Window geometry,
dock layout, the last catalog and view persist in QSettings.
"""
from __future__ import annotations

import logging
import gc
import sys
from pathlib import Path

from PySide6.QtCore import (
    QByteArray,
    QEventLoop,
    QObject,
    QSettings,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QScrollArea,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from maskroom.services import develop as develop_service
from maskroom.services import editing, masks
from maskroom.services import library as library_service
from maskroom.services import xmp as xmp_service
from maskroom.services.library import (
    COLOR_LABELS,
    FLAG_NONE,
    FLAG_PICK,
    FLAG_REJECT,
    QUICK_COLLECTION,
)
from maskroom.ui.crop_tool import CropTool
from maskroom.ui.develop_panel import DevelopPanel, EditSession, HistoryPanel
from maskroom.ui.export_dialog import ExportDialog
from maskroom.ui.filmstrip import Filmstrip
from maskroom.ui.filter_bar import FilterBar
from maskroom.ui.import_dialog import ImportDialog
from maskroom.ui.keywords_controller import KeywordsController
from maskroom.ui.keywords_panel import KeywordsPanel
from maskroom.ui.library_view import LibraryModel, LibraryView
from maskroom.ui.loupe import LoupeCanvas
from maskroom.ui.masks_panel import MasksPanel
from maskroom.ui.metadata_panel import MetadataPanel
from maskroom.ui.preview import PreviewRenderer
from maskroom.ui.sidebar import Sidebar
from maskroom.ui.sync_dialog import SyncDialog
from maskroom.ui.watch_controller import WatchController
from maskroom.ui.workers import JobRunner, readable_error

DARK = """
QWidget { background: #2f2f2f; color: #dcdcdc; }
QLineEdit, QComboBox, QSpinBox, QTreeWidget, QListWidget { background: #242424; border: 1px solid #444; }
QPushButton, QToolButton { background: #3d3d3d; border: 1px solid #555; padding: 3px 8px; }
QPushButton:hover, QToolButton:hover { background: #4a4a4a; }
QPushButton:disabled, QToolButton:disabled, QCheckBox:disabled, QRadioButton:disabled { color: #777; }
QGroupBox { border: 1px solid #444; margin-top: 14px; padding-top: 4px; }
QGroupBox::title { subcontrol-origin: margin; left: 6px; color: #aaaaaa; }
QTabBar::tab { background: #333; padding: 5px 12px; } QTabBar::tab:selected { background: #4a4a4a; }
QDockWidget::title { background: #3a3a3a; padding: 4px; }
QSlider::groove:horizontal { height: 3px; background: #555; }
QSlider::handle:horizontal { width: 10px; margin: -5px 0; background: #cfcfcf; border-radius: 5px; }
QTreeWidget::item:selected, QListWidget::item:selected { background: #4d5b70; }
"""

VIEWS = ("grid", "loupe", "develop")
FAILED = object()  # what MainWindow._library_op returns when the service refused


class ServiceWarnings(QObject):
    """Warnings the services log (a sidecar not written, a doubtful mask), delivered on
    the GUI thread whichever worker logged them."""

    line = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        outer = self

        class _Handler(logging.Handler):
            def emit(self, record):
                outer.line.emit(record.getMessage())

        self.handler = _Handler(logging.WARNING)
        log = logging.getLogger("maskroom")
        log.addHandler(self.handler)
        log.setLevel(logging.WARNING)
        self.destroyed.connect(lambda *_: log.removeHandler(self.handler))


class MainWindow(QMainWindow):
    closed = Signal()

    def __init__(self, catalog, settings: QSettings | None = None, parent=None):
        super().__init__(parent)
        self.catalog = catalog
        self.setObjectName("maskroom_main")
        self.settings = settings or QSettings("maskroom", "maskroom")
        self.setWindowTitle(f"maskroom — {catalog.location.url}")
        self.runner = JobRunner(self)
        self.watch = WatchController(catalog, self.settings, self)
        self.watch.status.connect(self.statusBar().showMessage)
        self.watch.error.connect(self.show_error)
        self.watch.imported.connect(lambda: (self.model.reload(runner=self.runner), self.sidebar.reload(self.runner)))
        self.view = "grid"

        # -- central: grid | canvas ---------------------------------------------------
        self.model = LibraryModel(catalog, self)
        self.grid = LibraryView(self.model)
        self.grid.doubleClicked.connect(lambda _i: self.show_view("loupe"))
        self.grid.context_menu.connect(self._grid_menu)
        self.model.reloaded.connect(self._update_count)
        self.model.loading_changed.connect(lambda _on: self._update_count())
        self.model.error.connect(self.show_error)
        self.filter_bar = FilterBar()
        self.filter_bar.changed.connect(self._filters_changed)
        grid_page = QWidget()
        gl = QVBoxLayout(grid_page)
        gl.setContentsMargins(0, 0, 0, 0)
        gl.setSpacing(0)
        gl.addWidget(self.filter_bar)
        gl.addWidget(self.grid, 1)
        self.canvas = LoupeCanvas()
        # Loupe and develop: the canvas over the filmstrip (the grid's cells in a row).
        self.filmstrip = Filmstrip(self.grid)
        photo_page = QWidget()
        pl = QVBoxLayout(photo_page)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.setSpacing(0)
        pl.addWidget(self.canvas, 1)
        pl.addWidget(self.filmstrip)
        self.grid.selectionModel().currentChanged.connect(lambda *_: self.view != "grid" and self.open_current())
        self.stack = QStackedWidget()
        self.stack.addWidget(grid_page)
        self.stack.addWidget(photo_page)
        self.setCentralWidget(self.stack)

        # -- develop state ---------------------------------------------------------------
        self.session = EditSession(catalog, self)
        self.renderer = PreviewRenderer(catalog, self.runner, self)
        self.renderer.rendered.connect(self._rendered)
        self.canvas.colour_picked.connect(lambda x, y: self._develop_picked(x, y))
        self.renderer.original.connect(self.canvas.set_before)
        self.renderer.overlay.connect(self._overlay)
        self.renderer.error.connect(self.show_error)
        self.renderer.busy.connect(lambda b: self.busy_label.setText("Working…" if b else ""))
        self.session.changed.connect(self._recipe_changed)
        self.session.error.connect(self.show_error)
        self.session.version_loaded.connect(self._version_loaded)

        # -- docks ---------------------------------------------------------------------------
        self.sidebar = Sidebar(catalog, runner=self.runner)  # counts read on a worker
        self.sidebar.source_changed.connect(self._source_changed)
        self.sidebar.dropped.connect(self.add_to_collection)
        self.sidebar.new_collection_requested.connect(lambda: self.new_collection())
        self.sidebar.rename_requested.connect(lambda name: self.rename_collection(name))
        self.sidebar.delete_requested.connect(self.delete_collection)
        self.sidebar.remove_selection_requested.connect(self.remove_from_collection)
        self.source_filter: dict = {}
        self.left_dock = self._dock("Library", self.sidebar, Qt.LeftDockWidgetArea, "library_dock")
        self.keywords_panel = KeywordsPanel()
        self.keywords = KeywordsController(catalog, self.runner, self.keywords_panel,
                                           lambda: self.target_ids() if self.view != "develop" else [], self)
        self.keywords.status.connect(self.statusBar().showMessage)
        self.keywords.error.connect(self.show_error)
        self.keywords_panel.filter_requested.connect(lambda path: self.filter_bar.fields["keyword"].setText(path))
        self.keywords_dock = self._dock("Keywords", self.keywords_panel, Qt.LeftDockWidgetArea, "keywords_dock")
        self.filter_bar.set_keyword_completion(self.keywords_panel.names)
        self.grid.selectionModel().selectionChanged.connect(lambda *_: self.keywords.timer.start())
        self.model.modelReset.connect(lambda: self.keywords.timer.start())
        self.history_panel = HistoryPanel(self.session)
        self.history_dock = self._dock("History", self.history_panel, Qt.LeftDockWidgetArea, "history_dock")
        self.develop_panel = DevelopPanel(self.session)
        self.develop_panel.histogram.clipping_toggled.connect(self.toggle_clipping)
        self.develop_panel.pick_requested.connect(self._start_pick)
        self._pick: str | None = None
        self.crop_tool = CropTool(self.canvas, self.session, self)
        self.crop_tool.render_wanted.connect(lambda recipe: self.renderer.request(recipe, draft=False))
        self.crop_tool.finished.connect(self._crop_finished)
        self.crop_tool.status.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.develop_panel.layout().insertWidget(1, self.crop_tool.panel)  # under the histogram
        self.masks_panel = MasksPanel(self.session, self.canvas)
        self.masks_panel.mask_changed.connect(self._mask_changed)
        self.masks_panel.overlay_toggled.connect(self._overlay_toggled)
        self.masks_panel.status.connect(self.statusBar().showMessage)
        self.masks_panel.people_requested.connect(self.detect_people)
        self.masks_panel.refresh_requested.connect(self.refresh_masks)
        self.renderer.stale.connect(self.masks_panel.set_stale)
        self.renderer.warnings.connect(self.masks_panel.set_warnings)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.develop_panel, "Develop")
        self.tabs.addTab(self.masks_panel, "Masks")
        self.right_dock = self._dock("Develop", self.tabs, Qt.RightDockWidgetArea, "develop_dock")

        self.metadata_panel = MetadataPanel(catalog, self.runner)
        self.metadata_panel.status.connect(lambda text: self.statusBar().showMessage(text, 3000))
        self.metadata_panel.error.connect(self.show_error)
        metadata_scroll = QScrollArea()  # its fields must not set the window's minimum height
        metadata_scroll.setWidgetResizable(True)
        metadata_scroll.setWidget(self.metadata_panel)
        self.metadata_dock = self._dock("Metadata", metadata_scroll, Qt.RightDockWidgetArea, "metadata_dock")
        self.grid.selectionModel().currentChanged.connect(
            lambda *_: self.metadata_panel.show_image(self.current_image_id()))
        self.model.modelReset.connect(lambda: self.metadata_panel.show_image(self.current_image_id()))

        self.busy_label = QLabel("")
        self.service_warnings = ServiceWarnings(self)
        self.service_warnings.line.connect(self.show_error)
        self.statusBar().addPermanentWidget(self.busy_label)
        self._build_toolbar()
        self._build_shortcuts()
        self.setStyleSheet(DARK)
        self.resize(1400, 900)
        self._restore()
        # The cell list is queried on a worker (~0.4 s at 100k photos): the window shows
        # at once with the grid "Loading…", then selects the first cell and opens the
        # remembered view (self.view keeps it meanwhile).
        start_view = self.view
        self.model.reloaded.connect(self._first_load)
        self.model.reload(self._filters(), self.filter_bar.sort_key(), runner=self.runner)
        self.show_view("grid")
        self.view = start_view
        self.watch.resume()

    # -- construction ---------------------------------------------------------------------
    def _dock(self, title, widget, area, name) -> QDockWidget:
        d = QDockWidget(title, self)
        d.setObjectName(name)
        d.setWidget(widget)
        d.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable)
        self.addDockWidget(area, d)
        return d

    def _build_toolbar(self):
        tb = QToolBar("Main")
        tb.setObjectName("main_toolbar")
        tb.setMovable(False)
        self.addToolBar(tb)
        self.actions = {}
        for key, label, slot in (
            ("import", "Import…", self.open_import),
            ("grid", "Grid (G)", lambda: self.show_view("grid")),
            ("loupe", "Loupe (E)", lambda: self.show_view("loupe")),
            ("develop", "Develop (D)", lambda: self.show_view("develop")),
            ("sync", "Sync…", self.open_sync),
            ("export", "Export…", self.open_export),
        ):
            act = QAction(label, self)
            act.triggered.connect(slot)
            tb.addAction(act)
            self.actions[key] = act

    def _build_shortcuts(self):
        def sc(keys, slot):
            s = QShortcut(QKeySequence(keys), self)
            s.setContext(Qt.WindowShortcut)
            s.activated.connect(slot)
            return s

        for n in range(6):
            sc(str(n), lambda n=n: self.rate(n))
        sc("P", lambda: self.flag(FLAG_PICK))
        sc("X", lambda: self.flag(FLAG_REJECT))
        sc("U", lambda: self.flag(FLAG_NONE))
        for i, label in enumerate(COLOR_LABELS[:4]):
            sc(str(6 + i), lambda label=label: self.label(label))
        sc("G", lambda: self.show_view("grid"))
        sc("E", lambda: self.show_view("loupe"))
        sc("D", lambda: self.show_view("develop"))
        sc("O", self.toggle_overlay)
        sc("J", self.toggle_clipping)
        sc("\\", self.toggle_before)
        sc("Z", self.canvas.toggle_zoom)
        sc("R", self.toggle_crop)
        sc("Ctrl+Z", self.undo)
        sc("Ctrl+Shift+Z", self.redo)
        sc("Ctrl+Shift+E", self.open_export)
        sc("Ctrl+Shift+I", self.open_import)
        # Lightroom's quick collection: B adds the selection (again: takes it out).
        sc("B", self.toggle_quick_collection)
        sc("Ctrl+B", self.toggle_quick_collection)
        sc("Ctrl+K", self.focus_keywords)
        sc("Ctrl+Shift+T", self.focus_metadata)
        sc("Ctrl+'", self.create_virtual_copy)  # Lightroom's key for a virtual copy
        for key, delta in ((Qt.Key_Left, -1), (Qt.Key_Right, 1)):  # the canvas's own: sliders keep theirs
            step = QShortcut(QKeySequence(key), self.canvas)
            step.setContext(Qt.WidgetShortcut)
            step.activated.connect(lambda delta=delta: self.filmstrip.step(delta))
        for key in (QKeySequence.Delete, QKeySequence(Qt.Key_Backspace)):
            d = QShortcut(key, self.grid)  # the grid's own: Delete in a text field edits text
            d.setContext(Qt.WidgetShortcut)
            d.activated.connect(self.remove_virtual_copies)

    # -- persistence ------------------------------------------------------------------------
    def _restore(self):
        geo = self.settings.value("window/geometry")
        if isinstance(geo, QByteArray):
            self.restoreGeometry(geo)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        view = self.settings.value("window/view", "grid")
        self.view = view if view in VIEWS else "grid"

    def save_settings(self):
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/view", self.view)
        self.settings.setValue("catalog/last", str(self.catalog.location.url))
        self.settings.sync()

    def closeEvent(self, ev):  # noqa: N802
        self.save_settings()
        self.runner.cancel_all()
        self.watch.stop()
        self.runner.wait(5000)
        super().closeEvent(ev)
        self.closed.emit()

    # -- selection ----------------------------------------------------------------------------
    def current_image_id(self) -> int | None:
        return self.grid.current_id()

    def target_ids(self) -> list[int]:
        """What rating/flag keys act on: the grid selection, or the photo in the loupe."""
        if self.view == "grid":
            ids = self.grid.selected_ids()
            if ids:
                return ids
        cur = self.current_image_id()
        return [cur] if cur is not None else []

    def select_image(self, image_id: int) -> None:
        self.model.wait_loaded()  # a caller naming a photo right after start or a filter change
        r = self.model._row_of.get(image_id)
        if r is not None:
            self.grid.setCurrentIndex(self.model.index(r))

    def select_version(self, version_id: int) -> None:
        """Make a virtual copy's cell current (a master's version: its photo's cell)."""
        self.model.wait_loaded()
        r = self.model.row_of_version(version_id)
        if r is None:
            r = self.model._row_of.get(editing.image_of_version(self.catalog, version_id))
        if r is not None:
            self.grid.setCurrentIndex(self.model.index(r))

    def current_version_id(self) -> int | None:
        """The version the current cell shows: a copy's own, else the photo's master."""
        vid = self.grid.current_version()
        if vid is not None:
            return vid
        image_id = self.current_image_id()
        return editing.master_version_id(self.catalog, image_id) if image_id is not None else None

    def _first_load(self):
        self.model.reloaded.disconnect(self._first_load)
        if self.model.rowCount() and not self.grid.currentIndex().isValid():
            self.grid.setCurrentIndex(self.model.index(0))
        if self.view != "grid":
            self.show_view(self.view)

    # -- views ----------------------------------------------------------------------------------
    def show_view(self, view: str) -> None:
        if view != "develop":
            self.crop_tool.cancel()
        if view != "grid" and self.model.loading:
            self.model.wait_loaded()  # a photo view needs the current cell
        if view != "grid" and self.current_image_id() is None:
            self.statusBar().showMessage("No photo selected", 3000)
            view = "grid"
        self.view = view
        self.stack.setCurrentIndex(0 if view == "grid" else 1)
        self.left_dock.setVisible(view != "develop")
        self.keywords_dock.setVisible(view != "develop")
        self.history_dock.setVisible(view == "develop")
        self.right_dock.setVisible(view == "develop")
        self.metadata_dock.setVisible(view != "develop")
        self.canvas.set_handles_visible(view == "develop")  # mask handles: develop only
        for v in VIEWS:
            self.actions[v].setEnabled(v != view)
        if view != "grid":
            self.open_current()
            self.canvas.setFocus()
        else:
            self.grid.setFocus()

    def open_current(self) -> None:
        image_id = self.current_image_id()
        if image_id is None:
            return
        vid = self.current_version_id()  # a virtual copy's cell opens that copy
        if self.session.version_id != vid:
            self.crop_tool.cancel()
            self.canvas.set_image(None)
            self.canvas.before = None
            self.canvas.overlay = None
            self.canvas.message = "Rendering…"
            self.canvas.info = library_service.image_info(self.catalog, image_id)
            self.renderer.set_version(vid)
            self.session.load(vid)  # emits changed -> render

    # -- develop reactions ------------------------------------------------------------------------
    def _recipe_changed(self, committed: bool):
        recipe = self.crop_tool.display_recipe(self.session.recipe) if self.crop_tool.active else self.session.recipe
        self.renderer.request(recipe, draft=not committed)
        if committed and self.view == "develop":
            self.renderer.check_stale(self.session.recipe)

    def _rendered(self, rgb, full):
        self.canvas.message = "" if full else "Preview"
        if full:  # the render may have derived AI masks: show what they could not find
            self.renderer.check_warnings()
        self._last_render = rgb
        self.develop_panel.histogram.set_image(rgb)
        self.canvas.set_image(develop_service.clipping_overlay(rgb) if self.develop_panel.histogram.show_clipping else rgb)
        self.crop_tool.image_changed()

    def toggle_crop(self):
        """R: the crop tool on (in Develop) or, when on, applied."""
        if self.crop_tool.active:
            self.crop_tool.commit()
            return
        if self.view == "grid":
            return
        if self.view != "develop":
            self.show_view("develop")
        if self.crop_tool.begin():
            self.canvas.setFocus()

    def _crop_finished(self, committed: bool):
        if not committed:  # back to the edit as stored, cropped
            self.renderer.request(self.session.recipe, draft=False)

    def _start_pick(self, kind: str):
        """Arm the canvas eyedropper for the develop panel (point colour, white balance)."""
        if self.crop_tool.active:  # picks are placed on the cropped photo: leave the crop tool first
            self.crop_tool.commit()
        self._pick = kind
        self.canvas.set_tool("eyedropper")

    def _develop_picked(self, x: float, y: float):
        kind, self._pick = self._pick, None
        if kind is not None:
            self.canvas.set_tool("view")
            self.develop_panel.picked(kind, x, y, getattr(self, "_last_render", None))

    def toggle_clipping(self, on: bool | None = None):
        """J: paint clipped highlights red and clipped shadows blue on the photo."""
        hist = self.develop_panel.histogram
        hist.show_clipping = (not hist.show_clipping) if on is None else on
        hist.update()
        rgb = getattr(self, "_last_render", None)
        if rgb is not None:
            self.canvas.set_image(develop_service.clipping_overlay(rgb) if hist.show_clipping else rgb)

    def _mask_changed(self, layer_name: str):
        self._update_handles()
        if self.canvas.show_overlay:
            self.renderer.request_overlay(layer_name, self.session.recipe)

    def _overlay(self, alpha, layer_name):
        if layer_name == self.session.layer_name:
            self.canvas.set_overlay(alpha)

    def _overlay_toggled(self, on: bool):
        if on != self.canvas.show_overlay:
            self.canvas.toggle_overlay()
        if on:
            self.renderer.request_overlay(self.session.layer_name, self.session.recipe)

    def _update_handles(self):
        self.canvas.handles = []  # people outlines go; the selected mask's handles come
        self.masks_panel.update_canvas_shapes()

    # -- actions ------------------------------------------------------------------------------------
    def toggle_overlay(self):
        self.masks_panel.overlay_check.setChecked(not self.masks_panel.overlay_check.isChecked())

    def toggle_before(self):
        if self.view != "grid":
            self.canvas.toggle_before()

    def undo(self):
        self.crop_tool.cancel()
        if self.view != "develop":  # Library: the metadata panel's edits
            if not self.metadata_panel.undo():
                self.statusBar().showMessage("Nothing to undo", 2000)
            return
        if not self.session.undo():
            self.statusBar().showMessage("Nothing to undo", 2000)

    def redo(self):
        self.crop_tool.cancel()
        if self.view == "develop" and not self.session.redo():
            self.statusBar().showMessage("Nothing to redo", 2000)

    def rate(self, n: int):
        self._apply(library_service.set_rating, n, f"Rating {'★' * n or 'none'}")

    def flag(self, value: int):
        self._apply(library_service.set_flag, value, {FLAG_PICK: "Picked", FLAG_REJECT: "Rejected"}.get(value, "Unflagged"))

    def label(self, label: str):
        ids = self.target_ids()
        rows = library_service.image_rows(self.catalog, ids)
        # Pressing the key of the label a photo already has removes it, as in Lightroom.
        same = all(r.color_label == label for r in rows.values()) and rows
        self._apply(library_service.set_label, None if same else label, f"Label {label if not same else 'removed'}")

    def _apply(self, fn, value, text):
        ids = self.target_ids()
        if not ids:
            return
        try:
            fn(self.catalog, ids, value)
        except Exception as exc:  # noqa: BLE001
            self.show_error(str(exc))
            return
        self.model.refresh_rows(ids)
        self.statusBar().showMessage(f"{text} ({len(ids)} photo{'s' if len(ids) != 1 else ''})", 2000)

    def _version_loaded(self, version_id: int):
        """Develop made a virtual copy (or opened a version): show it as its own cell."""
        if self.model.loading:
            return
        vid_known = self.model.row_of_version(version_id) is not None
        if vid_known or version_id == editing.master_version_id(self.catalog, self.session.image_id):
            return
        self.model.reload(runner=self.runner)
        self.model.reloaded.connect(self._select_new_copy)
        self._new_copy = version_id

    def _select_new_copy(self):
        self.model.reloaded.disconnect(self._select_new_copy)
        r = self.model.row_of_version(self._new_copy)
        if r is not None:
            self.grid.setCurrentIndex(self.model.index(r))
            if self.view != "grid":
                self.open_current()  # the loupe/develop shows the new copy, as in Lightroom

    # -- keywords and collections (catalog.library, as `maskroom tag` / `collection`) -------------
    def _library_op(self, fn, *args, text: str | None = None, sidebar: bool = True, keywords: bool = True):
        """Run a keyword/collection service; a refusal (name taken…) is one status line
        and FAILED is returned."""
        try:
            result = fn(self.catalog, *args)
        except Exception as exc:  # noqa: BLE001
            self.show_error(readable_error(exc))
            return FAILED
        if sidebar:
            self.sidebar.reload(self.runner)
        if keywords:
            self.keywords.refresh()
        if text:
            self.statusBar().showMessage(text, 3000)
        return result

    def focus_metadata(self):
        """Ctrl+Shift+T: type the photo's title (Library views)."""
        if self.view == "develop":
            return
        self.metadata_dock.show()
        self.metadata_panel.fields["title"].setFocus()

    def focus_keywords(self):
        self.keywords_dock.show()
        self.keywords_panel.field.setFocus()

    def add_to_collection(self, name: str, ids: list[int] | None = None):
        ids = self.target_ids() if ids is None else ids
        if ids:
            n = self._library_op(library_service.add_to_collection, name, ids, keywords=False)
            if n is not FAILED:
                self.statusBar().showMessage(f"Added {n} photo{'s' if n != 1 else ''} to {name}", 3000)

    def remove_from_collection(self, name: str):
        ids = self.target_ids()
        if not ids:
            return
        n = self._library_op(library_service.remove_from_collection, name, ids, keywords=False)
        if n is not FAILED:
            self.statusBar().showMessage(f"Removed {n} photo{'s' if n != 1 else ''} from {name}", 3000)
            if self.sidebar.current_collection() == name:
                self.model.reload(runner=self.runner)

    def toggle_quick_collection(self):
        ids = self.target_ids()
        if not ids:
            return
        r = self._library_op(library_service.toggle_collection, QUICK_COLLECTION, ids, keywords=False)
        if r is not FAILED:
            added, removed = r
            self.statusBar().showMessage(f"Quick Collection: {'added ' + str(added) if added or not removed else ''}"
                                         f"{'removed ' + str(removed) if removed else ''}", 3000)
            if self.sidebar.current_collection() == QUICK_COLLECTION:
                self.model.reload(runner=self.runner)

    def new_collection(self, name: str | None = None, with_selection: bool = False):
        if name is None:
            name, ok = QInputDialog.getText(self, "New collection", "Name:")
            if not ok:
                return
        ids = self.target_ids() if with_selection else []
        self._library_op(library_service.create_collection, name, ids, keywords=False, text=f"Created collection {name}")

    def rename_collection(self, name: str, new_name: str | None = None):
        if new_name is None:
            new_name, ok = QInputDialog.getText(self, "Rename collection", "New name:", text=name)
            if not ok:
                return
        self._library_op(library_service.rename_collection, name, new_name, keywords=False,
                         text=f"Renamed {name} to {new_name}")

    def delete_collection(self, name: str):
        showing = self.sidebar.current_collection() == name
        if self._library_op(library_service.delete_collection, name, keywords=False, text=f"Deleted collection {name}") \
                is not FAILED and showing:
            self.sidebar.current_source = {}
            self._source_changed({})

    def _grid_menu(self, pos):
        ids = self.target_ids()
        menu = QMenu(self)
        if ids:
            add = menu.addMenu("Add to collection")
            for name in self.sidebar.plain_collections():
                add.addAction(name, lambda name=name: self.add_to_collection(name))
            add.addSeparator()
            add.addAction("New collection…", lambda: self.new_collection(with_selection=True))
            current = self.sidebar.current_collection()
            if current:
                menu.addAction(f"Remove from “{current}”", lambda: self.remove_from_collection(current))
            menu.addAction("Add to / remove from Quick Collection\tB", self.toggle_quick_collection)
            menu.addAction("Add keywords…\tCtrl+K", self.focus_keywords)
            menu.addSeparator()
            menu.addAction("Create virtual copy\tCtrl+'", self.create_virtual_copy)
            if any(v is not None for _i, v in self.grid.selected_entries()):
                menu.addAction("Remove virtual copy\tDelete", self.remove_virtual_copies)
            menu.addSeparator()
            menu.addAction("Read metadata from XMP", lambda: self.xmp_action(xmp_service.read, ids, "Read XMP"))
            menu.addAction("Write XMP sidecars", lambda: self.xmp_action(xmp_service.write, ids, "Wrote XMP"))
        auto = menu.addAction("Write XMP sidecars automatically")
        auto.setCheckable(True)
        auto.setChecked(xmp_service.auto_write_enabled(self.catalog))
        auto.toggled.connect(lambda on: xmp_service.set_auto_write(self.catalog, on))
        menu.exec(pos)

    def xmp_action(self, fn, ids, text: str):
        """Read or write the selection's sidecars (docs/xmp.md); problems in the status bar."""
        results = fn(self.catalog, ids)
        problems = [w for r in results for w in r.warnings]
        done = sum(1 for r in results if r.status in ("read", "written"))
        self.statusBar().showMessage(f"{text} for {done} photo(s)" + (f"; {problems[0]}" if problems else ""), 6000)
        self.model.reload(runner=self.runner)

    def create_virtual_copy(self) -> int | None:
        """A new version of the current cell's edit, shown as its own cell next to its master."""
        vid = self.current_version_id()
        if vid is None:
            return None
        new = editing.create_virtual_copy(self.catalog, from_version=vid)[0]
        self._new_copy = new
        self.model.reloaded.connect(self._select_new_copy)
        self.model.reload(runner=self.runner)
        return new

    def remove_virtual_copies(self) -> list[int]:
        """Remove the virtual copies among the selected cells (photos and masters stay)."""
        vids = [v for _i, v in self.grid.selected_entries() if v is not None]
        if not vids:
            self.statusBar().showMessage("Select virtual copies to remove them (photos are not removed here)", 4000)
            return []
        if self._library_op(library_service.remove_virtual_copies, vids, sidebar=False, keywords=False,
                            text=f"Removed {len(vids)} virtual cop{'y' if len(vids) == 1 else 'ies'}") is FAILED:
            return []
        self.model.reload(runner=self.runner)
        return vids

    def _filters(self) -> dict:
        return {**self.filter_bar.filters(), **self.source_filter}

    def _filters_changed(self, _filters, sort):
        self.model.reload(self._filters(), sort, runner=self.runner)

    def _source_changed(self, source: dict):
        self.source_filter = source
        self._filters_changed(None, self.filter_bar.sort_key())

    def _update_count(self):
        if self.model.loading:
            self.filter_bar.count.setText("Loading…")
            return
        n = len(self.model._row_of)
        copies = self.model.rowCount() - n
        self.filter_bar.count.setText(f"{n} photo{'s' if n != 1 else ''}"
                                      + (f" + {copies} cop{'y' if copies == 1 else 'ies'}" if copies else ""))

    def show_error(self, text: str):
        self.statusBar().showMessage(text, 8000)

    def detect_people(self):
        vid = self.session.version_id

        def done(people):
            self.masks_panel.people_box.set_people(people)
            # Outline each person on the canvas so "Person 2" means something.
            self.canvas.handles = [("box", tuple(p["box"])) for p in people]
            self.canvas.update()

        def failed(text):
            self.masks_panel.people_box.status.setText(text)
            self.show_error(text)

        self.runner.submit(lambda _p: masks.detect_people(self.catalog, vid), on_done=done, on_error=failed)

    def refresh_masks(self, uids: list[str]):
        def done(_n):
            self.masks_panel.set_stale([])
            self.renderer.request(self.session.recipe, draft=False)
            if self.canvas.show_overlay:
                self.renderer.request_overlay(self.session.layer_name, self.session.recipe)

        self.renderer.refresh(uids, self.session.recipe, on_done=done)

    # -- dialogs ----------------------------------------------------------------------------------------
    def open_import(self):
        dlg = ImportDialog(self.catalog, self.runner, parent=self,
                           watching=self.watch.on, watch_folder=self.watch.folder,
                           watch_mode=self.watch.mode() if self.watch.on else "import")
        dlg.watch_changed.connect(lambda folder, on, mode: self.watch.set_watch(folder, on, mode,
                                                                                dlg.recursive.isChecked()))
        dlg.imported.connect(lambda _ids: (self.model.reload(runner=self.runner), self.sidebar.reload(self.runner)))
        dlg.show()
        return dlg

    def open_sync(self):
        if self.session.version_id is None:
            self.open_current()
        if self.session.version_id is None:
            self.show_error("Open a photo to sync from")
            return None
        dlg = SyncDialog(self.catalog, self.runner, self.session.version_id, self.grid.selected_ids(), parent=self)
        dlg.review_list.itemDoubleClicked.connect(
            lambda item: (self.select_image(item.data(Qt.UserRole)), self.show_view("develop")))
        dlg.show()
        return dlg

    def open_export(self):
        entries = self.grid.selected_entries()
        if not entries and self.current_image_id() is not None:
            entries = [(self.current_image_id(), self.grid.current_version())]
        if not entries:
            self.show_error("Select photos to export")
            return None
        # A virtual copy's cell exports that copy; a photo's cell its master.
        vids = [v if v is not None else editing.master_version_id(self.catalog, i) for i, v in entries]
        if self.view != "grid" and self.session.version_id is not None:
            vids = [self.session.version_id]
        dest = self.settings.value("export/last_dir")
        dlg = ExportDialog(self.catalog, self.runner, vids, Path(dest) if dest else None, parent=self)
        dlg.exported.connect(lambda *_: self.settings.setValue("export/last_dir", dlg.destination.text()))
        dlg.show()
        return dlg


def _install_excepthook(win: MainWindow) -> None:
    """An exception escaping a slot becomes one line in the status bar (and the log),
    not a traceback on the terminal and not a dead window."""
    log = logging.getLogger("maskroom.ui")

    def hook(exc_type, exc, tb):
        log.error("unexpected error", exc_info=(exc_type, exc, tb))
        win.show_error(readable_error(exc))

    sys.excepthook = hook


def last_catalog() -> str | None:
    """The catalog the app had open last (QSettings), if any."""
    return QSettings("maskroom", "maskroom").value("catalog/last") or None


def settle_heap() -> None:
    """Move everything made so far (modules, Qt wrappers, the window) out of the
    garbage collector's reach.  A full collection walks every live container while it
    holds the GIL: with a million-photo grid loading on a worker, those passes paused
    the GUI thread up to 80 ms each (20 of them in 2 s; frozen: under 30 ms, and the
    load takes half the time).  They live as long as the app, so nothing is lost."""
    gc.freeze()


def run(catalog) -> int:
    """Open the app on an open catalog; returns when the window closes."""
    own_app = QApplication.instance() is None
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("maskroom")
    app.setOrganizationName("maskroom")
    settings = QSettings("maskroom", "maskroom")
    win = MainWindow(catalog, settings)
    settle_heap()
    previous_hook = sys.excepthook
    _install_excepthook(win)
    win.show()
    QTimer.singleShot(0, win.grid.setFocus)
    if own_app:
        code = app.exec()
    else:
        # Inside a host's QApplication (tests, embedding): run until the window closes
        # without quitting the host's application.
        loop = QEventLoop()
        win.closed.connect(loop.quit)
        quit_on_close = app.quitOnLastWindowClosed()
        app.setQuitOnLastWindowClosed(False)
        try:
            code = loop.exec()
        finally:
            app.setQuitOnLastWindowClosed(quit_on_close)
    sys.excepthook = previous_hook
    return code
