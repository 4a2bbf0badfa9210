"""The streaming cut behind live model runs (no Qt): what it hands out never needs taking back."""

from __future__ import annotations

import numpy as np
import pytest

from actdesk.ml.postprocess import scores_to_segments
from actdesk.qt.model_run import StreamingCut

LABELS = ("a", "b", "c", "d")


def scripted_scores(frames: int, stride: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Window scores of a scripted action sequence (runs of 15..80 frames) with noise."""
    rng = np.random.default_rng(seed)
    truth = np.zeros(frames, np.int64)
    i = 0
    while i < frames:
        n = int(rng.integers(15, 80))
        truth[i:i + n] = rng.integers(len(LABELS))
        i += n
    centers = np.arange(0, frames, stride)
    if centers[-1] != frames - 1:
        centers = np.append(centers, frames - 1)
    probs = rng.dirichlet(np.ones(len(LABELS)) * 0.7, len(centers)).astype(np.float32)
    probs[np.arange(len(centers)), truth[centers]] += 0.8
    return centers, probs / probs.sum(1, keepdims=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("batch", [1, 16])
def test_streamed_segments_tile_the_video_and_match_the_whole_video_cut(seed, batch):
    frames, stride = 1200, 2
    times = np.arange(frames) / 25.0
    centers, probs = scripted_scores(frames, stride, seed)
    cut = StreamingCut(LABELS, times, frames / 25.0, source="m", video="v.mp4")
    streamed, handed_out_early = [], 0
    for i in range(0, len(centers), batch):
        cut.add(centers[i:i + batch], probs[i:i + batch])
        early = cut.stable()
        handed_out_early += len(early)
        streamed += early
        # Never ahead of the scores: all handed-out frames are before the last scored centre.
        assert not streamed or streamed[-1].end_frame <= centers[min(i + batch, len(centers)) - 1]
    rest, frame_probs = cut.finish()
    streamed += rest
    whole, whole_probs = scores_to_segments(centers, probs, LABELS, times, frames / 25.0, source="m", video="v.mp4")
    assert handed_out_early > len(whole) // 2  # most segments arrived while "running"
    assert streamed[0].start_frame == 0 and streamed[-1].end_frame == frames
    assert all(a.end_frame == b.start_frame for a, b in zip(streamed, streamed[1:]))
    assert [(s.start_frame, s.end_frame, s.label) for s in streamed] == \
        [(s.start_frame, s.end_frame, s.label) for s in whole]
    assert all(s.start_s == times[s.start_frame] for s in streamed)
    np.testing.assert_array_equal(frame_probs, whole_probs)
