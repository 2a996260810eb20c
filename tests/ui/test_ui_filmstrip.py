"""The filmstrip under loupe and develop: the grid's cells in its order, thumbnails from
the grid's worker-loaded cache (a cell paints empty first, then fills), a click opens
that photo, the arrow keys on the canvas step to the next and previous one."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from ui_helpers import develop, wait_until, qt_cleanup  # noqa: F401 (fixtures)

pytestmark = pytest.mark.ui
OUT = Path(os.environ.get("MASKROOM_UI_OUT", Path(__file__).resolve().parents[2] / "out"))


def test_filmstrip_click_and_arrow_keys(qtbot, develop, catalog):
    win, strip = develop, develop.filmstrip
    model = win.model
    assert strip.isVisible() and strip.model() is model and strip.selectionModel() is win.grid.selectionModel()
    assert model.rowCount() == 10  # the shipped samples, in the grid's order

    # Painting asks the cache; decoding happens on its worker, not in paint.
    t0 = time.process_time()
    strip.grab()
    assert time.process_time() - t0 < 2.0
    wait_until(qtbot, lambda: all(model.thumbs.get(model.ids[r]) is not None for r in range(4)),
               what="filmstrip thumbnails")
    strip.viewport().update()
    # Each thumbnail is scaled to the strip's cell once; repaints draw the kept one.
    strip.grab()
    kept = dict(strip.itemDelegate()._scaled)
    assert len(kept) >= 4
    strip.grab()
    assert all(strip.itemDelegate()._scaled[k] is v for k, v in kept.items())

    # A click on another cell opens that photo in develop.
    first = win.session.image_id
    target = next(r for r in range(1, model.rowCount() - 1) if model.ids[r] != first)
    rect = strip.visualRect(model.index(target))
    QTest.mouseClick(strip.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())
    assert win.session.image_id == model.ids[target] and win.current_image_id() == model.ids[target]
    wait_until(qtbot, lambda: win.canvas.after is not None, what="render of the clicked photo")

    # Right/Left on the canvas step through the same order.
    win.canvas.setFocus()
    QTest.keyClick(win.canvas, Qt.Key_Right)
    assert win.session.image_id == model.ids[target + 1]
    QTest.keyClick(win.canvas, Qt.Key_Left)
    QTest.keyClick(win.canvas, Qt.Key_Left)
    assert win.session.image_id == model.ids[target - 1]
    assert strip.step(-model.rowCount()) is False  # past the start: nothing happens
    wait_until(qtbot, lambda: win.canvas.after is not None and win.runner.running == 0, what="render")
    win.grab().save(str(OUT / "filmstrip_develop.png"))

    # The loupe has it too; the grid does not need it.
    win.show_view("loupe")
    assert strip.isVisible()
    wait_until(qtbot, lambda: win.canvas.after is not None and win.runner.running == 0, what="render")
    win.grab().save(str(OUT / "filmstrip_loupe.png"))
    win.show_view("grid")
    assert not strip.isVisible()
