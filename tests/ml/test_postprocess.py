"""Window scores → frame probabilities → segments, on hand-made arrays with exact answers."""

from __future__ import annotations

import numpy as np
import pytest

from actdesk.core.segments import Segment
from actdesk.ml.postprocess import (
    StreamingCut,
    frame_probs_to_segments,
    partial_segments,
    scores_to_frame_probs,
    scores_to_segments,
    smooth,
)

LABELS = ("a", "b", "c", "d")


def one_hot_rows(classes: str, high: float = 0.7) -> np.ndarray:
    """Frame probabilities whose argmax spells ``classes`` (one letter per frame): the
    winner gets ``high``, the rest share what is left."""
    rows = np.full((len(classes), len(LABELS)), (1 - high) / (len(LABELS) - 1), dtype=np.float32)
    for i, letter in enumerate(classes):
        rows[i, LABELS.index(letter)] = high
    return rows


def spans(segments: list[Segment]) -> list[tuple[int, int, str]]:
    return [(s.start_frame, s.end_frame, s.label) for s in segments]


def test_interpolation_is_linear_between_centres_and_holds_at_the_ends():
    centers = np.array([1, 5])
    probs = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    out = scores_to_frame_probs(centers, probs, 8)
    expected = np.array([[1, 0], [1, 0], [0.75, 0.25], [0.5, 0.5], [0.25, 0.75], [0, 1], [0, 1], [0, 1]],
                        dtype=np.float32)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, atol=1e-7)


def test_interpolation_rejects_unordered_or_missing_scores():
    with pytest.raises(ValueError, match="increasing"):
        scores_to_frame_probs(np.array([4, 2]), np.ones((2, 2)), 6)
    with pytest.raises(ValueError, match="no window scores"):
        scores_to_frame_probs(np.array([], dtype=np.int64), np.ones((0, 2)), 6)


def test_smooth_averages_over_the_frames_that_exist():
    probs = np.array([[1, 0], [0, 1], [1, 0], [1, 0]], dtype=np.float32)
    out = smooth(probs, 3)
    expected = np.array([[1 / 2, 1 / 2], [2 / 3, 1 / 3], [2 / 3, 1 / 3], [1, 0]], dtype=np.float32)
    np.testing.assert_allclose(out, expected, atol=1e-6)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(smooth(probs, 1), probs)


def test_equal_neighbours_merge_and_a_short_run_between_them_disappears():
    probs = one_hot_rows("aaaabaaacccc")
    times = np.arange(12) * 0.04
    segments = frame_probs_to_segments(probs, LABELS, times, 0.48, min_frames=3, source="m", video="v.mp4")
    assert spans(segments) == [(0, 8, "a"), (8, 12, "c")]
    # Frame 4 (a 'b' frame) now counts as 'a' with probability 0.1.
    assert segments[0].confidence == pytest.approx((7 * 0.7 + 0.1) / 8, abs=1e-6)
    assert segments[1].confidence == pytest.approx(0.7, abs=1e-6)
    assert (segments[0].source, segments[0].video) == ("m", "v.mp4")


def test_short_run_joins_the_neighbour_the_model_prefers_there():
    probs = one_hot_rows("aaaabbcccc")
    probs[4:6] = [0.2, 0.5, 0.3, 0.0]  # 'c' is more likely than 'a' on the short 'b' run
    segments = frame_probs_to_segments(probs, LABELS, np.arange(10.0), 10.0, min_frames=3)
    assert spans(segments) == [(0, 4, "a"), (4, 10, "c")]
    assert segments[1].confidence == pytest.approx((2 * 0.3 + 4 * 0.7) / 6, abs=1e-6)
    probs[4:6] = [0.3, 0.5, 0.2, 0.0]  # now 'a' is
    assert spans(frame_probs_to_segments(probs, LABELS, np.arange(10.0), 10.0, min_frames=3)) == [
        (0, 6, "a"), (6, 10, "c")]


def test_shortest_run_is_absorbed_first():
    # a(5) b(1) c(2) d(5): b goes first, into c (preferred there); c is then long enough.
    probs = one_hot_rows("aaaaabccddddd")
    probs[5] = [0.1, 0.5, 0.4, 0.0]
    segments = frame_probs_to_segments(probs, LABELS, np.arange(13.0), 13.0, min_frames=3)
    assert spans(segments) == [(0, 5, "a"), (5, 8, "c"), (8, 13, "d")]


def test_everything_short_collapses_into_one_segment_covering_every_frame():
    probs = one_hot_rows("aabbb")
    segments = frame_probs_to_segments(probs, LABELS, np.arange(5.0), 5.0, min_frames=10)
    assert spans(segments) == [(0, 5, "b")]


def test_boundaries_carry_presentation_times_of_variable_frame_rate_video():
    probs = one_hot_rows("aaabbbbcc")
    times = np.array([0.0, 0.04, 0.1, 0.13, 0.2, 0.21, 0.3, 0.35, 0.5])
    segments = frame_probs_to_segments(probs, LABELS, times, 0.54, min_frames=1)
    assert [(s.start_s, s.end_s) for s in segments] == [(0.0, 0.13), (0.13, 0.35), (0.35, 0.54)]
    assert spans(segments) == [(0, 3, "a"), (3, 7, "b"), (7, 9, "c")]


def test_scores_to_segments_combines_interpolation_smoothing_and_cutting():
    centers = np.array([0, 3, 6, 9, 12, 15])
    probs = one_hot_rows("aaabbb", high=0.9)
    times = np.arange(17) / 25
    segments, frame_probs = scores_to_segments(centers, probs, LABELS, times, 17 / 25,
                                               smooth_window=3, min_frames=2, source="m")
    assert frame_probs.shape == (17, 4)
    # Interpolation crosses 50/50 at 7.5, between centres 6 and 9; smoothing is symmetric.
    assert spans(segments) == [(0, 8, "a"), (8, 17, "b")]
    assert segments[-1].end_s == pytest.approx(17 / 25)


def test_partial_segments_stop_at_the_last_scored_centre():
    centers = np.array([0, 2, 4])
    probs = one_hot_rows("aab", high=0.9)
    times = np.arange(10) * 0.5
    segments = partial_segments(centers, probs, LABELS, times, 5.0, smooth_window=1, min_frames=1)
    assert spans(segments) == [(0, 4, "a"), (4, 5, "b")]  # frame 3 is a tie: the first class wins
    assert segments[-1].end_s == 2.5  # the time of frame 5, the first not yet scored
    assert partial_segments(np.array([], dtype=np.int64), np.zeros((0, 4)), LABELS, times, 5.0) == []


def test_wrong_label_count_is_refused():
    with pytest.raises(ValueError, match="frame_probs must be"):
        frame_probs_to_segments(np.ones((3, 2)), LABELS, np.arange(3.0), 3.0)


# The streaming cut behind live model runs: what it hands out never needs taking back.

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
