"""Window scores → per-frame probabilities → action segments.

A model scores the centre frame of each clip, every ``stride`` frames. Here the
scores are interpolated to every frame, smoothed over time, and cut into
segments at frame resolution: argmax per frame, equal neighbours merged, runs
shorter than ``min_frames`` absorbed into the neighbour the model finds more
likely there. Pure numpy, no torch, so the GUI can call it on partial results;
:class:`StreamingCut` does that for a running model, handing out only segments
that will not change any more.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from actdesk.core.segments import Segment

DEFAULT_SMOOTH_FRAMES = 9
"""Moving-average window (frames) applied to per-frame probabilities."""
DEFAULT_MIN_FRAMES = 12
"""Runs shorter than this (frames) are absorbed into a neighbour."""


def scores_to_frame_probs(centers: np.ndarray, probs: np.ndarray, frame_count: int) -> np.ndarray:
    """Interpolate window probabilities ``probs [n, C]`` at ``centers [n]`` to every frame.

    Linear between neighbouring centres; frames before the first or after the
    last centre take that centre's probabilities. Returns float32 ``[frame_count, C]``.
    """
    centers = np.asarray(centers, dtype=np.int64)
    probs = np.asarray(probs, dtype=np.float32)
    if probs.ndim != 2 or len(centers) != len(probs):
        raise ValueError(f"expected centers [n] and probs [n, C], got {centers.shape} and {probs.shape}")
    if len(centers) == 0:
        raise ValueError("no window scores to interpolate")
    if np.any(np.diff(centers) <= 0):
        raise ValueError("window centres must be strictly increasing")
    frames = np.arange(frame_count, dtype=np.float64)
    out = np.empty((frame_count, probs.shape[1]), dtype=np.float32)
    for c in range(probs.shape[1]):
        out[:, c] = np.interp(frames, centers, probs[:, c])
    return out


def smooth(frame_probs: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average over ``window // 2`` frames on each side.

    Near the ends the average covers only the frames that exist, so rows stay
    probability distributions. ``window <= 1`` returns an unchanged copy.
    """
    frame_probs = np.asarray(frame_probs, dtype=np.float32)
    half = int(window) // 2
    n = len(frame_probs)
    if half < 1 or n == 0:
        return frame_probs.copy()
    cumulative = np.zeros((n + 1, frame_probs.shape[1]), dtype=np.float64)
    np.cumsum(frame_probs, axis=0, dtype=np.float64, out=cumulative[1:])
    idx = np.arange(n)
    lo = np.maximum(idx - half, 0)
    hi = np.minimum(idx + half + 1, n)
    return ((cumulative[hi] - cumulative[lo]) / (hi - lo)[:, None]).astype(np.float32)


def frame_probs_to_segments(
    frame_probs: np.ndarray,
    labels: Sequence[str],
    times_s: Sequence[float] | np.ndarray,
    end_time_s: float,
    *,
    min_frames: int = DEFAULT_MIN_FRAMES,
    source: str = "",
    video: str = "",
) -> list[Segment]:
    """Cut per-frame probabilities ``[F, C]`` into segments covering every frame.

    Each frame takes its most probable class; equal neighbours merge; a run
    shorter than ``min_frames`` (shortest first, earliest on ties) joins the
    neighbour whose class has the higher mean probability over the run (the
    left one on ties), until no such run is left or one segment remains.
    ``confidence`` is the mean probability of the segment's class over its
    frames. ``times_s[i]`` is frame i's presentation time, ``end_time_s`` the
    time just after the last frame.
    """
    frame_probs = np.asarray(frame_probs, dtype=np.float32)
    if frame_probs.ndim != 2 or frame_probs.shape[1] != len(labels):
        raise ValueError(f"frame_probs must be [frames, {len(labels)}], got {frame_probs.shape}")
    n = len(frame_probs)
    if len(times_s) < n:
        raise ValueError(f"times_s has {len(times_s)} entries for {n} frames")
    if n == 0:
        return []
    runs = _absorb_short_runs(frame_probs, _runs(frame_probs.argmax(axis=1)), min_frames)
    out = []
    for start, end, cls in runs:
        end_s = float(times_s[end]) if end < n else float(end_time_s)
        confidence = float(frame_probs[start:end, cls].mean())
        out.append(Segment(start, end, labels[cls], float(times_s[start]), end_s, confidence, source, video))
    return out


def scores_to_segments(
    centers: np.ndarray,
    probs: np.ndarray,
    labels: Sequence[str],
    times_s: Sequence[float] | np.ndarray,
    end_time_s: float,
    *,
    smooth_window: int = DEFAULT_SMOOTH_FRAMES,
    min_frames: int = DEFAULT_MIN_FRAMES,
    source: str = "",
    video: str = "",
) -> tuple[list[Segment], np.ndarray]:
    """Window scores of a whole video → ``(segments, smoothed frame probabilities [F, C])``.

    ``len(times_s)`` is the frame count.
    """
    frame_probs = smooth(scores_to_frame_probs(centers, probs, len(times_s)), smooth_window)
    segments = frame_probs_to_segments(
        frame_probs, labels, times_s, end_time_s, min_frames=min_frames, source=source, video=video
    )
    return segments, frame_probs


