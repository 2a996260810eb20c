"""The Lens Corrections section shows the user's default and changes it (a preference,
no history step); a photo whose edit says nothing follows it, unticking says off for
this photo (one step) so the default no longer decides."""
from __future__ import annotations

import pytest

from maskroom.catalog.schema import Image
from maskroom.services import develop as develop_service
from maskroom.services import editing
from ui_helpers import app_window, import_samples, wait_until, qt_cleanup  # noqa: F401 (fixtures)

pytestmark = pytest.mark.ui
CANON = ("Canon", "Canon EOS 6D", "Canon EF 24-105mm f/4L IS USM")


def test_lens_default_in_the_panel(qtbot, catalog, sample_copy, tmp_path):
    ids = import_samples(catalog, sample_copy)
    rocks = ids["immich_el_torcal_rocks.jpg"]
    with catalog.session() as s:
        row = s.get(Image, rocks)
        row.camera_make, row.camera_model, row.lens, row.focal_length, row.aperture = (*CANON, 24.0, 4.0)
    assert develop_service.lens_default(catalog) == "auto"  # a new catalog's default
    develop_service.set_lens_default(catalog, "off")
    with app_window(qtbot, catalog, tmp_path, develop=rocks) as win:
        panel = win.develop_panel
        vid = win.session.version_id
        assert panel.lens_default.currentData() == "off" and not panel.lens_check.isChecked()
        steps = len(editing.history(catalog, vid)[0])
        renders = win.renderer.renders_done
        panel.lens_default.setCurrentIndex(panel.lens_default.findData("auto"))
        panel.lens_default.activated.emit(panel.lens_default.currentIndex())
        assert develop_service.lens_default(catalog) == "auto"
        assert panel.lens_check.isChecked() and "by default" in panel.lens_info.text()
        assert len(editing.history(catalog, vid)[0]) == steps  # a preference, not an edit
        wait_until(qtbot, lambda: win.renderer.renders_done > renders and win.runner.running == 0,
                   what="re-render with the default")
        panel.lens_check.setChecked(False)
        assert editing.load_recipe(catalog, vid).settings["lens"] == {"correct": "off"}
        assert len(editing.history(catalog, vid)[0]) == steps + 1
        assert not panel.lens_check.isChecked() and panel.lens_info.text() == "Off for this photo"
        win.undo()
        assert "lens" not in editing.load_recipe(catalog, vid).settings and panel.lens_check.isChecked()
