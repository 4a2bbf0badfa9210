"""GUI figures for ``actdesk bench --gui`` (offscreen, measured in this process).

- timeline redraw: 10,000 model segments on a 3-hour video, repainted whole
  at several zoom levels (whole video, an hour, a minute); the worst median
  repaint time counts (goal: one frame at 60 Hz, 16 ms);
- event-loop stall: a timer ticking every 5 ms while the model labels a
  synthetic video through the window (the real run path: worker thread,
  store commands, timeline updates); the longest gap between ticks counts
  (goal: 50 ms).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

STALL_VIDEO_SECONDS = 30.0
REDRAW_SEGMENTS = 10_000
REDRAW_HOURS = 3
REDRAW_REPEATS = 15


def _row(name: str, value: float, goal: str, detail: str) -> dict:
    op, limit = goal.split()
    passed = value <= float(limit) if op == "<=" else value >= float(limit)
    return {"name": name, "value": round(value, 2), "goal": goal, "passed": passed, "detail": detail}


def run_gui_bench() -> list[dict]:
    """The two GUI rows (``name, value, goal, passed, detail``), values in milliseconds."""
    from actdesk.qt.app import create_application

    app = create_application(offscreen=True)
    return [timeline_redraw_row(app), inference_stall_row(app)]


def timeline_redraw_row(app) -> dict:
    from actdesk.core.labels import PALETTE
    from actdesk.qt.timeline import TimelineWidget, TrackData
    from actdesk.synth import ACTIONS

    fps = 25
    frames = REDRAW_HOURS * 3600 * fps
    rng = np.random.default_rng(0)
    cuts = np.sort(rng.choice(np.arange(1, frames), REDRAW_SEGMENTS - 1, replace=False))
    bounds = np.concatenate(([0], cuts, [frames]))
    rows = [SimpleNamespace(id=i, start_frame=int(a), end_frame=int(b), start_s=a / fps, end_s=b / fps,
                            label=ACTIONS[int(rng.integers(len(ACTIONS)))], confidence=float(rng.uniform(0.2, 1)),
                            status="pending") for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))]
    widget = TimelineWidget()
    widget.resize(1600, 260)
    widget.set_labels(list(ACTIONS), PALETTE[:len(ACTIONS)])
    widget.set_video(np.arange(frames) / fps, frames / fps)
    index = {name: i for i, name in enumerate(ACTIONS)}
    widget.set_tracks([TrackData.from_segments(1, "human", "human", rows[::50], index),
                       TrackData.from_segments(2, "model", "model", rows, index)])
    widget.show()
    app.processEvents()
    medians = {}
    for name, span in (("whole video", None), ("one hour", 3600.0), ("one minute", 60.0)):
        if span is None:
            widget.fit()
        else:
            widget.tracks_view.setXRange(5400.0 - span / 2, 5400.0 + span / 2, padding=0.0)
        app.processEvents()
        times = []
        for _ in range(REDRAW_REPEATS):
            start = time.perf_counter()
            widget.tracks_plot.viewport().repaint()
            times.append((time.perf_counter() - start) * 1000)
        medians[name] = statistics.median(times)
    widget.close()
    worst = max(medians, key=medians.get)
    detail = ", ".join(f"{k} {v:.1f}" for k, v in medians.items())
    return _row("timeline redraw, 10k segments / 3 h (ms)", medians[worst], "<= 16",
                f"median repaint ms: {detail}")


def inference_stall_row(app) -> dict:
    from PySide6.QtCore import QTimer

    from actdesk.bench import _bench_model
    from actdesk.core.project import Project
    from actdesk.qt.demo import await_catalogue, wait_until
    from actdesk.qt.main_window import MainWindow
    from actdesk.synth import generate_video

    with tempfile.TemporaryDirectory(prefix="actdesk-bench-gui-") as tmp:
        work = Path(tmp)
        video = work / "stall.mp4"
        generate_video(video, seconds=STALL_VIDEO_SECONDS, seed=10021, size=(320, 240))
        loaded, checkpoint, weights = _bench_model(work)
        with Project.create(work / "stall.actdesk") as project:
            project.add_video(video)
        window = MainWindow()
        window.resize(1400, 900)
        window.show()
        window.open_project(work / "stall.actdesk")
        await_catalogue(app, window)
        panel = window.model_panel
        panel.model_box.setCurrentIndex(panel.model_box.findData(loaded.meta.architecture))
        panel.set_checkpoint(checkpoint)
        outcome: list[str] = []
        window.runner.runFinished.connect(outcome.append)
        ticks: list[float] = []
        probe = QTimer()
        probe.setInterval(5)
        probe.timeout.connect(lambda: ticks.append(time.perf_counter()))
        probe.start()
        started = time.perf_counter()
        window.run_model(all_videos=False)
        wait_until(app, lambda: bool(outcome), 900)
        elapsed = time.perf_counter() - started
        probe.stop()
        window.close()
    gaps = np.diff(ticks) * 1000 if len(ticks) > 1 else np.array([float("inf")])
    return _row("largest event-loop stall during inference (ms)", float(gaps.max()), "<= 50",
                f"{STALL_VIDEO_SECONDS:g} s video labelled through the window in {elapsed:.1f} s ({outcome[:1]}, "
                f"{weights}); 99th percentile tick gap {np.percentile(gaps, 99):.1f} ms")
