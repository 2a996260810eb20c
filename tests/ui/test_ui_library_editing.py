"""Library editing in the app: virtual copies as their own cells, keywords typed into the
keyword field, collections (quick collection key, drop onto the sidebar, rename, delete),
the grid's cell list loading on a worker, the watch folder's mode.  Asserts on the
catalog the keys and clicks changed."""
from __future__ import annotations

import shlex
import threading

import pytest
from PySide6.QtCore import QItemSelectionModel, QPointF, QSettings, Qt
from PySide6.QtGui import QDropEvent
from sqlalchemy import select

from conftest import run_cli
from maskroom.catalog import library
from maskroom.catalog.schema import CollectionImage, EditVersion, Image
from maskroom.services import editing as editing_service, library as library_service
from ui_helpers import app_window, import_samples, wait_until, qt_cleanup  # noqa: F401 (autouse fixture)

pytestmark = pytest.mark.ui

PHOTO = "immich_tanners_ridge.jpg"
OTHER = "immich_denali.webp"


@pytest.fixture
def window(qtbot, catalog, sample_copy, tmp_path):
    ids = import_samples(catalog, sample_copy)
    with app_window(qtbot, catalog, tmp_path) as win:
        win.ids = ids
        wait_until(qtbot, lambda: not win.model.loading and win.model.rowCount() == len(ids), what="grid")
        yield win


def select_rows(win, rows):
    win.grid.setCurrentIndex(win.model.index(rows[0]))  # (selects that cell alone)
    sel = win.grid.selectionModel()
    for r in rows[1:]:
        sel.select(win.model.index(r), QItemSelectionModel.Select)


def test_virtual_copy_is_its_own_cell(qtbot, window, catalog):
    win, image_id = window, window.ids[PHOTO]
    win.select_image(image_id)
    win.grid.setFocus()
    qtbot.keyClick(win.grid, Qt.Key_Apostrophe, Qt.ControlModifier)
    with catalog.session() as s:
        copy_vid = s.scalar(select(EditVersion.id).where(EditVersion.image_id == image_id,
                                                         EditVersion.is_master.is_(False)))
    assert copy_vid is not None
    # The copy's cell follows its master's and becomes the current cell.
    wait_until(qtbot, lambda: win.model.row_of_version(copy_vid) is not None, what="copy cell")
    r = win.model.row_of_version(copy_vid)
    assert win.model.entry(r) == (image_id, copy_vid) and win.model.entry(r - 1) == (image_id, None)
    assert win.model.copy_label(r) == "Copy 1" and win.grid.current_version() == copy_vid
    assert win.filter_bar.count.text() == "10 photos + 1 copy"
    # Rating the copy's cell rates the photo (copies share its metadata): both cells show it.
    qtbot.keyClick(win.grid, Qt.Key_4)
    with catalog.session() as s:
        assert s.get(Image, image_id).rating == 4
    assert win.model.row(r).rating == win.model.row(r - 1).rating == 4
    # Develop on the copy's cell edits the copy, not the master.
    qtbot.keyClick(win.grid, Qt.Key_D)
    assert win.view == "develop" and win.session.version_id == copy_vid
    win.develop_panel.set_value("exposure", 0.7)
    master_vid = editing_service.master_version_id(catalog, image_id)
    assert editing_service.load_recipe(catalog, copy_vid).global_layer.adjustments.get("exposure") == 0.7
    assert "exposure" not in editing_service.load_recipe(catalog, master_vid).global_layer.adjustments
    # Back in the grid, the master's cell opens the master; export of the copy's cell exports the copy.
    win.show_view("grid")
    win.grid.setCurrentIndex(win.model.index(r - 1))
    win.show_view("develop")
    assert win.session.version_id == master_vid
    win.show_view("grid")
    select_rows(win, [r])
    dlg = win.open_export()
    assert list(dlg.version_ids) == [copy_vid]
    dlg.close()
    # Delete on a master's cell removes nothing; on the copy's cell it removes the copy.
    select_rows(win, [r - 1])
    qtbot.keyClick(win.grid, Qt.Key_Delete)
    assert len(editing_service.versions_of(catalog, image_id)) == 2
    select_rows(win, [r])
    qtbot.keyClick(win.grid, Qt.Key_Delete)
    assert editing_service.versions_of(catalog, image_id) == [(master_vid, "Master")]
    wait_until(qtbot, lambda: not win.model.loading and win.model.rowCount() == len(win.ids), what="copy cell gone")
    assert copy_vid not in win.model.versions


