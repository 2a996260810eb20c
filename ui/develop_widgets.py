"""Develop panel widgets drawn by hand: the live histogram, the tone-curve editor and
the colour-grading wheels."""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QConicalGradient, QPainter, QPainterPath, QPen, QPolygonF, QRadialGradient
from PySide6.QtWidgets import QSizePolicy, QWidget

from maskroom.services import develop as develop_service

MAX_POINTS = 16


class HistogramWidget(QWidget):
    """R, G, B and luminance of the rendered preview, with clipping warnings: the
    triangles in the top corners light up when shadows (left) or highlights (right)
    clip; clicking one toggles the clipping overlay (as the J key does)."""

    clipping_toggled = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumHeight(110)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.hist = None
        self.show_clipping = False

    def set_image(self, rgb: np.ndarray | None) -> None:
        self.hist = None if rgb is None else develop_service.histogram_of(rgb)
        self.update()

    def paintEvent(self, _ev):  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        r = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        p.fillRect(r, QColor(34, 34, 34))
        if self.hist is None:
            p.end()
            return
        h = self.hist
        chans = [np.asarray(h.red, float), np.asarray(h.green, float), np.asarray(h.blue, float)]
        # ignore the clipped end bins for the scale, or one spike flattens the rest
        top = max(1.0, max(float(c[1:-1].max()) for c in chans + [np.asarray(h.luminance, float)]))
        p.setCompositionMode(QPainter.CompositionMode_Plus)
        for counts, colour in zip(chans, (QColor(200, 40, 40), QColor(40, 180, 40), QColor(50, 70, 220))):
            p.setPen(Qt.NoPen)
            p.setBrush(colour)
            p.drawPolygon(self._polygon(counts, top, r))
        p.setCompositionMode(QPainter.CompositionMode_SourceOver)
        p.setPen(QPen(QColor(230, 230, 230), 1))
        p.setBrush(Qt.NoBrush)
        p.drawPolyline(self._polygon(np.asarray(h.luminance, float), top, r, closed=False))
        for left, clipped in ((True, h.clipped_shadows), (False, h.clipped_highlights)):
            on = clipped > 0
            colour = (QColor(80, 140, 255) if left else QColor(255, 70, 70)) if on else QColor(90, 90, 90)
            x = r.left() + 3 if left else r.right() - 13
            tri = QPolygonF([QPointF(x, r.top() + 3), QPointF(x + 10, r.top() + 3),
                             QPointF(x if left else x + 10, r.top() + 13)])
            p.setPen(QPen(QColor(255, 255, 255) if self.show_clipping else Qt.NoPen))
            p.setBrush(colour)
            p.drawPolygon(tri)
        p.setPen(QColor(170, 170, 170))
        pct = 100.0 * h.clipped_highlights / max(1, h.pixels)
        p.drawText(r.adjusted(18, 2, -18, 0), Qt.AlignTop | Qt.AlignHCenter,
                   f"clipped: {100.0 * h.clipped_shadows / max(1, h.pixels):.1f} % shadows, {pct:.1f} % highlights")
        p.end()

    @staticmethod
    def _polygon(counts: np.ndarray, top: float, r: QRectF, closed: bool = True) -> QPolygonF:
        xs = r.left() + np.arange(256) / 255.0 * r.width()
        ys = r.bottom() - np.minimum(counts / top, 1.0) * (r.height() - 16)
        pts = [QPointF(float(x), float(y)) for x, y in zip(xs, ys)]
        if closed:
            pts = [QPointF(r.left(), r.bottom())] + pts + [QPointF(r.right(), r.bottom())]
        return QPolygonF(pts)

    def mousePressEvent(self, ev):  # noqa: N802 - Qt API
        if ev.position().y() < 20 and (ev.position().x() < 20 or ev.position().x() > self.width() - 20):
            self.show_clipping = not self.show_clipping
            self.clipping_toggled.emit(self.show_clipping)
            self.update()


