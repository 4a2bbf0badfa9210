"""Views of a training run: loss and accuracy curves, the per-class score table, the confusion matrix.

They only display the figures of :class:`actdesk.ml.training.EpochReport` s,
fed one epoch at a time by the Train dialog; nothing here computes a metric.
The curves are pyqtgraph plots (one point per epoch, train and validation);
the confusion matrix paints itself (rows = truth, columns = prediction, shaded
by the share of each true class, counts written in the cells).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QHBoxLayout, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from actdesk.ml.metrics import ClassScores
from actdesk.qt.timeline import BACKGROUND, TEXT_COLOUR

TRAIN_COLOUR = "#6ea8fe"
VAL_COLOUR = "#ffb454"
BEST_COLOUR = "#7bc96f"
SERIES = ("train_loss", "val_loss", "train_acc", "val_acc")
"""The EpochReport fields plotted, one curve each."""


class TrainingCurves(QWidget):
    """Loss and accuracy per epoch, for training and validation, with the best epoch marked."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._epochs: list[int] = []
        self._values: dict[str, list[float]] = {name: [] for name in SERIES}
        self.best_epoch: int | None = None
        self.loss_plot = self._plot("loss", "Loss")
        self.acc_plot = self._plot("accuracy", "Accuracy")
        self.acc_plot.setYRange(0.0, 1.0, padding=0.02)
        self.acc_plot.getPlotItem().getViewBox().setLimits(yMin=-0.05, yMax=1.05)
        self._curves = {
            "train_loss": self._curve(self.loss_plot, "train", TRAIN_COLOUR),
            "val_loss": self._curve(self.loss_plot, "validation", VAL_COLOUR),
            "train_acc": self._curve(self.acc_plot, "train", TRAIN_COLOUR),
            "val_acc": self._curve(self.acc_plot, "validation", VAL_COLOUR),
        }
        self._best_lines = []
        for plot in (self.loss_plot, self.acc_plot):
            line = pg.InfiniteLine(angle=90, pen=pg.mkPen(BEST_COLOUR, width=1, style=Qt.PenStyle.DashLine))
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)
            self._best_lines.append(line)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot)
        layout.addWidget(self.acc_plot)

    @staticmethod
    def _plot(name: str, title: str) -> pg.PlotWidget:
        plot = pg.PlotWidget()
        plot.setObjectName(f"{name}Plot")
        plot.setBackground(BACKGROUND)
        item = plot.getPlotItem()
        item.setTitle(title, color=TEXT_COLOUR, size="10pt")
        item.setLabel("bottom", "epoch")
        item.showGrid(x=True, y=True, alpha=0.15)
        item.hideButtons()
        item.setMenuEnabled(False)
        item.getViewBox().setMouseEnabled(x=False, y=False)
        item.addLegend(offset=(-10, 10), labelTextColor=TEXT_COLOUR)
        return plot

    @staticmethod
    def _curve(plot: pg.PlotWidget, name: str, colour: str) -> pg.PlotDataItem:
        return plot.plot([], [], name=name, pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=6,
                         symbolBrush=colour, symbolPen=None, connect="finite")

    def clear(self) -> None:
        self._epochs.clear()
        for values in self._values.values():
            values.clear()
        self.best_epoch = None
        for line in self._best_lines:
            line.setVisible(False)
        self._redraw()

    def add_epoch(self, report) -> None:
        """Append one :class:`~actdesk.ml.training.EpochReport`; NaN validation figures leave a gap."""
        self._epochs.append(report.epoch)
        for name in SERIES:
            self._values[name].append(float(getattr(report, name)))
        if report.best:
            self.best_epoch = report.epoch
            for line in self._best_lines:
                line.setValue(report.epoch)
                line.setVisible(True)
        self._redraw()

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The plotted points of one of :data:`SERIES`: (epochs, values)."""
        x, y = self._curves[name].getData()
        return (np.zeros(0), np.zeros(0)) if x is None else (np.asarray(x), np.asarray(y))

    def _redraw(self) -> None:
        epochs = np.asarray(self._epochs, dtype=np.float64)
        for name, curve in self._curves.items():
            curve.setData(epochs, np.asarray(self._values[name], dtype=np.float64), connect="finite")
        last = max(self._epochs, default=1)
        step = max(1, math.ceil(last / 10))  # whole epochs, at most about ten ticks
        for plot in (self.loss_plot, self.acc_plot):
            plot.setXRange(0.8, max(last, 2) + 0.2, padding=0)
            plot.getPlotItem().getAxis("bottom").setTickSpacing(major=step, minor=step)
        self.loss_plot.enableAutoRange(axis="y")


class ClassScoresTable(QTableWidget):
    """Validation precision, recall and F1 per class, with the frames of each class in the truth."""

    HEADERS = ("Class", "Precision", "Recall", "F1", "Frames")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, len(self.HEADERS), parent)
        self.setObjectName("classScores")
        self.setHorizontalHeaderLabels(self.HEADERS)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(self.HEADERS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)

    def set_scores(self, scores: Sequence[ClassScores]) -> None:
        self.setRowCount(len(scores))
        for row, s in enumerate(scores):
            cells = [s.label, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", str(s.support)]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(row, column, item)

    def scores(self) -> list[tuple[str, float, float, float, int]]:
        """The rows shown: (class, precision, recall, F1, frames)."""
        return [(self.item(r, 0).text(), float(self.item(r, 1).text()), float(self.item(r, 2).text()),
                 float(self.item(r, 3).text()), int(self.item(r, 4).text())) for r in range(self.rowCount())]


class ConfusionMatrixView(QWidget):
    """A confusion matrix: rows = true class, columns = predicted class, shaded by row share."""

    CELL_COLOUR = QColor("#3d6fb6")
    EMPTY_TEXT = "The confusion matrix appears after the first epoch with validation data."

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("confusionMatrix")
        self.matrix = np.zeros((0, 0), np.int64)
        self.labels: list[str] = []
        self.setMinimumSize(260, 220)

    def set_matrix(self, matrix: np.ndarray, labels: Sequence[str]) -> None:
        matrix = np.asarray(matrix, dtype=np.int64)
        if matrix.shape != (len(labels), len(labels)):
            raise ValueError(f"a {matrix.shape} matrix for {len(labels)} labels")
        self.matrix, self.labels = matrix, list(labels)
        self.setToolTip("rows: true class · columns: predicted class · shade: share of the true class")
        self.update()

    def clear(self) -> None:
        self.matrix, self.labels = np.zeros((0, 0), np.int64), []
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(420, 360)

    def paintEvent(self, event) -> None:  # noqa: ARG002
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(BACKGROUND))
        painter.setPen(QColor(TEXT_COLOUR))
        n = len(self.labels)
        if not n or not self.matrix.sum():
            painter.drawText(self.rect().adjusted(12, 12, -12, -12), Qt.AlignmentFlag.AlignCenter
                             | Qt.TextFlag.TextWordWrap, self.EMPTY_TEXT)
            return
        metrics = QFontMetrics(painter.font())
        label_width = min(max(metrics.horizontalAdvance(label) for label in self.labels) + 10, 120)
        caption = metrics.height() + 4
        left, top = label_width + caption, label_width + caption
        cell = max(8.0, min((self.width() - left - 8) / n, (self.height() - top - 8) / n))
        share = self.matrix / np.maximum(self.matrix.sum(axis=1, keepdims=True), 1)

        painter.drawText(QRectF(left, 0, cell * n, caption), Qt.AlignmentFlag.AlignCenter, "predicted")
        painter.save()
        painter.translate(0, top + cell * n / 2)
        painter.rotate(-90)
        painter.drawText(QRectF(-cell * n / 2, 0, cell * n, caption), Qt.AlignmentFlag.AlignCenter, "true")
        painter.restore()
        for i, label in enumerate(self.labels):
            text = metrics.elidedText(label, Qt.TextElideMode.ElideRight, label_width - 6)
            painter.drawText(QRectF(caption, top + i * cell, label_width - 6, cell),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
            painter.save()
            painter.translate(left + i * cell, top - 6)
            painter.rotate(-90)
            painter.drawText(QRectF(0, 0, label_width - 6, cell), Qt.AlignmentFlag.AlignLeft
                             | Qt.AlignmentFlag.AlignVCenter, text)
            painter.restore()
        show_counts = cell >= metrics.horizontalAdvance(str(int(self.matrix.max()))) + 4
        for i in range(n):
            for j in range(n):
                rect = QRectF(left + j * cell, top + i * cell, cell, cell)
                colour = QColor(self.CELL_COLOUR if i == j else QColor("#c0504d"))
                colour.setAlphaF(float(0.08 + 0.92 * share[i, j]) if self.matrix[i, j] else 0.04)
                painter.fillRect(rect, colour)
                if show_counts and self.matrix[i, j]:
                    painter.setPen(QColor("#ffffff"))
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(int(self.matrix[i, j])))
        painter.setPen(QPen(QColor("#3a3f48"), 1))
        painter.drawRect(QRectF(left, top, cell * n, cell * n))
