"""The develop panel's white-balance Pick on a JPEG: armed, a click on the canvas sets
temperature and tint (one history step, sliders follow) and the picked patch of the
render comes out neutral; Ctrl+Z takes it back."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from maskroom.services import editing
from ui_helpers import develop, wait_until, qt_cleanup  # noqa: F401 (fixtures)

pytestmark = pytest.mark.ui
OUT = Path(os.environ.get("MASKROOM_UI_OUT", Path(__file__).resolve().parents[2] / "out"))


def ab_at(rgb, x, y, r=6):
    h, w = rgb.shape[:2]
    cx, cy = int(x * w), int(y * h)
    patch = rgb[cy - r:cy + r + 1, cx - r:cx + r + 1].reshape(1, -1, 3)
    return cv2.cvtColor(patch, cv2.COLOR_RGB2LAB)[0].astype(float).mean(axis=0)[1:] - 128


def test_wb_pick_on_a_jpeg(qtbot, develop, catalog):
    win, panel = develop, develop.develop_panel
    vid = win.session.version_id
    assert panel.wb_pick.isEnabled() and not panel.wb.isEnabled()  # Pick works on JPEGs; the RAW modes do not
    wait_until(qtbot, lambda: win.runner.running == 0 and getattr(win, "_last_render", None) is not None,
               what="first render")
    x, y = 0.25, 0.22  # the overcast sky: a grey with a blue cast
    before = ab_at(win._last_render, x, y)
    steps = len(editing.history(catalog, vid)[0])
    panel.pick_requested.emit("wb")
    assert win.canvas.tool == "eyedropper"
    win.canvas.colour_picked.emit(x, y)
    assert win.canvas.tool == "view"
    hist, _ = editing.history(catalog, vid)
    assert len(hist) == steps + 1 and hist[-1][1].startswith("White balance: picked")
    adj = editing.load_recipe(catalog, vid).global_layer.adjustments
    assert adj["temperature"] > 0  # the blue cast is warmed away
    assert panel.sliders["temperature"].value() == pytest.approx(adj["temperature"], abs=0.6)
    wait_until(qtbot, lambda: win.runner.running == 0 and win.renderer._full_shown == win.renderer.generation,
               what="render after the pick")
    after = ab_at(win._last_render, x, y)
    assert np.abs(after).max() < 1.5 < np.abs(before).max(), (before, after)
    win.grab().save(str(OUT / "wb_pick_jpeg.png"))
    win.undo()
    assert "temperature" not in editing.load_recipe(catalog, vid).global_layer.adjustments