class CurveWidget(QWidget):
    """A point curve editor: click to add a point, drag to move it, double-click a point
    to remove it.  ``moved(points)`` while dragging, ``released(points)`` on release
    (one history step).  Points are [x, y] in 0..1 with increasing x (at most 16); the
    curve drawn is the engine's own monotone cubic."""

    moved = Signal(list)
    released = Signal(list)
    PICK_RADIUS = 8

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumSize(200, 200)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.points: list[list[float]] = []
        self.colour = QColor(230, 230, 230)
        self.drag: int | None = None

    def heightForWidth(self, w):  # noqa: N802 - Qt API
        return w

    def set_points(self, points, colour: QColor | None = None) -> None:
        self.points = [[float(x), float(y)] for x, y in (points or [])]
        if colour is not None:
            self.colour = colour
        self.update()

    def _area(self) -> QRectF:
        side = min(self.width(), self.height()) - 12
        return QRectF((self.width() - side) / 2, 6, side, side)

    def _to_px(self, x: float, y: float) -> QPointF:
        a = self._area()
        return QPointF(a.left() + x * a.width(), a.bottom() - y * a.height())

    def _from_px(self, pos) -> tuple[float, float]:
        a = self._area()
        return (float(np.clip((pos.x() - a.left()) / a.width(), 0, 1)),
                float(np.clip((a.bottom() - pos.y()) / a.height(), 0, 1)))

    def _hit(self, pos) -> int | None:
        for i, (x, y) in enumerate(self.points):
            q = self._to_px(x, y)
            if abs(q.x() - pos.x()) <= self.PICK_RADIUS and abs(q.y() - pos.y()) <= self.PICK_RADIUS:
                return i
        return None

    def paintEvent(self, _ev):  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        a = self._area()
        p.fillRect(a, QColor(34, 34, 34))
        p.setPen(QPen(QColor(70, 70, 70), 1))
        for i in range(1, 4):
            x, y = a.left() + a.width() * i / 4, a.top() + a.height() * i / 4
            p.drawLine(QPointF(x, a.top()), QPointF(x, a.bottom()))
            p.drawLine(QPointF(a.left(), y), QPointF(a.right(), y))
        p.drawLine(self._to_px(0, 0), self._to_px(1, 1))
        xs = np.linspace(0, 1, 129)
        ys = develop_service.curve_values(self.points, xs)
        path = QPainterPath(self._to_px(xs[0], ys[0]))
        for x, y in zip(xs[1:], ys[1:]):
            path.lineTo(self._to_px(float(x), float(y)))
        p.setPen(QPen(self.colour, 2))
        p.drawPath(path)
        p.setBrush(self.colour)
        for x, y in self.points:
            p.drawEllipse(self._to_px(x, y), 4, 4)
        p.end()

    def mousePressEvent(self, ev):  # noqa: N802 - Qt API
        pos = ev.position()
        i = self._hit(pos)
        if i is None:
            x, y = self._from_px(pos)
            if len(self.points) >= MAX_POINTS or any(abs(x - px) < 0.01 for px, _ in self.points):
                return
            self.points.append([x, y])
            self.points.sort()
            i = next(k for k, (px, _) in enumerate(self.points) if px == x)
        self.drag = i
        self.moved.emit(self.value())
        self.update()

    def mouseMoveEvent(self, ev):  # noqa: N802 - Qt API
        if self.drag is None:
            return
        x, y = self._from_px(ev.position())
        lo = self.points[self.drag - 1][0] + 0.01 if self.drag > 0 else 0.0
        hi = self.points[self.drag + 1][0] - 0.01 if self.drag + 1 < len(self.points) else 1.0
        self.points[self.drag] = [float(np.clip(x, lo, hi)), y]
        self.moved.emit(self.value())
        self.update()

    def mouseReleaseEvent(self, _ev):  # noqa: N802 - Qt API
        if self.drag is not None:
            self.drag = None
            self.released.emit(self.value())

    def mouseDoubleClickEvent(self, ev):  # noqa: N802 - Qt API
        i = self._hit(ev.position())
        if i is not None:
            del self.points[i]
            self.drag = None
            self.released.emit(self.value())
            self.update()

    def value(self) -> list[list[float]]:
        return [[round(x, 4), round(y, 4)] for x, y in self.points]


