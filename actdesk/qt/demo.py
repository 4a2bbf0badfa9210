"""``actdesk demo`` and ``actdesk --smoke-test``: the app on a generated video.

The demo makes (once, then reuses) a synthetic action video from an
evaluation seed, a fresh project holding it, and opens the app with the
bundled model labelling it in the background, segments appearing on the
timeline as windows finish. Without a screen, or with ``--screenshot``, it
runs offscreen to the end, writes a screenshot, prints the segments and their
frame accuracy against the synthetic truth, and exits.

The smoke test is the whole GUI path in one offscreen run: window, generated
clip, the default model to completion in the worker, an edit, its undo, save,
reopen. It prints nothing on success.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from actdesk.core.segments import Segment
from actdesk.errors import ActdeskError

DEMO_SEED = 10007  # an evaluation seed (>= TRAIN_SEED_LIMIT): the bundled model never saw it
DEMO_SECONDS = 60.0
DEMO_SIZE = (320, 240)
SMOKE_SEED = 10003
SMOKE_SECONDS = 4.0
RUN_TIMEOUT_S = 900.0


@dataclass
class DemoFiles:
    project: Path
    video: Path
    truth: list[Segment]


def demo_folder() -> Path:
    """``demo/`` in the per-user data folder, or a temporary folder when that is not writable."""
    from actdesk.paths import user_data_dir

    folder = user_data_dir() / "demo"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_text("")
        probe.unlink()
        return folder
    except OSError:
        return Path(tempfile.mkdtemp(prefix="actdesk-demo-"))


def prepare_demo(folder: Path, *, seconds: float = DEMO_SECONDS, seed: int = DEMO_SEED,
                 size: tuple[int, int] = DEMO_SIZE) -> DemoFiles:
    """The demo video (generated once, with a progress bar; then reused) with its truth, and a fresh project."""
    from actdesk.cli.progress import progress_bar
    from actdesk.core.commands import AddLabel, Batch
    from actdesk.core.project import Project
    from actdesk.formats.segments_csv import read_segments_csv, write_segments_csv
    from actdesk.synth import ACTIONS, generate_video

    video = folder / f"demo-seed{seed}-{seconds:g}s-{size[0]}x{size[1]}.mp4"
    truth_csv = video.with_suffix(".truth.csv")
    if video.is_file() and truth_csv.is_file():
        truth = read_segments_csv(truth_csv)
    else:
        with progress_bar("demo video", unit="frame") as bar:
            truth = generate_video(video, seconds=seconds, seed=seed, size=size, progress=bar)
        write_segments_csv(truth_csv, truth)
    project_path = folder / "demo.actdesk"
    with Project.create(project_path, overwrite=True) as project:
        project.add_video(video)
        project.execute(Batch("Demo label set", [AddLabel(name) for name in ACTIONS]))
    return DemoFiles(project_path, video, truth)


def wait_until(app, condition: Callable[[], bool], timeout_s: float) -> bool:
    """Run the event loop until ``condition()`` holds or ``timeout_s`` passes."""
    from PySide6.QtCore import QEventLoop

    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.002)
    return True


def await_catalogue(app, window) -> None:
    """Load the plugins in the background and wait for the model list."""
    task = window.load_plugins_in_background()
    if not wait_until(app, lambda: window.catalogue is not None or task.isFinished(), 300):
        raise ActdeskError("loading the model plugins took longer than 5 minutes")
    wait_until(app, lambda: window.catalogue is not None, 2)  # the queued result signal
    if window.catalogue is None:
        raise ActdeskError("the model plugins could not be loaded (see the log)")


def select_bundled_model(window) -> None:
    """Choose the bundled checkpoint (and its model) in the model panel."""
    from actdesk.paths import bundled_checkpoint

    bundled = bundled_checkpoint()
    if not bundled.is_file():
        raise ActdeskError(f"{bundled}: the bundled checkpoint is missing (rebuild it with `make model`)")
    choices = [c for c in window.catalogue.checkpoints if c.path == bundled]
    if not choices:
        raise ActdeskError(f"{bundled}: no installed plugin provides its model (see `actdesk plugins`)")
    panel = window.model_panel
    panel.model_box.setCurrentIndex(panel.model_box.findData(choices[0].architecture))
    panel.set_checkpoint(bundled)


def _run_to_end(app, window) -> str:
    outcome: list[str] = []
    window.runner.runFinished.connect(outcome.append)
    if not window.run_model(all_videos=False):
        raise ActdeskError("the model run could not start (see the dialog text in the log)")
    if not wait_until(app, lambda: bool(outcome), RUN_TIMEOUT_S):
        window.runner.cancel()
        raise ActdeskError(f"the model run did not finish within {RUN_TIMEOUT_S:.0f} s")
    window.flush()
    return outcome[0]


def run_demo(*, screenshot: Path | None = None, seconds: float = DEMO_SECONDS, folder: Path | None = None) -> int:
    """The demo; headless (or with ``screenshot``) it runs to the end and reports. Returns the exit code."""
    from actdesk.qt.app import create_application, has_screen

    headless = screenshot is not None or not has_screen()
    folder = folder or demo_folder()
    files = prepare_demo(folder, seconds=seconds)
    app = create_application(offscreen=headless)
    from actdesk.qt.main_window import MainWindow

    window = MainWindow()
    window.resize(1500, 920)
    window.show()
    if not window.open_project(files.project):
        raise ActdeskError(f"{files.project}: could not be opened")
    await_catalogue(app, window)
    select_bundled_model(window)
    if not headless:
        window.run_model(all_videos=False)
        return app.exec()
    outcome = _run_to_end(app, window)
    if outcome != "done":
        raise ActdeskError(f"the demo's model run ended: {outcome} (see {folder})")
    out = screenshot or folder / "demo-screenshot.png"
    show_a_review_step(app, window)
    save_screenshot(app, window, out)
    _report(window, files, out)
    window.close()
    return 0


def show_a_review_step(app, window) -> None:
    """Pose the window as a user would see it mid-review: the least certain segment selected."""
    window.side_tabs.setCurrentWidget(window.review)
    window.review.refresh()
    segment = window.review.current_segment()
    if segment is not None:
        window.jump_to_segment(segment.track_id, segment.id)
        middle = (segment.start_frame + segment.end_frame) // 2
        window.player.seek(middle)
        wait_until(app, lambda: window.player.current_frame == middle, 5)
    window.timeline.fit()


def save_screenshot(app, window, path: Path) -> None:
    """Render the window (after pending repaints) to a PNG."""
    wait_until(app, lambda: False, 0.3)  # let the timeline and the player settle
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path)):
        raise ActdeskError(f"{path}: cannot write the screenshot")


def _report(window, files: DemoFiles, screenshot: Path) -> None:
    from actdesk.core.segments import frame_labels
    from actdesk.ml.metrics import frame_accuracy

    doc = window.document
    track = [t for t in doc.tracks() if t.kind == "model"][-1]
    predicted = [s.to_segment() for s in doc.project.segments(track.id)]
    frames = doc.frame_count
    accuracy = frame_accuracy(frame_labels(predicted, frames), frame_labels(files.truth, frames))
    print(f"video      {files.video}")
    print(f"project    {files.project}")
    print(f"model      {track.model} ({track.checkpoint})")
    print(f"{'start':>7} {'end':>7}  {'label':<14} confidence")
    for s in predicted:
        print(f"{s.start_frame:>7} {s.end_frame:>7}  {s.label:<14} {s.confidence:.2f}")
    print(f"{len(predicted)} segments; frame accuracy against the truth: {accuracy:.1%}")
    print(f"screenshot {screenshot}")


def run_smoke_test() -> int:
    """Offscreen self-check of the whole GUI path; 0 when every step worked (nothing printed)."""
    from actdesk.qt.app import create_application

    app = create_application(offscreen=True)
    from actdesk.qt.main_window import MainWindow

    with tempfile.TemporaryDirectory(prefix="actdesk-smoke-") as tmp:
        try:
            _smoke_steps(app, MainWindow, Path(tmp))
        except (ActdeskError, AssertionError) as e:
            print(f"actdesk: smoke test failed: {e}", file=sys.stderr)
            return 1
    return 0


def _smoke_steps(app, window_class, tmp: Path) -> None:
    from actdesk.core.commands import Relabel
    from actdesk.synth import generate_video

    video = tmp / "smoke.mp4"
    generate_video(video, seconds=SMOKE_SECONDS, seed=SMOKE_SEED, size=(160, 120))
    window = window_class()
    window.show()
    try:
        assert window.open_path(video), f"{video}: did not open"
        await_catalogue(app, window)
        select_bundled_model(window)
        outcome = _run_to_end(app, window)
        assert outcome == "done", f"the model run ended: {outcome}"
        doc = window.document
        track = [t for t in doc.tracks() if t.kind == "model"][-1]
        before = doc.project.segments(track.id)
        assert before, "the model run produced no segments"
        other = next(name for name in doc.label_names() if name != before[0].label)
        assert window.run_command(Relabel([before[0].id], other)), "the edit was refused"
        assert doc.project.segments(track.id)[0].label == other, "the edit did not apply"
        window.undo()
        assert doc.project.segments(track.id) == before, "undo did not restore the segments"
        saved = tmp / "smoke.actdesk"
        assert window.save_as(saved), f"{saved}: could not be saved"
        window.close_document()
        assert window.open_project(saved), f"{saved}: could not be reopened"
        reopened = window.document.project
        again = [t for t in reopened.tracks(reopened.videos()[0].id) if t.kind == "model"]
        assert again and [(s.start_frame, s.end_frame, s.label) for s in reopened.segments(again[0].id)] == \
            [(s.start_frame, s.end_frame, s.label) for s in before], "the reopened project differs"
    finally:
        window.close()
