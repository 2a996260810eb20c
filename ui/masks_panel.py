"""Masks, as in Lightroom Classic: create a mask from a kind, then add / subtract /
intersect more components; invert, show/hide, overlay (O), refresh stale AI parts.

Kinds that need a prompt (object box/lasso, brush, gradients, colour range) switch the
loupe canvas to a tool and finish when the canvas reports the gesture.  Every change
is one history step through ``EditSession.commit``.

The selected mask's gradients and object boxes show handles on the canvas; dragging
one changes the in-memory edit on every tick (gradients re-render progressively, an
object box only moves its outline: deriving it takes a while) and its release is one
history step through ``editing_service.update_mask_component`` (``maskroom mask set``); an
object box is then derived again on a worker.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSlider,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from maskroom.core.recipe import GEOMETRIC_KINDS, Layer, MaskComponent, MaskDefinition
from maskroom.services import editing as editing_service
from maskroom.ui import mask_handles
from maskroom.ui.develop_panel import EditSession

# (menu label, kind, canvas tool or None, extra params)
CREATE_ITEMS = (
    ("Subject", "subject", None),
    ("Sky", "sky", None),
    ("Background", "background", None),
    ("People…", "people", None),
    ("Object (draw a box)", "object", "box"),
    ("Object (lasso)", "object", "lasso"),
    ("Brush", "brush", "brush"),
    ("Linear gradient", "linear", "linear"),
    ("Radial gradient", "radial", "radial"),
    ("Colour range (eyedropper)", "color-range", "eyedropper"),
    ("Luminance range", "luminance-range", None),
)
PERSON_PARTS = (
    ("Entire person", "person"), ("Face skin", "face-skin"), ("Body skin", "body-skin"), ("Eyebrows", "eyebrows"),
    ("Eye sclera", "sclera"), ("Iris and pupil", "iris"), ("Lips", "lips"), ("Teeth", "teeth"), ("Hair", "hair"),
    ("Clothes", "clothes"),
)
KIND_LABEL = {kind: label.split(" (")[0].rstrip("…") for label, kind, _ in CREATE_ITEMS}
KIND_LABEL.update({kind: label for label, kind in PERSON_PARTS})


@dataclass
class Pending:
    kind: str
    tool: str | None
    mode: str  # add | subtract | intersect
    new_layer: bool


class PeopleBox(QGroupBox):
    """Each detected person with checkboxes for the parts to mask."""

    create = Signal(list)  # [(person index, kind), ...]

    def __init__(self, parent=None):
        super().__init__("People", parent)
        self.lay = QVBoxLayout(self)
        self.status = QLabel("Choose Create new mask → People to detect the people in the photo.")
        self.status.setWordWrap(True)
        self.lay.addWidget(self.status)
        self.checks: dict[tuple[int, str], QCheckBox] = {}
        self._rows: list[QWidget] = []
        self.button = QPushButton("Create mask from checked parts")
        self.button.clicked.connect(self._create)
        self.button.setEnabled(False)
        self.lay.addWidget(self.button)

    def set_people(self, people: list[dict]) -> None:
        for w in self._rows:
            w.deleteLater()
        self._rows.clear()
        self.checks.clear()
        if not people:
            self.status.setText("No people found in this photo.")
            self.button.setEnabled(False)
            return
        self.status.setText(f"{len(people)} {'person' if len(people) == 1 else 'people'} found:")
        for p in people:
            i = int(p["index"])
            box = QGroupBox(f"Person {i + 1}" + (f"  ({p['score']:.0%})" if p.get("score") else ""))
            grid = QVBoxLayout(box)
            grid.setSpacing(1)
            for label, kind in PERSON_PARTS:
                cb = QCheckBox(label)
                self.checks[(i, kind)] = cb
                grid.addWidget(cb)
            self.lay.insertWidget(self.lay.count() - 1, box)
            self._rows.append(box)
        self.button.setEnabled(True)

    def check(self, person: int, kind: str, on: bool = True) -> None:
        self.checks[(person, kind)].setChecked(on)

    def _create(self):
        chosen = [key for key, cb in self.checks.items() if cb.isChecked()]
        if chosen:
            self.create.emit(chosen)


class MasksPanel(QWidget):
    mask_changed = Signal(str)  # layer name whose mask changed: re-derive + re-render
    overlay_toggled = Signal(bool)
    status = Signal(str)
    people_requested = Signal()
    refresh_requested = Signal(list)  # component uids to re-derive

    def __init__(self, session: EditSession, canvas=None, parent=None):
        super().__init__(parent)
        self.session = session
        self.canvas = canvas
        self.pending: Pending | None = None
        self.stale: set[str] = set()
        self.warnings: dict[str, str] = {}  # uid -> why its AI mask is empty or doubtful
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)

        self.create_button = QToolButton()
        self.create_button.setText("Create new mask")
        self.create_button.setPopupMode(QToolButton.InstantPopup)
        self.create_button.setMenu(self._kind_menu("add", new_layer=True))
        self.create_button.setToolButtonStyle(Qt.ToolButtonTextOnly)
        self.create_button.setMinimumHeight(28)
        lay.addWidget(self.create_button)

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Mask", "Mode", ""])
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, header.ResizeMode.Stretch)
        header.setSectionResizeMode(1, header.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, header.ResizeMode.ResizeToContents)
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.currentItemChanged.connect(self._current_changed)
        lay.addWidget(self.tree, 1)

        ops = QHBoxLayout()
        self.mode_buttons = {}
        for mode, label in (("add", "Add"), ("subtract", "Subtract"), ("intersect", "Intersect")):
            b = QToolButton()
            b.setText(label)
            b.setPopupMode(QToolButton.InstantPopup)
            b.setMenu(self._kind_menu(mode, new_layer=False))
            ops.addWidget(b)
            self.mode_buttons[mode] = b
        lay.addLayout(ops)
        ops2 = QHBoxLayout()
        self.invert_button = QPushButton("Invert")
        self.invert_button.clicked.connect(self.invert_selected)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Re-derive AI components whose photo or edit changed")
        self.refresh_button.clicked.connect(lambda: self.refresh_requested.emit(sorted(self.stale)))
        self.overlay_check = QCheckBox("Overlay (O)")
        self.overlay_check.toggled.connect(self.overlay_toggled)
        for w in (self.invert_button, self.remove_button, self.refresh_button, self.overlay_check):
            ops2.addWidget(w)
        lay.addLayout(ops2)

        self.brush_box = QGroupBox("Brush (Alt erases)")
        form = QFormLayout(self.brush_box)
        self.brush_size = self._slider(1, 30, 5)
        self.brush_feather = self._slider(0, 100, 50)
        self.brush_flow = self._slider(1, 100, 100)
        form.addRow("Size", self.brush_size)
        form.addRow("Feather", self.brush_feather)
        form.addRow("Flow", self.brush_flow)
        self.brush_size.valueChanged.connect(self._brush_size_changed)
        lay.addWidget(self.brush_box)

        self.range_box = QGroupBox("Range")
        rform = QFormLayout(self.range_box)
        self.range_amount = self._slider(1, 100, 20)  # CIELAB deltaE
        self.lum_low = self._slider(0, 100, 60)
        self.lum_high = self._slider(0, 100, 100)
        rform.addRow("Colour tolerance", self.range_amount)
        rform.addRow("Luminance from", self.lum_low)
        rform.addRow("Luminance to", self.lum_high)
        lay.addWidget(self.range_box)
        self.brush_box.setVisible(False)
        self.range_box.setVisible(False)

        self.people_box = PeopleBox()
        self.people_box.create.connect(self.add_people_parts)
        lay.addWidget(self.people_box)

        if canvas is not None:
            self.attach_canvas(canvas)
        session.changed.connect(lambda committed: committed and self.rebuild())  # not on every slider tick
        session.layer_selected.connect(lambda _n: self._select_layer_item())

    # -- widgets -------------------------------------------------------------------
    @staticmethod
    def _slider(lo, hi, value):
        s = QSlider(Qt.Horizontal)
        s.setRange(lo, hi)
        s.setValue(value)
        return s

    def _kind_menu(self, mode: str, new_layer: bool) -> QMenu:
        menu = QMenu(self)
        for label, kind, tool in CREATE_ITEMS:
            if kind == "people" and not new_layer:
                continue
            act = QAction(label, menu)
            act.triggered.connect(lambda _=False, k=kind, t=tool: self.start(k, tool=t, mode=mode, new_layer=new_layer))
            menu.addAction(act)
        return menu

    def attach_canvas(self, canvas) -> None:
        self.canvas = canvas
        canvas.box_drawn.connect(lambda *b: self._finish({"box": [round(v, 5) for v in b]}))
        canvas.lasso_drawn.connect(lambda pts: self._finish({"lasso": [[round(x, 5), round(y, 5)] for x, y in pts]}))
        canvas.brush_stroke.connect(self._brush_stroke)
        # Parameter names as engine/masks/geometric.py and ranges.py read them.
        canvas.linear_drawn.connect(lambda x0, y0, x1, y1: self._finish(
            {"x0": round(x0, 5), "y0": round(y0, 5), "x1": round(x1, 5), "y1": round(y1, 5)}))
        canvas.radial_drawn.connect(lambda cx, cy, rx, ry: self._finish(
            {"cx": round(cx, 5), "cy": round(cy, 5), "rx": round(max(rx, 0.01), 5), "ry": round(max(ry, 0.01), 5),
             "feather": 0.5}))
        canvas.colour_picked.connect(lambda x, y: self._finish(
            {"points": [[round(x, 5), round(y, 5)]], "tolerance": float(self.range_amount.value())}))
        canvas.shape_dragged.connect(self._shape_dragged)
        canvas.shape_released.connect(self._shape_released)

    def _brush_size_changed(self, v):
        if self.canvas is not None:
            self.canvas.brush_size = v / 100

    # -- the mask list -------------------------------------------------------------
    def rebuild(self) -> None:
        _layer, keep = self.selected_component()  # the selected component stays selected
        self.tree.blockSignals(True)
        self.tree.clear()
        for layer in self.session.recipe.layers:
            if layer.mask is None:
                continue
            top = QTreeWidgetItem([layer.name, "", ""])
            top.setData(0, Qt.UserRole, ("layer", layer.name, None))
            top.setFlags(top.flags() | Qt.ItemIsUserCheckable)
            top.setCheckState(0, Qt.Checked if layer.enabled else Qt.Unchecked)
            top.setToolTip(0, "Uncheck to hide this mask's adjustments")
            for comp in layer.mask.components:
                text = KIND_LABEL.get(comp.kind, comp.kind)
                if "person" in comp.params:
                    text += f" (person {int(comp.params['person']) + 1})"
                if comp.inverted:
                    text += " · inverted"
                stale, doubt = comp.uid in self.stale, self.warnings.get(comp.uid)
                badge = "⚠ stale" if stale else ("⚠ check" if doubt else "")
                child = QTreeWidgetItem([text, comp.mode, badge])
                child.setData(0, Qt.UserRole, ("component", layer.name, comp.uid))
                if badge:
                    tips = (["The photo or the edit under this AI mask changed: press Refresh"] if stale else []) + \
                        ([doubt] if doubt else [])
                    child.setToolTip(2, "\n".join(tips))
                    child.setToolTip(0, "\n".join(tips))
                    child.setForeground(2, Qt.yellow)
                top.addChild(child)
            self.tree.addTopLevelItem(top)
            top.setExpanded(True)
        self.tree.blockSignals(False)
        self._select_layer_item()
        if keep is not None and (it := self._find_item(keep.uid)) is not None \
                and it.parent().text(0) == self.session.layer_name:
            self.tree.blockSignals(True)
            self.tree.setCurrentItem(it)
            self.tree.blockSignals(False)
        self.refresh_button.setEnabled(bool(self.stale))
        self.update_canvas_shapes()

    def set_stale(self, uids) -> None:
        self.stale = set(uids)
        self.rebuild()

    def set_warnings(self, warnings: dict) -> None:
        if warnings != self.warnings:
            self.warnings = dict(warnings)
            self.rebuild()

    def _select_layer_item(self):
        for i in range(self.tree.topLevelItemCount()):
            it = self.tree.topLevelItem(i)
            if it.text(0) == self.session.layer_name:
                self.tree.blockSignals(True)
                self.tree.setCurrentItem(it)
                self.tree.blockSignals(False)

    def _current_changed(self, item, _prev):
        if item is None:
            return
        _role, layer_name, _uid = item.data(0, Qt.UserRole)
        self.session.select_layer(layer_name)
        self.update_canvas_shapes()
        self.mask_changed.emit(layer_name)

    def _item_changed(self, item, column):
        role, layer_name, _uid = item.data(0, Qt.UserRole)
        if role == "layer" and column == 0:
            layer = self.session.recipe.layer(layer_name)
            on = item.checkState(0) == Qt.Checked
            if layer is not None and layer.enabled != on:
                layer.enabled = on
                self.session.commit(f"{'Show' if on else 'Hide'} {layer_name}")

    def selected_component(self) -> tuple[Layer | None, MaskComponent | None]:
        item = self.tree.currentItem()
        if item is None:
            return None, None
        role, layer_name, uid = item.data(0, Qt.UserRole)
        layer = self.session.recipe.layer(layer_name)
        if layer is None or role != "component":
            return layer, None
        return layer, next((c for c in layer.mask.components if c.uid == uid), None)

    # -- handles on the canvas ------------------------------------------------------
    def canvas_shapes(self) -> list[mask_handles.Shape]:
        """The selected mask's components that have handles: the selected component
        alone, or every one of the selected mask's when the mask itself is selected."""
        layer, comp = self.selected_component()
        if layer is None:
            layer = self.session.layer
        if layer is None or layer.mask is None:
            return []
        comps = [comp] if comp is not None else layer.mask.components
        return [mask_handles.Shape(c.uid, c.kind, dict(c.params)) for c in comps
                if c.kind in mask_handles.EDITABLE_KINDS and mask_handles.editable(c.kind, c.params)]

    def update_canvas_shapes(self) -> None:
        if self.canvas is not None:
            self.canvas.set_shapes(self.canvas_shapes())

    def _component(self, uid: str) -> tuple[Layer | None, MaskComponent | None]:
        for layer in self.session.recipe.layers:
            for c in (layer.mask.components if layer.mask else []):
                if c.uid == uid:
                    return layer, c
        return None, None

    def _shape_dragged(self, uid: str, params: dict) -> None:
        """A handle moved: the in-memory edit follows; gradients re-render (small first)."""
        _layer, comp = self._component(uid)
        if comp is None:
            return
        comp.params = dict(params)
        if comp.kind in GEOMETRIC_KINDS:
            self.session.changed.emit(False)  # a draft render now, the full one when the drag rests

    def _shape_released(self, uid: str, params: dict, handle: str) -> None:
        """The drag ended: one history step, as `maskroom mask set` records it."""
        layer, comp = self._component(uid)
        if comp is None or self.session.version_id is None:
            return
        label = f"{layer.name}: {mask_handles.action_label(handle)} {KIND_LABEL.get(comp.kind, comp.kind)}"
        try:
            editing_service.update_mask_component(self.session.catalog, self.session.version_id, uid, params, label)
        except Exception as exc:  # noqa: BLE001 - shown, and the edit goes back to the catalog's
            self.session.error.emit(f"cannot change the mask: {exc}")
        self.session.reload()  # the saved edit: history panel, full render, stale check
        self.mask_changed.emit(layer.name)
        if comp.is_ai:
            self.status.emit(f"Finding the {KIND_LABEL.get(comp.kind, comp.kind).lower()} in the new box…")
            self.refresh_requested.emit([uid])  # derived again on a worker

    # -- creating components --------------------------------------------------------
    def start(self, kind: str, *, tool: str | None = None, mode: str = "add", new_layer: bool = True) -> None:
        """Begin adding a component; kinds with a canvas tool wait for the gesture."""
        if self.session.version_id is None:
            self.status.emit("Open a photo in Develop first")
            return
        if not new_layer and self.session.layer.mask is None:
            self.status.emit("Select a mask first (or use Create new mask)")
            return
        if kind == "people":
            self.people_box.status.setText("Looking for people…")
            self.people_requested.emit()
            return
        self.pending = Pending(kind, tool, mode, new_layer)
        self.brush_box.setVisible(kind == "brush")
        self.range_box.setVisible(kind in ("color-range", "luminance-range"))
        if tool is not None and self.canvas is not None:
            self.canvas.set_tool(tool)
            self.status.emit({"box": "Drag a box around the object", "lasso": "Draw around the object",
                              "brush": "Paint the mask (hold Alt to erase)", "linear": "Drag to place the gradient",
                              "radial": "Drag from the centre outwards", "eyedropper": "Click the colour to select"
                              }[tool])
            return
        params = {}
        if kind == "luminance-range":
            params = {"min": self.lum_low.value() / 100, "max": self.lum_high.value() / 100, "feather": 0.1}
        self._finish(params)

    def _finish(self, params: dict) -> None:
        p = self.pending
        if p is None:
            return
        self.pending = None
        if self.canvas is not None:
            self.canvas.set_tool("view")
        self.add_component(MaskComponent(kind=p.kind, mode=p.mode, params=params), new_layer=p.new_layer)

    def _brush_stroke(self, points, erase: bool):
        stroke = {"points": [[round(x, 5), round(y, 5)] for x, y in points],
                  "size": self.brush_size.value() / 100, "feather": self.brush_feather.value() / 100,
                  "flow": self.brush_flow.value() / 100, "erase": bool(erase)}
        layer, comp = self.selected_component()
        if self.pending is None and comp is not None and comp.kind == "brush":
            comp.params.setdefault("strokes", []).append(stroke)  # another stroke on the same brush
            self.session.commit(f"{layer.name}: Brush stroke")
            self.mask_changed.emit(layer.name)
            return
        if self.pending is not None:
            pending = self.pending
            self.pending = None  # keep the brush tool active for more strokes
            self.add_component(MaskComponent(kind="brush", mode=pending.mode, params={"strokes": [stroke]}),
                               new_layer=pending.new_layer)
            self._select_component_of_kind("brush")

    def _select_component_of_kind(self, kind):
        layer = self.session.layer
        if layer.mask is None:
            return
        comp = next((c for c in reversed(layer.mask.components) if c.kind == kind), None)
        it = self._find_item(comp.uid) if comp else None
        if it is not None:
            self.tree.setCurrentItem(it)

    def _find_item(self, uid):
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for j in range(top.childCount()):
                if top.child(j).data(0, Qt.UserRole)[2] == uid:
                    return top.child(j)
        return None

    def add_component(self, comp: MaskComponent, *, new_layer: bool, layer_name: str | None = None) -> str:
        """Add to a new mask layer or the selected one; one history step.  Returns the layer name."""
        recipe = self.session.recipe
        if new_layer:
            base = layer_name or KIND_LABEL.get(comp.kind, comp.kind.title())
            name, n = base, 2
            while recipe.layer(name) is not None:
                name, n = f"{base} {n}", n + 1
            comp.mode = "add"
            recipe.layers.append(Layer(name, mask=MaskDefinition([comp])))
            label = f"Add {KIND_LABEL.get(comp.kind, comp.kind)} mask"
        else:
            layer = self.session.layer
            if layer.mask is None:
                raise ValueError("the global layer has no mask to add to")
            name = layer.name
            layer.mask.components.append(comp)
            label = f"{name}: {comp.mode.title()} {KIND_LABEL.get(comp.kind, comp.kind)}"
        if self.session.commit(label):
            self.session.select_layer(name)
            self.rebuild()
            self.mask_changed.emit(name)
        return name

    def add_people_parts(self, chosen: list) -> str | None:
        """One new mask from the checked parts (person index, kind) pairs."""
        if not chosen:
            return None
        comps = [MaskComponent(kind=kind, params={"person": int(i)}) for i, kind in chosen]
        people = sorted({i for i, _ in chosen})
        name = "Person " + ", ".join(str(i + 1) for i in people)
        first, rest = comps[0], comps[1:]
        recipe = self.session.recipe
        base, n = name, 2
        while recipe.layer(name) is not None:
            name, n = f"{base} {n}", n + 1
        recipe.layers.append(Layer(name, mask=MaskDefinition([first] + rest)))
        if self.session.commit(f"Add {name} mask ({', '.join(KIND_LABEL[k] for _, k in chosen)})"):
            self.session.select_layer(name)
            self.rebuild()
            self.mask_changed.emit(name)
        return name

    # -- editing ----------------------------------------------------------------------
    def invert_selected(self) -> None:
        layer, comp = self.selected_component()
        if comp is None:
            self.status.emit("Select a mask component to invert")
            return
        comp.inverted = not comp.inverted
        self.session.commit(f"{layer.name}: Invert {KIND_LABEL.get(comp.kind, comp.kind)}")
        self.mask_changed.emit(layer.name)

    def remove_selected(self) -> None:
        layer, comp = self.selected_component()
        if layer is None or layer.mask is None:
            return
        recipe = self.session.recipe
        if comp is None or len(layer.mask.components) == 1:
            recipe.layers = [x for x in recipe.layers if x is not layer]
            self.session.select_layer(recipe.global_layer.name)
            self.session.layer_name = recipe.global_layer.name
            label = f"Delete {layer.name}"
        else:
            layer.mask.components = [c for c in layer.mask.components if c.uid != comp.uid]
            label = f"{layer.name}: Remove {KIND_LABEL.get(comp.kind, comp.kind)}"
        self.session.commit(label)
        self.mask_changed.emit(self.session.layer_name)
