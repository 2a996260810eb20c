"""Click through the app: library -> develop -> Sky and Subject masks -> exposure in a
mask -> undo/redo -> sync to a second photo -> export; check the catalog and files."""
from __future__ import annotations

import pytest
from PIL import Image as PILImage
from PySide6.QtCore import QItemSelectionModel, QSettings, Qt
from sqlalchemy import select

from maskroom.catalog.schema import FLAG_PICK, HistoryStep, Image
from maskroom.catalog.schema import Layer as LayerRow
from maskroom.services import editing
from ui_helpers import app_window, import_samples, wait_until, qt_cleanup  # noqa: F401 (autouse fixture)

pytestmark = pytest.mark.ui

SOURCE = "immich_tanners_ridge.jpg"
TARGET = "immich_denali.webp"


@pytest.fixture
def window(qtbot, catalog, sample_copy, tmp_path):
    ids = import_samples(catalog, sample_copy)
    with app_window(qtbot, catalog, tmp_path) as win:
        win.ids = ids
        yield win


def layers_of(catalog, version_id):
    with catalog.session() as s:
        return {r.name: (r.adjustments, r.mask) for r in s.scalars(
            select(LayerRow).where(LayerRow.version_id == version_id).order_by(LayerRow.position))}


def test_library_keys_rate_flag_label(qtbot, window, catalog):
    image_id = window.ids[SOURCE]
    window.select_image(image_id)
    window.grid.setFocus()
    for key in (Qt.Key_3, Qt.Key_P, Qt.Key_6):
        qtbot.keyClick(window.grid, key)
    with catalog.session() as s:
        im = s.get(Image, image_id)
        assert (im.rating, im.flag, im.color_label) == (3, FLAG_PICK, "red")
    # The filter bar narrows the grid (the query runs on a worker).
    window.filter_bar.rating.setCurrentIndex(3)
    wait_until(qtbot, lambda: window.model.rowCount() == 1, what="filtered grid")
    assert window.model.ids == [image_id] and window.filter_bar.count.text() == "1 photo"
    window.filter_bar.rating.setCurrentIndex(0)
    wait_until(qtbot, lambda: window.model.rowCount() == len(window.ids), what="unfiltered grid")
    window.select_image(image_id)
    qtbot.keyClick(window.grid, Qt.Key_6)  # the same label again removes it
    qtbot.keyClick(window.grid, Qt.Key_0)
    with catalog.session() as s:
        im = s.get(Image, image_id)
        assert (im.rating, im.color_label) == (0, None)
    # The grid cell shows the catalog's value, not a stale copy.
    assert window.model.row(window.model._row_of[image_id]).rating == 0


