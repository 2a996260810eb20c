"""Screenshots of each view of the desktop app, for looking at (and for docs).

    python scripts/ui_screenshots.py [--out out]

Builds a throw-away catalog from the shipped sample photos, then drives the app like a
person would: grid, develop with a mask overlay, the masks panel listing a person's
parts, the sync review, the export dialog.  Writes out/ui_*.png.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QItemSelectionModel, QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from maskroom.catalog import Catalog  # noqa: E402
from maskroom.catalog.schema import FLAG_PICK, FLAG_REJECT  # noqa: E402
from maskroom.core.progress import Progress  # noqa: E402
from maskroom.services import editing, importing, library as library_service  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "maskroom" / "data" / "samples"


def spin(app, until=None, timeout=60.0, settle=0.3):
    """Run the event loop until ``until()`` holds (or the timeout), then a little more."""
    deadline = time.monotonic() + timeout
    while until is not None and not until() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    end = time.monotonic() + settle
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("out"))
    ap.add_argument("--library-only", action="store_true", help="Only the grid, versions and keyword shots.")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    work = Path(tempfile.mkdtemp(prefix="maskroom-shots-"))
    try:
        shutil.copytree(SAMPLES, work / "shoot", ignore=shutil.ignore_patterns("*.md"))
        catalog = Catalog.open(work / "catalog.sqlite")
        imported = importing.import_photos(catalog, [work / "shoot"], Progress())
        ids, problems = imported.image_ids, imported.problems
        for p in problems:
            print(p, file=sys.stderr)
        rows = library_service.image_rows(catalog, ids)
        by_name = {r.filename: r.id for r in rows.values()}
        return shoot(app, catalog, by_name, args.out, work, library_only=args.library_only)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def shoot(app, catalog, by_name, out: Path, work: Path, library_only: bool = False) -> int:
    from maskroom.ui.app import MainWindow

    library_service.set_rating(catalog, [by_name["immich_denali.webp"], by_name["immich_tanners_ridge.jpg"]], 4)
    library_service.set_rating(catalog, [by_name["mpl_grace_hopper.jpg"]], 5)
    library_service.set_flag(catalog, [by_name["mpl_grace_hopper.jpg"]], FLAG_PICK)
    library_service.set_flag(catalog, [by_name["immich_thompson-springs.jpg"]], FLAG_REJECT)
    library_service.set_label(catalog, [by_name["immich_prairie_falcon.jpg"]], "green")

    win = MainWindow(catalog, QSettings(str(work / "ui.ini"), QSettings.IniFormat))
    win.resize(1400, 900)
    win.show()
    win.model.reload()
    spin(app, lambda: win.model.thumbs.requested and win.model.thumbs.idle())
    win.grid.setCurrentIndex(win.model.index(win.model._row_of[by_name["immich_tanners_ridge.jpg"]]))
    spin(app)
    paths = [out / "ui_grid.png"]
    win.grab().save(str(paths[-1]))

    # A virtual copy is its own cell (page-corner mark, "Copy 1") next to its master;
    # keywords typed for a selection, the keyword list ticked for it.
    win.create_virtual_copy()
    spin(app, lambda: not win.model.loading and win.runner.running == 0)
    sel = win.grid.selectionModel()
    win.grid.setCurrentIndex(win.model.index(win.model._row_of[by_name["immich_denali.webp"]]))
    sel.select(win.model.index(win.model._row_of[by_name["immich_tanners_ridge.jpg"]]), QItemSelectionModel.Select)
    win.keywords.add(["Places|USA|Utah", "landscape"])
    win.grid.setCurrentIndex(win.model.index(win.model._row_of[by_name["immich_prairie_falcon.jpg"]]))
    win.keywords.add(["animals|birds", "Places|USA"])
    win.grid.setCurrentIndex(win.model.index(win.model._row_of[by_name["immich_tanners_ridge.jpg"]]))
    sel.select(win.model.index(win.model._row_of[by_name["immich_denali.webp"]]), QItemSelectionModel.Select)
    win.toggle_quick_collection()
    win.new_collection("Best of 2023", with_selection=True)
    spin(app, lambda: win.runner.running == 0 and win.model.thumbs.idle(), settle=0.6)
    paths.append(out / "ui_grid_versions.png")
    win.grab().save(str(paths[-1]))
    # Edited thumbnails: the master warmed and brightened, its copy black and white; back
    # in the grid each cell shows its own edit (rendered on the grid's worker).
    ridge = by_name["immich_tanners_ridge.jpg"]
    looks = {editing.master_version_id(catalog, ridge): ({"exposure": 0.6, "temperature": 45, "vibrance": 40}, "Warm"),
             editing.versions_of(catalog, ridge)[-1][0]: ({"saturation": -100, "contrast": 35}, "B&W")}
    for vid, (adjustments, label) in looks.items():
        recipe = editing.load_recipe(catalog, vid)
        recipe.global_layer.adjustments.update(adjustments)
        editing.save_recipe(catalog, vid, recipe, label)
    win.show_view("loupe")
    win.show_view("grid")
    spin(app, lambda: win.runner.running == 0 and win.model.thumbs.idle()
         and win.model.thumbs.edited_pixmap(ridge, None) is not None, settle=0.6)
    paths.append(out / "ui_grid_edited.png")
    win.grab().save(str(paths[-1]))
    # Three photos selected: keywords only some of them have show part-ticked; the field
    # completes from the catalog's keywords (the popup is its own window: drawn in).
    sel.select(win.model.index(win.model._row_of[by_name["immich_prairie_falcon.jpg"]]), QItemSelectionModel.Select)
    win.focus_keywords()
    win.keywords_panel.field.setText("Pla")
    win.keywords_panel.completer.setCompletionPrefix("Pla")
    win.keywords_panel.completer.complete()
    spin(app, lambda: win.runner.running == 0, settle=0.5)
    shot = win.grab()
    popup = win.keywords_panel.completer.popup()
    if popup.isVisible():
        from PySide6.QtGui import QPainter

        painter = QPainter(shot)
        painter.drawPixmap(popup.mapToGlobal(popup.rect().topLeft()) - win.mapToGlobal(win.rect().topLeft()),
                           popup.grab())
        painter.end()
    paths.append(out / "ui_keywords.png")
    shot.save(str(paths[-1]))
    win.keywords_panel.completer.popup().hide()
    win.keywords_panel.field.clear()
    if library_only:
        win.close()
        for p in paths:
            print(p)
        return 0

    # Develop: a Subject mask with an exposure lift, the red overlay on.
    win.show_view("develop")
    spin(app, lambda: win.canvas.after is not None)
    win.masks_panel.start("sky")
    win.session.select_layer("Sky")
    win.develop_panel.set_value("exposure", -0.7)
    win.masks_panel.start("subject")
    win.session.select_layer("Subject")
    win.develop_panel.set_value("exposure", 0.6)
    win.develop_panel.set_value("shadows", 30)
    win.tabs.setCurrentWidget(win.masks_panel)
    win.toggle_overlay()
    spin(app, lambda: win.canvas.overlay is not None and win.runner.running == 0, settle=0.8)
    paths.append(out / "ui_develop_mask.png")
    win.grab().save(str(paths[-1]))

    # Gradient handles: a tilted radial gradient lifting the ridge, with its pin, edge,
    # feather (blue) and rotation knobs; the overlay off so the handles read.
    from maskroom.core.recipe import MaskComponent

    win.toggle_overlay()
    win.masks_panel.add_component(MaskComponent(kind="radial", params={
        "cx": 0.6, "cy": 0.45, "rx": 0.22, "ry": 0.12, "angle": 20.0, "feather": 0.5}), new_layer=True)
    win.develop_panel.set_value("exposure", 0.8)
    spin(app, lambda: win.runner.running == 0, settle=0.8)
    paths.append(out / "ui_gradient_handles.png")
    win.grab().save(str(paths[-1]))
    win.toggle_overlay()

    # Masks panel: People on a portrait, one person's parts listed.
    win.toggle_overlay()
    win.show_view("grid")
    win.grid.setCurrentIndex(win.model.index(win.model._row_of[by_name["mpl_grace_hopper.jpg"]]))
    win.show_view("develop")
    spin(app, lambda: win.canvas.after is not None and win.runner.running == 0)
    win.tabs.setCurrentWidget(win.masks_panel)
    win.masks_panel.start("people")
    spin(app, lambda: win.masks_panel.people_box.status.text() != "Looking for people…", 120)
    box = win.masks_panel.people_box
    if box.checks:  # (without people models the panel shows why, and so does the shot)
        for part in ("face-skin", "iris", "hair"):
            box.check(0, part)
        box.button.click()
        win.toggle_overlay()
        spin(app, lambda: win.canvas.overlay is not None and win.runner.running == 0, 120, settle=0.8)
    paths.append(out / "ui_masks_people.png")
    win.grab().save(str(paths[-1]))

    # Sync: from the landscape to three others, then the review list.
    win.show_view("grid")
    src = by_name["immich_tanners_ridge.jpg"]
    win.grid.setCurrentIndex(win.model.index(win.model._row_of[src]))
    win.show_view("develop")
    spin(app, lambda: win.runner.running == 0)
    win.show_view("grid")
    sel = win.grid.selectionModel()
    for name in ("immich_denali.webp", "immich_el_torcal_rocks.jpg", "immich_notocactus_minimus.jpg"):
        sel.select(win.model.index(win.model._row_of[by_name[name]]), QItemSelectionModel.Select)
    dlg = win.open_sync()
    dlg.start()
    spin(app, lambda: dlg.job.finished_flag.is_set(), 300, settle=0.5)
    paths.append(out / "ui_sync_review.png")
    dlg.grab().save(str(paths[-1]))
    dlg.close()

    edlg = win.open_export()
    edlg.destination.setText(str(work / "export"))
    edlg.long_edge.setValue(1024)
    edlg.start()
    spin(app, lambda: edlg.job.finished_flag.is_set(), 300, settle=0.5)
    paths.append(out / "ui_export.png")
    edlg.grab().save(str(paths[-1]))
    edlg.close()
    win.close()
    for p in paths:
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
