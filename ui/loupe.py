"""The loupe canvas: fit / 100% zoom with pan, before/after, EXIF overlay, mask overlay,
and the on-canvas tools the masks panel uses (box, lasso, brush, gradients, eyedropper).

It only shows pixels it is given (rendering happens on workers) and reports what the
pointer did in normalised image coordinates (0..1, origin top-left), the recipe's
coordinate system.

In develop, the selected mask's gradients and object box (``shapes``) carry handles
like Lightroom Classic's: the geometry and drag maths are ui/mask_handles.py; the
canvas reports each tick of a drag (``shape_dragged``) and its end
(``shape_released``), and the masks panel turns them into the edit.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QCursor,
    QFont,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import QWidget

from maskroom.ui import mask_handles as mh

TOOLS = ("view", "box", "lasso", "brush", "linear", "radial", "eyedropper")


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888).copy()


def overlay_qimage(alpha: np.ndarray, colour=(230, 40, 40), strength: float = 0.55) -> QImage:
    """A mask as a translucent red layer (Lightroom's overlay)."""
    a = np.clip(alpha, 0, 1)
    h, w = a.shape
    rgba = np.empty((h, w, 4), np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2] = colour
    rgba[..., 3] = (a * strength * 255).astype(np.uint8)
    return QImage(rgba.data, w, h, 4 * w, QImage.Format_RGBA8888).copy()


_rotate_cursor: QCursor | None = None


def rotate_cursor() -> QCursor:
    """A curved two-headed arrow (Qt has no rotation cursor)."""
    global _rotate_cursor
    if _rotate_cursor is None:
        pm = QPixmap(24, 24)
        pm.fill(Qt.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.Antialiasing)
        for colour, width in ((QColor("#000000"), 4.0), (QColor("#ffffff"), 2.0)):
            p.setPen(QPen(colour, width, Qt.SolidLine, Qt.RoundCap))
            p.drawArc(QRectF(4, 4, 16, 16), 30 * 16, 240 * 16)
            p.drawPolyline(QPolygonF([QPointF(15, 1), QPointF(19, 5), QPointF(14, 8)]))
            p.drawPolyline(QPolygonF([QPointF(3, 15), QPointF(5, 20), QPointF(10, 19)]))
        p.end()
        _rotate_cursor = QCursor(pm, 12, 12)
    return _rotate_cursor


def handle_cursor(name: str, pressed: bool = False):
    if name == "rotate":
        return rotate_cursor()
    if name == "move":
        return Qt.ClosedHandCursor if pressed else Qt.OpenHandCursor
    return {"size_hor": Qt.SizeHorCursor, "size_ver": Qt.SizeVerCursor, "size_fdiag": Qt.SizeFDiagCursor,
            "size_bdiag": Qt.SizeBDiagCursor}.get(name, Qt.SizeAllCursor)


class LoupeCanvas(QWidget):
    # Tool results, normalised coordinates.
    box_drawn = Signal(float, float, float, float)
    lasso_drawn = Signal(list)  # [(x, y), ...]
    brush_stroke = Signal(list, bool)  # points, erase (Alt held)
    linear_drawn = Signal(float, float, float, float)
    radial_drawn = Signal(float, float, float, float)  # cx, cy, rx, ry (radii: fractions of the long edge)
    colour_picked = Signal(float, float)
    # Handle drags of ``shapes``: uid, params now (every tick); uid, final params, handle name (release).
    shape_dragged = Signal(str, object)
    shape_released = Signal(str, object, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumSize(320, 240)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setMouseTracking(True)
        self.after: QImage | None = None
        self.before: QImage | None = None
        self.overlay: QImage | None = None
        self.show_before = False
        self.show_overlay = False
        self.info: dict = {}
        self.show_info = True
        self.zoom_fit = True
        self.zoom = 1.0
        self.pan = QPointF(0, 0)
        self.tool = "view"
        self.brush_size = 0.05  # fraction of the long edge
        self.handles: list[tuple[str, tuple]] = []  # outlines only (the people found)
        self.shapes: list[mh.Shape] = []  # the selected mask's editable components, with handles
        self.handles_visible = False  # only in develop
        self._handle_drag: tuple[mh.Shape, mh.Handle, tuple, dict] | None = None
        self._hover: tuple[str, str] | None = None  # (uid, handle name) under the pointer
        self.message = ""
        # The crop tool (ui/crop_tool.py) while it is on: it draws over the photo and
        # turns it by ``turn`` = (degrees counter-clockwise, zoom), as the engine will.
        self.tool_overlay = None
        self.turn = (0.0, 1.0)
        self._drag_start: QPointF | None = None
        self._drag_now: QPointF | None = None
        self._points: list[QPointF] = []
        self._pan_origin: tuple[QPointF, QPointF] | None = None
        self._erase = False

    # -- content ---------------------------------------------------------------
    def set_image(self, rgb: np.ndarray | None, *, before: np.ndarray | None = None) -> None:
        self.after = rgb_to_qimage(rgb) if rgb is not None else None
        if before is not None:
            self.before = rgb_to_qimage(before)
        self.update()

    def set_before(self, rgb: np.ndarray | None) -> None:
        self.before = rgb_to_qimage(rgb) if rgb is not None else None
        self.update()

    def set_overlay(self, alpha: np.ndarray | None) -> None:
        self.overlay = overlay_qimage(alpha) if alpha is not None else None
        self.update()

    def toggle_before(self):
        self.show_before = not self.show_before
        self.update()

    def toggle_overlay(self):
        self.show_overlay = not self.show_overlay
        self.update()

    def set_zoom_fit(self, fit: bool):
        self.zoom_fit = fit
        if fit:
            self.pan = QPointF(0, 0)
        self.update()

    def toggle_zoom(self):
        self.set_zoom_fit(not self.zoom_fit)

    def set_tool(self, tool: str):
        if tool not in TOOLS:
            raise ValueError(f"unknown canvas tool {tool!r}")
        self.tool = tool
        self._hover = None
        self.setCursor(Qt.ArrowCursor if tool == "view" else Qt.CrossCursor)

    def set_shapes(self, shapes: list[mh.Shape]) -> None:
        """The components whose handles show (the selected mask's); a drag in progress
        keeps its own shape."""
        if self._handle_drag is not None:
            uid = self._handle_drag[0].uid
            shapes = [self._handle_drag[0] if s.uid == uid else s for s in shapes]
        self.shapes = list(shapes)
        self.update()

    def set_handles_visible(self, on: bool) -> None:
        self.handles_visible = bool(on)
        if not on:
            self._handle_drag = None
            self._hover = None
        self.update()

    def view_geometry(self) -> mh.View:
        r = self.image_rect()
        return mh.View(r.x(), r.y(), r.width(), r.height())

    def handle_at(self, pos: QPointF) -> tuple[mh.Shape, mh.Handle] | None:
        """The handle under a canvas position, when handles are shown and editable."""
        if not (self.handles_visible and self.tool == "view" and self.shapes) or self.show_before \
                or self.image_rect().isEmpty():
            return None
        return mh.hit_test(self.shapes, self.view_geometry(), (pos.x(), pos.y()))

    def handle_point(self, uid: str, name: str) -> QPointF:
        """Where a point handle of a shape is on the canvas (tests and tools aim at it)."""
        shape = next(s for s in self.shapes if s.uid == uid)
        h = next(h for h in mh.handles(shape, self.view_geometry()) if h.name == name and h.style != "line")
        return QPointF(*h.a)

    # -- geometry ----------------------------------------------------------------
    def image_rect(self) -> QRectF:
        img = self.after or self.before
        if img is None:
            return QRectF()
        w, h = img.width(), img.height()
        if self.zoom_fit:
            s = min(self.width() / w, self.height() / h)
        else:
            s = self.zoom * self.devicePixelRatioF() ** -1
        dw, dh = w * s, h * s
        x = (self.width() - dw) / 2 + self.pan.x()
        y = (self.height() - dh) / 2 + self.pan.y()
        return QRectF(x, y, dw, dh)

    def to_norm(self, pos: QPointF) -> tuple[float, float]:
        r = self.image_rect()
        if r.isEmpty():
            return 0.0, 0.0
        return (min(1.0, max(0.0, (pos.x() - r.x()) / r.width())),
                min(1.0, max(0.0, (pos.y() - r.y()) / r.height())))

    def from_norm(self, x: float, y: float) -> QPointF:
        r = self.image_rect()
        return QPointF(r.x() + x * r.width(), r.y() + y * r.height())

    # -- painting ------------------------------------------------------------------
    def paintEvent(self, _ev):  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#1e1e1e"))
        img = self.before if (self.show_before and self.before is not None) else self.after
        r = self.image_rect()
        if img is not None:
            p.setRenderHint(QPainter.SmoothPixmapTransform, self.zoom_fit)
            angle, zoom = self.turn
            if angle and not self.show_before:
                p.save()
                p.setClipRect(r)
                p.translate(r.center())
                p.rotate(-angle)  # Qt turns clockwise, the recipe's straighten counter-clockwise
                p.scale(zoom, zoom)
                p.drawImage(QRectF(-r.width() / 2, -r.height() / 2, r.width(), r.height()), img)
                p.restore()
            else:
                p.drawImage(r, img)
            if self.show_overlay and self.overlay is not None and not self.show_before:
                p.drawImage(r, self.overlay)
        else:
            p.setPen(QColor("#888888"))
            p.drawText(self.rect(), Qt.AlignCenter, self.message or "No photo")
        if self.tool_overlay is not None and img is not None and not self.show_before:
            self.tool_overlay.paint(p)
        self._paint_handles(p)
        if self.handles_visible and img is not None and not self.show_before:
            self._paint_shapes(p)
        self._paint_drag(p)
        if self.show_before:
            self._badge(p, "Before", 10)
        if self.show_overlay and not self.show_before:
            self._badge(p, "Mask overlay (O)", 10 if not self.show_before else 30)
        if self.show_info and self.info:
            lines = [v for k in ("file", "size", "camera", "lens", "focal", "aperture", "shutter", "iso", "captured")
                     if (v := self.info.get(k))]
            f = QFont(p.font())
            f.setPointSizeF(9)
            p.setFont(f)
            box = QRectF(10, self.height() - 18 * len(lines) - 14, 260, 18 * len(lines) + 6)
            p.fillRect(box, QColor(0, 0, 0, 140))
            p.setPen(QColor("#e8e8e8"))
            for i, line in enumerate(lines):
                p.drawText(QRectF(16, box.y() + 3 + 18 * i, 250, 18), Qt.AlignLeft | Qt.AlignVCenter, line)
        if self.message and img is not None:
            self._badge(p, self.message, self.height() - 30, right=True)
        p.end()

    def _badge(self, p, text, y, right=False):
        fm = p.fontMetrics()
        w = fm.horizontalAdvance(text) + 16
        x = self.width() - w - 10 if right else self.width() - w - 10
        p.fillRect(QRectF(x, y, w, 22), QColor(0, 0, 0, 170))
        p.setPen(QColor("#ffffff"))
        p.drawText(QRectF(x, y, w, 22), Qt.AlignCenter, text)

    def _paint_handles(self, p):
        """Outlines that are not edited here (the people found); mask handles are shapes."""
        p.setPen(QPen(QColor("#ffffff"), 1.5))
        p.setBrush(Qt.NoBrush)
        for kind, params in self.handles:
            if kind == "box":
                x0, y0, x1, y1 = params
                p.drawRect(QRectF(self.from_norm(x0, y0), self.from_norm(x1, y1)))

    def _paint_shapes(self, p):
        view = self.view_geometry()
        p.save()
        p.setRenderHint(QPainter.Antialiasing)
        active = (self._handle_drag[0].uid, self._handle_drag[1].name) if self._handle_drag else self._hover
        for shape in self.shapes:
            hs = mh.handles(shape, view)
            if not hs:
                continue
            # Outlines: a dark halo under a white line reads on any photo.
            for colour, width in ((QColor(0, 0, 0, 150), 3.0), (QColor("#ffffff"), 1.2)):
                p.setBrush(Qt.NoBrush)
                if shape.kind == "radial":
                    c, _ux, _uy, rx, ry = mh.radial_frame(shape.params, view)
                    k = mh.radial_inner(shape.params)
                    p.save()
                    p.translate(*c)
                    p.rotate(-float(shape.params.get("angle", 0.0)))  # the engine's angle is counter-clockwise
                    p.setPen(QPen(colour, width))
                    p.drawEllipse(QPointF(0, 0), rx, ry)
                    if k > 0:
                        p.setPen(QPen(colour, width, Qt.DashLine))
                        p.drawEllipse(QPointF(0, 0), rx * k, ry * k)
                    p.restore()
                for h in hs:
                    if h.style == "line":
                        centre = shape.kind == "linear" and h.name == "move"
                        p.setPen(QPen(colour, width, Qt.SolidLine if centre or shape.kind == "object" else Qt.DashLine))
                        p.drawLine(QPointF(*h.a), QPointF(*h.b))
                    elif h.style == "rotate" and h.b is not None:  # the knob's stalk
                        p.setPen(QPen(colour, width, Qt.DotLine))
                        p.drawLine(QPointF(*h.b), QPointF(*h.a))
            for h in hs:
                hot = active == (shape.uid, h.name)
                fill = QColor("#ffd24a") if hot else QColor("#ffffff")
                pt = QPointF(*h.a)
                if h.style == "pin":
                    p.setPen(QPen(QColor("#000000"), 1.5))
                    p.setBrush(fill)
                    p.drawEllipse(pt, 7, 7)
                    p.setBrush(QColor("#222222"))
                    p.drawEllipse(pt, 3, 3)
                elif h.style == "knob":
                    p.setPen(QPen(QColor("#000000"), 1.2))
                    p.setBrush(fill if h.name != "feather" else (QColor("#ffd24a") if hot else QColor("#9ad0ff")))
                    p.drawRect(QRectF(pt.x() - 4, pt.y() - 4, 8, 8))
                elif h.style == "rotate":
                    p.setPen(QPen(QColor("#000000"), 1.2))
                    p.setBrush(fill)
                    p.drawEllipse(pt, 5, 5)
                    p.setBrush(Qt.NoBrush)
                    p.setPen(QPen(QColor("#000000"), 1.2))
                    p.drawArc(QRectF(pt.x() - 3, pt.y() - 3, 6, 6), 30 * 16, 240 * 16)
        p.restore()

    def _paint_drag(self, p):
        if self._drag_start is None or self._drag_now is None:
            return
        p.setPen(QPen(QColor("#ffd24a"), 1.5, Qt.DashLine))
        p.setBrush(Qt.NoBrush)
        a, b = self._drag_start, self._drag_now
        if self.tool == "box":
            p.drawRect(QRectF(a, b).normalized())
        elif self.tool == "linear":
            p.drawLine(a, b)
        elif self.tool == "radial":
            p.drawEllipse(a, abs(b.x() - a.x()), abs(b.y() - a.y()))
        elif self.tool in ("lasso", "brush") and self._points:
            path = QPainterPath(self._points[0])
            for pt in self._points[1:]:
                path.lineTo(pt)
            if self.tool == "brush":
                r = self.image_rect()
                p.setPen(QPen(QColor(255, 80, 80, 160) if self._erase else QColor(255, 210, 74, 160),
                              max(2.0, self.brush_size * max(r.width(), r.height())), Qt.SolidLine, Qt.RoundCap))
            p.drawPath(path)

    # -- pointer --------------------------------------------------------------------
    def mousePressEvent(self, ev):  # noqa: N802
        pos = ev.position()
        if ev.button() == Qt.LeftButton and (hit := self.handle_at(pos)) is not None:
            shape, handle = hit
            self._handle_drag = (shape, handle, (pos.x(), pos.y()), dict(shape.params))
            self.setCursor(handle_cursor(handle.cursor, pressed=True))
            self.update()
            return
        if self.tool == "view" or ev.button() == Qt.MiddleButton:
            self._pan_origin = (pos, QPointF(self.pan))
            return
        if self.tool == "eyedropper":
            self.colour_picked.emit(*self.to_norm(pos))
            return
        self._drag_start = self._drag_now = pos
        self._points = [pos]
        self._erase = bool(ev.modifiers() & Qt.AltModifier)

    def mouseMoveEvent(self, ev):  # noqa: N802
        pos = ev.position()
        if self._handle_drag is not None:
            shape, handle, start, params0 = self._handle_drag
            params = mh.drag(shape.kind, params0, handle.name, self.view_geometry(), start, (pos.x(), pos.y()))
            if params != shape.params:
                shape.params = params
                self.update()
                self.shape_dragged.emit(shape.uid, dict(params))
            return
        if self._pan_origin is None and self._drag_start is None and self.tool == "view":
            self._update_hover(pos)
        if self._pan_origin is not None:
            if not self.zoom_fit:
                start, pan0 = self._pan_origin
                self.pan = pan0 + (pos - start)
                self.update()
            return
        if self._drag_start is not None:
            self._drag_now = pos
            self._points.append(pos)
            self.update()

    def _update_hover(self, pos: QPointF) -> None:
        hit = self.handle_at(pos)
        hover = (hit[0].uid, hit[1].name) if hit else None
        if hover != self._hover:
            self._hover = hover
            self.setCursor(handle_cursor(hit[1].cursor) if hit else Qt.ArrowCursor)
            self.update()

    def mouseReleaseEvent(self, ev):  # noqa: N802
        if self._handle_drag is not None:
            shape, handle, start, params0 = self._handle_drag
            moved = shape.params != params0
            pos = ev.position()  # where the button came up is where the shape ends
            shape.params = mh.drag(shape.kind, params0, handle.name, self.view_geometry(), start, (pos.x(), pos.y()))
            self._handle_drag = None
            self._hover = None
            self._update_hover(ev.position())
            self.update()
            if shape.params != params0:
                self.shape_released.emit(shape.uid, dict(shape.params), handle.name)
            elif moved:  # back where it started: undo the live change, record nothing
                self.shape_dragged.emit(shape.uid, dict(params0))
            return
        if self._pan_origin is not None:
            self._pan_origin = None
            return
        if self._drag_start is None:
            return
        a, b = self.to_norm(self._drag_start), self.to_norm(ev.position())
        pts = [self.to_norm(q) for q in self._points] + [b]
        self._drag_start = self._drag_now = None
        self._points = []
        self.update()
        if self.tool == "box":
            self.box_drawn.emit(min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]))
        elif self.tool == "lasso" and len(pts) >= 3:
            self.lasso_drawn.emit(pts)
        elif self.tool == "brush":
            self.brush_stroke.emit(pts, self._erase)
        elif self.tool == "linear":
            self.linear_drawn.emit(a[0], a[1], b[0], b[1])
        elif self.tool == "radial":
            r = self.image_rect()
            long_px = max(r.width(), r.height()) or 1.0
            self.radial_drawn.emit(a[0], a[1], abs(b[0] - a[0]) * r.width() / long_px,
                                   abs(b[1] - a[1]) * r.height() / long_px)

    def keyPressEvent(self, ev):  # noqa: N802
        if ev.key() == Qt.Key_Escape and self._handle_drag is not None:
            shape, _handle, _start, params0 = self._handle_drag  # Esc mid-drag: put it back
            self._handle_drag = None
            if shape.params != params0:
                shape.params = dict(params0)
                self.shape_dragged.emit(shape.uid, dict(params0))
            self.setCursor(Qt.ArrowCursor)
            self._hover = None
            self.update()
            return
        super().keyPressEvent(ev)

    def mouseDoubleClickEvent(self, ev):  # noqa: N802
        if self.tool == "view" and self.handle_at(ev.position()) is None:
            self.toggle_zoom()

    def wheelEvent(self, ev):  # noqa: N802
        if self.zoom_fit:
            return
        self.zoom = min(8.0, max(0.1, self.zoom * (1.15 if ev.angleDelta().y() > 0 else 1 / 1.15)))
        self.update()
