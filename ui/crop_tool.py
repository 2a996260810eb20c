"""The crop tool (R): an on-canvas crop rectangle with handles, aspect presets, straighten
by dragging outside the rectangle, auto-straighten, Enter commits, Esc cancels.

It edits the recipe's own geometry settings, the ones ``maskroom edit --crop/--straighten``
writes (core/values.py: ``crop`` {x0, y0, x1, y1} normalised to the straightened frame,
``straighten`` in degrees, positive counter-clockwise).  While the tool is on, the canvas
shows the photo uncropped and unturned from the renderer, turned and zoomed here exactly
as engine/develop/geometry.py will (rotation about the centre, zoomed so no empty corner
shows), so the rectangle drawn on the frame is the crop the render makes.  Nothing is
stored until Enter: then crop and straighten go through ``editing.apply_edit`` (the CLI's
path) as one history step, which Ctrl+Z takes back.

The drag maths are pure functions on normalised rectangles (no Qt), tested on their own;
as in ui/mask_handles.py each drag is computed from the state at the press and the
pointer's travel since, so it cannot drift.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
)

from maskroom.services import develop as develop_service
from maskroom.services import editing
from maskroom.services.editing import UNSET, EditChange
from maskroom.ui.loupe import handle_cursor
from maskroom.ui.mask_handles import View

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1, normalised to the straightened frame
FULL: Rect = (0.0, 0.0, 1.0, 1.0)
MAX_ANGLE = 45.0  # core/values.py's straighten range
PICK = 10.0  # screen px around an edge or corner that still grabs it
MIN_PX = 16.0  # the rectangle cannot shrink below this on screen
# (label, long:short ratio); "original" is the photo's own, None is free.
ASPECTS: tuple[tuple[str, object], ...] = (
    ("Original", "original"), ("1:1", 1.0), ("4:5", 5 / 4), ("3:2", 3 / 2), ("16:9", 16 / 9), ("Free", None))
CORNERS = ("tl", "tr", "bl", "br")
EDGES = ("l", "r", "t", "b")


# -- geometry (no Qt) ------------------------------------------------------------------
def pixel_ratio(rect: Rect, view: View) -> float:
    """Width over height of ``rect`` in pixels of the frame it is drawn on."""
    return (rect[2] - rect[0]) * view.w / max(1e-9, (rect[3] - rect[1]) * view.h)


def target_ratio(aspect, view: View, portrait: bool) -> float | None:
    """The width:height an aspect preset asks for on this frame (None: free)."""
    if aspect is None:
        return None
    if aspect == "original":
        return view.w / view.h
    r = float(aspect)
    return 1.0 / r if portrait else r


def fit_ratio(rect: Rect, ratio: float | None, view: View) -> Rect:
    """The largest rectangle of ``ratio`` inside ``rect``, centred on it."""
    if ratio is None:
        return rect
    wp, hp = (rect[2] - rect[0]) * view.w, (rect[3] - rect[1]) * view.h
    if wp / hp > ratio:
        wp = hp * ratio
    else:
        hp = wp / ratio
    cx, cy = (rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2
    hw, hh = wp / view.w / 2, hp / view.h / 2
    return cx - hw, cy - hh, cx + hw, cy + hh


def hit_test(rect: Rect, view: View, pos: tuple[float, float]) -> str:
    """What a press at screen ``pos`` grabs: a corner, an edge, the inside (move) or,
    outside the rectangle, the rotation."""
    x0, y0 = view.to_screen(rect[0], rect[1])
    x1, y1 = view.to_screen(rect[2], rect[3])
    px, py = pos
    near_x = {"l": abs(px - x0) <= PICK, "r": abs(px - x1) <= PICK}
    near_y = {"t": abs(py - y0) <= PICK, "b": abs(py - y1) <= PICK}
    for v in ("t", "b"):
        for h in ("l", "r"):
            if near_x[h] and near_y[v]:
                return v + h
    inside_x, inside_y = x0 - PICK <= px <= x1 + PICK, y0 - PICK <= py <= y1 + PICK
    for h in ("l", "r"):
        if near_x[h] and inside_y:
            return h
    for v in ("t", "b"):
        if near_y[v] and inside_x:
            return v
    if x0 < px < x1 and y0 < py < y1:
        return "move"
    return "rotate"


def _clamp(v: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, v))


def drag(rect: Rect, handle: str, view: View, start: tuple[float, float], now: tuple[float, float],
         ratio: float | None) -> Rect:
    """``rect`` after dragging ``handle`` from ``start`` to ``now`` (screen px), kept inside
    the frame, at least MIN_PX on screen, and at ``ratio`` (pixel width:height) when given."""
    dx, dy = (now[0] - start[0]) / view.w, (now[1] - start[1]) / view.h
    x0, y0, x1, y1 = rect
    mw, mh = MIN_PX / view.w, MIN_PX / view.h
    if handle == "move":
        dx = _clamp(dx, -x0, 1.0 - x1)
        dy = _clamp(dy, -y0, 1.0 - y1)
        return x0 + dx, y0 + dy, x1 + dx, y1 + dy
    if handle in CORNERS:
        left, top = handle[1] == "l", handle[0] == "t"
        ax, ay = (x1 if left else x0), (y1 if top else y0)  # the corner that stays
        # the corner's travel, positive away from the fixed corner
        vx = ((x0 if left else x1) + dx - ax) * (-1 if left else 1)
        vy = ((y0 if top else y1) + dy - ay) * (-1 if top else 1)
        room_w, room_h = (ax if left else 1.0 - ax), (ay if top else 1.0 - ay)
        if ratio is None:
            w, h = max(mw, vx), max(mh, vy)
        else:  # the pointer projected on the diagonal of that ratio, then fitted in the frame
            t = (vx * view.w * ratio + vy * view.h) / (ratio * ratio + 1.0)
            t = max(t, MIN_PX, MIN_PX / ratio)
            s = min(1.0, room_w * view.w / (t * ratio), room_h * view.h / t)
            w, h = t * ratio * s / view.w, t * s / view.h
        w, h = min(w, room_w), min(h, room_h)
        nx0, nx1 = (ax - w, ax) if left else (ax, ax + w)
        ny0, ny1 = (ay - h, ay) if top else (ay, ay + h)
        return nx0, ny0, nx1, ny1
    # an edge: that side follows the pointer; with a ratio the other axis follows, centred
    if handle in ("l", "r"):
        if handle == "l":
            x0 = _clamp(x0 + dx, 0.0, x1 - mw)
        else:
            x1 = _clamp(x1 + dx, x0 + mw, 1.0)
        if ratio is not None:
            cy = (y0 + y1) / 2
            h = (x1 - x0) * view.w / ratio / view.h
            room = 2 * min(cy, 1.0 - cy)
            if h > room:  # too tall for the frame here: narrow it back
                h = room
                w = h * view.h * ratio / view.w
                x0, x1 = (x1 - w, x1) if handle == "l" else (x0, x0 + w)
            y0, y1 = cy - h / 2, cy + h / 2
    else:
        if handle == "t":
            y0 = _clamp(y0 + dy, 0.0, y1 - mh)
        else:
            y1 = _clamp(y1 + dy, y0 + mh, 1.0)
        if ratio is not None:
            cx = (x0 + x1) / 2
            w = (y1 - y0) * view.h * ratio / view.w
            room = 2 * min(cx, 1.0 - cx)
            if w > room:
                w = room
                h = w * view.w / ratio / view.h
                y0, y1 = (y1 - h, y1) if handle == "t" else (y0, y0 + h)
            x0, x1 = cx - w / 2, cx + w / 2
    return x0, y0, x1, y1


def rotate_drag(angle0: float, rect: Rect, view: View, start: tuple[float, float],
                now: tuple[float, float]) -> float:
    """The straighten angle after dragging outside the rectangle from ``start`` to ``now``:
    the photo turns with the pointer around the rectangle's centre (a clockwise sweep on
    screen turns it clockwise, i.e. a smaller angle), within ±MAX_ANGLE."""
    cx, cy = view.to_screen((rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2)
    a0 = math.atan2(start[1] - cy, start[0] - cx)
    a1 = math.atan2(now[1] - cy, now[0] - cx)
    sweep = math.degrees(math.atan2(math.sin(a1 - a0), math.cos(a1 - a0)))  # y down: + is clockwise
    return round(_clamp(angle0 - sweep, -MAX_ANGLE, MAX_ANGLE), 2)


def crop_setting(rect: Rect) -> dict | None:
    """The recipe's ``crop`` value for ``rect`` (None: the whole frame, no crop)."""
    r = [round(_clamp(v, 0.0, 1.0), 4) for v in rect]
    if r == [0.0, 0.0, 1.0, 1.0]:
        return None
    return {"x0": r[0], "y0": r[1], "x1": r[2], "y1": r[3]}