def test_keywords_typed_and_ticked(qtbot, window, catalog):
    win = window
    a, b = win.ids[PHOTO], win.ids[OTHER]
    with catalog.session() as s:  # the samples' own embedded XMP keywords came in at import
        own = {x: library.image_keywords(s, x) for x in (a, b)}

    def added(s, x):
        return [k for k in library.image_keywords(s, x) if k not in own[x]]

    select_rows(win, [win.model._row_of[a], win.model._row_of[b]])
    win.grid.setFocus()
    qtbot.keyClick(win.grid, Qt.Key_K, Qt.ControlModifier)
    field = win.keywords_panel.field
    assert field.hasFocus()
    qtbot.keyClicks(field, "Travel | Utah, sunset")
    qtbot.keyClick(field, Qt.Key_Return)
    with catalog.session() as s:
        assert added(s, a) == added(s, b) == ["Travel|Utah", "sunset"]
    panel = win.keywords_panel
    wait_until(qtbot, lambda: panel.item("Travel|Utah") is not None
               and panel.item("Travel|Utah").checkState(0) == Qt.Checked, what="keyword list")
    assert panel.item("Travel|Utah").text(1) == "2" and panel.item("Travel").text(1) == "0"
    assert "sunset" in panel.completer.model().stringList()  # completes from the catalog's keywords
    assert "Travel|Utah" in win.filter_bar.fields["keyword"].completer().model().stringList()
    # Only one photo selected: a keyword the other has too shows ticked; unticking removes it.
    select_rows(win, [win.model._row_of[a]])
    wait_until(qtbot, lambda: panel.target.text() == "1 photo selected", what="selection")
    panel.item("sunset").setCheckState(0, Qt.Unchecked)
    with catalog.session() as s:
        assert added(s, a) == ["Travel|Utah"]
        assert added(s, b) == ["Travel|Utah", "sunset"]
    # Double-click filters the grid by the keyword (the filter bar's keyword field).
    panel.list.itemDoubleClicked.emit(panel.item("sunset"), 0)
    wait_until(qtbot, lambda: not win.model.loading and win.model.ids == [b], what="keyword filter")


