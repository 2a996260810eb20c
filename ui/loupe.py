"""The loupe canvas: fit / 100% zoom with pan, before/after, EXIF overlay, mask overlay,
and the on-canvas tools the masks panel uses (box, lasso, brush, gradients, eyedropper).

It only shows pixels it is given (rendering happens on workers) and reports what the
pointer did in normalised image coordinates (0..1, origin top-left), the recipe's
coordinate system.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QWidget
from maskroom.ui.qtfix import emit

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


class LoupeCanvas(QWidget):
    # Tool results, normalised coordinates.
    box_drawn = Signal(float, float, float, float)
    lasso_drawn = Signal(list)  # [(x, y), ...]
    brush_stroke = Signal(list, bool)  # points, erase (Alt held)
    linear_drawn = Signal(float, float, float, float)
    radial_drawn = Signal(float, float, float, float)  # cx, cy, rx, ry (radii: fractions of the long edge)
    colour_picked = Signal(float, float)

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
        self.handles: list[tuple[str, tuple]] = []  # gradient handles of the selected component
        self.message = ""
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
        self.setCursor(Qt.ArrowCursor if tool == "view" else Qt.CrossCursor)

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
            p.drawImage(r, img)
            if self.show_overlay and self.overlay is not None and not self.show_before:
                p.drawImage(r, self.overlay)
        else:
            p.setPen(QColor("#888888"))
            p.drawText(self.rect(), Qt.AlignCenter, self.message or "No photo")
        self._paint_handles(p)
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
        pen = QPen(QColor("#ffffff"), 1.5)
        p.setPen(pen)
        p.setBrush(Qt.NoBrush)
        for kind, params in self.handles:
            if kind == "linear":
                x0, y0, x1, y1 = params
                a, b = self.from_norm(x0, y0), self.from_norm(x1, y1)
                p.drawLine(a, b)
                for pt in (a, b):
                    p.drawEllipse(pt, 5, 5)
            elif kind == "radial":
                cx, cy, rx, ry = params
                r = self.image_rect()
                c = self.from_norm(cx, cy)
                long_px = max(r.width(), r.height())
                p.drawEllipse(c, rx * long_px, ry * long_px)
                p.drawEllipse(c, 5, 5)
            elif kind == "box":
                x0, y0, x1, y1 = params
                p.drawRect(QRectF(self.from_norm(x0, y0), self.from_norm(x1, y1)))

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
        if self.tool == "view" or ev.button() == Qt.MiddleButton:
            self._pan_origin = (pos, QPointF(self.pan))
            return
        if self.tool == "eyedropper":
            emit(self.colour_picked, *self.to_norm(pos))
            return
        self._drag_start = self._drag_now = pos
        self._points = [pos]
        self._erase = bool(ev.modifiers() & Qt.AltModifier)

    def mouseMoveEvent(self, ev):  # noqa: N802
        pos = ev.position()
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

    def mouseReleaseEvent(self, ev):  # noqa: N802
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
            emit(self.box_drawn, min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]))
        elif self.tool == "lasso" and len(pts) >= 3:
            emit(self.lasso_drawn, pts)
        elif self.tool == "brush":
            emit(self.brush_stroke, pts, self._erase)
        elif self.tool == "linear":
            emit(self.linear_drawn, a[0], a[1], b[0], b[1])
        elif self.tool == "radial":
            r = self.image_rect()
            long_px = max(r.width(), r.height()) or 1.0
            emit(self.radial_drawn, a[0], a[1], abs(b[0] - a[0]) * r.width() / long_px,
                                   abs(b[1] - a[1]) * r.height() / long_px)

    def mouseDoubleClickEvent(self, ev):  # noqa: N802
        if self.tool == "view":
            self.toggle_zoom()

    def wheelEvent(self, ev):  # noqa: N802
        if self.zoom_fit:
            return
        self.zoom = min(8.0, max(0.1, self.zoom * (1.15 if ev.angleDelta().y() > 0 else 1 / 1.15)))
        self.update()
