"""The review queue: predicted segments of the current video, least certain first.

Filters by label, confidence range, status and track. Enter (or a double
click) asks the window to jump to the segment and select it; after the user
accepts, rejects or relabels it, :meth:`ReviewQueue.advance` moves on to the
next one. Rows are a plain table model over the store's rows, rebuilt (at
most every 100 ms) when the store changes.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from actdesk.core.project import StoredSegment
from actdesk.qt.document import ProjectDocument
from actdesk.qt.timeline import format_time

COLUMNS = ("conf.", "label", "start", "length", "status", "track")
STATUS_FILTERS = (("pending", ("pending",)), ("accepted", ("accepted",)), ("rejected", ("rejected",)),
                  ("all", ("pending", "accepted", "rejected")))


class QueueModel(QAbstractTableModel):
    """Rows ``(segment, track name)`` in queue order."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[StoredSegment, str]] = []
        self.colours: dict[str, str] = {}

    def set_rows(self, rows: list[tuple[StoredSegment, str]]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        seg, track_name = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return "–" if seg.confidence is None else f"{seg.confidence:.2f}"
            if column == 1:
                return seg.label
            if column == 2:
                return format_time(seg.start_s, 2)
            if column == 3:
                return f"{seg.end_s - seg.start_s:.2f} s"
            if column == 4:
                return seg.status
            return track_name
        if role == Qt.ItemDataRole.DecorationRole and column == 1:
            return QColor(self.colours.get(seg.label, "#888888"))
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (0, 2, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class QueueTable(QTableView):
    """Enter jumps to the current row's segment."""

    activatedRow = Signal(int)

    def event(self, event) -> bool:
        # Claim Enter before the window's "create from marks" shortcut sees it.
        if event.type() == QEvent.Type.ShortcutOverride and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.activatedRow.emit(self.currentIndex().row())
            event.accept()
            return
        super().keyPressEvent(event)


class ReviewQueue(QWidget):
    """The panel: filters, the table, and 'accept all above threshold'."""

    jumpRequested = Signal(int, int)  # track id, segment id
    acceptAboveRequested = Signal(list, float)  # track ids, threshold

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.document: ProjectDocument | None = None
        self.model = QueueModel()
        self._current_id: int | None = None
        self._current_row = 0

        self.label_filter = QComboBox()
        self.status_filter = QComboBox()
        for name, _ in STATUS_FILTERS:
            self.status_filter.addItem(name)
        self.track_filter = QComboBox()
        self.min_conf = _conf_box(0.0)
        self.max_conf = _conf_box(1.0)
        for w in (self.label_filter, self.status_filter, self.track_filter):
            w.currentIndexChanged.connect(self._schedule_refresh)
        for w in (self.min_conf, self.max_conf):
            w.valueChanged.connect(self._schedule_refresh)

        self.table = QueueTable()
        self.table.setObjectName("reviewTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAlternatingRowColors(True)
        self.table.activatedRow.connect(self._jump_to_row)
        self.table.doubleClicked.connect(lambda index: self._jump_to_row(index.row()))

        self.threshold = _conf_box(0.9)
        self.accept_button = QPushButton("Accept all ≥")
        self.accept_button.setToolTip("Accept every pending segment of the shown track(s) "
                                      "whose confidence is at least the threshold")
        self.accept_button.clicked.connect(self._accept_above)
        self.count_label = QLabel("")
        self.count_label.setObjectName("dimLabel")

        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(QLabel("Label"), 0, 0)
        grid.addWidget(self.label_filter, 0, 1)
        grid.addWidget(QLabel("Status"), 0, 2)
        grid.addWidget(self.status_filter, 0, 3)
        grid.addWidget(QLabel("Track"), 1, 0)
        grid.addWidget(self.track_filter, 1, 1)
        conf = QHBoxLayout()
        conf.addWidget(self.min_conf)
        conf.addWidget(QLabel("–"))
        conf.addWidget(self.max_conf)
        grid.addWidget(QLabel("Conf."), 1, 2)
        grid.addLayout(conf, 1, 3)
        grid.setColumnStretch(1, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.accept_button)
        bottom.addWidget(self.threshold)
        bottom.addStretch(1)
        bottom.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(grid)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(100)
        self._refresh_timer.timeout.connect(self.refresh)

    # -- wiring ------------------------------------------------------------------
    def set_document(self, document: ProjectDocument | None) -> None:
        self.document = document
        if document is not None:
            document.changed.connect(self._on_change)
            document.videoChanged.connect(self._reload_filters)
        self._reload_filters()

    def _on_change(self, change) -> None:
        if change.kind in ("labels", "tracks"):
            self._reload_filters()
        else:
            self._schedule_refresh()

    def _reload_filters(self) -> None:
        doc = self.document
        for box, items in ((self.label_filter, ["all labels"] + (doc.label_names() if doc and doc.video else [])),
                           (self.track_filter, ["all model tracks"] + [t.name for t in self._model_tracks()])):
            current = box.currentText()
            box.blockSignals(True)
            box.clear()
            box.addItems(items)
            box.setCurrentIndex(max(box.findText(current), 0))
            box.blockSignals(False)
        if doc is not None:
            self.model.colours = {label.name: label.colour for label in doc.labels()}
        self.refresh()

    def _model_tracks(self):
        doc = self.document
        if doc is None or doc.video is None:
            return []
        return [t for t in doc.tracks() if t.kind == "model"]

    def _schedule_refresh(self, *_) -> None:
        self._refresh_timer.start()

    # -- the queue -------------------------------------------------------------------
    def shown_tracks(self):
        tracks = self._model_tracks()
        if self.track_filter.currentIndex() > 0:
            tracks = [t for t in tracks if t.name == self.track_filter.currentText()]
        return tracks

    def refresh(self) -> None:
        """Rebuild the rows from the store with the current filters, keeping the current row."""
        self._refresh_timer.stop()
        rows: list[tuple[StoredSegment, str]] = []
        label = self.label_filter.currentText() if self.label_filter.currentIndex() > 0 else None
        statuses = STATUS_FILTERS[self.status_filter.currentIndex()][1]
        lo, hi = self.min_conf.value(), self.max_conf.value()
        for track in self.shown_tracks():
            for seg in self.document.project.segments(track.id):
                conf = seg.confidence
                if seg.status not in statuses or (label is not None and seg.label != label):
                    continue
                if conf is not None and not (lo <= conf <= hi):
                    continue
                rows.append((seg, track.name))
        rows.sort(key=lambda r: (math.inf if r[0].confidence is None else r[0].confidence, r[0].start_frame))
        self.model.set_rows(rows)
        self.count_label.setText(f"{len(rows)} segment{'s' if len(rows) != 1 else ''}")
        self.accept_button.setEnabled(bool(self.shown_tracks()))
        if rows:
            ids = [seg.id for seg, _ in rows]
            row = ids.index(self._current_id) if self._current_id in ids else min(self._current_row, len(rows) - 1)
            self._set_current_row(row)

    def _set_current_row(self, row: int) -> None:
        self._current_row = row
        self._current_id = self.model.rows[row][0].id
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))

    def current_segment(self) -> StoredSegment | None:
        if not self.model.rows or not 0 <= self._current_row < len(self.model.rows):
            return None
        return self.model.rows[self._current_row][0]

    def holds(self, segment_id: int) -> bool:
        """Whether ``segment_id`` is the queue's current segment (the user is reviewing from it)."""
        return self._current_id == segment_id

    def advance(self) -> None:
        """Move to the segment after the current one and jump there.

        Called after the current segment was accepted, rejected or relabelled;
        when that made it leave the filtered list, the next one has taken its row.
        """
        previous = self._current_id
        self.refresh()
        if not self.model.rows:
            return
        row = self._current_row
        if self.model.rows[row][0].id == previous:  # still listed (e.g. filter "all"): take the next row
            row = min(row + 1, len(self.model.rows) - 1)
        self._jump_to_row(row)

    def _jump_to_row(self, row: int) -> None:
        if not 0 <= row < len(self.model.rows):
            return
        self._set_current_row(row)
        seg = self.model.rows[row][0]
        self.jumpRequested.emit(seg.track_id, seg.id)

    def _accept_above(self) -> None:
        tracks = self.shown_tracks()
        if tracks:
            self.acceptAboveRequested.emit([t.id for t in tracks], float(self.threshold.value()))


def _conf_box(value: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0.0, 1.0)
    box.setSingleStep(0.05)
    box.setDecimals(2)
    box.setValue(value)
    return box
