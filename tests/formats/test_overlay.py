"""The overlay video: the source's frames and timestamps, with each track's label drawn where it applies."""

from __future__ import annotations

import numpy as np

from actdesk.cli import main
from actdesk.media import VideoReader
from actdesk.overlay import line_height, swatch_box


def rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def swatch(frame: np.ndarray, track_number: int) -> np.ndarray:
    """Mean colour of the inner part of a track line's swatch."""
    left, top, right, bottom = swatch_box(track_number, frame.shape[0])
    return frame[top + 2:bottom - 1, left + 2:right - 1].reshape(-1, 3).mean(axis=0)


def test_overlay_draws_each_tracks_label_on_the_source_frames(tmp_path, project):
    colours = {label.name: label.colour for label in project.labels()}
    source = project.video_named("cfr.mp4").abs_path
    path = project.path
    project.close()
    out = tmp_path / "overlay"
    assert main(["export", str(path), "--out", str(out), "--format", "overlay", "--video", "cfr.mp4",
                 "--track", "human", "--track", "c3d"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["cfr.overlay.mp4"]

    with VideoReader(out / "cfr.overlay.mp4") as overlay, VideoReader(source) as original:
        assert overlay.frame_count == original.frame_count == 50
        np.testing.assert_allclose(overlay.times_s, original.times_s, atol=1e-6)
        below_band = 4 + 2 * line_height(72)
        for n, human, model in [(5, "walk", "walk"), (25, "run", "run"), (32, None, "run"), (40, "sit down", "run")]:
            frame = overlay.read(n).astype(float)
            for track_number, label in enumerate((human, model)):
                if label is None:
                    assert swatch(frame, track_number).max() < 80  # the dark band, no swatch
                else:
                    assert np.abs(swatch(frame, track_number) - rgb(colours[label])).max() < 40
            # between the band and the timeline strip the picture is the source frame n
            difference = np.abs(frame[below_band:60] - original.read(n)[below_band:60].astype(float)).mean()
            assert difference < 6
            assert np.abs(frame[below_band:60] - original.read(n + 1)[below_band:60].astype(float)).mean() > difference