def test_collections_from_the_app(qtbot, window, catalog):
    win = window
    a, b = win.ids[PHOTO], win.ids[OTHER]
    select_rows(win, [win.model._row_of[a], win.model._row_of[b]])
    win.grid.setFocus()
    qtbot.keyClick(win.grid, Qt.Key_B)  # quick collection
    def members(name):
        return sorted(_members(catalog, name))

    assert members(library.QUICK_COLLECTION) == sorted([a, b])
    qtbot.keyClick(win.grid, Qt.Key_B)  # again: out
    assert members(library.QUICK_COLLECTION) == []

    win.new_collection("Trip")
    wait_until(qtbot, lambda: win.sidebar.collection_item("Trip") is not None, what="collection in sidebar")
    # Drag the two cells onto "Trip" in the sidebar.
    mime = win.model.mimeData([win.model.index(win.model._row_of[a]), win.model.index(win.model._row_of[b])])
    rect = win.sidebar.visualItemRect(win.sidebar.collection_item("Trip"))
    drop = QDropEvent(QPointF(rect.center()), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    win.sidebar.dropEvent(drop)
    assert members("Trip") == sorted([a, b])
    wait_until(qtbot, lambda: win.sidebar.collection_item("Trip").text(1) == "2", what="count")

    # Show the collection, take one photo out of it: the grid follows.
    win.sidebar.itemClicked.emit(win.sidebar.collection_item("Trip"), 0)
    wait_until(qtbot, lambda: not win.model.loading and win.model.rowCount() == 2, what="collection grid")
    select_rows(win, [win.model._row_of[b]])
    win.remove_from_collection("Trip")
    assert members("Trip") == [a]
    wait_until(qtbot, lambda: not win.model.loading and win.model.ids == [a], what="grid after removal")

    win.rename_collection("Trip", "Utah trip")
    assert members("Utah trip") == [a]
    win.rename_collection("Utah trip", library.QUICK_COLLECTION)  # taken: refused with a message
    assert "exists already" in win.statusBar().currentMessage()
    win.delete_collection("Utah trip")
    with catalog.session() as s:
        assert [c["name"] for c in library.collection_counts(s)] == [library.QUICK_COLLECTION]
        assert s.get(Image, a) is not None
    wait_until(qtbot, lambda: not win.model.loading and win.model.rowCount() == len(win.ids), what="all photos")


def _members(catalog, name):
    with catalog.session() as s:
        cid = library.collection(s, name).id
        return list(s.scalars(select(CollectionImage.image_id).where(CollectionImage.collection_id == cid)))


def test_grid_loads_on_a_worker(qtbot, catalog, sample_copy, tmp_path, monkeypatch):
    from maskroom.ui.app import MainWindow

    ids = import_samples(catalog, sample_copy)
    on_gui_thread = []
    real = library_service.image_cells

    def spy(*args, **kwargs):
        on_gui_thread.append(threading.current_thread() is threading.main_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(library_service, "image_cells", spy)
    win = MainWindow(catalog, QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    # The window exists before the cell list: the grid says so.
    assert win.model.loading and win.model.rowCount() == 0 and win.filter_bar.count.text() == "Loading…"
    win.show()
    wait_until(qtbot, lambda: not win.model.loading, what="grid load")
    assert win.model.rowCount() == len(ids) and win.grid.currentIndex().row() == 0
    win.filter_bar.text.setText("portrait")
    wait_until(qtbot, lambda: not win.model.loading and win.model.rowCount() == 2, what="filter")
    assert on_gui_thread and not any(on_gui_thread)
    win.runner.wait(20000)


def test_watch_mode_persists_and_maps_to_the_cli(qtbot, catalog, tmp_path):
    from maskroom.ui.app import MainWindow

    drop = tmp_path / "drop"
    drop.mkdir()
    ini = str(tmp_path / "ui.ini")
    win = MainWindow(catalog, QSettings(ini, QSettings.IniFormat))
    qtbot.addWidget(win)
    dlg = win.open_import()
    dlg.source.setText(str(drop))
    assert dlg.mode() == "import" and "--auto-sync" not in dlg.watch_cli.text()
    dlg.watch.setChecked(True)
    wait_until(qtbot, lambda: win.watch.watcher is not None, what="watcher")
    assert win.watch.watcher.opt.auto_sync is False and win.watch.watcher.dirs == [drop.resolve()]
    # Switching the mode while watching restarts the watch with it.
    dlg.watch_mode.setCurrentIndex(dlg.watch_mode.findData("sync"))
    assert dlg.watch_cli.text() == f"maskroom watch {drop} --recursive --auto-sync"
    # The command line shown is one the CLI takes (the two stay in step).
    assert "0 imported" in run_cli(catalog, *shlex.split(dlg.watch_cli.text())[1:], "--once").output
    wait_until(qtbot, lambda: win.watch.watcher.opt.auto_sync is True, what="watcher in sync mode")
    dlg.close()
    win.close()
    # Reopened, the app watches again in the saved mode.
    again = MainWindow(catalog, QSettings(ini, QSettings.IniFormat))
    qtbot.addWidget(again)
    wait_until(qtbot, lambda: again.watch.watcher is not None, what="watch restored")
    assert again.watch.watcher.opt.auto_sync is True
    assert again.open_import().mode() == "sync"
    again.close()
