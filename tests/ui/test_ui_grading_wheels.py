"""Colour Grading wheels: the puck's angle is the hue and its distance the saturation;
a drag is one history step with both keys, the sliders and the wheel follow the recipe,
Ctrl+Z takes it back, and the render is tinted the way the wheel points."""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from maskroom.services import editing
from maskroom.ui.develop_widgets import ColourWheel
from ui_helpers import develop, wait_until, qt_cleanup  # noqa: F401 (fixtures)

pytestmark = pytest.mark.ui
OUT = Path(os.environ.get("MASKROOM_UI_OUT", Path(__file__).resolve().parents[2] / "out"))


def test_wheel_geometry_round_trips(qtbot):
    w = ColourWheel("Midtones")
    qtbot.addWidget(w)
    w.resize(140, 156)
    for hue, sat in ((0.0, 50.0), (90.0, 100.0), (200.0, 30.0), (315.0, 75.0)):
        w.set_value(hue, sat)
        got = w.value_at(w.puck())
        assert got[0] == pytest.approx(hue, abs=0.6) and got[1] == pytest.approx(sat, abs=0.6)
    w.set_value(0, 0)
    centre = w.puck()
    assert w.value_at(QPointF(centre.x(), centre.y() - 500))[1] == 100.0  # outside: on the rim
    assert w.value_at(QPointF(centre.x(), centre.y() - 20))[0] == pytest.approx(90.0)  # up is 90°


def test_drag_a_wheel_is_one_step_and_tints_the_render(qtbot, develop, catalog):
    win, panel = develop, develop.develop_panel
    vid = win.session.version_id
    wheel = panel.wheels["midtones"]
    steps = len(editing.history(catalog, vid)[0])
    wait_until(qtbot, lambda: win.runner.running == 0 and getattr(win, "_last_render", None) is not None,
               what="first render")
    before = win._last_render.astype(float).mean(axis=(0, 1))

    c = wheel.puck()  # at the centre (no grading yet)
    _c, r = wheel._circle()
    hue = 240.0  # blue
    end = QPoint(round(c.x() + 0.8 * r * math.cos(math.radians(hue))), round(c.y() - 0.8 * r * math.sin(math.radians(hue))))
    QTest.mousePress(wheel, Qt.LeftButton, Qt.NoModifier, c.toPoint())
    for i in range(1, 6):
        QTest.mouseMove(wheel, QPoint(round(c.x() + (end.x() - c.x()) * i / 5), round(c.y() + (end.y() - c.y()) * i / 5)))
    QTest.mouseRelease(wheel, Qt.LeftButton, Qt.NoModifier, end)

    hist, _pos = editing.history(catalog, vid)
    assert len(hist) == steps + 1 and hist[-1][1].startswith("Colour grading midtones")
    adj = editing.load_recipe(catalog, vid).global_layer.adjustments
    assert adj["grade.midtones.hue"] == pytest.approx(hue, abs=3)
    assert adj["grade.midtones.saturation"] == pytest.approx(80, abs=3)
    assert panel.sliders["grade.midtones.hue"].value() == pytest.approx(adj["grade.midtones.hue"], abs=1)
    wait_until(qtbot, lambda: win.runner.running == 0 and not np.array_equal(
        win._last_render.astype(float).mean(axis=(0, 1)), before), what="graded render")
    after = win._last_render.astype(float).mean(axis=(0, 1))
    assert after[2] - after[0] > before[2] - before[0] + 3  # bluer

    # The other wheels, at once, from code (keyboard path) and the slider moving the wheel.
    panel.set_wheel("shadows", 30.0, 40.0)
    panel.set_value("grade.highlights.saturation", 25)
    assert panel.wheels["highlights"].saturation == 25
    panel.grab().save(str(OUT / "grading_wheels_panel.png"))
    area = panel.sections["Colour Grading"]
    area.grab().save(str(OUT / "grading_wheels.png"))

    win.undo()
    win.undo()
    win.undo()
    assert not any(k.startswith("grade.") for k in editing.load_recipe(catalog, vid).global_layer.adjustments)
    assert (wheel.hue, wheel.saturation) == (0.0, 0.0)
