"""The masks panel: canvas gestures become mask components with the engine's params,
component operations (subtract, invert, hide, remove) land in the catalog, and the
derived masks are the shapes that were drawn."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from maskroom.services import editing, masks as masks_service
from ui_helpers import develop, wait_until, qt_cleanup  # noqa: F401 (fixtures)

pytestmark = pytest.mark.ui


def drag(canvas, a, b, modifier=Qt.NoModifier, steps=6):
    """Press at normalised a, move to b, release (what a person does with the mouse)."""
    pa, pb = canvas.from_norm(*a).toPoint(), canvas.from_norm(*b).toPoint()
    QTest.mousePress(canvas, Qt.LeftButton, modifier, pa)
    for i in range(1, steps + 1):
        p = pa + (pb - pa) * (i / steps)
        QTest.mouseMove(canvas, QPoint(int(p.x()), int(p.y())))
    QTest.mouseRelease(canvas, Qt.LeftButton, modifier, pb)


def comps(catalog, vid, layer):
    return editing.load_recipe(catalog, vid).layer(layer).mask.components


def test_gradients_box_brush_and_eyedropper(qtbot, develop, catalog):
    win, canvas, panel = develop, develop.canvas, develop.masks_panel
    vid = win.session.version_id

    panel.start("linear", tool="linear")
    assert canvas.tool == "linear"
    drag(canvas, (0.5, 0.0), (0.5, 0.5))
    assert canvas.tool == "view"
    (lin,) = comps(catalog, vid, "Linear gradient")
    assert lin.params["y0"] == pytest.approx(0.0, abs=0.01) and lin.params["y1"] == pytest.approx(0.5, abs=0.01)
    alpha = masks_service.mask_alpha(catalog, vid, "Linear gradient")
    h = alpha.shape[0]
    assert alpha[2].mean() > 0.95 and alpha[int(h * 0.75)].mean() < 0.05  # top kept, bottom not

    # Subtract a radial gradient from the same mask.
    panel.start("radial", tool="radial", mode="subtract", new_layer=False)
    drag(canvas, (0.5, 0.1), (0.6, 0.2))
    kinds = [(c.kind, c.mode) for c in comps(catalog, vid, "Linear gradient")]
    assert kinds == [("linear", "add"), ("radial", "subtract")]
    alpha = masks_service.mask_alpha(catalog, vid, "Linear gradient")
    hh, ww = alpha.shape
    assert alpha[int(hh * 0.1), int(ww * 0.5)] < 0.2  # the hole the radial cut

    # Invert the radial, then hide the whole mask: both are history steps.
    win.masks_panel.tree.setCurrentItem(win.masks_panel._find_item(comps(catalog, vid, "Linear gradient")[1].uid))
    panel.invert_selected()
    assert comps(catalog, vid, "Linear gradient")[1].inverted
    top = panel.tree.topLevelItem(0)
    top.setCheckState(0, Qt.Unchecked)
    assert editing.load_recipe(catalog, vid).layer("Linear gradient").enabled is False
    labels = [label for _, label in editing.history(catalog, vid)[0]]
    assert labels[-2:] == ["Linear gradient: Invert Radial gradient", "Hide Linear gradient"]

    # Object: drag a box on the canvas.
    panel.start("object", tool="box")
    drag(canvas, (0.2, 0.3), (0.6, 0.8))
    (obj,) = comps(catalog, vid, "Object")
    assert obj.params["box"] == pytest.approx([0.2, 0.3, 0.6, 0.8], abs=0.01)

    # Brush: paint, then Alt-paint erases within the same component.
    panel.start("brush", tool="brush")
    drag(canvas, (0.1, 0.5), (0.9, 0.5))
    drag(canvas, (0.5, 0.4), (0.5, 0.6), modifier=Qt.AltModifier)
    (brush,) = comps(catalog, vid, "Brush")
    assert [s["erase"] for s in brush.params["strokes"]] == [False, True]
    alpha = masks_service.mask_alpha(catalog, vid, "Brush")
    hh, ww = alpha.shape
    assert alpha[hh // 2, int(ww * 0.2)] > 0.9 and alpha[hh // 2, ww // 2] < 0.1

    # Colour range: click the sky with the eyedropper.
    canvas.set_tool("view")
    panel.start("color-range", tool="eyedropper")
    QTest.mouseClick(canvas, Qt.LeftButton, Qt.NoModifier, canvas.from_norm(0.5, 0.05).toPoint())
    (cr,) = comps(catalog, vid, "Colour range")
    assert cr.params["points"][0] == pytest.approx([0.5, 0.05], abs=0.01)
    alpha = masks_service.mask_alpha(catalog, vid, "Colour range")
    assert alpha[: alpha.shape[0] // 10].mean() > alpha[-alpha.shape[0] // 10:].mean() + 0.3

    # Remove the object mask entirely.
    win.session.select_layer("Object")
    panel.tree.setCurrentItem(panel._find_item(obj.uid))
    panel.remove_selected()
    assert editing.load_recipe(catalog, vid).layer("Object") is None


def test_people_lists_a_persons_parts(qtbot, develop, catalog):
    hopper = next(i for i in develop.model.ids if develop.model.row(develop.model._row_of[i]).filename
                  == "mpl_grace_hopper.jpg")
    develop.select_image(hopper)
    develop.open_current()
    panel = develop.masks_panel
    panel.start("people")
    box = panel.people_box
    wait_until(qtbot, lambda: box.status.text() != "Looking for people…", 120, "people detection")
    assert box.status.text() == "1 person found:", box.status.text()
    assert len(develop.canvas.handles) == 1  # her outline on the canvas
    box.check(0, "face-skin")
    box.check(0, "hair")
    box.button.click()
    layer = editing.load_recipe(catalog, develop.session.version_id).layer("Person 1")
    assert [(c.kind, c.params["person"]) for c in layer.mask.components] == [("face-skin", 0), ("hair", 0)]
    # The mask derives on her head: denser inside the detected face box than outside it.
    (person,) = masks_service.detect_people(catalog, develop.session.version_id)
    alpha = masks_service.mask_alpha(catalog, develop.session.version_id, "Person 1")
    h, w = alpha.shape
    x0, y0, x1, y1 = person["face_box"]
    inside = alpha[int(y0 * h):int(y1 * h), int(x0 * w):int(x1 * w)]
    outside_mean = (alpha.sum() - inside.sum()) / (alpha.size - inside.size)
    assert inside.mean() > 0.3 and inside.mean() > 2 * outside_mean


def test_presets_history_jump_and_virtual_copy(qtbot, develop, catalog):
    win, panel = develop, develop.develop_panel
    vid = win.session.version_id
    panel.set_value("exposure", 0.5)
    panel.set_value("contrast", 20)
    panel.save_preset("Punchy")
    assert panel.presets.findText("Punchy") >= 0
    # Jump back to "Import" in the history, then forward again.
    steps, _ = editing.history(catalog, vid)
    win.history_panel.go_to(steps[0][0])
    assert editing.load_recipe(catalog, vid).global_layer.adjustments == {}
    assert panel.sliders["exposure"].value() == 0.0
    win.history_panel.go_to(steps[-1][0])
    assert editing.load_recipe(catalog, vid).global_layer.adjustments == {"exposure": 0.5, "contrast": 20.0}
    # Apply the preset to another photo.
    other = next(i for i in win.model.ids if i != win.session.image_id)
    win.select_image(other)
    win.open_current()
    panel.apply_preset("Punchy")
    other_vid = win.session.version_id
    assert editing.load_recipe(catalog, other_vid).global_layer.adjustments == {"exposure": 0.5, "contrast": 20.0}
    # A virtual copy is a second version that starts from this edit and changes alone.
    copy_vid = win.session.virtual_copy()
    assert copy_vid != other_vid and len(editing.versions_of(catalog, other)) == 2
    panel.set_value("exposure", -1.0)
    assert editing.load_recipe(catalog, copy_vid).global_layer.adjustments["exposure"] == -1.0
    assert editing.load_recipe(catalog, other_vid).global_layer.adjustments["exposure"] == 0.5


def test_stale_ai_component_badge_and_refresh(qtbot, develop, catalog):
    """An AI component derived before the photo changed shows the stale badge; Refresh
    derives it again and the badge goes."""
    from maskroom.catalog.schema import Image

    win, panel = develop, develop.masks_panel
    vid = win.session.version_id
    panel.start("subject")
    masks_service.mask_alpha(catalog, vid, "Subject")  # derived once: the raster is cached
    # Let the render the new mask started finish first: it would derive (and cache) again.
    wait_until(qtbot, lambda: win.runner.running == 0, 120, "renders")
    assert masks_service.stale_component_uids(catalog, vid, win.session.recipe) == []
    # The photo was edited outside maskroom and re-read: its content hash changed.
    with catalog.session() as s:
        im = s.get(Image, win.session.image_id)
        im.content_hash = "f" * 32
    uid = win.session.recipe.layer("Subject").mask.components[0].uid
    errors = []
    win.renderer.error.connect(errors.append)
    win.renderer.check_stale(win.session.recipe)
    wait_until(qtbot, lambda: panel.stale == {uid} or errors, what="stale check")
    assert not errors, errors
    item = panel._find_item(uid)
    assert item.text(2) == "⚠ stale" and panel.refresh_button.isEnabled()
    panel.refresh_button.click()
    wait_until(qtbot, lambda: not panel.stale, 120, "refresh")
    assert masks_service.stale_component_uids(catalog, vid, win.session.recipe) == []
    # The stale badge goes; this landscape (a tree line under a grey sky) has no single subject,
    # and the subject says so since its map is averaged with the mirror image ("⚠ check").
    assert panel._find_item(uid).text(2) in ("", "⚠ check")


def test_empty_ai_mask_shows_a_badge_with_the_reason(qtbot, develop, catalog):
    """A face mask on a landscape finds nothing: the masks panel says so (badge + tooltip)."""
    from maskroom.core.recipe import MaskComponent

    win, panel = develop, develop.masks_panel
    comp = MaskComponent("face-skin")
    panel.add_component(comp, new_layer=True, layer_name="Face")
    uid = comp.uid
    # The overlay derives the layer's mask (a layer with no adjustment yet is not rendered).
    win.renderer.request_overlay("Face", win.session.recipe)
    wait_until(qtbot, lambda: uid in panel.warnings, 180, "warning check")
    item = panel._find_item(uid)
    assert item.text(2) == "⚠ check"
    assert "no face found" in item.toolTip(2) or "no people" in item.toolTip(2), item.toolTip(2)
