"""Encoded synthetic video: decodes to the rendered frames, the right count, atomic and cancellable."""

from __future__ import annotations

import numpy as np
import pytest

from actdesk.errors import ActdeskError, Cancelled, MediaError
from actdesk.media import VideoReader, probe
from actdesk.synth import generate_video, render_frames, synth_truth

SIZE = (96, 72)


@pytest.mark.parametrize("name, codec", [("a.mp4", "h264"), ("a.webm", "vp9"), ("a.avi", "mpeg4")])
def test_encoded_video_decodes_to_the_rendered_frames(tmp_path, name, codec):
    out = tmp_path / name
    calls = []
    truth = generate_video(out, seconds=2.2, seed=31, size=SIZE, fps=25,
                           progress=lambda done, total, message="": calls.append((done, total)))
    assert truth == synth_truth(seconds=2.2, seed=31, fps=25, video=name)
    assert truth[-1].end_frame == 55
    info = probe(out)
    assert (info.codec, info.width, info.height, info.frame_count) == (codec, 96, 72, 55)
    assert info.avg_fps == pytest.approx(25)
    assert calls[-1] == (55, 55) and all(total == 55 for _, total in calls)
    assert not list(tmp_path.glob("*.partial"))
    rendered = [frame for _, frame, _ in render_frames(seconds=2.2, seed=31, size=SIZE)]
    with VideoReader(out) as reader:
        decoded = [frame for _, frame in reader.iter_frames()]
    assert len(decoded) == 55
    for want, got in zip(rendered, decoded):
        # Lossy 4:2:0 video of noisy thin lines: close on average, not equal.
        assert np.abs(want.astype(int) - got.astype(int)).mean() < 7


def test_fractional_frame_rate_times(tmp_path):
    truth = generate_video(tmp_path / "ntsc.mp4", seconds=3, seed=2, size=SIZE, fps=30000 / 1001)
    assert truth[-1].end_frame == round(3 * 30000 / 1001)
    assert truth[-1].end_s == pytest.approx(truth[-1].end_frame * 1001 / 30000)
    assert probe(tmp_path / "ntsc.mp4").avg_fps == pytest.approx(30000 / 1001, rel=1e-4)


def test_stopping_removes_the_partial_file(tmp_path):
    out = tmp_path / "stopped.mp4"
    polls = []
    with pytest.raises(Cancelled):
        generate_video(out, seconds=4, seed=1, size=SIZE, should_stop=lambda: polls.append(1) or len(polls) > 10)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs, error, needle", [
    ({"out": "x.gif"}, MediaError, "x.gif: cannot write this kind of video"),
    ({"out": "missing/x.mp4"}, MediaError, "does not exist"),
    ({"size": (97, 72)}, ActdeskError, "even sides"),
    ({"size": (16, 16)}, ActdeskError, "32..4096"),
    ({"size": "96x72"}, ActdeskError, "size must be"),
    ({"seconds": 0}, ActdeskError, "positive"),
    ({"seconds": float("nan")}, ActdeskError, "positive"),
    ({"fps": -5}, ActdeskError, "fps"),
    ({"seed": -1}, ActdeskError, "non-negative"),
    ({"actions": ("walk", "moonwalk")}, ActdeskError, "'moonwalk'"),
    ({"figures": 3}, ActdeskError, "figures"),
])
def test_bad_arguments_raise_clear_errors(tmp_path, kwargs, error, needle):
    args = {"out": "ok.mp4", "seconds": 1, "seed": 1, "size": SIZE} | kwargs
    out = tmp_path / args.pop("out")
    with pytest.raises(error, match=needle):
        generate_video(out, **args)
    assert list(tmp_path.iterdir()) == []
