"""The grid with 20k catalog rows: only the cells on screen load data or thumbnails."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QAbstractItemView

from conftest import add_missing_photos
from ui_helpers import import_samples, open_grid, wait_until, qt_cleanup  # noqa: F401 (autouse fixture)

pytestmark = pytest.mark.ui
N = 20_000


def add_synthetic_rows(catalog, n: int) -> None:
    """Rows whose files do not exist: a thumbnail request for them fails, visibly."""
    add_missing_photos(catalog, [f"IMG_{i:05d}.jpg" for i in range(n)])


def test_only_visible_cells_load(qtbot, catalog):
    from maskroom.ui.library_view import PAGE

    add_synthetic_rows(catalog, N)
    model, view = open_grid(qtbot, catalog, size=(1000, 700))
    assert model.rowCount() == N
    wait_until(qtbot, lambda: model.thumbs.requested and model.thumbs.idle() and not model.pages_pending, 120,
               "visible cells to load")
    qtbot.wait(100)
    first = set(model.thumbs.requested)
    cols, rows = 1000 // 180, 700 // 200 + 2
    assert 0 < len(first) <= cols * rows
    assert first <= set(model.ids[:cols * rows])
    assert model.pages_loaded == {0}
    # Missing files show as broken cells, they do not stop the grid.
    assert set(model.thumbs.failed) == first
    assert "/nonexistent/shoot/" in next(iter(model.thumbs.failed.values()))

    # Jump to the end: the cells there load, nothing in between does.
    view.scrollTo(model.index(N - 1), QAbstractItemView.PositionAtBottom)
    wait_until(qtbot, lambda: len(model.thumbs.requested) > len(first) and model.thumbs.idle()
               and not model.pages_pending, what="end cells")
    qtbot.wait(100)
    later = set(model.thumbs.requested) - first
    assert later <= set(model.ids[-cols * rows:])
    assert len(model.pages_loaded) <= 3
    assert (N - 1) // PAGE in model.pages_loaded


def test_thumbnails_of_real_photos(qtbot, catalog, sample_copy):
    ids = import_samples(catalog, sample_copy)
    model, view = open_grid(qtbot, catalog)
    wait_until(qtbot, lambda: model.thumbs.idle() and len(model.thumbs._pixmaps) == len(ids), what="thumbnails")
    assert not model.thumbs.failed
    pm = model.thumbs.get(ids["immich_portrait_curies.jpg"])
    assert pm is not None and max(pm.width(), pm.height()) <= 512 and pm.width() > pm.height()


def test_filter_text_and_rating(qtbot, catalog, sample_copy):
    from maskroom.services import library
    from maskroom.ui.library_view import LibraryModel

    ids = import_samples(catalog, sample_copy)
    library.set_rating(catalog, [ids["immich_denali.webp"], ids["mpl_grace_hopper.jpg"]], 4)
    model = LibraryModel(catalog)
    model.reload({"rating": ">=4"}, "name")
    assert [model.row(i).filename for i in range(model.rowCount())] == ["immich_denali.webp", "mpl_grace_hopper.jpg"]
    model.reload({"text": "portrait"}, "name")
    assert {model.row(i).filename for i in range(model.rowCount())} == {
        "immich_portrait-orientation-6.jpg", "immich_portrait_curies.jpg"}


def test_rows_are_read_off_the_gui_thread(qtbot, catalog, monkeypatch):
    """Painting never waits on the catalog: a cell whose page has not landed shows its
    frame, the page is read on a worker, and the cell repaints with its name."""
    import threading

    from maskroom.ui import library_view

    add_synthetic_rows(catalog, 2000)
    readers = []
    real = library_view.library.image_rows
    monkeypatch.setattr(library_view.library, "image_rows",
                        lambda cat, ids: readers.append(threading.get_ident()) or real(cat, ids))
    model, view = open_grid(qtbot, catalog, size=(1000, 700))
    wait_until(qtbot, lambda: model.pages_loaded and not model.pages_pending, what="first page")
    assert model.data(model.index(0)) == "IMG_00000.jpg"
    r = 1500  # a page nobody painted yet
    assert model.data(model.index(r)) is None  # asked for, not waited on
    wait_until(qtbot, lambda: model.data(model.index(r)) == f"IMG_{r:05d}.jpg", what="the page on a worker")
    assert readers and threading.get_ident() not in readers
    # Code that needs a row now (an action on the selection) still gets it at once.
    assert model.row(1900).filename == "IMG_01900.jpg"


def test_large_list_shows_its_first_screen_first(qtbot, catalog, tmp_path, monkeypatch):
    """A reload answers with the first FIRST_CELLS photos, then appends the rest: the
    cells shown, the selection and the rows already read stay."""
    from PySide6.QtCore import QItemSelectionModel

    from maskroom.ui import library_view
    from maskroom.ui.library_view import LibraryModel, LibraryView
    from maskroom.ui.workers import JobRunner

    add_synthetic_rows(catalog, 1000)
    monkeypatch.setattr(library_view, "FIRST_CELLS", 50)
    model = LibraryModel(catalog)
    view = LibraryView(model)
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    runner = JobRunner()
    sizes = []
    model.modelReset.connect(lambda: sizes.append(("reset", model.rowCount())))
    model.rowsInserted.connect(lambda *_: sizes.append(("appended", model.rowCount())))
    appended = []

    def select_third():
        if model.partial and not appended:
            view.selectionModel().select(model.index(2), QItemSelectionModel.Select)
            appended.append(model.rowCount())

    model.modelReset.connect(select_third)
    model.reload({}, "name", runner=runner)
    wait_until(qtbot, lambda: not model.loading, what="the whole list")
    assert sizes == [("reset", 50), ("appended", 1000)]
    assert appended == [50]
    assert view.selected_ids() == [model.ids[2]] and model.row(2).filename == "IMG_00002.jpg"
    wait_until(qtbot, lambda: model.data(model.index(2)) == "IMG_00002.jpg", what="the first rows repainted")
    assert model.row(999).filename == "IMG_00999.jpg"
    # A small result is one answer: no second read.
    sizes.clear()
    model.reload({"text": "IMG_0000"}, "name", runner=runner)
    wait_until(qtbot, lambda: not model.loading, what="the filtered list")
    assert sizes == [("reset", 10)] and not model.partial
    runner.wait()