def partial_segments(
    centers: np.ndarray,
    probs: np.ndarray,
    labels: Sequence[str],
    times_s: Sequence[float] | np.ndarray,
    end_time_s: float,
    *,
    smooth_window: int = DEFAULT_SMOOTH_FRAMES,
    min_frames: int = DEFAULT_MIN_FRAMES,
    source: str = "",
    video: str = "",
) -> list[Segment]:
    """Segments for the frames up to the last scored centre, while labelling is still running.

    The same cut as :func:`scores_to_segments` on frames ``0..centers[-1]``;
    the last segment may still change as more scores arrive. No scores, no segments.
    """
    if len(centers) == 0:
        return []
    stop = int(centers[-1]) + 1
    stop_time = float(times_s[stop]) if stop < len(times_s) else float(end_time_s)
    segments, _ = scores_to_segments(
        centers, probs, labels, times_s[:stop], stop_time,
        smooth_window=smooth_window, min_frames=min_frames, source=source, video=video,
    )
    return segments


@dataclass
class StreamingCut:
    """Cuts window scores into segments while they arrive.

    The cut of the scores so far (``partial_segments``) can still change near
    its end: smoothing reaches ``smooth_window // 2`` frames, and a short run
    there may yet be absorbed. Segments ending more than ``smooth_window +
    min_frames`` frames before the last scored centre, and not among the last
    two, are handed out as final. At the end the whole-video cut supplies the
    rest, clipped to start where the handed-out part ends.
    """

    labels: tuple[str, ...]
    times_s: np.ndarray
    end_time_s: float
    source: str = ""
    video: str = ""
    smooth_window: int = DEFAULT_SMOOTH_FRAMES
    min_frames: int = DEFAULT_MIN_FRAMES
    committed_end: int = 0
    _centers: list[np.ndarray] = field(default_factory=list)
    _probs: list[np.ndarray] = field(default_factory=list)

    def add(self, centers: np.ndarray, probs: np.ndarray) -> None:
        self._centers.append(np.asarray(centers, np.int64))
        self._probs.append(np.asarray(probs, np.float32))

    def _scores(self) -> tuple[np.ndarray, np.ndarray]:
        if len(self._centers) > 1:
            self._centers = [np.concatenate(self._centers)]
            self._probs = [np.concatenate(self._probs)]
        return self._centers[0], self._probs[0]

    def stable(self) -> list[Segment]:
        """Segments that became final since the last call."""
        if not self._centers:
            return []
        centers, probs = self._scores()
        cut = partial_segments(centers, probs, self.labels, self.times_s, self.end_time_s,
                               smooth_window=self.smooth_window, min_frames=self.min_frames,
                               source=self.source, video=self.video)
        settled_before = int(centers[-1]) + 1 - (self.smooth_window + self.min_frames)
        return self._take([s for s in cut[:-2] if s.end_frame <= settled_before])

    def finish(self) -> tuple[list[Segment], np.ndarray]:
        """The rest of the segments from the whole-video cut, and the smoothed frame probabilities."""
        centers, probs = self._scores()
        segments, frame_probs = scores_to_segments(
            centers, probs, self.labels, self.times_s, self.end_time_s,
            smooth_window=self.smooth_window, min_frames=self.min_frames, source=self.source, video=self.video)
        return self._take(segments), frame_probs

    def _take(self, segments: list[Segment]) -> list[Segment]:
        out = []
        for s in segments:
            if s.end_frame <= self.committed_end:
                continue
            if s.start_frame < self.committed_end:
                s = s.with_(start_frame=self.committed_end, start_s=float(self.times_s[self.committed_end]))
            out.append(s)
            self.committed_end = s.end_frame
        return out


def _runs(classes: np.ndarray) -> list[list[int]]:
    """``[start, end, class]`` for each run of equal values."""
    change = np.flatnonzero(np.diff(classes)) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [len(classes)]))
    return [[int(s), int(e), int(classes[s])] for s, e in zip(starts, ends)]


def _absorb_short_runs(frame_probs: np.ndarray, runs: list[list[int]], min_frames: int) -> list[list[int]]:
    """Merge runs shorter than ``min_frames`` into their better neighbour (see
    :func:`frame_probs_to_segments`). A linked list plus a heap keyed by
    (length, start) keeps this near-linear for noisy scores with many runs."""
    count = len(runs)
    prev = list(range(-1, count - 1))
    nxt = list(range(1, count + 1))
    nxt[-1] = -1
    alive = [True] * count
    heap = [(e - s, s, i) for i, (s, e, _) in enumerate(runs) if e - s < min_frames]
    heapq.heapify(heap)

    def merge(keep: int, gone: int) -> None:
        """Give run ``gone`` (adjacent to ``keep``) to ``keep``."""
        runs[keep][0] = min(runs[keep][0], runs[gone][0])
        runs[keep][1] = max(runs[keep][1], runs[gone][1])
        alive[gone] = False
        before, after = prev[gone], nxt[gone]
        if before != -1:
            nxt[before] = after
        if after != -1:
            prev[after] = before

    while heap:
        length, start, i = heapq.heappop(heap)
        if not alive[i] or runs[i][0] != start or runs[i][1] - runs[i][0] != length:
            continue  # stale entry: the run has grown or gone since it was pushed
        left, right = prev[i], nxt[i]
        if left == -1 and right == -1:
            break
        s, e, _ = runs[i]
        if right == -1 or (left != -1 and frame_probs[s:e, runs[left][2]].mean() >= frame_probs[s:e, runs[right][2]].mean()):
            target = left
        else:
            target = right
        merge(target, i)
        # The absorbed run may have separated two runs of the same class.
        for other in (prev[target], nxt[target]):
            if other != -1 and runs[other][2] == runs[target][2]:
                merge(target, other)
        new_length = runs[target][1] - runs[target][0]
        if new_length < min_frames:
            heapq.heappush(heap, (new_length, runs[target][0], target))
    return [run for run, keep in zip(runs, alive) if keep]
