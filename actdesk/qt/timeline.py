"""The timeline: a time ruler, one row per track, a playhead and confidence curves.

The widget only displays and reports intent (seek, select, move a boundary,
draw a new segment); the main window turns intent into store commands. Rows
are painted by one item in device pixels from numpy arrays: only the segments
inside the visible range are touched, and each row's fill is one image in
which every pixel column takes the colour of the segment under it, so the
cost follows the width of the window, not the number of segments (10,000 on
a 3-hour video redraw within a frame).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QImage, QPainter, QPen
from PySide6.QtWidgets import QVBoxLayout, QWidget

STATUS_CODES = {"pending": 0, "accepted": 1, "rejected": 2}
ROW_HEIGHT_PX = 30
RULER_HEIGHT_PX = 28
AXIS_WIDTH_PX = 118
EDGE_GRAB_PX = 5
SNAP_PX = 7
MIN_TEXT_WIDTH_PX = 34
MAX_TEXT_ITEMS = 400
DRAW_ON_KINDS = frozenset({"human"})
"""Track kinds where a drag on empty space draws a segment (elsewhere it pans)."""

BACKGROUND = "#1e2127"
ROW_SHADES = ("#262a31", "#23262d")
HUMAN_ROW_SHADE = "#2b3038"
TEXT_COLOUR = "#d7dae0"
DIM_TEXT_COLOUR = "#8a8f98"
CURVES_HINT = "per-class confidence: shows a model track's curves (run a model, or click one of its segments)"
PLAYHEAD_COLOUR = "#ffcc33"
SELECTION_COLOUR = "#ffffff"
ACCEPTED_ARGB = 0xFFE8F5E9  # the light bar under accepted segments
MARKS_COLOUR = QColor(120, 180, 255, 45)


@dataclass
class TrackData:
    """One timeline row: a track's segments as arrays sorted by start."""

    track_id: int
    name: str
    kind: str  # "human" or "model"
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    start_frame: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    end_frame: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    start_s: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    end_s: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    label_index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    confidence: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    status: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))

    @classmethod
    def from_segments(cls, track_id: int, name: str, kind: str, segments: Sequence,
                      label_index: dict[str, int]) -> "TrackData":
        """Build from stored segments (objects with id, frames, seconds, label, confidence, status)."""
        segs = sorted(segments, key=lambda s: s.start_frame)
        n = len(segs)
        conf = np.array([np.nan if s.confidence is None else s.confidence for s in segs], np.float32)
        return cls(
            track_id=track_id, name=name, kind=kind,
            ids=np.fromiter((s.id for s in segs), np.int64, n),
            start_frame=np.fromiter((s.start_frame for s in segs), np.int64, n),
            end_frame=np.fromiter((s.end_frame for s in segs), np.int64, n),
            start_s=np.fromiter((s.start_s for s in segs), np.float64, n),
            end_s=np.fromiter((s.end_s for s in segs), np.float64, n),
            label_index=np.fromiter((label_index.get(s.label, -1) for s in segs), np.int32, n),
            confidence=conf.reshape(n),
            status=np.fromiter((STATUS_CODES.get(getattr(s, "status", "pending"), 0) for s in segs),
                               np.int8, n),
        )

    def __len__(self) -> int:
        return len(self.ids)

    def replaced(self, keep: np.ndarray, segments: Sequence, label_index: dict[str, int]) -> "TrackData":
        """The rows where ``keep`` is True plus ``segments`` (stored segments), sorted by start."""
        new = TrackData.from_segments(self.track_id, self.name, self.kind, segments, label_index)
        fields = ("ids", "start_frame", "end_frame", "start_s", "end_s", "label_index", "confidence", "status")
        merged = {f: np.concatenate([getattr(self, f)[keep], getattr(new, f)]) for f in fields}
        order = np.argsort(merged["start_frame"], kind="stable")
        return TrackData(self.track_id, self.name, self.kind, **{f: a[order] for f, a in merged.items()})

    def visible_range(self, x0: float, x1: float) -> tuple[int, int]:
        """Index range of the segments overlapping [x0, x1] (segments of a track never overlap)."""
        return int(np.searchsorted(self.end_s, x0, "right")), int(np.searchsorted(self.start_s, x1, "left"))

    def segment_at(self, x: float) -> int | None:
        """Index of the segment covering time ``x``."""
        i = int(np.searchsorted(self.start_s, x, "right")) - 1
        if 0 <= i < len(self.ids) and self.end_s[i] > x:
            return i
        return None

    def index_of(self, segment_id: int) -> int | None:
        hits = np.flatnonzero(self.ids == segment_id)
        return int(hits[0]) if len(hits) else None


