"""The grid with 20k catalog rows: only the cells on screen load data or thumbnails."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QAbstractItemView
from sqlalchemy import insert

from maskroom.catalog.schema import Folder, Image
from ui_helpers import import_samples, open_grid, wait_until, qt_cleanup  # noqa: F401 (autouse fixture)

pytestmark = pytest.mark.ui
N = 20_000


def add_synthetic_rows(catalog, n: int) -> None:
    """Rows whose files do not exist: a thumbnail request for them fails, visibly."""
    with catalog.session() as s:
        folder = Folder(path="/nonexistent/shoot")
        s.add(folder)
        s.flush()
        s.execute(insert(Image), [
            dict(folder_id=folder.id, filename=f"IMG_{i:05d}.jpg", path=f"/nonexistent/shoot/IMG_{i:05d}.jpg",
                 file_size=1, mtime=0.0, content_hash=f"{i:032x}", format="jpeg", width=6000, height=4000)
            for i in range(n)
        ])


def test_only_visible_cells_load(qtbot, catalog):
    from maskroom.ui.library_view import PAGE

    add_synthetic_rows(catalog, N)
    model, view = open_grid(qtbot, catalog, size=(1000, 700))
    assert model.rowCount() == N
    wait_until(qtbot, lambda: model.thumbs.requested and model.thumbs.idle(), 120, "visible cells to load")
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
    wait_until(qtbot, lambda: len(model.thumbs.requested) > len(first) and model.thumbs.idle(), what="end cells")
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
