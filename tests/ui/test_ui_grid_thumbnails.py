"""The grid shows each cell's edit (edited thumbnails), swapped in on the worker."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from ui_helpers import app_window, import_samples, open_grid, wait_until, qt_cleanup  # noqa: F401 (autouse fixture)

pytestmark = [pytest.mark.ui, pytest.mark.catalog]
PHOTO = "immich_denali.webp"


def pixels(img: QImage) -> np.ndarray:
    img = img.convertToFormat(QImage.Format_RGB888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    return np.frombuffer(img.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)[:, : w * 3].reshape(h, w, 3).copy()


def cell_pixels(view, model, row: int) -> np.ndarray:
    """What the grid painted in the image area of a cell (the delegate's layout)."""
    rect = view.visualRect(model.index(row)).adjusted(3, 3, -3, -3)
    shot = pixels(view.viewport().grab().toImage())
    y0, x0 = rect.top() + 8, rect.left() + 8
    area = shot[y0 + 40: y0 + rect.height() - 44 - 40, x0 + 8: x0 + rect.width() - 16 - 8]  # inside the photo
    return area.astype(np.float64)




def settled(model):
    return lambda: model.thumbs.idle() and len(model.thumbs._pixmaps) == len(set(model.ids))


def test_grid_cell_shows_the_edit_and_follows_edits(qtbot, catalog, sample_copy):
    from maskroom.services import editing

    ids = import_samples(catalog, sample_copy)
    image_id = ids[PHOTO]
    vid = editing.master_version_id(catalog, image_id)
    copy = editing.create_virtual_copy(catalog, from_version=vid)[0]
    recipe = editing.load_recipe(catalog, copy)
    recipe.global_layer.adjustments["saturation"] = -100.0
    editing.save_recipe(catalog, copy, recipe, "B&W")

    model, view = open_grid(qtbot, catalog)
    master_row, copy_row = model.rows_of(image_id)
    assert model.versions[copy_row] == copy
    wait_until(qtbot, lambda: settled(model)() and model.thumbs.edited_pixmap(image_id, copy) is not None,
               what="thumbnails")
    qtbot.wait(50)
    # The unedited master shows the imported thumbnail and rendered nothing; only the copy rendered.
    assert model.thumbs.rendered == [(image_id, copy)]
    assert model.thumbs.edited_pixmap(image_id, None) is None
    assert model.data(model.index(master_row), Qt.DecorationRole) is model.thumbs._pixmaps[image_id]
    before = cell_pixels(view, model, master_row)
    grey = cell_pixels(view, model, copy_row)
    spread = lambda px: float((px.max(axis=2) - px.min(axis=2)).mean())  # noqa: E731
    assert spread(grey) < 3.0 < spread(before)  # the copy's cell is black and white, the master's is not

    # An edit made elsewhere (Develop, a sync): back in the grid, the cell updates.
    recipe = editing.load_recipe(catalog, vid)
    recipe.global_layer.adjustments["exposure"] = 1.5
    editing.save_recipe(catalog, vid, recipe, "Exposure")
    view.hide()
    view.show()  # what switching back to the grid does
    wait_until(qtbot, lambda: model.thumbs.idle() and model.thumbs.edited_pixmap(image_id, None) is not None,
               what="the edited thumbnail")
    qtbot.wait(50)
    after = cell_pixels(view, model, master_row)
    assert after.mean() > 1.15 * before.mean()
    # The copy was checked again but did not change: not rendered again.
    assert model.thumbs.rendered == [(image_id, copy), (image_id, None)]
    assert spread(cell_pixels(view, model, copy_row)) < 3.0

    # Edit reset to neutral: the cell goes back to the imported thumbnail.
    recipe.global_layer.adjustments["exposure"] = 0.0
    editing.save_recipe(catalog, vid, recipe, "Reset")
    view.hide()
    view.show()
    wait_until(qtbot, lambda: model.thumbs.idle() and model.thumbs.edited_pixmap(image_id, None) is None,
               what="the imported thumbnail again")
    qtbot.wait(50)
    assert abs(cell_pixels(view, model, master_row).mean() - before.mean()) < 1.0


def test_edit_in_develop_shows_in_the_grid(qtbot, catalog, sample_copy, tmp_path):
    """The app's path: a slider in Develop, then G: the cell shows the edit."""
    ids = import_samples(catalog, sample_copy)
    with app_window(qtbot, catalog, tmp_path, size=(1400, 900)) as win:
        image_id = ids[PHOTO]
        win.select_image(image_id)
        model = win.model
        wait_until(qtbot, settled(model), what="thumbnails")
        row = model.rows_of(image_id)[0]
        before = cell_pixels(win.grid, model, row)
        assert model.thumbs.rendered == []  # nothing edited: nothing rendered
        win.show_view("develop")
        wait_until(qtbot, lambda: win.canvas.after is not None and win.runner.running == 0, what="develop")
        win.develop_panel.set_value("exposure", 1.5)
        wait_until(qtbot, lambda: win.runner.running == 0, what="render")
        qtbot.keyClick(win.canvas, Qt.Key_G)
        assert win.view == "grid"
        wait_until(qtbot, lambda: model.thumbs.idle() and model.thumbs.edited_pixmap(image_id, None) is not None,
                   what="the edited thumbnail")
        qtbot.wait(50)
        assert model.thumbs.rendered == [(image_id, None)]
        assert cell_pixels(win.grid, model, row).mean() > 1.15 * before.mean()


def test_sync_from_the_grid_updates_the_targets_cells(qtbot, catalog, sample_copy, tmp_path):
    """Sync... with the grid on screen: closing the dialog re-activates the window and the
    synced cells show the edit (no polling while the dialog works)."""
    from PySide6.QtCore import QItemSelectionModel

    from maskroom.services import editing

    ids = import_samples(catalog, sample_copy)
    source, target = ids["immich_tanners_ridge.jpg"], ids[PHOTO]
    vid = editing.master_version_id(catalog, source)
    recipe = editing.load_recipe(catalog, vid)
    recipe.global_layer.adjustments["exposure"] = 1.5
    editing.save_recipe(catalog, vid, recipe, "Exposure")
    with app_window(qtbot, catalog, tmp_path, size=(1400, 900)) as win:
        model = win.model
        win.select_image(source)
        win.activateWindow()
        wait_until(qtbot, lambda: settled(model)() and model.thumbs.edited_pixmap(source, None) is not None,
                   what="thumbnails")
        row = model.rows_of(target)[0]
        before = cell_pixels(win.grid, model, row)
        win.grid.selectionModel().select(model.index(row), QItemSelectionModel.Select)
        dlg = win.open_sync()
        dlg.start()
        wait_until(qtbot, lambda: dlg.job is not None and dlg.job.finished_flag.is_set() and win.runner.running == 0,
                   what="sync")
        assert editing.load_recipe(catalog, editing.master_version_id(catalog, target)) \
            .global_layer.adjustments.get("exposure") == 1.5
        dlg.close()
        win.activateWindow()
        wait_until(qtbot, lambda: model.thumbs.idle() and model.thumbs.edited_pixmap(target, None) is not None,
                   what="the synced cell")
        qtbot.wait(50)
        assert cell_pixels(win.grid, model, row).mean() > 1.15 * before.mean()
