"""Mask handles on the canvas: the pure drag maths (ui/mask_handles.py) agree with the
engine's shapes; dragging a radial's, a linear's and an object box's handles in the app
changes the component params stored in the catalog as one history step that Ctrl+Z
takes back; `maskroom mask set` is the same service on the command line."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from maskroom.engine.masks.geometric import linear_gradient, radial_gradient
from maskroom.engine.masks.registry import MaskInput
from maskroom.core.recipe import MaskComponent
from maskroom.ui import mask_handles as mh
from maskroom.services import editing, masks as masks_service
from ui_helpers import app_window, import_samples, wait_until, qt_cleanup  # noqa: F401 (autouse fixture)

from conftest import run_cli

VIEW = mh.View(100.0, 50.0, 600.0, 400.0)  # a 3:2 photo drawn at 600x400 from (100, 50)


def handle(shape, name, style=None):
    return next(h for h in mh.handles(shape, VIEW) if h.name == name and (style is None or h.style == style))


def engine_alpha(kind, params, w=600, h=400):
    inp = MaskInput(image=np.zeros((h, w, 3), np.float32))
    fn = radial_gradient if kind == "radial" else linear_gradient
    return fn(inp, MaskComponent(kind=kind, params=params)).alpha


# -- geometry (no Qt) ------------------------------------------------------------------
@pytest.mark.parametrize("angle", [0.0, 30.0, -75.0])
def test_radial_handles_sit_on_the_engines_ellipse(angle):
    params = {"cx": 0.5, "cy": 0.45, "rx": 0.2, "ry": 0.1, "angle": angle, "feather": 0.0}
    shape = mh.Shape("r", "radial", params)
    alpha = engine_alpha("radial", params)
    c = np.array(handle(shape, "move").a)
    for name in ("rx+", "rx-", "ry+", "ry-"):
        edge = np.array(handle(shape, name).a)
        inside, outside = c + 0.9 * (edge - c), c + 1.1 * (edge - c)
        at = lambda p: alpha[int(p[1] - VIEW.y), int(p[0] - VIEW.x)]  # noqa: E731
        assert at(inside) == 1.0 and at(outside) == 0.0, name


def test_radial_drags_resize_rotate_feather_and_move():
    params = {"cx": 0.5, "cy": 0.5, "rx": 0.2, "ry": 0.1, "angle": 0.0, "feather": 0.5}
    shape = mh.Shape("r", "radial", params)
    rxp = handle(shape, "rx+").a
    out = mh.drag("radial", params, "rx+", VIEW, rxp, (rxp[0] + 60, rxp[1] + 25))  # only the axis part counts
    assert out["rx"] == pytest.approx(0.2 + 60 / 600, abs=1e-4) and out["ry"] == 0.1
    top = handle(shape, "ry-").a
    out = mh.drag("radial", params, "ry-", VIEW, top, (top[0], top[1] - 30))
    assert out["ry"] == pytest.approx(0.1 + 30 / 600, abs=1e-4)
    # Rotation knob from above the centre to its left: a quarter turn counter-clockwise.
    c = handle(shape, "move").a
    knob = handle(shape, "rotate").a
    r = c[1] - knob[1]
    out = mh.drag("radial", params, "rotate", VIEW, knob, (c[0] - r, c[1]))
    assert out["angle"] == pytest.approx(90.0, abs=1e-3)
    # Feather: the knob at the centre is all feather, on the edge none.
    f = handle(shape, "feather").a
    assert mh.drag("radial", params, "feather", VIEW, f, c)["feather"] == pytest.approx(1.0)
    assert mh.drag("radial", params, "feather", VIEW, f, rxp)["feather"] == pytest.approx(0.0)
    # Move by 60 px right: cx by 60/600 of the width; the centre stays on the photo.
    assert mh.drag("radial", params, "move", VIEW, c, (c[0] + 60, c[1]))["cx"] == pytest.approx(0.6)
    assert mh.drag("radial", params, "move", VIEW, c, (c[0] + 5000, c[1]))["cx"] == 1.0


def test_linear_drags_move_widen_and_rotate():
    params = {"x0": 0.5, "y0": 0.25, "x1": 0.5, "y1": 0.75}  # top kept, fading to the bottom
    shape = mh.Shape("l", "linear", params)
    centre = handle(shape, "move", "line")
    assert centre.a[1] == centre.b[1] == pytest.approx(250.0)  # horizontal, across the whole photo
    assert sorted((centre.a[0], centre.b[0])) == pytest.approx([100.0, 700.0])
    # Grab the centre line away from the pin and pull it down 40 px.
    grab = (200.0, 252.0)
    assert mh.hit_test([shape], VIEW, grab)[1].name == "move"
    out = mh.drag("linear", params, "move", VIEW, grab, (210.0, 292.0))
    assert (out["y0"], out["y1"]) == pytest.approx((0.35, 0.85)) and out["x0"] == pytest.approx(0.5 + 10 / 600, abs=1e-4)
    # The end line out by 50 px: both outer lines move, the centre stays.
    end = handle(shape, "end").a
    out = mh.drag("linear", params, "end", VIEW, (300.0, end[1]), (300.0, end[1] + 50))
    assert (out["y0"], out["y1"]) == pytest.approx((0.125, 0.875))
    # Rotate a quarter turn about the centre: the fade now runs horizontally.
    knob = handle(shape, "rotate").a
    c = handle(shape, "move", "pin").a
    rel = (knob[0] - c[0], knob[1] - c[1])
    out = mh.drag("linear", params, "rotate", VIEW, knob, (c[0] - rel[1], c[1] + rel[0]))
    assert out["y0"] == pytest.approx(0.5, abs=1e-4) and out["y1"] == pytest.approx(0.5, abs=1e-4)
    assert abs(out["x1"] - out["x0"]) * 600 == pytest.approx(200.0, abs=0.01)  # same length in pixels
    alpha = engine_alpha("linear", out)
    assert alpha[200, 150] in (0.0, 1.0) and alpha[200, 150] != alpha[200, 450]


def test_object_box_corners_edges_move_and_flip():
    params = {"box": [0.2, 0.2, 0.6, 0.7]}
    shape = mh.Shape("o", "object", params)
    se = handle(shape, "se").a
    assert mh.drag("object", params, "se", VIEW, se, (se[0] + 60, se[1] + 40))["box"] == pytest.approx(
        [0.2, 0.2, 0.7, 0.8])
    w = handle(shape, "w", "knob").a
    assert mh.drag("object", params, "w", VIEW, w, (w[0] + 300, w[1]))["box"] == pytest.approx(
        [0.6, 0.2, 0.7, 0.7])  # dragged past the right edge: the box flips
    inside = (VIEW.x + 0.3 * 600, VIEW.y + 0.3 * 400)
    hit = mh.hit_test([shape], VIEW, inside)
    assert hit is not None and hit[1].name == "move" and hit[1].style == "area"
    out = mh.drag("object", params, "move", VIEW, inside, (inside[0] + 1000, inside[1] - 1000))
    assert out["box"] == pytest.approx([0.6, 0.0, 1.0, 0.5])  # moved to the corner, size kept


def test_hit_test_prefers_points_and_respects_the_pick_radius():
    radial = mh.Shape("r", "radial", {"cx": 0.5, "cy": 0.5, "rx": 0.2, "ry": 0.1})
    box = mh.Shape("o", "object", {"box": [0.3, 0.3, 0.9, 0.9]})
    c = handle(radial, "move").a
    shape, h = mh.hit_test([box, radial], VIEW, (c[0] + 3, c[1] - 3))
    assert (shape.uid, h.name) == ("r", "move")  # a pin beats the box's inside, listed first or not
    shape, h = mh.hit_test([box, radial], VIEW, (c[0] + 60, c[1] + 60))
    assert (shape.uid, h.name, h.style) == ("o", "move", "area")
    rxp = handle(radial, "rx+").a
    assert mh.hit_test([radial], VIEW, (rxp[0] + mh.PICK_RADIUS - 1, rxp[1]))[1].name == "rx+"
    assert mh.hit_test([radial], VIEW, (rxp[0] + mh.PICK_RADIUS + 2, rxp[1])) is None
    assert mh.hit_test([radial], VIEW, (5.0, 5.0)) is None
    assert mh.handles(mh.Shape("b", "brush", {"strokes": []}), VIEW) == []


def test_one_raster_written_by_two_threads_at_once(tmp_path):
    """Releasing an object box derives it on a worker while the render may derive it
    too: both write the same raster file, neither may fail."""
    import threading

    from maskroom.engine.masks.cache import read_alpha, write_alpha

    path = tmp_path / "masks" / "1" / "uid-digest.png"
    alpha = np.linspace(0, 1, 256 * 256, dtype=np.float32).reshape(256, 256)
    errors = []

    def writer():
        try:
            for _ in range(25):
                write_alpha(path, alpha)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert np.abs(read_alpha(path) - alpha).max() < 1e-4
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary files left


# -- the command line --------------------------------------------------------------------
@pytest.mark.catalog
def test_mask_set_changes_params_and_undo_restores(catalog, sample_copy):
    ids = import_samples(catalog, sample_copy)
    image_id = ids["immich_tanners_ridge.jpg"]
    r = run_cli(catalog, "mask", "add", image_id, "--kind", "radial", "--params",
                '{"cx": 0.5, "cy": 0.5, "rx": 0.2, "ry": 0.1}', "--json")
    uid = json.loads(r.output)["uid"]
    run_cli(catalog, "mask", "set", image_id, uid, "--params", '{"cx": 0.3, "angle": 20}')
    (row,) = json.loads(run_cli(catalog, "mask", "list", image_id, "--json").output)["components"]
    assert row["params"] == {"cx": 0.3, "cy": 0.5, "rx": 0.2, "ry": 0.1, "angle": 20}
    run_cli(catalog, "undo", image_id)
    (row,) = json.loads(run_cli(catalog, "mask", "list", image_id, "--json").output)["components"]
    assert row["params"] == {"cx": 0.5, "cy": 0.5, "rx": 0.2, "ry": 0.1}
    bad = run_cli(catalog, "mask", "set", image_id, "nosuchuid", "--params", "{}", ok=False)
    assert bad.exit_code != 0 and "no mask component 'nosuchuid'" in bad.output
    bad = run_cli(catalog, "mask", "set", image_id, uid, "--params", "[1]", ok=False)
    assert bad.exit_code != 0 and "expected a JSON object" in bad.output


# -- the app -------------------------------------------------------------------------------
@pytest.fixture
def develop(qtbot, catalog, sample_copy, tmp_path):
    ids = import_samples(catalog, sample_copy)
    with app_window(qtbot, catalog, tmp_path, size=(1200, 800), develop=ids["immich_tanners_ridge.jpg"]) as win:
        yield win


def mouse_drag(canvas, a: QPointF, b: QPointF, steps=8):
    pa, pb = a.toPoint(), b.toPoint()
    QTest.mouseMove(canvas, pa)
    QTest.mousePress(canvas, Qt.LeftButton, Qt.NoModifier, pa)
    for i in range(1, steps + 1):
        p = pa + (pb - pa) * (i / steps)
        QTest.mouseMove(canvas, QPoint(int(p.x()), int(p.y())))
    QTest.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier, pb)


def draw(canvas, a, b):
    mouse_drag(canvas, canvas.from_norm(*a), canvas.from_norm(*b))


def only(catalog, vid, layer):
    (comp,) = editing.load_recipe(catalog, vid).layer(layer).mask.components
    return comp


def band_mean(qimage, y0: float, y1: float) -> float:
    """Mean brightness of the rows between fractions y0..y1 of a canvas image (draft or full)."""
    w, h = qimage.width(), qimage.height()
    rgb = np.frombuffer(qimage.constBits(), np.uint8).reshape(h, qimage.bytesPerLine())[:, : 3 * w]
    return float(rgb[int(y0 * h): int(y1 * h)].mean())


def undo(win):
    QTest.keyClick(win, Qt.Key_Z, Qt.ControlModifier)


@pytest.mark.ui
def test_drag_radial_handles_then_undo(qtbot, develop, catalog):
    win, canvas, panel = develop, develop.canvas, develop.masks_panel
    vid = win.session.version_id
    panel.start("radial", tool="radial")
    draw(canvas, (0.5, 0.5), (0.65, 0.6))
    before = only(catalog, vid, "Radial gradient")
    assert [s.uid for s in canvas.shapes] == [before.uid]  # the new mask is selected: its handles show
    steps0 = len(editing.history(catalog, vid)[0])

    # Widen: drag the right-hand edge handle 40 px outwards.
    long_px = max(canvas.image_rect().width(), canvas.image_rect().height())
    a = canvas.handle_point(before.uid, "rx+")
    assert canvas.cursor().shape() == Qt.ArrowCursor
    QTest.mouseMove(canvas, a.toPoint())
    assert canvas.cursor().shape() == Qt.SizeHorCursor  # the cursor says what a drag will do
    renders = win.renderer.renders_done
    mouse_drag(canvas, a, a + QPointF(40, 0))
    after = only(catalog, vid, "Radial gradient")
    assert after.uid == before.uid
    assert after.params["rx"] == pytest.approx(before.params["rx"] + 40 / long_px, abs=2 / long_px)
    assert after.params["ry"] == before.params["ry"] and after.params["cx"] == before.params["cx"]
    steps, _pos = editing.history(catalog, vid)
    assert len(steps) == steps0 + 1 and steps[-1][1] == "Radial gradient: Resize Radial gradient"
    wait_until(qtbot, lambda: win.renderer.renders_done > renders, what="preview of the drag")

    # Move the pin, then rotate: two more steps.
    c = canvas.handle_point(after.uid, "move")
    mouse_drag(canvas, c, c + QPointF(-50, 30))
    moved = only(catalog, vid, "Radial gradient")
    w, h = canvas.image_rect().width(), canvas.image_rect().height()
    assert moved.params["cx"] == pytest.approx(after.params["cx"] - 50 / w, abs=2 / w)
    assert moved.params["cy"] == pytest.approx(after.params["cy"] + 30 / h, abs=2 / h)
    knob = canvas.handle_point(moved.uid, "rotate")
    c = canvas.handle_point(moved.uid, "move")
    rel = knob - c
    mouse_drag(canvas, knob, c + QPointF(-rel.y(), rel.x()))  # a quarter turn clockwise on screen
    rotated = only(catalog, vid, "Radial gradient")
    assert rotated.params["angle"] == pytest.approx(-90.0, abs=2.0)

    # The alpha the engine derives follows the stored geometry (the rotated ellipse is tall).
    alpha = masks_service.mask_alpha(catalog, vid, "Radial gradient")
    ys, xs = np.nonzero(alpha > 0.01)
    assert (ys.max() - ys.min()) > (xs.max() - xs.min())

    # Esc during a drag puts the gradient back; nothing is recorded.
    steps = len(editing.history(catalog, vid)[0])
    c = canvas.handle_point(rotated.uid, "move")
    QTest.mousePress(canvas, Qt.LeftButton, Qt.NoModifier, c.toPoint())
    QTest.mouseMove(canvas, (c + QPointF(60, 60)).toPoint())
    assert win.session.recipe.layer("Radial gradient").mask.components[0].params != rotated.params
    QTest.keyClick(canvas, Qt.Key_Escape)
    QTest.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier, (c + QPointF(60, 60)).toPoint())
    assert win.session.recipe.layer("Radial gradient").mask.components[0].params == rotated.params
    assert only(catalog, vid, "Radial gradient").params == rotated.params
    assert len(editing.history(catalog, vid)[0]) == steps

    # Ctrl+Z three times: back to the gradient as it was drawn.
    undo(win)
    assert only(catalog, vid, "Radial gradient").params == moved.params
    undo(win)
    undo(win)
    assert only(catalog, vid, "Radial gradient").params == before.params
    assert [s.params for s in canvas.shapes] == [before.params]  # the handles went back too


@pytest.mark.ui
def test_drag_linear_lines_then_undo(qtbot, develop, catalog):
    win, canvas, panel = develop, develop.canvas, develop.masks_panel
    vid = win.session.version_id
    panel.start("linear", tool="linear")
    draw(canvas, (0.5, 0.2), (0.5, 0.6))
    win.develop_panel.set_value("exposure", -2.0)  # darkens the top: where the gradient is
    before = only(catalog, vid, "Linear gradient")
    r = canvas.image_rect()
    steps0 = len(editing.history(catalog, vid)[0])
    wait_until(qtbot, lambda: win.runner.running == 0 and canvas.message == "", what="full render")
    band0 = band_mean(canvas.after, 0.6, 0.75)

    # Mid-drag (not released): the preview already shows the gradient lower, the catalog
    # does not have it yet.
    y_mid = canvas.from_norm(0.5, (before.params["y0"] + before.params["y1"]) / 2).y()
    grab = QPointF(r.x() + r.width() * 0.2, y_mid)
    QTest.mouseMove(canvas, grab.toPoint())
    QTest.mousePress(canvas, Qt.LeftButton, Qt.NoModifier, grab.toPoint())
    for dy in (40, 80, 0.3 * r.height()):
        QTest.mouseMove(canvas, (grab + QPointF(0, dy)).toPoint())
    wait_until(qtbot, lambda: band_mean(canvas.after, 0.6, 0.75) < band0 - 15, what="preview of the drag")
    assert len(editing.history(catalog, vid)[0]) == steps0
    assert only(catalog, vid, "Linear gradient").params == before.params
    QTest.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier, grab.toPoint())  # back where it started
    assert only(catalog, vid, "Linear gradient").params == before.params  # no change, no step
    assert len(editing.history(catalog, vid)[0]) == steps0
    wait_until(qtbot, lambda: abs(band_mean(canvas.after, 0.6, 0.75) - band0) < 3, what="preview back")

    # The centre line, grabbed well away from its pin, dragged down 50 px: the gradient moves.
    mouse_drag(canvas, grab, grab + QPointF(0, 50))
    moved = only(catalog, vid, "Linear gradient")
    dy = 50 / r.height()
    assert moved.params["y0"] == pytest.approx(before.params["y0"] + dy, abs=0.005)
    assert moved.params["y1"] == pytest.approx(before.params["y1"] + dy, abs=0.005)
    # The end line pulled 30 px further out: wider fade, same centre.
    y_end = canvas.from_norm(0.5, moved.params["y1"]).y()
    grab = QPointF(r.x() + r.width() * 0.8, y_end)
    mouse_drag(canvas, grab, grab + QPointF(0, 30))
    wide = only(catalog, vid, "Linear gradient")
    assert wide.params["y1"] - wide.params["y0"] == pytest.approx(
        moved.params["y1"] - moved.params["y0"] + 2 * 30 / r.height(), abs=0.01)
    assert (wide.params["y0"] + wide.params["y1"]) / 2 == pytest.approx(
        (moved.params["y0"] + moved.params["y1"]) / 2, abs=0.005)
    labels = [label for _, label in editing.history(catalog, vid)[0]]
    assert labels[-2:] == ["Linear gradient: Move Linear gradient", "Linear gradient: Width Linear gradient"]
    undo(win)
    assert only(catalog, vid, "Linear gradient").params == moved.params
    undo(win)
    assert only(catalog, vid, "Linear gradient").params == before.params


@pytest.mark.ui
def test_drag_object_box_rederives_on_a_worker_and_undo(qtbot, develop, catalog):
    from maskroom.engine.masks.cache import CachedResolver
    from maskroom.engine.mask_refresh import mask_input

    win, canvas, panel = develop, develop.canvas, develop.masks_panel
    vid = win.session.version_id
    panel.start("object", tool="box")
    draw(canvas, (0.2, 0.3), (0.5, 0.7))
    before = only(catalog, vid, "Object")
    # Derive the first box (what Refresh does), so there is a raster the drag makes stale.
    panel.tree.setCurrentItem(panel._find_item(before.uid))
    win.refresh_masks([before.uid])
    inp = mask_input(catalog, win.session.image_id)
    resolver = CachedResolver(catalog, vid)
    wait_until(qtbot, lambda: not resolver.is_stale(inp, only(catalog, vid, "Object")), 120, "first derive")

    se = canvas.handle_point(before.uid, "se")
    r = canvas.image_rect()
    mouse_drag(canvas, se, se + QPointF(0.3 * r.width(), 0.1 * r.height()))
    after = only(catalog, vid, "Object")
    assert after.params["box"] == pytest.approx([0.2, 0.3, 0.8, 0.8], abs=0.01)
    assert editing.history(catalog, vid)[0][-1][1] == "Object: Resize Object"
    # Released: the new box is derived on a worker (the raster for the new prompt appears
    # in the cache without the test deriving anything).
    wait_until(qtbot, lambda: not resolver.is_stale(inp, only(catalog, vid, "Object")), 120, "re-derive")
    alpha = masks_service.mask_alpha(catalog, vid, "Object")
    hh, ww = alpha.shape
    on = alpha > 0.5
    assert on.any() and not on[:, : int(0.15 * ww)].any() and not on[: int(0.25 * hh)].any()
    assert on[:, int(0.5 * ww):].any()  # the object reaches into the part the box grew by

    undo(win)
    assert only(catalog, vid, "Object").params["box"] == before.params["box"]


@pytest.mark.ui
def test_only_the_selected_masks_handles_show_and_only_in_develop(qtbot, develop, catalog):
    win, canvas, panel = develop, develop.canvas, develop.masks_panel
    panel.start("radial", tool="radial")
    draw(canvas, (0.3, 0.5), (0.4, 0.6))
    panel.start("linear", tool="linear")
    draw(canvas, (0.7, 0.2), (0.7, 0.5))
    vid = win.session.version_id
    radial, linear = only(catalog, vid, "Radial gradient"), only(catalog, vid, "Linear gradient")
    assert [s.uid for s in canvas.shapes] == [linear.uid]  # the mask just made is the selected one
    panel.tree.setCurrentItem(panel._find_item(radial.uid))
    assert [s.uid for s in canvas.shapes] == [radial.uid]
    pin = canvas.handle_point(radial.uid, "move")
    assert canvas.handle_at(pin) is not None
    win.show_view("loupe")
    assert canvas.handle_at(pin) is None  # no handles (and no drags) in the loupe
    steps = len(editing.history(catalog, vid)[0])
    mouse_drag(canvas, pin, pin + QPointF(40, 0))
    assert only(catalog, vid, "Radial gradient").params == radial.params
    assert len(editing.history(catalog, vid)[0]) == steps
    win.show_view("develop")
    assert canvas.handle_at(pin) is not None
    canvas.toggle_before()  # the unedited photo (\\) has no handles either
    assert canvas.handle_at(pin) is None
    canvas.toggle_before()
    assert canvas.handle_at(pin) is not None
    # The global layer has no handles.
    win.session.select_layer("Global")
    panel.tree.clearSelection()
    panel.tree.setCurrentItem(None)
    win._update_handles()
    assert canvas.shapes == []