def rect_of(crop: dict | None) -> Rect:
    return FULL if not crop else (crop["x0"], crop["y0"], crop["x1"], crop["y1"])


# -- the tool ---------------------------------------------------------------------------
@dataclass
class _Press:
    handle: str
    start: tuple[float, float]
    rect: Rect
    angle: float


class CropPanel(QGroupBox):
    """The crop tool's controls in the develop panel: aspect, angle, auto, reset, done."""

    def __init__(self, parent=None):
        super().__init__("Crop && Straighten (R)", parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        row = QHBoxLayout()
        row.addWidget(QLabel("Aspect"))
        self.aspect = QComboBox()
        for label, value in ASPECTS:
            self.aspect.addItem(label, value)
        self.aspect.setToolTip("X turns the aspect between landscape and portrait")
        row.addWidget(self.aspect, 1)
        lay.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(QLabel("Angle"))
        self.angle = QSlider(Qt.Horizontal)
        self.angle.setRange(-int(MAX_ANGLE * 10), int(MAX_ANGLE * 10))  # tenths of a degree
        self.angle.setToolTip("Or drag outside the crop rectangle on the photo")
        self.angle_label = QLabel("0.0°")
        self.angle_label.setMinimumWidth(48)
        row.addWidget(self.angle, 1)
        row.addWidget(self.angle_label)
        lay.addLayout(row)
        row = QHBoxLayout()
        self.auto = QPushButton("Auto")
        self.auto.setToolTip("Level the horizon (or uprights) found in the photo")
        self.reset = QPushButton("Reset")
        self.done = QPushButton("Done (Enter)")
        self.cancel = QPushButton("Cancel (Esc)")
        for b in (self.auto, self.reset, self.done, self.cancel):
            row.addWidget(b)
        lay.addLayout(row)


class CropTool(QObject):
    """The crop mode of the loupe canvas for one edit session.

    ``render_wanted(recipe)``: the app should render this (the edit without its
    geometry) for the canvas while the tool is on; ``finished(committed)`` when it ends.
    """

    render_wanted = Signal(object)
    finished = Signal(bool)
    status = Signal(str)

    def __init__(self, canvas, session, parent=None):
        super().__init__(parent)
        self.canvas = canvas
        self.session = session
        self.panel = CropPanel()
        self.panel.hide()
        self.active = False
        self.ready = False
        self.rect: Rect = FULL
        self.angle = 0.0
        self.aspect = "original"
        self.portrait = False
        self._start: tuple[Rect, float] = (FULL, 0.0)
        self._press: _Press | None = None
        self._hover = ""
        self._handles_were_visible = False
        canvas.installEventFilter(self)
        p = self.panel
        p.aspect.activated.connect(lambda i: self.set_aspect(p.aspect.itemData(i)))
        p.angle.valueChanged.connect(lambda v: self._slider_angle(v / 10.0))
        p.auto.clicked.connect(self.auto_straighten)
        p.reset.clicked.connect(self.reset)
        p.done.clicked.connect(self.commit)
        p.cancel.clicked.connect(self.cancel)

    # -- state -------------------------------------------------------------------------
    def display_recipe(self, recipe):
        """The edit as the tool shows it: everything but crop and straighten."""
        shown = recipe.copy()
        shown.settings.pop("crop", None)
        shown.settings.pop("straighten", None)
        return shown

    def view(self) -> View:
        return self.canvas.view_geometry()

    def begin(self) -> bool:
        if self.active or self.session.version_id is None:
            return False
        settings = self.session.recipe.settings
        self.rect = rect_of(settings.get("crop"))
        self.angle = float(settings.get("straighten", 0.0) or 0.0)
        self._start = (self.rect, self.angle)
        self.active = True
        self.ready = False  # until the uncropped render is on the canvas
        self._handles_were_visible = self.canvas.handles_visible
        self.canvas.set_handles_visible(False)  # mask handles would fight the crop handles
        self.canvas.tool_overlay = self
        self.aspect = self._matching_aspect()
        self.panel.aspect.setCurrentIndex(max(0, self.panel.aspect.findData(self.aspect)))
        self._sync_panel()
        self.panel.show()
        self.canvas.setCursor(Qt.ArrowCursor)
        self.render_wanted.emit(self.display_recipe(self.session.recipe))
        self._apply_turn()
        self.status.emit("Crop: drag the corners or edges, drag outside to straighten; Enter applies, Esc cancels")
        return True

    def _matching_aspect(self):
        """The preset the current crop already has (1 % tolerance), else free."""
        img = self.canvas.before  # the unedited photo: the uncropped frame's shape
        if img is None or img.height() == 0:
            return "original"
        view = View(0, 0, img.width(), img.height())
        have = pixel_ratio(self.rect, view)
        self.portrait = have < 1.0
        for _label, value in ASPECTS:
            want = target_ratio(value, view, self.portrait)
            if want is not None and abs(have / want - 1.0) < 0.01:
                return value
        return None

    def _end(self, committed: bool) -> None:
        self.active = False
        self._press = None
        self.canvas.tool_overlay = None
        self.canvas.turn = (0.0, 1.0)
        self.canvas.set_handles_visible(self._handles_were_visible)
        self.canvas.unsetCursor()
        self.panel.hide()
        self.canvas.update()
        self.finished.emit(committed)

    def cancel(self) -> None:
        if self.active:
            self._end(False)

    def commit(self) -> bool:
        """Enter: crop and straighten as one history step (nothing when unchanged)."""
        if not self.active:
            return False
        crop, angle = crop_setting(self.rect), round(self.angle, 2)
        start_rect, start_angle = self._start
        change = EditChange(crop=crop if crop != crop_setting(start_rect) else UNSET,
                            straighten=angle if abs(angle - start_angle) > 1e-6 else None)
        if change.crop is UNSET and change.straighten is None:
            self._end(False)
            return False
        try:
            result = editing.apply_edit(self.session.catalog, self.session.image_id, change, self.session.version_id)
        except Exception as exc:  # noqa: BLE001 - the reason goes to the status line, the tool stays open
            self.session.error.emit(str(exc))
            return False
        self._end(True)
        self.session.reload()  # the committed recipe renders (cropped) and the history shows the step
        self.status.emit(result["label"])
        return True

    def set_aspect(self, aspect) -> None:
        self.aspect = aspect
        self.panel.aspect.setCurrentIndex(max(0, self.panel.aspect.findData(aspect)))
        self.rect = fit_ratio(self.rect, target_ratio(aspect, self.view(), self.portrait), self.view())
        self.canvas.update()

    def flip_aspect(self) -> None:
        """X: a landscape preset becomes portrait and back."""
        self.portrait = not self.portrait
        ratio = target_ratio(self.aspect, self.view(), self.portrait)
        if ratio is None or self.aspect == "original":
            return
        # the same area's centre, the other way round, as large as fits
        x0, y0, x1, y1 = self.rect
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        v = self.view()
        side = max((x1 - x0) * v.w, (y1 - y0) * v.h)
        hw, hh = side / 2 / v.w, side / 2 / v.h
        box = (max(0.0, cx - hw), max(0.0, cy - hh), min(1.0, cx + hw), min(1.0, cy + hh))
        self.rect = fit_ratio(box, ratio, v)
        self.canvas.update()

    def set_angle(self, degrees: float) -> None:
        self.angle = round(_clamp(float(degrees), -MAX_ANGLE, MAX_ANGLE), 2)
        self._sync_panel()
        self._apply_turn()

    def _slider_angle(self, degrees: float) -> None:
        if abs(degrees - self.angle) >= 0.05:  # not the echo of set_angle's own update
            self.set_angle(degrees)

    def auto_straighten(self) -> float | None:
        if not self.active:
            return None
        angle = develop_service.auto_straighten(self.session.catalog, self.session.image_id)
        if angle is None:
            self.status.emit("Auto straighten: no straight horizon or upright found in this photo")
            return None
        self.set_angle(angle)
        self.status.emit(f"Auto straighten: {angle:+.2f}°")
        return angle

    def reset(self) -> None:
        self.rect = FULL
        self.set_aspect(self.aspect)
        self.set_angle(0.0)

    def _sync_panel(self) -> None:
        self.panel.angle.blockSignals(True)
        self.panel.angle.setValue(round(self.angle * 10))
        self.panel.angle.blockSignals(False)
        self.panel.angle_label.setText(f"{self.angle:+.1f}°")

    def _apply_turn(self) -> None:
        img = self.canvas.after
        zoom = develop_service.straighten_zoom(img.width(), img.height(), self.angle) if img is not None else 1.0
        self.canvas.turn = (self.angle, zoom)
        self.canvas.update()

    def image_changed(self) -> None:
        """A new render arrived (the uncropped photo): the turn's zoom follows its size."""
        if self.active:
            self.ready = True
            self._apply_turn()

    # -- pointer and keys on the canvas ----------------------------------------------------
    def eventFilter(self, obj, ev):  # noqa: N802 - Qt API
        if not self.active or obj is not self.canvas:
            return False
        if not self.ready:  # the cropped photo still shows: its geometry is not the frame's
            return ev.type() in (QEvent.MouseButtonPress, QEvent.MouseMove, QEvent.MouseButtonRelease) or (
                ev.type() == QEvent.KeyPress and self._key(ev))
        t = ev.type()
        if t == QEvent.ShortcutOverride and ev.key() in (Qt.Key_Return, Qt.Key_Enter, Qt.Key_Escape, Qt.Key_X):
            ev.accept()  # these keys are the tool's while it is on (X is the window's reject flag)
            return True
        if t == QEvent.KeyPress:
            return self._key(ev)
        if t == QEvent.MouseButtonPress and ev.button() == Qt.LeftButton:
            pos = (ev.position().x(), ev.position().y())
            self._press = _Press(hit_test(self.rect, self.view(), pos), pos, self.rect, self.angle)
            return True
        if t == QEvent.MouseMove:
            pos = (ev.position().x(), ev.position().y())
            if self._press is None:
                self._set_hover(hit_test(self.rect, self.view(), pos))
                return True
            self._drag_to(pos)
            return True
        if t == QEvent.MouseButtonRelease and self._press is not None:
            self._drag_to((ev.position().x(), ev.position().y()))
            self._press = None
            self.canvas.update()
            return True
        return t in (QEvent.MouseButtonDblClick, QEvent.Wheel)

    def _drag_to(self, pos) -> None:
        pr = self._press
        if pr.handle == "rotate":
            self.set_angle(rotate_drag(pr.angle, pr.rect, self.view(), pr.start, pos))
            return
        ratio = target_ratio(self.aspect, self.view(), self.portrait)
        self.rect = drag(pr.rect, pr.handle, self.view(), pr.start, pos, ratio)
        self.canvas.update()

    def _key(self, ev) -> bool:
        key = ev.key()
        if key in (Qt.Key_Return, Qt.Key_Enter):
            self.commit()
            return True
        if key == Qt.Key_Escape:
            if self._press is not None:  # mid-drag: put it back, stay in the tool
                self.rect, self.angle = self._press.rect, self._press.angle
                self._press = None
                self._sync_panel()
                self._apply_turn()
            else:
                self.cancel()
            return True
        if key == Qt.Key_X:
            self.flip_aspect()
            return True
        return False

    def _set_hover(self, name: str) -> None:
        if name == self._hover:
            return
        self._hover = name
        cursor = {"move": "move", "rotate": "rotate", "l": "size_hor", "r": "size_hor", "t": "size_ver",
                  "b": "size_ver", "tl": "size_fdiag", "br": "size_fdiag", "tr": "size_bdiag", "bl": "size_bdiag"}
        self.canvas.setCursor(handle_cursor(cursor[name]))

    # -- drawing (the canvas calls this after the photo) -------------------------------------
    def paint(self, p: QPainter) -> None:
        if not self.ready:
            return
        v = self.view()
        frame = QRectF(v.x, v.y, v.w, v.h)
        x0, y0 = v.to_screen(self.rect[0], self.rect[1])
        x1, y1 = v.to_screen(self.rect[2], self.rect[3])
        crop = QRectF(QPointF(x0, y0), QPointF(x1, y1))
        p.save()
        shade = QColor(0, 0, 0, 150)
        p.fillRect(QRectF(frame.left(), frame.top(), frame.width(), crop.top() - frame.top()), shade)
        p.fillRect(QRectF(frame.left(), crop.bottom(), frame.width(), frame.bottom() - crop.bottom()), shade)
        p.fillRect(QRectF(frame.left(), crop.top(), crop.left() - frame.left(), crop.height()), shade)
        p.fillRect(QRectF(crop.right(), crop.top(), frame.right() - crop.right(), crop.height()), shade)
        # rule of thirds, finer while turning (a grid to level against, as in Lightroom)
        n = 9 if self._press is not None and self._press.handle == "rotate" else 3
        p.setPen(QPen(QColor(255, 255, 255, 90), 1))
        for i in range(1, n):
            x = crop.left() + crop.width() * i / n
            y = crop.top() + crop.height() * i / n
            p.drawLine(QPointF(x, crop.top()), QPointF(x, crop.bottom()))
            p.drawLine(QPointF(crop.left(), y), QPointF(crop.right(), y))
        p.setPen(QPen(QColor("#ffffff"), 1.5))
        p.setBrush(Qt.NoBrush)
        p.drawRect(crop)
        p.setPen(QPen(QColor("#000000"), 1))
        for name, (hx, hy) in self.handle_points().items():
            p.setBrush(QColor("#ffd24a") if name == self._hover else QColor("#ffffff"))
            p.drawRect(QRectF(hx - 4, hy - 4, 8, 8))
        label = next((lbl for lbl, val in ASPECTS if val == self.aspect), "Free")
        text = f"{label}{' (portrait)' if self.portrait and self.aspect not in (None, 'original', 1.0) else ''}" \
               f"  ·  {self.angle:+.1f}°"
        fm = p.fontMetrics()
        box = QRectF(crop.left(), max(frame.top(), crop.top() - 24), fm.horizontalAdvance(text) + 14, 20)
        p.fillRect(box, QColor(0, 0, 0, 170))
        p.setPen(QColor("#ffffff"))
        p.drawText(box, Qt.AlignCenter, text)
        p.restore()

    def handle_points(self) -> dict[str, tuple[float, float]]:
        """Screen positions of the eight handles (tests aim at them)."""
        v = self.view()
        x0, y0 = v.to_screen(self.rect[0], self.rect[1])
        x1, y1 = v.to_screen(self.rect[2], self.rect[3])
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        return {"tl": (x0, y0), "tr": (x1, y0), "bl": (x0, y1), "br": (x1, y1),
                "t": (mx, y0), "b": (mx, y1), "l": (x0, my), "r": (x1, my)}
