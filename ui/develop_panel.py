"""Develop: the edit session (one version's recipe, its history) and its panels.

``EditSession`` is the single owner of the recipe being edited; panels change it
through its methods, which save through ``editing.save_recipe`` (the catalog's
history) on commit.  Slider drags change the in-memory recipe live (the canvas
re-renders progressively) and commit one history step on release.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSlider,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from maskroom.core.recipe import Recipe
from maskroom.services import develop as develop_service
from maskroom.services import editing
from maskroom.ui.develop_widgets import ColourWheel, CurveWidget, HistogramWidget


class EditSession(QObject):
    """The version being developed and the layer the sliders act on."""

    changed = Signal(bool)  # the recipe changed; True when committed (history moved)
    layer_selected = Signal(str)
    version_loaded = Signal(int)
    error = Signal(str)

    def __init__(self, catalog, parent=None):
        super().__init__(parent)
        self.catalog = catalog
        self.version_id: int | None = None
        self.image_id: int | None = None
        self.recipe = Recipe()
        self.layer_name = "Global"

    def load(self, version_id: int) -> None:
        self.version_id = version_id
        self.image_id = editing.image_of_version(self.catalog, version_id)
        self.recipe = editing.load_recipe(self.catalog, version_id)
        if self.recipe.layer(self.layer_name) is None:
            self.layer_name = self.recipe.global_layer.name
        self.version_loaded.emit(version_id)
        self.layer_selected.emit(self.layer_name)
        self.changed.emit(True)

    def reload(self) -> None:
        if self.version_id is not None:
            self.recipe = editing.load_recipe(self.catalog, self.version_id)
            if self.recipe.layer(self.layer_name) is None:
                self.layer_name = self.recipe.global_layer.name
                self.layer_selected.emit(self.layer_name)
            self.changed.emit(True)

    @property
    def layer(self):
        return self.recipe.layer(self.layer_name) or self.recipe.global_layer

    def select_layer(self, name: str) -> None:
        if self.recipe.layer(name) is not None and name != self.layer_name:
            self.layer_name = name
            self.layer_selected.emit(name)

    def set_adjustment(self, name: str, value: float, default: float = 0.0) -> None:
        """Live change (no history step yet); the default value removes the key."""
        if abs(value - default) < 1e-9:
            self.layer.adjustments.pop(name, None)
        else:
            self.layer.adjustments[name] = float(value)
        self.changed.emit(False)

    def set_curve(self, name: str, points: list) -> None:
        """Live change of a curve key (``curve.points``, ``curve.red``...)."""
        if points:
            self.layer.adjustments[name] = [list(p) for p in points]
        else:
            self.layer.adjustments.pop(name, None)
        self.changed.emit(False)

    def commit(self, label: str) -> bool:
        """Save the in-memory recipe as one history step."""
        if self.version_id is None:
            return False
        try:
            editing.save_recipe(self.catalog, self.version_id, self.recipe, label)
        except Exception as exc:  # noqa: BLE001
            self.error.emit(f"cannot save the edit: {exc}")
            self.reload()
            return False
        self.changed.emit(True)
        return True

    def undo(self) -> bool:
        return self._move(editing.undo)

    def redo(self) -> bool:
        return self._move(editing.redo)

    def _move(self, fn) -> bool:
        if self.version_id is None:
            return False
        moved = fn(self.catalog, self.version_id)
        self.reload()
        return moved

    def virtual_copy(self) -> int | None:
        if self.version_id is None:
            return None
        vid = editing.create_virtual_copy(self.catalog, from_version=self.version_id)[0]
        self.load(vid)
        return vid


def _fmt(value: float, step: float, signed: bool = True) -> str:
    sign = "+" if signed else ""
    return f"{value:{sign}.2f}" if step < 1 else f"{value:{sign}.0f}"


class AdjustmentSlider(QWidget):
    """A labelled slider over a float range (integer QSlider scaled by the step)."""

    moved = Signal(str, float)
    released = Signal(str, float)

    def __init__(self, spec: develop_service.AdjustmentSpec, parent=None):
        super().__init__(parent)
        self.spec = spec
        self.scale = 1.0 / spec.step
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(round(spec.minimum * self.scale), round(spec.maximum * self.scale))
        self.slider.setValue(round(spec.default * self.scale))
        self.signed = spec.minimum < 0
        self.value_label = QLabel(_fmt(spec.default, spec.step, self.signed))
        self.value_label.setMinimumWidth(44)
        self.value_label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.value_label)
        self.slider.valueChanged.connect(self._changed)
        self.slider.sliderReleased.connect(lambda: self.released.emit(self.spec.name, self.value()))
        # Keyboard / wheel changes have no release: commit once they settle.
        self._settle = QTimer(self, singleShot=True, interval=400)
        self._settle.timeout.connect(lambda: self.released.emit(self.spec.name, self.value()))
        self._quiet = False

    def value(self) -> float:
        return self.slider.value() / self.scale

    def set_value(self, v: float, quiet: bool = True) -> None:
        self._quiet = quiet
        self.slider.setValue(round(v * self.scale))
        self.value_label.setText(_fmt(v, self.spec.step, self.signed))
        self._quiet = False

    def _changed(self, _raw):
        v = self.value()
        self.value_label.setText(_fmt(v, self.spec.step, self.signed))
        if self._quiet:
            return
        self.moved.emit(self.spec.name, v)
        if not self.slider.isSliderDown():
            self._settle.start()

    def mouseDoubleClickEvent(self, _ev):  # noqa: N802 - double click resets, as in Lightroom
        self.set_value(self.spec.default, quiet=False)


class DevelopPanel(QWidget):
    """The selected layer's develop controls in Lightroom's order: Histogram, Basic,
    Tone Curve, Colour Mixer, Colour Grading, Detail, Lens Corrections, Effects;
    presets, virtual copies.  Every control changes the preview live and commits one
    history step on release."""

    pick_requested = Signal(str)  # "point" (point colour) or "wb" (RAW white balance): the app arms its eyedropper

    CURVE_CHANNELS = (("Luminance", "curve.points", QColor(230, 230, 230)), ("Red", "curve.red", QColor(230, 70, 70)),
                      ("Green", "curve.green", QColor(70, 200, 70)), ("Blue", "curve.blue", QColor(80, 120, 240)))

    def __init__(self, session: EditSession, parent=None):
        super().__init__(parent)
        self.session = session
        self.sliders: dict[str, AdjustmentSlider] = {}
        self._syncing = False
        self._lens_shown: tuple | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        self.histogram = HistogramWidget()
        outer.addWidget(self.histogram)
        self.layer_label = QLabel()
        self.layer_label.setStyleSheet("font-weight: bold; padding: 4px;")
        outer.addWidget(self.layer_label)

        top = QHBoxLayout()
        self.presets = QComboBox()
        self.presets.setPlaceholderText("Apply preset…")
        self.presets.activated.connect(self._apply_preset)
        save_preset = QPushButton("Save preset")
        save_preset.clicked.connect(self._save_preset)
        vc = QPushButton("Virtual copy")
        vc.clicked.connect(lambda: self.session.virtual_copy())
        top.addWidget(self.presets, 1)
        top.addWidget(save_preset)
        top.addWidget(vc)
        outer.addLayout(top)

        area = QScrollArea()
        area.setWidgetResizable(True)
        inner = QWidget()
        col = QVBoxLayout(inner)
        self.sections: dict[str, QGroupBox] = {}
        forms: dict[tuple[str, str], QFormLayout] = {}
        tabs: dict[str, QTabWidget] = {}
        for spec in develop_service.adjustment_specs():
            box = self.sections.get(spec.group)
            if box is None:
                box = self.sections[spec.group] = QGroupBox(spec.group)
                box.setLayout(QVBoxLayout())
                box.layout().setContentsMargins(6, 6, 6, 6)
                if spec.group == "Tone Curve":
                    box.layout().addWidget(self._curve_editor())
                col.addWidget(box)
            form = forms.get((spec.group, spec.tab))
            if form is None:
                holder = QWidget()
                form = forms[(spec.group, spec.tab)] = QFormLayout(holder)
                form.setContentsMargins(2, 2, 2, 2)
                if spec.tab:
                    if spec.group not in tabs:
                        tabs[spec.group] = QTabWidget()
                        box.layout().addWidget(tabs[spec.group])
                    tabs[spec.group].addTab(holder, spec.tab)
                else:
                    box.layout().addWidget(holder)
            s = AdjustmentSlider(spec)
            s.moved.connect(self._moved)
            s.released.connect(self._released)
            label = QLabel(spec.label)
            label.setMinimumWidth(110)  # same column in every group
            form.addRow(label, s)
            self.sliders[spec.name] = s
        self.tabs = tabs
        self._grading_wheels()
        self._settings_controls(col)
        col.addStretch(1)
        area.setWidget(inner)
        outer.addWidget(area, 1)

        session.changed.connect(lambda _c: self.sync_from_recipe())
        session.layer_selected.connect(lambda _n: self.sync_from_recipe())
        session.version_loaded.connect(lambda _v: self.refresh_presets())

    GRADING_WHEELS = ("midtones", "shadows", "highlights", "global")

    def _grading_wheels(self) -> None:
        """Colour Grading as Lightroom's wheels, all four at once above the tabs (whose
        sliders stay for exact numbers): a puck drag sets a wheel's hue and saturation
        live and commits one history step on release."""
        holder = QWidget()
        grid = QGridLayout(holder)
        grid.setContentsMargins(0, 0, 0, 0)
        self.wheels: dict[str, ColourWheel] = {}
        for i, name in enumerate(self.GRADING_WHEELS):
            wheel = ColourWheel(name.capitalize())
            wheel.moved.connect(lambda h, sat, name=name: self._wheel_moved(name, h, sat))
            wheel.released.connect(lambda h, sat, name=name: self._wheel_released(name, h, sat))
            grid.addWidget(wheel, i // 2, i % 2)
            self.wheels[name] = wheel
        self.sections["Colour Grading"].layout().insertWidget(0, holder)

    def _wheel_moved(self, name: str, hue: float, saturation: float) -> None:
        for key, value in ((f"grade.{name}.hue", hue), (f"grade.{name}.saturation", saturation)):
            self.sliders[key].set_value(value)
            self.session.set_adjustment(key, value, self.sliders[key].spec.default)

    def _wheel_released(self, name: str, hue: float, saturation: float) -> None:
        self._wheel_moved(name, hue, saturation)
        layer = self.session.layer.name
        where = "" if layer == self.session.recipe.global_layer.name else f"{layer}: "
        self.session.commit(f"{where}Colour grading {name}: hue {hue:.0f}, saturation {saturation:.0f}")

    def set_wheel(self, name: str, hue: float, saturation: float) -> None:
        """Programmatic wheel change, committed at once (keyboard/tests)."""
        self.wheels[name].set_value(hue, saturation)
        self._wheel_released(name, hue, saturation)

    def _settings_controls(self, col: QVBoxLayout) -> None:
        """RAW white balance (top of Basic) and Lens Corrections (before Effects): recipe
        settings of the whole photo, one history step per change."""
        self.wb = QComboBox()
        for mode in develop_service.WB_MODES:
            self.wb.addItem("As shot" if mode == "camera" else mode.capitalize(), mode)
        self.wb.activated.connect(self._wb_chosen)
        self.wb_pick = QPushButton("Pick")
        self.wb_pick.setToolTip("Click a neutral grey in the photo (RAW: camera white balance; "
                                "other files: temperature and tint)")
        self.wb_pick.clicked.connect(lambda: self.pick_requested.emit("wb"))
        row = QHBoxLayout()
        row.addWidget(QLabel("WB"))
        row.addWidget(self.wb, 1)
        row.addWidget(self.wb_pick)
        self.sections["Basic"].layout().insertLayout(0, row)
        point_tab = self.tabs["Colour Mixer"].widget(self.tabs["Colour Mixer"].count() - 1)
        pick = QPushButton("Pick colour")
        pick.setToolTip("Click the colour to shift in the photo")
        pick.clicked.connect(lambda: self.pick_requested.emit("point"))
        point_tab.layout().insertRow(0, pick)
        box = QGroupBox("Lens Corrections")
        box.setLayout(QVBoxLayout())
        self.lens_check = QCheckBox("Enable profile corrections")
        self.lens_check.toggled.connect(self._lens_toggled)
        self.lens_info = QLabel("")
        self.lens_info.setWordWrap(True)
        self.lens_default = QComboBox()
        self.lens_default.addItem("Auto (from the EXIF lens)", "auto")
        self.lens_default.addItem("Off", "off")
        self.lens_default.setToolTip("For every photo whose edit does not say: a preference, not a history step")
        self.lens_default.activated.connect(lambda i: self._lens_default_chosen(self.lens_default.itemData(i)))
        default_row = QHBoxLayout()
        default_row.addWidget(QLabel("Default"))
        default_row.addWidget(self.lens_default, 1)
        box.layout().addWidget(self.lens_check)
        box.layout().addWidget(self.lens_info)
        box.layout().addLayout(default_row)
        col.insertWidget(col.indexOf(self.sections["Effects"]), box)
        self.sections = {**{k: v for k, v in self.sections.items() if k != "Effects"}, "Lens Corrections": box,
                         "Effects": self.sections["Effects"]}

    def picked(self, kind: str, x: float, y: float, rgb) -> None:
        """The eyedropper's click: (x, y) normalised on the displayed render ``rgb``."""
        if kind == "point" and rgb is not None:
            self.set_value("mixer.point.hue", develop_service.picked_hue(rgb, x, y))
        elif kind == "wb" and self.session.image_id is not None:
            catalog, image_id = self.session.catalog, self.session.image_id
            try:
                if develop_service.is_raw_image(catalog, image_id):
                    settings = develop_service.pick_white_balance(catalog, image_id, x, y,
                                                                  self.session.recipe.settings)
                else:  # JPEG, TIFF...: temperature and tint that neutralise the point
                    neutral = develop_service.neutral_temperature_tint(catalog, image_id, x, y,
                                                                      self.session.recipe.settings)
            except Exception as exc:  # noqa: BLE001 - the reason goes to the status line
                self.session.error.emit(str(exc))
                return
            if not develop_service.is_raw_image(catalog, image_id):
                adjustments = self.session.recipe.global_layer.adjustments
                for key, value in neutral.items():
                    if abs(value) < 1e-9:
                        adjustments.pop(key, None)
                    else:
                        adjustments[key] = value
                self.session.commit(f"White balance: picked (temperature {neutral['temperature']:+g}, "
                                    f"tint {neutral['tint']:+g})")
                return
            raw = {k: v for k, v in (self.session.recipe.settings.get("raw") or {}).items()
                   if k not in ("white_balance", "temperature", "tint", "wb_multipliers")}
            self.session.recipe.settings["raw"] = {**raw, **settings}
            self.session.commit("White balance: picked")

    def _wb_chosen(self, _i) -> None:
        mode = self.wb.currentData()
        raw = {k: v for k, v in (self.session.recipe.settings.get("raw") or {}).items()
               if k not in ("white_balance", "temperature", "tint", "wb_multipliers")}
        self.session.recipe.settings["raw"] = {**raw, "white_balance": mode}
        self.session.commit(f"White balance: {self.wb.currentText().lower()}")

    def _lens_toggled(self, on: bool) -> None:
        if self._syncing or self.session.image_id is None:
            return
        if on:
            settings, line = develop_service.lens_profile(self.session.catalog, self.session.image_id)
            self.lens_info.setText(line)
            if settings is None:
                self._syncing = True
                self.lens_check.setChecked(False)
                self._syncing = False
                return
            self.session.recipe.settings["lens"] = settings
        else:  # said explicitly, so a default of auto does not turn it back on
            self.session.recipe.settings["lens"] = {"correct": "off"}
        self.session.commit("Lens corrections " + ("on" if on else "off"))

    def _lens_default_chosen(self, value: str) -> None:
        """The user's default for photos whose edit says nothing: a preference (no
        history step); the photo re-renders when it decides this one."""
        try:
            develop_service.set_lens_default(self.session.catalog, value)
        except Exception as exc:  # noqa: BLE001
            self.session.error.emit(str(exc))
            return
        self.sync_from_recipe()
        if "lens" not in self.session.recipe.settings:
            self.session.changed.emit(True)

    def _curve_editor(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(0, 0, 0, 0)
        self.curve_channel = QComboBox()
        for label, _key, _colour in self.CURVE_CHANNELS:
            self.curve_channel.addItem(label)
        self.curve_channel.currentIndexChanged.connect(lambda _i: self._show_curve())
        self.curve = CurveWidget()
        self.curve.moved.connect(lambda pts: self.session.set_curve(self.curve_key, pts))
        self.curve.released.connect(self._curve_released)
        reset = QPushButton("Reset curve")
        reset.clicked.connect(lambda: self._curve_released([]))
        row = QHBoxLayout()
        row.addWidget(self.curve_channel, 1)
        row.addWidget(reset)
        lay.addLayout(row)
        lay.addWidget(self.curve)
        return w

    @property
    def curve_key(self) -> str:
        return self.CURVE_CHANNELS[self.curve_channel.currentIndex()][1]

    def _show_curve(self) -> None:
        _label, key, colour = self.CURVE_CHANNELS[self.curve_channel.currentIndex()]
        if self.curve.drag is None:
            self.curve.set_points(self.session.layer.adjustments.get(key), colour)

    def _curve_released(self, points) -> None:
        self.session.set_curve(self.curve_key, points)
        layer = self.session.layer.name
        where = "" if layer == self.session.recipe.global_layer.name else f"{layer}: "
        label = self.CURVE_CHANNELS[self.curve_channel.currentIndex()][0]
        self.session.commit(f"{where}Tone curve {label.lower()} ({len(points)} points)")

    def set_curve(self, key: str, points) -> None:
        """Programmatic curve change, committed at once (keyboard/tests)."""
        idx = next(i for i, (_l, k, _c) in enumerate(self.CURVE_CHANNELS) if k == key)
        self.curve_channel.setCurrentIndex(idx)
        self.curve.set_points(points)
        self._curve_released(self.curve.value())

    def sync_from_recipe(self) -> None:
        layer = self.session.layer
        self.layer_label.setText(f"Adjusting: {layer.name}" + ("" if layer.mask is None else " (masked)"))
        for name, s in self.sliders.items():
            if not s.slider.isSliderDown():
                s.set_value(layer.adjustments.get(name, s.spec.default))
        self._show_curve()
        for name, wheel in self.wheels.items():
            wheel.set_value(layer.adjustments.get(f"grade.{name}.hue", 0.0),
                            layer.adjustments.get(f"grade.{name}.saturation", 0.0))
        self._syncing = True
        settings = self.session.recipe.settings
        raw = self.session.image_id is not None and develop_service.is_raw_image(self.session.catalog, self.session.image_id)
        self.wb.setEnabled(raw)
        mode = (settings.get("raw") or {}).get("white_balance", "camera")
        self.wb.setCurrentIndex(max(0, self.wb.findData(mode)))
        default = develop_service.lens_default(self.session.catalog)
        self.lens_default.setCurrentIndex(max(0, self.lens_default.findData(default)))
        # (a lensfun look-up: only when the photo, its lens setting or the default changed,
        # not on every tick of a slider drag)
        lens_key = (self.session.image_id, repr(settings.get("lens")), default)
        if self.session.image_id is not None and lens_key != self._lens_shown:
            self._lens_shown = lens_key
            on, line = develop_service.lens_state(self.session.catalog, self.session.image_id, settings)
            self.lens_check.setChecked(on)
            self.lens_info.setText(line)
        self._syncing = False

    def refresh_presets(self) -> None:
        self.presets.clear()
        for name in editing.develop_presets(self.session.catalog):
            self.presets.addItem(name)

    def set_value(self, name: str, value: float) -> None:
        """Programmatic change, committed at once (keyboard/tests)."""
        self.sliders[name].set_value(value)
        self._released(name, value)

    def _moved(self, name, value):
        self.session.set_adjustment(name, value, self.sliders[name].spec.default)

    def _released(self, name, value):
        spec = self.sliders[name].spec
        layer = self.session.layer.name
        where = "" if layer == self.session.recipe.global_layer.name else f"{layer}: "
        self.session.set_adjustment(name, value, spec.default)
        what = f"{spec.group} {spec.tab} {spec.label}".lower().capitalize() if spec.tab else spec.label
        self.session.commit(f"{where}{what} {_fmt(value, spec.step)}")

    def _apply_preset(self, i):
        self.apply_preset(self.presets.itemText(i))

    def apply_preset(self, name: str) -> None:
        """Apply a develop preset to the version (catalog.edits: one history step)."""
        try:
            editing.apply_develop_preset(self.session.catalog, self.session.version_id, name)
        except Exception as exc:  # noqa: BLE001
            self.session.error.emit(f"preset {name!r}: {exc}")
            return
        self.session.reload()

    def _save_preset(self):
        name, ok = QInputDialog.getText(self, "Save develop preset", "Preset name (saves the selected layer):")
        if ok and name.strip():
            self.save_preset(name.strip())

    def save_preset(self, name: str) -> None:
        try:
            editing.save_develop_preset(self.session.catalog, name, self.session.version_id, [self.session.layer.name],
                                        recipe=self.session.recipe)
        except Exception as exc:  # noqa: BLE001
            self.session.error.emit(f"preset {name!r}: {exc}")
            return
        self.refresh_presets()


class HistoryPanel(QWidget):
    """History steps, newest at the top; the current step is selected."""

    def __init__(self, session: EditSession, parent=None):
        super().__init__(parent)
        self.session = session
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.list = QListWidget()
        self.list.setToolTip("Double-click a step to go back (or forward) to it")
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.ElideRight)
        self.list.itemDoubleClicked.connect(lambda item: self.go_to(item.data(Qt.UserRole)))
        lay.addWidget(self.list, 1)
        row = QHBoxLayout()
        u = QPushButton("Undo")
        u.setToolTip("Ctrl+Z")
        u.clicked.connect(session.undo)
        r = QPushButton("Redo")
        r.setToolTip("Ctrl+Shift+Z")
        r.clicked.connect(session.redo)
        row.addWidget(u)
        row.addWidget(r)
        lay.addLayout(row)
        session.changed.connect(lambda committed: committed and self.refresh())

    def refresh(self) -> None:
        self.list.clear()
        if self.session.version_id is None:
            return
        steps, pos = editing.history(self.session.catalog, self.session.version_id)
        for seq, label in reversed(steps):
            item = QListWidgetItem(label)
            item.setToolTip(label)
            item.setData(Qt.UserRole, seq)
            if seq > pos:
                item.setForeground(Qt.gray)
            self.list.addItem(item)
            if seq == pos:
                item.setSelected(True)

    def go_to(self, seq: int) -> None:
        """Jump to a history step: undo or redo until the catalog's position is there."""
        _steps, pos = editing.history(self.session.catalog, self.session.version_id)
        move = self.session.undo if seq < pos else self.session.redo
        for _ in range(abs(seq - pos)):
            if not move():
                break

    def labels(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]
