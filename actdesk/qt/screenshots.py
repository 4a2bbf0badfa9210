"""The user guide's screenshots, made by the app itself on the demo project.

    python -m actdesk.qt.screenshots docs/images

Runs offscreen: labels the demo video with the bundled model (grabbing the
window while segments stream in), makes a few review edits as a user would,
and writes the PNGs that docs/user-guide.md shows.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from actdesk.qt.demo import (
    await_catalogue,
    prepare_demo,
    save_screenshot,
    select_bundled_model,
    show_a_review_step,
    wait_until,
)

WINDOW_SIZE = (1500, 920)


def make_user_guide_images(out: Path, *, seconds: float = 60.0) -> list[Path]:
    """Write the user guide's PNGs into ``out``; returns their paths."""
    from actdesk.core.commands import CopyTrackToHuman, SetStatus
    from actdesk.qt.app import create_application

    out.mkdir(parents=True, exist_ok=True)
    app = create_application(offscreen=True)
    from actdesk.qt.main_window import MainWindow

    written: list[Path] = []

    def grab(widget, name: str) -> None:
        path = out / name
        wait_until(app, lambda: False, 0.3)
        widget.grab().save(str(path))
        written.append(path)

    with tempfile.TemporaryDirectory(prefix="actdesk-shots-") as tmp:
        files = prepare_demo(Path(tmp), seconds=seconds)
        window = MainWindow()
        window.resize(*WINDOW_SIZE)
        window.show()
        window.open_project(files.project)
        await_catalogue(app, window)
        select_bundled_model(window)
        window.side_tabs.setCurrentWidget(window.model_panel)
        progress: list[tuple[int, int]] = []
        window.runner.progressed.connect(lambda done, total, eta: progress.append((done, total)))
        outcome: list[str] = []
        window.runner.runFinished.connect(outcome.append)
        window.run_model(all_videos=False)
        wait_until(app, lambda: bool(outcome) or any(t and d >= 0.45 * t for d, t in progress), 900)
        window.flush()
        grab(window, "streaming.png")
        grab(window.model_panel, "model-panel.png")
        wait_until(app, lambda: bool(outcome), 900)
        window.flush()

        # A user's first minutes: accept the confident part, copy to the human track, review the rest.
        doc = window.document
        track = [t for t in doc.tracks() if t.kind == "model"][-1]
        confident = [s.id for s in doc.project.segments(track.id) if (s.confidence or 0) >= 0.9]
        if confident:
            window.run_command(SetStatus(confident[: max(1, len(confident) // 2)], "accepted"))
        window.run_command(CopyTrackToHuman(track.id))
        window.flush()
        show_a_review_step(app, window)
        save_screenshot(app, window, out / "main-window.png")
        written.append(out / "main-window.png")
        grab(window.review, "review-queue.png")

        segment = window.review.current_segment()
        if segment is not None:
            window.timeline.tracks_view.setXRange(max(segment.start_s - 8, 0), segment.end_s + 8, padding=0.0)
        grab(window.timeline.parentWidget(), "timeline.png")

        dialog = window.edit_labels()
        dialog.resize(460, 430)
        grab(dialog, "label-set.png")
        dialog.close()
        window.close()
    return written


if __name__ == "__main__":  # pragma: no cover - a docs tool
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/images")
    for image in make_user_guide_images(target):
        print(image)