def test_develop_masks_sync_export(qtbot, window, catalog, tmp_path):
    src_id, dst_id = window.ids[SOURCE], window.ids[TARGET]
    window.select_image(src_id)
    qtbot.keyClick(window.grid, Qt.Key_D)
    assert window.view == "develop"
    wait_until(qtbot, lambda: window.canvas.after is not None, what="first render")
    vid = window.session.version_id

    # Create new mask -> Sky, then -> Subject (one history step each).
    window.masks_panel.start("sky")
    window.masks_panel.start("subject")
    layers = layers_of(catalog, vid)
    assert list(layers) == ["Global", "Sky", "Subject"]
    assert [c["kind"] for c in layers["Sky"][1]["components"]] == ["sky"]
    assert [c["kind"] for c in layers["Subject"][1]["components"]] == ["subject"]

    # Exposure inside the Subject mask.
    window.session.select_layer("Subject")
    window.develop_panel.set_value("exposure", 1.0)
    assert layers_of(catalog, vid)["Subject"][0] == {"exposure": 1.0}
    assert layers_of(catalog, vid)["Global"][0] == {}
    steps, pos = editing.history(catalog, vid)
    assert steps[-1][1] == "Subject: Exposure +1.00" and pos == steps[-1][0]
    assert window.history_panel.labels()[0] == "Subject: Exposure +1.00"

    # Ctrl+Z / Ctrl+Shift+Z move the catalog's history.
    qtbot.keyClick(window.canvas, Qt.Key_Z, Qt.ControlModifier)
    assert layers_of(catalog, vid)["Subject"][0] == {}
    assert window.develop_panel.sliders["exposure"].value() == 0.0
    qtbot.keyClick(window.canvas, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert layers_of(catalog, vid)["Subject"][0] == {"exposure": 1.0}

    # O shows the Subject mask overlay, derived on a worker.
    qtbot.keyClick(window.canvas, Qt.Key_O)
    wait_until(qtbot, lambda: window.canvas.overlay is not None, what="mask overlay")
    assert window.canvas.show_overlay
    # Backslash: before/after.
    qtbot.keyClick(window.canvas, Qt.Key_Backslash)
    assert window.canvas.show_before
    qtbot.keyClick(window.canvas, Qt.Key_Backslash)

    # Sync to a second photo selected in the grid.
    qtbot.keyClick(window.canvas, Qt.Key_G)
    sel = window.grid.selectionModel()
    sel.select(window.model.index(window.model._row_of[dst_id]), QItemSelectionModel.Select)
    dlg = window.open_sync()
    assert dlg.to_selected.isChecked() and dlg.targets() == [dst_id]
    # Nothing ticked: the dialog says so and its button still works afterwards.
    ticked = {k: cb.isChecked() for k, cb in dlg.checks.items()}
    for cb in dlg.checks.values():
        cb.setChecked(False)
    qtbot.mouseClick(dlg.sync_button, Qt.LeftButton)
    assert dlg.job is None and "at least one part" in dlg.review_label.text()
    assert dlg.sync_button.isEnabled()
    for k, cb in dlg.checks.items():
        cb.setChecked(ticked[k])
    qtbot.mouseClick(dlg.sync_button, Qt.LeftButton)
    wait_until(qtbot, lambda: dlg.job is not None and dlg.job.finished_flag.is_set(), 120, "sync")
    qtbot.wait(50)
    assert dlg.job.error is None, dlg.job.error
    assert not [r for r in dlg.review if "failed" in r["reason"]], dlg.review
    dst_vid = editing.master_version_id(catalog, dst_id)
    synced = layers_of(catalog, dst_vid)
    assert list(synced) == ["Global", "Sky", "Subject"]
    assert synced["Subject"][0] == {"exposure": 1.0}
    src_uids = {c["uid"] for c in layers_of(catalog, vid)["Sky"][1]["components"]}
    assert [c["kind"] for c in synced["Sky"][1]["components"]] == ["sky"]
    assert src_uids  # the source keeps its own components
    dlg.close()

    # Export both; files land with the rendered size.
    out = tmp_path / "export"
    edlg = window.open_export()
    assert len(edlg.version_ids) == 2
    edlg.destination.setText(str(out))
    edlg.long_edge.setValue(300)
    qtbot.mouseClick(edlg.export_button, Qt.LeftButton)
    wait_until(qtbot, lambda: edlg.job is not None and edlg.job.finished_flag.is_set(), 120, "export")
    qtbot.wait(50)
    assert edlg.problems == [], edlg.problems
    files = sorted(out.glob("*.jpg"))
    assert [f.stem for f in files] == ["immich_denali", "immich_tanners_ridge"]
    for f in files:
        with PILImage.open(f) as im:
            assert max(im.size) == 300
    with catalog.session() as s:
        labels = s.scalars(select(HistoryStep.label).where(HistoryStep.version_id == dst_vid)).all()
    assert any("ync" in label for label in labels), labels


def test_settings_persist(qtbot, catalog, sample_copy, tmp_path):
    from maskroom.ui.app import MainWindow

    import_samples(catalog, sample_copy)
    ini = str(tmp_path / "ui.ini")
    win = MainWindow(catalog, QSettings(ini, QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    win.show_view("develop")
    win.resize(780, 560)  # within the offscreen screen (800x600) so the restore is not clamped
    size = (win.width(), win.height())
    win.close()
    again = MainWindow(catalog, QSettings(ini, QSettings.IniFormat))
    qtbot.addWidget(again)
    assert again.view == "develop"
    assert again.settings.value("catalog/last") == str(catalog.location.url)
    assert again.height() == size[1]  # (the width is clamped to the 800 px offscreen screen)
    again.runner.wait(20000)
    again.close()


def test_import_dialog_and_watch_folder(qtbot, catalog, sample_copy, tmp_path):
    """Import through the dialog (progress, a bad file listed, the batch goes on), then
    watch a folder: a photo dropped into it appears in the grid by itself."""
    import shutil

    from maskroom.ui.app import MainWindow

    (sample_copy / "broken.jpg").write_bytes(b"not a jpeg at all")
    win = MainWindow(catalog, QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    dlg = win.open_import()
    dlg.source.setText(str(sample_copy))
    qtbot.mouseClick(dlg.import_button, Qt.LeftButton)
    wait_until(qtbot, lambda: dlg.job is not None and dlg.job.finished_flag.is_set(), 120, "import")
    qtbot.wait(50)
    assert len(dlg.imported_ids) == 10
    assert any("broken.jpg" in p for p in dlg.problems), dlg.problems
    wait_until(qtbot, lambda: win.model.rowCount() == 10, what="grid after import")

    drop = tmp_path / "drop"
    drop.mkdir()
    dlg.source.setText(str(drop))
    dlg.watch.setChecked(True)
    assert win.settings.value("import/watch", type=bool) is True
    shutil.copy2(sample_copy / "mpl_grace_hopper.jpg", drop / "hopper_copy_renamed.jpg")
    (drop / "hopper_copy_renamed.jpg").write_bytes((drop / "hopper_copy_renamed.jpg").read_bytes() + b"\0")
    wait_until(qtbot, lambda: win.model.rowCount() == 11, 60, "the watched photo in the grid")
    dlg.watch.setChecked(False)
    assert win.watch.job is None


def test_maskroom_without_a_command_opens_the_app(qtbot, qapp, catalog, catalog_location, tmp_path):
    """`maskroom --catalog X` (no command) runs the app on X (made by the catalog fixture: a named
    catalog must exist); closing it exits 0."""
    from click.testing import CliRunner
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from maskroom.cli import main

    QSettings.setPath(QSettings.NativeFormat, QSettings.UserScope, str(tmp_path / "settings"))
    seen = []

    def close_it():
        wins = [w for w in QApplication.topLevelWidgets() if w.objectName() == "maskroom_main"]
        seen.extend(w.windowTitle() for w in wins)
        for w in wins:
            w.close()  # ends `maskroom`'s loop; the test's QApplication keeps running

    QTimer.singleShot(1500, close_it)
    result = CliRunner().invoke(main, ["--catalog", str(catalog_location.url)])
    assert result.exit_code == 0, result.output
    assert seen and str(catalog_location.url) in seen[0]
    assert QSettings("maskroom", "maskroom").value("catalog/last") == str(catalog_location.url)


def test_ui_with_a_bad_catalog_fails_cleanly(tmp_path):
    from click.testing import CliRunner

    from maskroom.cli import main

    bad = tmp_path / "notes.sqlite"
    bad.write_text("this is not a catalog")
    result = CliRunner().invoke(main, ["ui", "--catalog", str(bad)])
    assert result.exit_code == 1
    # (the catalog's own message may add SQLAlchemy's "Background on this error" line)
    assert "notes.sqlite: cannot open catalog" in result.output.splitlines()[0]
    assert "Traceback" not in result.output
