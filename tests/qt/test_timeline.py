"""The timeline widget on its own: drawing, and mouse intent (seek, select, move, draw, zoom)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QWheelEvent
from PySide6.QtWidgets import QApplication

from actdesk.core.labels import PALETTE
from actdesk.qt.timeline import TimelineWidget, TrackData, format_time

pytestmark = pytest.mark.gui

FPS = 25
LABELS = ["idle", "walk", "run", "jump"]


def segments(bounds, labels, *, conf=None, start_id=1, status="pending"):
    """Stored-segment-like rows between consecutive ``bounds`` (frames)."""
    return [SimpleNamespace(id=start_id + i, start_frame=a, end_frame=b, start_s=a / FPS, end_s=b / FPS,
                            label=labels[i % len(labels)], confidence=None if conf is None else conf[i],
                            status=status)
            for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))]


@pytest.fixture
def timeline(qtbot):
    widget = TimelineWidget()
    qtbot.addWidget(widget)
    widget.resize(1000, 260)
    widget.set_labels(LABELS, PALETTE[:len(LABELS)])
    frames = 250
    widget.set_video(np.arange(frames) / FPS, frames / FPS)
    index = {name: i for i, name in enumerate(LABELS)}
    human = TrackData.from_segments(1, "human", "human", segments([25, 75], ["walk"], start_id=1), index)
    model = TrackData.from_segments(2, "model", "model",
                                    segments([0, 50, 100, 250], ["idle", "run", "jump"], conf=[0.9, 0.4, 0.7],
                                             start_id=10), index)
    widget.set_tracks([human, model])
    widget.show()
    qtbot.waitExposed(widget)
    widget.fit()
    QApplication.processEvents()
    return widget


def test_format_time():
    assert format_time(0) == "0:00"
    assert format_time(62.5, 1) == "1:02.5"
    assert format_time(3725.25, 2) == "1:02:05.25"
    assert format_time(1.9996, 2) == "0:02.00"
    assert format_time(-0.5, 1) == "-0:00.5"


def test_rows_are_painted_in_label_colours_with_opacity_by_confidence(gui, timeline):
    image = timeline.tracks_plot.grab().toImage()
    scale = image.width() / timeline.tracks_plot.width()

    def pixel(seconds, row):
        p = gui.view_pos(timeline, seconds, row)
        return QColor(image.pixel(int(p.x() * scale), int(p.y() * scale)))

    walk = QColor(PALETTE[1])
    human = pixel(2.0, 0.5)  # inside the human "walk" segment (frames 25..75), drawn opaque
    assert abs(human.red() - walk.red()) < 12 and abs(human.green() - walk.green()) < 12
    empty = pixel(5.0, 0.5)  # the human row has no segment at 5 s
    assert abs(empty.red() - walk.red()) > 40 or abs(empty.green() - walk.green()) > 40
    # Model row: "idle" at 0.9 is drawn more opaque (closer to its colour) than "run" at 0.4.
    idle, run = QColor(PALETTE[0]), QColor(PALETTE[2])
    confident, unsure = pixel(1.0, 1.5), pixel(3.0, 1.5)
    assert abs(confident.blue() - idle.blue()) < abs(unsure.green() - run.green()) + 40
    assert abs(confident.blue() - idle.blue()) < 50


def test_click_on_empty_space_seeks_and_on_a_segment_selects(gui, qtbot, timeline):
    seeks, selections = [], []
    timeline.seekRequested.connect(seeks.append)
    timeline.selectionRequested.connect(lambda t, ids, add: selections.append((t, ids, add)))
    view = timeline.tracks_plot.viewport()
    gui.click(view, gui.view_pos(timeline, 6.0, 0.5))  # human row, no segment there
    assert seeks and abs(seeks[-1] - 150) <= 2
    gui.click(view, gui.view_pos(timeline, 3.0, 1.5))  # model "run" segment (id 11)
    assert selections[-1] == (2, [11], False)
    gui.click(view, gui.view_pos(timeline, 1.0, 1.5), Qt.KeyboardModifier.ControlModifier)
    assert selections[-1] == (2, [10], True)


def test_dragging_an_edge_moves_the_boundary_snapped_to_a_neighbour(gui, qtbot, timeline):
    moves = []
    timeline.boundaryMoved.connect(lambda sid, side, frame: moves.append((sid, side, frame)))
    view = timeline.tracks_plot.viewport()
    # Human "walk" ends at frame 75 (3.0 s); drag its end to just past the model boundary at frame 100 (4.0 s).
    gui.drag(view, gui.view_pos(timeline, 3.0, 0.5), gui.view_pos(timeline, 4.03, 0.5))
    assert moves == [(1, "end", 100)]
    # Far from any boundary the drag snaps to the nearest frame.
    gui.drag(view, gui.view_pos(timeline, 1.0, 0.5), gui.view_pos(timeline, 0.4, 0.5))
    assert moves[-1][:2] == (1, "start") and abs(moves[-1][2] - 10) <= 1


def test_dragging_on_the_empty_human_row_draws_a_segment(gui, qtbot, timeline):
    drawn = []
    timeline.segmentDrawn.connect(lambda track, a, b: drawn.append((track, a, b)))
    view = timeline.tracks_plot.viewport()
    gui.drag(view, gui.view_pos(timeline, 6.0, 0.5), gui.view_pos(timeline, 8.0, 0.5))
    assert len(drawn) == 1
    track, a, b = drawn[0]
    assert track == 1 and abs(a - 150) <= 1 and abs(b - 200) <= 1
    # A drag on the model row's segment body pans instead of drawing.
    (x0, x1), _ = timeline.tracks_view.viewRange()
    timeline.zoom(0.5, 5.0)
    gui.drag(view, gui.view_pos(timeline, 5.0, 1.5), gui.view_pos(timeline, 4.0, 1.5))
    assert len(drawn) == 1


def test_ctrl_wheel_zooms_and_fit_shows_everything(gui, qtbot, timeline):
    view = timeline.tracks_plot.viewport()
    (x0, x1), _ = timeline.tracks_view.viewRange()
    pos = QPointF(gui.view_pos(timeline, 5.0, 1.0))
    event = QWheelEvent(pos, view.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 240), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view, event)
    (y0, y1), _ = timeline.tracks_view.viewRange()
    assert (y1 - y0) < 0.8 * (x1 - x0)
    assert y0 <= 5.0 <= y1
    timeline.fit()
    (z0, z1), _ = timeline.tracks_view.viewRange()
    assert z0 == pytest.approx(0.0, abs=1e-6) and z1 == pytest.approx(10.0, abs=1e-6)


def test_ten_thousand_segments_on_three_hours_draw_the_visible_ones(gui, qtbot):
    widget = TimelineWidget()
    qtbot.addWidget(widget)
    widget.resize(1200, 200)
    widget.set_labels(LABELS, PALETTE[:len(LABELS)])
    frames = 3 * 3600 * FPS
    widget.set_video(np.arange(frames) / FPS, frames / FPS)
    bounds = np.linspace(0, frames, 10_001).astype(int)
    rows = segments(list(bounds), LABELS, conf=list(np.linspace(0.2, 1.0, 10_000)))
    track = TrackData.from_segments(5, "model", "model", rows, {n: i for i, n in enumerate(LABELS)})
    widget.set_tracks([track])
    widget.show()
    qtbot.waitExposed(widget)
    assert track.visible_range(0, frames / FPS) == (0, 10_000)
    widget.zoom(0.001, 5400.0)  # about 11 s around 1.5 h
    (x0, x1), _ = widget.tracks_view.viewRange()
    i0, i1 = track.visible_range(x0, x1)
    assert 0 < i1 - i0 < 20 and track.start_s[i0] <= x1 and track.end_s[i1 - 1] >= x0
    image = widget.tracks_plot.grab().toImage()
    p = gui.view_pos(widget, float(track.start_s[i0 + 1] + track.end_s[i0 + 1]) / 2, 0.5)
    scale = image.width() / widget.tracks_plot.width()
    colour = QColor(image.pixel(int(p.x() * scale), int(p.y() * scale)))
    expected = QColor(PALETTE[int(track.label_index[i0 + 1])])
    assert colour.hue() == pytest.approx(expected.hue(), abs=12)
