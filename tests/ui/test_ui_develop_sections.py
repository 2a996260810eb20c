"""The develop panel's new sections: Lightroom's order, the curve editor dragged with the
mouse, mixer and grading sliders, each one history step, and the live histogram."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from maskroom.services import develop as develop_service
from maskroom.services import editing
from ui_helpers import develop, wait_until, qt_cleanup  # noqa: F401 (fixtures)

pytestmark = pytest.mark.ui


def test_sections_curve_drag_mixer_and_histogram(qtbot, develop, catalog):
    win, panel = develop, develop.develop_panel
    vid = win.session.version_id
    assert list(panel.sections) == ["Basic", "Tone Curve", "Colour Mixer", "Colour Grading", "Detail",
                                    "Lens Corrections", "Effects"]
    assert [panel.tabs["Colour Mixer"].tabText(i) for i in range(4)] == ["Hue", "Saturation", "Luminance",
                                                                       "Point colour"]
    wait_until(qtbot, lambda: panel.histogram.hist is not None, what="histogram of the first render")

    # Drag a new point on the luminance curve: one history step with that point.
    curve = panel.curve
    curve.resize(220, 220)
    a = curve._to_px(0.5, 0.5).toPoint()
    b = curve._to_px(0.5, 0.7).toPoint()
    QTest.mousePress(curve, Qt.LeftButton, Qt.NoModifier, a)
    for i in range(1, 5):
        QTest.mouseMove(curve, QPoint(a.x(), a.y() + (b.y() - a.y()) * i // 4))
    QTest.mouseRelease(curve, Qt.LeftButton, Qt.NoModifier, b)
    points = editing.load_recipe(catalog, vid).global_layer.adjustments["curve.points"]
    assert len(points) == 1 and points[0][0] == pytest.approx(0.5, abs=0.02) and points[0][1] > 0.62

    before = panel.histogram.hist.luminance
    panel.set_value("mixer.blue.saturation", -60)
    panel.set_value("grade.shadows.saturation", 40)
    adj = editing.load_recipe(catalog, vid).global_layer.adjustments
    assert adj["mixer.blue.saturation"] == -60 and adj["grade.shadows.saturation"] == 40
    wait_until(qtbot, lambda: win.runner.running == 0 and panel.histogram.hist.luminance != before,
               what="histogram follows the edit")

    # Undo walks back one control at a time; the curve widget follows the recipe.
    win.undo()
    win.undo()
    win.undo()
    assert "curve.points" not in editing.load_recipe(catalog, vid).global_layer.adjustments
    assert panel.curve.points == []
    win.toggle_clipping()
    assert panel.histogram.show_clipping

    # Point colour eyedropper: the panel arms the canvas, a click sets the picked hue.
    panel.pick_requested.emit("point")
    assert win.canvas.tool == "eyedropper"
    win.canvas.colour_picked.emit(0.5, 0.8)  # the meadow
    assert win.canvas.tool == "view"
    want = develop_service.picked_hue(win._last_render, 0.5, 0.8)
    assert editing.load_recipe(catalog, vid).global_layer.adjustments["mixer.point.hue"] == pytest.approx(want)
    assert 20 < want < 90  # yellow-orange grass

    # Lens corrections on a photo whose lens lensfun does not know: said, and left off.
    assert not panel.wb.isEnabled()  # a JPEG: no RAW white balance
    steps = len(editing.history(catalog, vid)[0])
    panel.lens_check.setChecked(True)
    assert not panel.lens_check.isChecked() and "lens" in panel.lens_info.text()
    assert len(editing.history(catalog, vid)[0]) == steps
    assert "lens" not in editing.load_recipe(catalog, vid).settings