class ColourWheel(QWidget):
    """A colour-grading wheel: the puck's angle is the tint's hue (sRGB HSV degrees, 0 =
    red at three o'clock, counter-clockwise as on a colour circle), its distance from
    the centre the saturation 0..100.  Drag the puck (or click anywhere on the wheel)
    for ``moved(hue, saturation)`` live and ``released(hue, saturation)`` once (one
    history step); Shift moves saturation only, keeping the hue; a double-click resets."""

    moved = Signal(float, float)
    released = Signal(float, float)
    MAX_SATURATION = 100.0

    def __init__(self, title: str = "", parent=None):
        super().__init__(parent)
        self.title = title
        self.hue, self.saturation = 0.0, 0.0
        self.dragging = False
        self._press_hue = 0.0
        self.setMinimumSize(110, 124)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setToolTip(f"{title}: drag the puck (hue round, saturation out); Shift keeps the hue; "
                        "double-click resets")

    def set_value(self, hue: float, saturation: float) -> None:
        if not self.dragging:
            self.hue, self.saturation = float(hue) % 360.0, float(saturation)
            self.update()

    # -- geometry ------------------------------------------------------------------------
    def _circle(self) -> tuple[QPointF, float]:
        r = (min(self.width(), self.height() - 16) - 8) / 2
        return QPointF(self.width() / 2, 4 + r), r

    def puck(self) -> QPointF:
        """Where the puck is drawn (tests aim at it)."""
        c, r = self._circle()
        a = math.radians(self.hue)
        d = r * self.saturation / self.MAX_SATURATION
        return QPointF(c.x() + d * math.cos(a), c.y() - d * math.sin(a))

    def value_at(self, pos) -> tuple[float, float]:
        """(hue, saturation) of a point of the widget (outside the wheel: on its rim)."""
        c, r = self._circle()
        dx, dy = pos.x() - c.x(), c.y() - pos.y()
        hue = math.degrees(math.atan2(dy, dx)) % 360.0
        sat = min(1.0, math.hypot(dx, dy) / max(1.0, r)) * self.MAX_SATURATION
        return round(hue, 1), round(sat, 1)

    # -- drawing ---------------------------------------------------------------------------
    def paintEvent(self, _ev):  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        c, r = self._circle()
        # Hues round the rim (a conical gradient starts at 3 o'clock and runs
        # counter-clockwise, as the hue angle does), fading to grey at the centre.
        hues = QConicalGradient(c, 0)
        for i in range(13):
            hues.setColorAt(i / 12, QColor.fromHsvF((i / 12) % 1.0, 0.75, 0.85))
        p.setPen(QPen(QColor(20, 20, 20), 1))
        p.setBrush(hues)
        p.drawEllipse(c, r, r)
        grey = QRadialGradient(c, r)
        grey.setColorAt(0.0, QColor(128, 128, 128, 255))
        grey.setColorAt(1.0, QColor(128, 128, 128, 0))
        p.setBrush(grey)
        p.setPen(Qt.NoPen)
        p.drawEllipse(c, r, r)
        p.setPen(QPen(QColor(255, 255, 255, 60), 1))
        p.drawLine(QPointF(c.x() - 4, c.y()), QPointF(c.x() + 4, c.y()))
        p.drawLine(QPointF(c.x(), c.y() - 4), QPointF(c.x(), c.y() + 4))
        pk = self.puck()
        p.setPen(QPen(QColor(0, 0, 0), 1.5))
        p.setBrush(QColor.fromHsvF(self.hue / 360.0, self.saturation / self.MAX_SATURATION * 0.75, 0.95))
        p.drawEllipse(pk, 6, 6)
        p.setPen(QColor(200, 200, 200))
        text = self.title if self.saturation == 0 else f"{self.title}  {self.hue:.0f}° {self.saturation:.0f}"
        p.drawText(QRectF(0, self.height() - 16, self.width(), 16), Qt.AlignCenter, text)
        p.end()

    # -- pointer -----------------------------------------------------------------------------
    def mousePressEvent(self, ev):  # noqa: N802 - Qt API
        if ev.button() != Qt.LeftButton:
            return
        self.dragging = True
        self._press_hue = self.hue
        self._move_to(ev.position(), ev.modifiers())

    def mouseMoveEvent(self, ev):  # noqa: N802 - Qt API
        if self.dragging:
            self._move_to(ev.position(), ev.modifiers())

    def mouseReleaseEvent(self, ev):  # noqa: N802 - Qt API
        if self.dragging:
            self._move_to(ev.position(), ev.modifiers())
            self.dragging = False
            self.released.emit(self.hue, self.saturation)

    def mouseDoubleClickEvent(self, _ev):  # noqa: N802 - Qt API
        self.dragging = False
        self.hue, self.saturation = 0.0, 0.0
        self.update()
        self.released.emit(0.0, 0.0)

    def _move_to(self, pos, modifiers) -> None:
        hue, sat = self.value_at(pos)
        if modifiers & Qt.ShiftModifier:
            hue = self._press_hue
        if (hue, sat) != (self.hue, self.saturation):
            self.hue, self.saturation = hue, sat
            self.update()
            self.moved.emit(hue, sat)
