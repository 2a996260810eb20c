"""The crop tool (R): pure drag maths on normalised rectangles, and in the app a
corner drag at a locked aspect, a straighten drag outside the rectangle, Enter as
ONE history step with the recipe keys `maskroom edit --crop/--straighten` writes,
Ctrl+Z taking it back, Esc leaving nothing behind, and auto-straighten."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from maskroom.services import editing
from maskroom.ui import crop_tool as ct
from maskroom.ui.mask_handles import View
from ui_helpers import develop, wait_until, qt_cleanup  # noqa: F401 (fixtures)

from conftest import run_cli

pytestmark = pytest.mark.ui
VIEW = View(100.0, 50.0, 600.0, 400.0)  # a 3:2 frame drawn at 600x400 from (100, 50)
OUT = Path(os.environ.get("MASKROOM_UI_OUT", Path(__file__).resolve().parents[2] / "out"))


# -- geometry (no Qt) ------------------------------------------------------------------
def test_corner_drag_keeps_the_aspect_and_the_frame():
    ratio = ct.target_ratio(1.0, VIEW, portrait=False)
    rect = ct.fit_ratio(ct.FULL, ratio, VIEW)
    assert ct.pixel_ratio(rect, VIEW) == pytest.approx(1.0)
    assert rect[1] == 0.0 and rect[3] == 1.0  # as tall as the frame, centred across
    br = VIEW.to_screen(rect[2], rect[3])
    out = ct.drag(rect, "br", VIEW, br, (br[0] - 150, br[1] - 40), ratio)  # pulled mostly left
    assert ct.pixel_ratio(out, VIEW) == pytest.approx(1.0)
    assert out[:2] == pytest.approx(rect[:2])  # the opposite corner stays
    assert (out[2] - out[0]) * VIEW.w == pytest.approx((250 + 360) / 2)  # the pointer on the diagonal
    # dragged far outside: shrinks to fit, never leaves the frame
    out = ct.drag(ct.FULL, "tl", VIEW, VIEW.to_screen(0, 0), (0, 0), 16 / 9)
    assert min(out) >= 0.0 and max(out) <= 1.0 and ct.pixel_ratio(out, VIEW) == pytest.approx(16 / 9)


def test_free_edges_move_and_rotation_sign():
    rect = (0.2, 0.2, 0.8, 0.8)
    out = ct.drag(rect, "l", VIEW, (220, 200), (280, 260), None)  # only x counts for a side edge
    assert out == pytest.approx((0.3, 0.2, 0.8, 0.8))
    out = ct.drag(rect, "move", VIEW, (400, 250), (1000, 250), None)  # clamped at the right edge
    assert out == pytest.approx((0.4, 0.2, 1.0, 0.8))
    with_ratio = ct.drag(rect, "b", VIEW, (400, 370), (400, 410), 1.5)
    assert ct.pixel_ratio(with_ratio, VIEW) == pytest.approx(1.5)
    assert ct.hit_test(rect, VIEW, VIEW.to_screen(0.2, 0.2)) == "tl"
    assert ct.hit_test(rect, VIEW, VIEW.to_screen(0.5, 0.8)) == "b"
    assert ct.hit_test(rect, VIEW, VIEW.to_screen(0.5, 0.5)) == "move"
    assert ct.hit_test(rect, VIEW, VIEW.to_screen(0.95, 0.5)) == "rotate"
    # right of the centre, pulled down: a clockwise sweep turns the photo clockwise (negative)
    c = VIEW.to_screen(0.5, 0.5)
    angle = ct.rotate_drag(0.0, rect, VIEW, (c[0] + 300, c[1]), (c[0] + 300, c[1] + 30))
    assert angle == pytest.approx(-np.degrees(np.arctan2(30, 300)), abs=0.01)
    assert ct.rotate_drag(40.0, rect, VIEW, (c[0] + 300, c[1]), (c[0], c[1] - 300)) == 45.0  # clamped
    assert ct.crop_setting(ct.FULL) is None


# -- in the app --------------------------------------------------------------------------
def _drag(canvas, a, b, steps=6):
    a, b = QPoint(round(a[0]), round(a[1])), QPoint(round(b[0]), round(b[1]))
    QTest.mousePress(canvas, Qt.LeftButton, Qt.NoModifier, a)
    for i in range(1, steps + 1):
        QTest.mouseMove(canvas, QPoint(a.x() + (b.x() - a.x()) * i // steps, a.y() + (b.y() - a.y()) * i // steps))
    QTest.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier, b)


def test_crop_tool_commits_one_step_undo_and_cancel(qtbot, develop, catalog):
    win, tool, canvas = develop, develop.crop_tool, develop.canvas
    win.resize(1400, 900)
    vid, image_id = win.session.version_id, win.session.image_id
    steps = len(editing.history(catalog, vid)[0])
    QTest.keyClick(canvas, Qt.Key_R)
    assert tool.active and tool.panel.isVisible()
    wait_until(qtbot, lambda: tool.ready, what="the uncropped render")
    tool.set_aspect(1.0)
    tool.panel.aspect.setCurrentIndex(tool.panel.aspect.findData(1.0))
    br = tool.handle_points()["br"]
    _drag(canvas, br, (br[0] - 120, br[1] - 60))
    view = canvas.view_geometry()
    assert ct.pixel_ratio(tool.rect, view) == pytest.approx(1.0, abs=0.01)
    right = tool.handle_points()["r"]
    _drag(canvas, (right[0] + 60, right[1]), (right[0] + 60, right[1] + 12))  # outside: straighten
    assert tool.angle < 0  # pulled down on the right: clockwise
    canvas.grab().save(str(OUT / "crop_tool_active.png"))
    win.grab().save(str(OUT / "crop_tool_window.png"))
    rect, angle = tool.rect, tool.angle
    assert len(editing.history(catalog, vid)[0]) == steps  # nothing stored before Enter

    QTest.keyClick(canvas, Qt.Key_Return)
    assert not tool.active and not tool.panel.isVisible()
    hist, _pos = editing.history(catalog, vid)
    assert len(hist) == steps + 1 and hist[-1][1].startswith("Crop ")
    settings = editing.load_recipe(catalog, vid).settings
    assert settings["straighten"] == pytest.approx(angle, abs=0.01)
    assert [settings["crop"][k] for k in ("x0", "y0", "x1", "y1")] == pytest.approx(list(rect), abs=1e-3)
    wait_until(qtbot, lambda: win.runner.running == 0 and canvas.after is not None
               and abs(canvas.after.width() / canvas.after.height() - 1.0) < 0.02, what="the square render")
    canvas.grab().save(str(OUT / "crop_tool_committed.png"))

    # The CLI writes the same keys: the same crop through `edit --crop` renders the same edit.
    crop_text = ",".join(f"{settings['crop'][k]}" for k in ("x0", "y0", "x1", "y1"))
    run_cli(catalog, "edit", image_id, "--crop", crop_text, "--straighten", settings["straighten"])
    assert editing.load_recipe(catalog, vid).settings == settings
    win.session.reload()

    # Ctrl+Z takes the crop step back (the CLI step first).
    win.undo()
    win.undo()
    assert "crop" not in editing.load_recipe(catalog, vid).settings

    # R then Esc: nothing stored, the tool gone.
    steps = len(editing.history(catalog, vid)[0])
    win.toggle_crop()
    wait_until(qtbot, lambda: tool.ready, what="the uncropped render")
    tl = tool.handle_points()["tl"]
    _drag(canvas, tl, (tl[0] + 80, tl[1] + 80))
    QTest.keyClick(canvas, Qt.Key_Escape)
    assert not tool.active and len(editing.history(catalog, vid)[0]) == steps


def test_auto_straighten_in_the_app(qtbot, develop, catalog):
    """The landscape sample's horizon tilts a little: Auto finds an angle that a second
    estimate on the levelled render calls (nearly) level."""
    win, tool = develop, develop.crop_tool
    win.toggle_crop()
    wait_until(qtbot, lambda: tool.ready, what="the uncropped render")
    angle = tool.auto_straighten()
    assert angle is not None and abs(angle) < 10
    assert tool.panel.angle_label.text() == f"{angle:+.1f}°"
    assert tool.commit()
    assert editing.load_recipe(catalog, win.session.version_id).settings["straighten"] == pytest.approx(angle)
