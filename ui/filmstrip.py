"""The filmstrip under the loupe and develop views: one row of small thumbnails of the
photos the grid shows (its filter, sort and virtual copies), as in Lightroom.

It is a second view on the grid's own model and selection model, not a copy: a click
here is a click in the grid (the window opens that cell), the arrow keys step through
the same order, and the thumbnails come from the grid's cache, decoded on its worker
(``ThumbnailCache``), so nothing here touches the catalog or blocks the GUI thread; a
cell whose thumbnail is not loaded yet paints empty and fills when it lands.
"""
from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QItemSelectionModel, QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate

from maskroom.ui.library_view import LABEL_COLOURS, RowRole

CELL = QSize(104, 84)
HEIGHT = CELL.height() + 22  # the cells and a horizontal scroll bar


class FilmstripDelegate(QStyledItemDelegate):
    """A small cell: thumbnail, selection frame, colour label edge, stars.

    The grid's thumbnails are scaled to the grid's cells; here each is scaled once more
    to the strip's, and kept (by the pixmap's cache key), so a repaint - every scroll
    step, every hover - draws instead of resampling each visible thumbnail again."""

    SCALED_KEPT = 256  # a few screens of the strip

    def __init__(self, parent=None):
        super().__init__(parent)
        self._scaled: OrderedDict = OrderedDict()

    def _fit(self, pm, size: QSize):
        key = (pm.cacheKey(), size.width(), size.height())
        hit = self._scaled.get(key)
        if hit is None:
            hit = self._scaled[key] = pm.scaled(size, Qt.KeepAspectRatio, Qt.SmoothTransformation)
            while len(self._scaled) > self.SCALED_KEPT:
                self._scaled.popitem(last=False)
        else:
            self._scaled.move_to_end(key)
        return hit

    def sizeHint(self, option, index):  # noqa: N802 - Qt API
        return CELL

    def paint(self, p: QPainter, option, index):
        rect = option.rect.adjusted(2, 2, -2, -2)
        selected = bool(option.state & QStyle.State_Selected)
        current = option.widget is not None and option.widget.currentIndex() == index
        row = index.data(RowRole)
        p.save()
        p.fillRect(rect, QColor("#5a5a5a" if selected else "#333333"))
        area = rect.adjusted(4, 4, -4, -14)
        pm = index.data(Qt.DecorationRole)
        if pm is not None:
            scaled = self._fit(pm, area.size())
            p.drawPixmap(area.left() + (area.width() - scaled.width()) // 2,
                         area.top() + (area.height() - scaled.height()) // 2, scaled)
        else:
            p.fillRect(area, QColor("#2b2b2b"))
        if row is not None:
            if row.color_label in LABEL_COLOURS:
                p.fillRect(QRect(rect.left(), rect.bottom() - 3, rect.width(), 3), QColor(LABEL_COLOURS[row.color_label]))
            if row.rating:
                f = p.font()
                f.setPointSizeF(7)
                p.setFont(f)
                p.setPen(QColor("#f0c040"))
                p.drawText(QRect(rect.left() + 4, rect.bottom() - 14, rect.width() - 8, 12),
                           Qt.AlignLeft | Qt.AlignVCenter, "★" * row.rating)
        if current:
            p.setPen(QPen(QColor("#e8e8e8"), 2))
            p.setBrush(Qt.NoBrush)
            p.drawRect(rect.adjusted(1, 1, -1, -1))
        p.restore()


class Filmstrip(QListView):
    """The grid's cells in one scrolling row, sharing the grid's model and selection."""

    def __init__(self, grid, parent=None):
        super().__init__(parent)
        self.grid = grid
        self.setModel(grid.model())
        self.setSelectionModel(grid.selectionModel())  # one selection, one current cell
        self.setViewMode(QListView.ListMode)
        self.setFlow(QListView.LeftToRight)
        self.setWrapping(False)
        self.setUniformItemSizes(True)  # Qt asks only the cells it paints for their data
        self.setLayoutMode(QListView.Batched)
        self.setBatchSize(2000)
        self.setItemDelegate(FilmstripDelegate(self))
        self.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollPerPixel)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setFixedHeight(HEIGHT)
        self.setFocusPolicy(Qt.ClickFocus)  # the canvas keeps the keyboard; its arrows step here
        self.setStyleSheet("QListView { background: #202020; border: none; border-top: 1px solid #3a3a3a; }")
        self.selectionModel().currentChanged.connect(lambda cur, _prev: cur.isValid() and self.scrollTo(cur))

    def showEvent(self, ev):  # noqa: N802 - Qt API
        super().showEvent(ev)
        if self.currentIndex().isValid():
            self.scrollTo(self.currentIndex(), QAbstractItemView.PositionAtCenter)

    def step(self, delta: int) -> bool:
        """Make the cell ``delta`` cells away current (and the only one selected);
        False at either end."""
        model = self.model()
        cur = self.currentIndex()
        row = (cur.row() if cur.isValid() else -1) + delta
        if not 0 <= row < model.rowCount():
            return False
        self.selectionModel().setCurrentIndex(model.index(row), QItemSelectionModel.ClearAndSelect)
        return True