def format_time(seconds: float, precision: int = 0) -> str:
    """``m:ss`` or ``h:mm:ss`` with ``precision`` decimals of a second."""
    sign = "-" if seconds < 0 else ""
    seconds = round(abs(seconds), precision)  # 1.9996 s at 2 decimals is 0:02.00, not 0:01.00
    whole = int(seconds)
    frac = seconds - whole
    h, rem = divmod(whole, 3600)
    m, s = divmod(rem, 60)
    text = f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
    if precision:
        text += f"{frac:.{precision}f}"[1:]
    return sign + text


class TimeAxis(pg.AxisItem):
    """A ruler labelled in m:ss (h:mm:ss past an hour), with decimals when zoomed in."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        precision = 0 if spacing >= 1 else (1 if spacing >= 0.1 else 2)
        return [format_time(v, precision) for v in values]


class TrackNameAxis(pg.AxisItem):
    """Left axis naming each row."""

    def __init__(self) -> None:
        super().__init__("left")
        self.names: list[str] = []

    def tickValues(self, minVal: float, maxVal: float, size: float):
        return [(1.0, [i + 0.5 for i in range(len(self.names))])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        out = []
        for v in values:
            i = int(v)
            name = self.names[i] if 0 <= i < len(self.names) else ""
            out.append(name if len(name) <= 16 else name[:15] + "…")
        return out


class TrackRowsItem(pg.GraphicsObject):
    """Paints every track row; all geometry in seconds (x) and row index (y)."""

    def __init__(self, timeline: "TimelineWidget"):
        super().__init__()
        self.timeline = timeline
        self._font = QFont()
        self._font.setPointSizeF(8.5)
        self._metrics = QFontMetricsF(self._font)

    def boundingRect(self) -> QRectF:
        t = self.timeline
        return QRectF(0.0, 0.0, max(t.duration_s, 1e-6), max(len(t.tracks), 1))

    def paint(self, painter: QPainter, option, widget=None) -> None:  # noqa: ARG002
        t = self.timeline
        vb = self.getViewBox()
        if vb is None:
            return
        (x0, x1), _ = vb.viewRange()
        tr = painter.transform()
        sx, tx, sy, ty = tr.m11(), tr.dx(), tr.m22(), tr.dy()
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        left = max(0.0, x0) * sx + tx
        right = min(t.duration_s, x1) * sx + tx
        for row, track in enumerate(t.tracks):
            top = row * sy + ty
            height = sy
            shade = HUMAN_ROW_SHADE if track.kind == "human" else ROW_SHADES[row % 2]
            painter.fillRect(QRectF(left, top, right - left, height), QColor(shade))
            self._paint_track(painter, track, x0, x1, sx, tx, top + 3, height - 6)
        self._paint_marks(painter, sx, tx, ty, sy * len(t.tracks))
        self._paint_preview(painter, sx, tx, sy, ty)
        painter.restore()

    def _paint_track(self, painter: QPainter, track: TrackData, x0: float, x1: float,
                     sx: float, tx: float, top: float, height: float) -> None:
        i0, i1 = track.visible_range(x0, x1)
        if i1 <= i0:
            return
        px0 = track.start_s[i0:i1] * sx + tx
        px1 = track.end_s[i0:i1] * sx + tx
        left = max(0.0, x0) * sx + tx
        width = int(math.ceil(min(self.timeline.duration_s, x1) * sx + tx - left))
        if width > 0:
            self._paint_fill(painter, track, i0, i1, left, width, sx, tx, top, height)
        self._paint_rejected(painter, track, i0, px0, px1, top, height)
        self._paint_text(painter, track, i0, px0, px1, top, height)
        self._paint_selection(painter, track, i0, i1, px0, px1, top, height)

    def _paint_fill(self, painter: QPainter, track: TrackData, i0: int, i1: int, left: float, width: int,
                    sx: float, tx: float, top: float, height: float) -> None:
        """Each pixel column takes the colour of the segment under its centre: one image per row,
        whatever the number of segments (10,000 on a 3-hour video cost the same as 10)."""
        t = self.timeline
        seconds = (left + 0.5 + np.arange(width) - tx) / sx
        j = np.searchsorted(track.start_s[i0:i1], seconds, "right") - 1
        jc = np.clip(j, 0, i1 - i0 - 1)
        inside = (j >= 0) & (track.end_s[i0:i1][jc] > seconds)
        status = track.status[i0:i1][jc]
        if track.kind == "human":
            alpha = np.ones(len(jc))
        else:
            alpha = 0.22 + 0.78 * np.nan_to_num(track.confidence[i0:i1][jc], nan=1.0)
        alpha = np.where(status == STATUS_CODES["accepted"], 1.0, alpha)
        alpha = np.where(status == STATUS_CODES["rejected"], 0.12, alpha)
        argb = t.label_rgb(track.label_index[i0:i1][jc]) | (np.round(alpha * 255).astype(np.uint32) << 24)
        argb = np.where(inside, argb, 0).astype(np.uint32)
        painter.drawImage(QRectF(left, top, width, height), _row_image(argb))
        accepted = inside & (status == STATUS_CODES["accepted"])
        if accepted.any():
            strip = np.where(accepted, np.uint32(ACCEPTED_ARGB), np.uint32(0)).astype(np.uint32)
            painter.drawImage(QRectF(left, top + height - 3, width, 3), _row_image(strip))

    def _paint_rejected(self, painter: QPainter, track: TrackData, i0: int, px0: np.ndarray, px1: np.ndarray,
                        top: float, height: float) -> None:
        rejected = np.flatnonzero((track.status[i0:i0 + len(px0)] == STATUS_CODES["rejected"]) & (px1 - px0 >= 2))
        if not len(rejected) or len(rejected) > MAX_TEXT_ITEMS:
            return
        t = self.timeline
        for i in rejected.tolist():
            colour = QColor(t.colour_of(int(track.label_index[i0 + i])))
            colour.setAlphaF(0.6)
            painter.setBrush(QBrush(colour, Qt.BrushStyle.BDiagPattern))
            painter.drawRect(QRectF(float(px0[i]), top, float(px1[i] - px0[i]), height))

    def _paint_text(self, painter: QPainter, track: TrackData, i0: int, px0: np.ndarray, px1: np.ndarray,
                    top: float, height: float) -> None:
        wide = np.flatnonzero((px1 - px0) >= MIN_TEXT_WIDTH_PX)
        if not len(wide) or len(wide) > MAX_TEXT_ITEMS:
            return
        t = self.timeline
        painter.setFont(self._font)
        for i in wide.tolist():
            j = i0 + i
            name = t.label_name(int(track.label_index[j]))
            if track.kind != "human" and not math.isnan(track.confidence[j]):
                name = f"{name} {track.confidence[j]:.2f}"
            rect = QRectF(float(px0[i]) + 4, top, float(px1[i] - px0[i]) - 8, height)
            text = self._metrics.elidedText(name, Qt.TextElideMode.ElideRight, rect.width())
            painter.setPen(QColor(t.text_colour_on(int(track.label_index[j]))))
            painter.drawText(rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
        painter.setPen(Qt.PenStyle.NoPen)

    def _paint_selection(self, painter: QPainter, track: TrackData, i0: int, i1: int,
                         px0: np.ndarray, px1: np.ndarray, top: float, height: float) -> None:
        t = self.timeline
        if t.selected_track != track.track_id or not t.selected_ids:
            return
        chosen = np.flatnonzero(np.isin(track.ids[i0:i1], list(t.selected_ids)))
        if not len(chosen):
            return
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor(SELECTION_COLOUR), 2))
        for i in chosen:
            painter.drawRect(QRectF(float(px0[i]) + 1, top - 1, float(max(px1[i] - px0[i], 2.0)) - 2, height + 2))
        painter.setPen(Qt.PenStyle.NoPen)

    def _paint_marks(self, painter: QPainter, sx: float, tx: float, top: float, height: float) -> None:
        t = self.timeline
        marks = [m for m in (t.mark_in, t.mark_out) if m is not None]
        if not marks:
            return
        xs = [t.boundary_time(m) * sx + tx for m in marks]
        if len(xs) == 2:
            painter.fillRect(QRectF(min(xs), top, abs(xs[1] - xs[0]), height), MARKS_COLOUR)
        painter.setPen(QPen(QColor(120, 180, 255), 1, Qt.PenStyle.DashLine))
        for x in xs:
            painter.drawLine(QPointF(x, top), QPointF(x, top + height))
        painter.setPen(Qt.PenStyle.NoPen)

    def _paint_preview(self, painter: QPainter, sx: float, tx: float, sy: float, ty: float) -> None:
        preview = self.timeline.drag_preview
        if preview is None:
            return
        row, a, b = preview
        x0, x1 = sorted((a * sx + tx, b * sx + tx))
        painter.setBrush(QColor(255, 255, 255, 40))
        painter.setPen(QPen(QColor(SELECTION_COLOUR), 1, Qt.PenStyle.DashLine))
        painter.drawRect(QRectF(x0, row * sy + ty + 2, max(x1 - x0, 1.0), sy - 4))
        painter.setPen(Qt.PenStyle.NoPen)


class TrackViewBox(pg.ViewBox):
    """Mouse on the rows: click selects or seeks, edge drag moves a boundary,
    drag on empty space of an editable row draws a segment, other drags pan,
    Ctrl+wheel zooms around the cursor, the plain wheel scrolls in time."""

    def __init__(self, timeline: "TimelineWidget"):
        super().__init__(enableMenu=False, invertY=True, defaultPadding=0.0)
        self.timeline = timeline
        self.setMouseEnabled(x=True, y=False)
        self._drag: tuple | None = None

    def wheelEvent(self, ev, axis=None) -> None:
        self.timeline.wheel(ev.delta(), ev.modifiers(), self.mapSceneToView(ev.scenePos()).x())
        ev.accept()

    def mouseClickEvent(self, ev) -> None:
        if ev.button() == Qt.MouseButton.RightButton:
            p = self.mapSceneToView(ev.scenePos())
            self.timeline.context_click(p.x(), p.y(), ev.screenPos())
            ev.accept()
            return
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        p = self.mapSceneToView(ev.scenePos())
        additive = bool(ev.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier))
        self.timeline.click(p.x(), p.y(), additive)
        ev.accept()

    def mouseDragEvent(self, ev, axis=None) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)
            return
        tl = self.timeline
        p = self.mapSceneToView(ev.scenePos())
        if ev.isStart():
            start = self.mapSceneToView(ev.buttonDownScenePos())
            self._drag = tl.begin_drag(start.x(), start.y())
        if self._drag is None:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        tl.update_drag(self._drag, p.x())
        if ev.isFinish():
            tl.finish_drag(self._drag, p.x())
            self._drag = None


class TimelineWidget(QWidget):
    """Ruler, track rows, playhead and per-class confidence curves, x in seconds."""

    seekRequested = Signal(int)
    selectionRequested = Signal(int, list, bool)  # track id, segment ids, additive
    boundaryMoved = Signal(int, str, int)  # segment id, "start"|"end", new boundary frame
    segmentDrawn = Signal(int, int, int)  # track id, start frame, end frame (exclusive)
    contextMenuRequested = Signal(int, int, object)  # track id (-1 none), segment id (-1 none), QPoint

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.tracks: list[TrackData] = []
        self.times_s = np.zeros(0, np.float64)
        self.bounds_s = np.zeros(1, np.float64)
        self.duration_s = 0.0
        self.labels: list[str] = []
        self.colours: list[str] = []
        self._text_colours: list[str] = []
        self._rgb = np.array([0x888888], np.uint32)
        self.selected_track: int | None = None
        self.selected_ids: set[int] = set()
        self.mark_in: int | None = None
        self.mark_out: int | None = None
        self.drag_preview: tuple[int, float, float] | None = None
        self.follow_playhead = True
        """While the playhead moves out of view, page the view after it."""

        self.tracks_view = TrackViewBox(self)
        self.name_axis = TrackNameAxis()
        self.name_axis.setWidth(AXIS_WIDTH_PX)
        self.ruler = TimeAxis("top")
        self.tracks_plot = pg.PlotWidget(viewBox=self.tracks_view,
                                         axisItems={"left": self.name_axis, "top": self.ruler})
        self.tracks_plot.setBackground(BACKGROUND)
        item = self.tracks_plot.getPlotItem()
        item.hideAxis("bottom")
        item.showAxis("top")
        item.hideButtons()
        item.setMenuEnabled(False)
        self.rows = TrackRowsItem(self)
        self.tracks_view.addItem(self.rows)
        self.playhead = pg.InfiniteLine(0.0, angle=90, movable=True,
                                        pen=pg.mkPen(PLAYHEAD_COLOUR, width=2),
                                        hoverPen=pg.mkPen(PLAYHEAD_COLOUR, width=4))
        self.playhead.setZValue(10)
        self.playhead.sigDragged.connect(self._playhead_dragged)
        self.tracks_view.addItem(self.playhead, ignoreBounds=True)

        self.curves_plot = pg.PlotWidget(viewBox=CurvesViewBox(self))
        self.curves_plot.setBackground(BACKGROUND)
        citem = self.curves_plot.getPlotItem()
        citem.hideButtons()
        citem.setMenuEnabled(False)
        citem.hideAxis("bottom")
        citem.getAxis("left").setWidth(AXIS_WIDTH_PX)
        citem.getAxis("left").setTicks([[(0.0, "0"), (0.5, "0.5"), (1.0, "1")]])
        citem.setLabel("left", "confidence")
        citem.setYRange(0.0, 1.0, padding=0.04)
        citem.getViewBox().setMouseEnabled(x=True, y=False)
        citem.getViewBox().setXLink(self.tracks_view)
        self.curves = CurvesItem()
        citem.addItem(self.curves)
        self.curves_playhead = pg.InfiniteLine(0.0, angle=90, pen=pg.mkPen(PLAYHEAD_COLOUR, width=1))
        citem.addItem(self.curves_playhead, ignoreBounds=True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.tracks_plot)
        layout.addWidget(self.curves_plot, 1)
        self.curves_plot.setMinimumHeight(70)
        self.tracks_view.sigXRangeChanged.connect(lambda *_: self.rows.update())
        self._resize_rows()

    # -- data --------------------------------------------------------------
    def set_video(self, times_s: np.ndarray, end_time_s: float) -> None:
        """Set the time base: presentation time of each frame and the end of the last one."""
        self.times_s = np.asarray(times_s, np.float64)
        self.bounds_s = np.append(self.times_s, float(end_time_s))
        self.duration_s = float(end_time_s)
        frame_s = float(np.median(np.diff(self.bounds_s))) if len(self.bounds_s) > 1 else 0.04
        self.tracks_view.setLimits(xMin=0.0, xMax=max(self.duration_s, frame_s),
                                   minXRange=max(frame_s * 8, 1e-3), maxXRange=max(self.duration_s, frame_s))
        self.mark_in = self.mark_out = None
        self.set_curves([], None)
        self.fit()

    def set_labels(self, names: list[str], colours: list[str]) -> None:
        self.labels = list(names)
        self.colours = list(colours)
        self._text_colours = [_text_colour_for(c) for c in colours]
        # RGB of each label (the last entry, index -1, for a label not in the set).
        self._rgb = np.array([QColor(c).rgb() & 0xFFFFFF for c in [*colours, "#888888"]], np.uint32)
        self.rows.update()

    def set_tracks(self, tracks: list[TrackData]) -> None:
        self.tracks = list(tracks)
        self.name_axis.names = [t.name for t in self.tracks]
        self.name_axis.picture = None
        self.name_axis.update()
        self.tracks_view.setYRange(0.0, max(len(self.tracks), 1), padding=0.0)
        self._resize_rows()
        self.rows.prepareGeometryChange()
        self.rows.update()

    def update_track(self, track: TrackData) -> None:
        for i, t in enumerate(self.tracks):
            if t.track_id == track.track_id:
                self.tracks[i] = track
                self.name_axis.names[i] = track.name
                self.rows.update()
                return
        self.set_tracks(self.tracks + [track])

    def track(self, track_id: int) -> TrackData | None:
        return next((t for t in self.tracks if t.track_id == track_id), None)

    def set_selection(self, track_id: int | None, ids: set[int] | list[int]) -> None:
        self.selected_track = track_id
        self.selected_ids = set(ids)
        self.rows.update()

    def set_marks(self, mark_in: int | None, mark_out: int | None) -> None:
        self.mark_in, self.mark_out = mark_in, mark_out
        self.rows.update()

    def set_curves(self, names: list[str], probs: np.ndarray | None, times_s: np.ndarray | None = None,
                   *, source: str = "") -> None:
        """Show per-class confidence ``probs[i, class]`` at ``times_s[i]`` (default: frame times) of the
        run named ``source``; None clears."""
        citem = self.curves_plot.getPlotItem()
        if probs is None or not len(probs):
            self.curves.set_data([], np.zeros(0), np.zeros((0, 0)), [])
            citem.setTitle(CURVES_HINT, color=DIM_TEXT_COLOUR, size="8pt")
            return
        citem.setTitle(f"per-class confidence · {source}" if source else "per-class confidence",
                       color=DIM_TEXT_COLOUR, size="8pt")
        index = {name: i for i, name in enumerate(self.labels)}
        colours = [self.colour_of(index.get(name, -1)) for name in names]
        x = self.times_s[: len(probs)] if times_s is None else np.asarray(times_s, np.float64)
        self.curves.set_data(list(names), x, np.asarray(probs, np.float32), colours)

    def curve_names(self) -> list[str]:
        """The classes whose confidence curves are shown."""
        return list(self.curves.names)

    # -- geometry helpers ----------------------------------------------------
    def colour_of(self, label_index: int) -> str:
        return self.colours[label_index] if 0 <= label_index < len(self.colours) else "#888888"

    def label_rgb(self, label_index: np.ndarray) -> np.ndarray:
        """0xRRGGBB of each label index (grey for -1, a label not in the set)."""
        return self._rgb[np.where(label_index >= 0, label_index, len(self._rgb) - 1)]

    def text_colour_on(self, label_index: int) -> str:
        return self._text_colours[label_index] if 0 <= label_index < len(self._text_colours) else "#000000"

    def label_name(self, label_index: int) -> str:
        return self.labels[label_index] if 0 <= label_index < len(self.labels) else "?"

    def boundary_time(self, boundary: int) -> float:
        """Time of frame boundary ``k`` (the start of frame k; k = frame count is the end)."""
        return float(self.bounds_s[int(np.clip(boundary, 0, len(self.bounds_s) - 1))])

    def frame_at(self, x: float) -> int:
        """The frame shown at time ``x``."""
        n = len(self.times_s)
        if n == 0:
            return 0
        return int(np.clip(np.searchsorted(self.times_s, x, "right") - 1, 0, n - 1))

    def nearest_boundary(self, x: float) -> int:
        """Frame boundary nearest to time ``x``."""
        i = int(np.searchsorted(self.bounds_s, x))
        candidates = [k for k in (i - 1, i) if 0 <= k < len(self.bounds_s)]
        return min(candidates, key=lambda k: abs(self.bounds_s[k] - x)) if candidates else 0

    def seconds_per_pixel(self) -> float:
        (x0, x1), _ = self.tracks_view.viewRange()
        return (x1 - x0) / max(self.tracks_view.width(), 1.0)

    def _row_at(self, y: float) -> int | None:
        row = int(math.floor(y))
        return row if 0 <= row < len(self.tracks) else None

    def _snap_boundary(self, x: float, exclude_id: int | None) -> int:
        """Boundary frame for ``x``: the nearest boundary of another segment within a few pixels, else the nearest frame."""
        tolerance = SNAP_PX * self.seconds_per_pixel()
        best, best_d = None, tolerance
        for track in self.tracks:
            for times, frames in ((track.start_s, track.start_frame), (track.end_s, track.end_frame)):
                i = int(np.searchsorted(times, x))
                for k in (i - 1, i):
                    if 0 <= k < len(times) and track.ids[k] != exclude_id:
                        d = abs(times[k] - x)
                        if d < best_d:
                            best, best_d = int(frames[k]), d
        return best if best is not None else self.nearest_boundary(x)

    # -- interaction (called by the view boxes) -------------------------------
    def hit(self, x: float, y: float) -> tuple[TrackData | None, int | None]:
        row = self._row_at(y)
        if row is None:
            return None, None
        track = self.tracks[row]
        return track, track.segment_at(x)

    def click(self, x: float, y: float, additive: bool) -> None:
        track, i = self.hit(x, y)
        if track is not None and i is not None:
            self.selectionRequested.emit(track.track_id, [int(track.ids[i])], additive)
        else:
            if not additive:
                self.selectionRequested.emit(-1, [], False)
            self.seekRequested.emit(self.frame_at(x))

    def context_click(self, x: float, y: float, screen_pos) -> None:
        track, i = self.hit(x, y)
        track_id = track.track_id if track is not None else -1
        seg_id = int(track.ids[i]) if track is not None and i is not None else -1
        if seg_id >= 0 and not (self.selected_track == track_id and seg_id in self.selected_ids):
            self.selectionRequested.emit(track_id, [seg_id], False)
        self.contextMenuRequested.emit(track_id, seg_id, screen_pos.toPoint())

    def begin_drag(self, x: float, y: float) -> tuple | None:
        """Decide what a drag starting at (x, y) does: move a boundary, draw a segment, or pan (None)."""
        row = self._row_at(y)
        if row is None:
            return None
        track = self.tracks[row]
        tolerance = EDGE_GRAB_PX * self.seconds_per_pixel()
        i = int(np.searchsorted(track.start_s, x))
        for k in (i - 1, i):
            if 0 <= k < len(track):
                if abs(track.start_s[k] - x) <= tolerance:
                    return ("boundary", row, int(track.ids[k]), "start")
                if abs(track.end_s[k] - x) <= tolerance:
                    return ("boundary", row, int(track.ids[k]), "end")
        if track.segment_at(x) is None and track.kind in DRAW_ON_KINDS:
            return ("create", row, self.nearest_boundary(x))
        return None

    def update_drag(self, drag: tuple, x: float) -> None:
        if drag[0] == "boundary":
            _, row, seg_id, side = drag
            track = self.tracks[row]
            i = track.index_of(seg_id)
            if i is None:
                return
            b = self.boundary_time(self._snap_boundary(x, seg_id))
            a = track.end_s[i] if side == "start" else track.start_s[i]
            self.drag_preview = (row, a, b)
        else:
            _, row, start = drag
            self.drag_preview = (row, self.boundary_time(start), self.boundary_time(self._snap_boundary(x, None)))
        self.rows.update()

    def finish_drag(self, drag: tuple, x: float) -> None:
        self.drag_preview = None
        self.rows.update()
        if drag[0] == "boundary":
            _, _row, seg_id, side = drag
            self.boundaryMoved.emit(seg_id, side, self._snap_boundary(x, seg_id))
        else:
            _, row, start = drag
            end = self._snap_boundary(x, None)
            a, b = sorted((start, end))
            if b > a:
                self.segmentDrawn.emit(self.tracks[row].track_id, a, b)

    def _playhead_dragged(self) -> None:
        self.seekRequested.emit(self.frame_at(self.playhead.value()))

    # -- view ---------------------------------------------------------------
    def set_playhead(self, frame: int) -> None:
        """Move the playhead to ``frame``; while following, page the view to keep it visible."""
        if not len(self.times_s):
            return
        x = float(self.times_s[int(np.clip(frame, 0, len(self.times_s) - 1))])
        if not self.playhead.moving:
            self.playhead.setValue(x)
        self.curves_playhead.setValue(x)
        (x0, x1), _ = self.tracks_view.viewRange()
        if self.follow_playhead and not (x0 <= x <= x1):
            width = x1 - x0
            self.tracks_view.setXRange(x - 0.1 * width, x + 0.9 * width, padding=0.0)

    def fit(self) -> None:
        """Show the whole video."""
        self.tracks_view.setXRange(0.0, max(self.duration_s, 1e-3), padding=0.0)

    def zoom(self, factor: float, center: float | None = None) -> None:
        """Scale the visible time span by ``factor`` (< 1 zooms in) around ``center`` seconds."""
        (x0, x1), _ = self.tracks_view.viewRange()
        if center is None:
            center = float(self.playhead.value()) if x0 <= self.playhead.value() <= x1 else (x0 + x1) / 2
        self.tracks_view.setXRange(center - (center - x0) * factor, center + (x1 - center) * factor, padding=0.0)

    def wheel(self, delta: int, modifiers, x: float) -> None:
        """Ctrl+wheel zooms around time ``x``; the plain wheel scrolls in time."""
        steps = delta / 120.0
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            self.zoom(0.8 ** steps, x)
        else:
            (x0, x1), _ = self.tracks_view.viewRange()
            self.scroll_by(-steps * 0.1 * (x1 - x0))

    def scroll_by(self, seconds: float) -> None:
        (x0, x1), _ = self.tracks_view.viewRange()
        self.tracks_view.setXRange(x0 + seconds, x1 + seconds, padding=0.0)

    def show_range(self, start_s: float, end_s: float) -> None:
        """Make [start_s, end_s] visible, zooming out only when it does not fit."""
        (x0, x1), _ = self.tracks_view.viewRange()
        width = x1 - x0
        if end_s - start_s > width * 0.9:
            pad = (end_s - start_s) * 0.1
            self.tracks_view.setXRange(start_s - pad, end_s + pad, padding=0.0)
        elif start_s < x0 or end_s > x1:
            mid = (start_s + end_s) / 2
            self.tracks_view.setXRange(mid - width / 2, mid + width / 2, padding=0.0)

    def _resize_rows(self) -> None:
        rows = max(len(self.tracks), 1)
        self.tracks_plot.setFixedHeight(RULER_HEIGHT_PX + rows * ROW_HEIGHT_PX + 4)


class CurvesItem(pg.GraphicsObject):
    """Per-class confidence curves in one item (adding ten pyqtgraph curves costs ~50 ms
    on the GUI thread): only the visible part is drawn, decimated to the pixel columns."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.x = np.zeros(0)
        self.probs = np.zeros((0, 0), np.float32)
        self.pens: list[QPen] = []
        self._cache_key: tuple | None = None
        self._cache: tuple[np.ndarray, np.ndarray] | None = None

    def set_data(self, names: list[str], x: np.ndarray, probs: np.ndarray, colours: list[str]) -> None:
        self.prepareGeometryChange()
        self.names, self.x, self.probs = names, x, probs
        self._cache_key = None
        self.pens = []
        for colour in colours:
            pen = QPen(QColor(colour), 1)
            pen.setCosmetic(True)
            self.pens.append(pen)
        self.update()

    @staticmethod
    def _decimate(px: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where points outnumber pixel columns, two points (min, max) per column keep every peak."""
        column = np.floor(px).astype(np.int64)
        starts = np.flatnonzero(np.r_[True, column[1:] != column[:-1]])
        if len(starts) >= len(px) // 2:
            return px, probs
        out = np.empty((2 * len(starts), probs.shape[1]), np.float32)
        out[0::2] = np.minimum.reduceat(probs, starts, axis=0)
        out[1::2] = np.maximum.reduceat(probs, starts, axis=0)
        return np.repeat(column[starts].astype(np.float64), 2), out

    def boundingRect(self) -> QRectF:
        if not len(self.x):
            return QRectF()
        return QRectF(float(self.x[0]), 0.0, float(self.x[-1] - self.x[0]) or 1e-6, 1.0)

    def paint(self, painter: QPainter, option, widget=None) -> None:  # noqa: ARG002
        vb = self.getViewBox()
        if vb is None or len(self.x) < 2:
            return
        (x0, x1), _ = vb.viewRange()
        i0 = max(int(np.searchsorted(self.x, x0)) - 1, 0)
        i1 = min(int(np.searchsorted(self.x, x1)) + 1, len(self.x))
        if i1 - i0 < 2:
            return
        tr = painter.transform()
        key = (i0, i1, tr.m11(), tr.dx(), id(self.probs))
        if self._cache_key != key:  # the playhead moving repaints this item; the view rarely changes
            self._cache_key, self._cache = key, self._decimate(self.x[i0:i1] * tr.m11() + tr.dx(), self.probs[i0:i1])
        px, probs = self._cache
        painter.save()
        painter.resetTransform()
        # Plain polylines with thin cosmetic pens: stroking an antialiased path costs far more.
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        polygon = pg.functions.create_qpolygonf(len(px))
        points = pg.functions.ndarray_from_qpolygonf(polygon)
        points[:, 0] = px
        for c, pen in enumerate(self.pens):
            points[:, 1] = probs[:, c] * tr.m22() + tr.dy()
            painter.setPen(pen)
            painter.drawPolyline(polygon)
        painter.restore()


class CurvesViewBox(pg.ViewBox):
    """The confidence curves: click or drag seeks (scrubbing); Ctrl+wheel zooms like the rows."""

    def __init__(self, timeline: TimelineWidget):
        super().__init__(enableMenu=False, defaultPadding=0.0)
        self.timeline = timeline

    def wheelEvent(self, ev, axis=None) -> None:
        self.timeline.wheel(ev.delta(), ev.modifiers(), self.mapSceneToView(ev.scenePos()).x())
        ev.accept()

    def mouseClickEvent(self, ev) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            self.timeline.seekRequested.emit(self.timeline.frame_at(self.mapSceneToView(ev.scenePos()).x()))
            ev.accept()

    def mouseDragEvent(self, ev, axis=None) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        self.timeline.seekRequested.emit(self.timeline.frame_at(self.mapSceneToView(ev.scenePos()).x()))


def _row_image(argb: np.ndarray) -> QImage:
    """A one-pixel-high image of ``argb`` (uint32 per column), stretched over a row when drawn."""
    argb = np.ascontiguousarray(argb, np.uint32)
    return QImage(argb.data, len(argb), 1, 4 * len(argb), QImage.Format.Format_ARGB32).copy()


def _text_colour_for(colour: str) -> str:
    c = QColor(colour)
    luminance = 0.299 * c.redF() + 0.587 * c.greenF() + 0.114 * c.blueF()
    return "#111111" if luminance > 0.55 else "#f5f5f5"
