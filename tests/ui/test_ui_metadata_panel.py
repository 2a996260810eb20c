"""The Metadata panel: the current photo's EXIF read-only, IPTC fields saved through
`library.set_metadata` (what `maskroom meta` calls) when editing ends, each edit undone
by Ctrl+Z in the library views, bad text refused with a status line."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from maskroom.services import library
from ui_helpers import app_window, import_samples, wait_until, qt_cleanup  # noqa: F401 (fixtures)

pytestmark = pytest.mark.ui
OUT = Path(os.environ.get("MASKROOM_UI_OUT", Path(__file__).resolve().parents[2] / "out"))


def test_metadata_panel_shows_exif_edits_iptc_and_undoes(qtbot, catalog, sample_copy, tmp_path):
    ids = import_samples(catalog, sample_copy)
    falcon = ids["immich_prairie_falcon.jpg"]
    with app_window(qtbot, catalog, tmp_path, size=(1400, 900)) as win:
        panel = win.metadata_panel
        win.select_image(falcon)
        assert win.metadata_dock.isVisible()
        wait_until(qtbot, lambda: panel.image_id == falcon, what="metadata of the falcon")
        assert panel.exif["file"].full == "immich_prairie_falcon.jpg"
        assert panel.exif["file"].toolTip() == "immich_prairie_falcon.jpg"
        exif = library.image_metadata(catalog, falcon)["exif"]
        assert panel.exif["dimensions"].full == exif["dimensions"] and "×" in exif["dimensions"]
        assert not hasattr(panel.exif["camera"], "setReadOnly")  # labels: nothing to type into
        before = library.image_metadata(catalog, falcon)["iptc"]

        # Typing in the title and pressing Enter saves it.
        title = panel.fields["title"]
        win.focus_metadata()
        title.selectAll()
        QTest.keyClicks(title, "Prairie falcon")
        QTest.keyClick(title, Qt.Key_Return)
        assert library.image_metadata(catalog, falcon)["iptc"]["title"] == "Prairie falcon"
        assert panel.set_field("caption", "On a post\nat dawn")
        assert panel.set_field("copyright", "(c) 2026 A. Person")
        assert not panel.set_field("copyright", "(c) 2026 A. Person")  # unchanged: no step
        panel.set_field("creator", "bad\x07name")  # refused at the door
        assert library.image_metadata(catalog, falcon)["iptc"]["creator"] == before["creator"]
        assert "control character" in win.statusBar().currentMessage()
        assert panel.fields["creator"].text() == (before["creator"] or "")
        win.grab().save(str(OUT / "metadata_panel.png"))

        # Ctrl+Z (the window's undo, in the grid) walks the edits back one by one.
        win.undo()
        assert library.image_metadata(catalog, falcon)["iptc"]["copyright"] == before["copyright"]
        win.undo()
        win.undo()
        assert library.image_metadata(catalog, falcon)["iptc"] == before
        assert panel.fields["title"].text() == (before["title"] or "")

        # Another photo: the panel follows the current cell.
        other = ids["immich_tanners_ridge.jpg"]
        win.select_image(other)
        wait_until(qtbot, lambda: panel.image_id == other, what="metadata of the ridge")
        assert panel.exif["file"].full == "immich_tanners_ridge.jpg"
        win.show_view("develop")
        assert not win.metadata_dock.isVisible()
