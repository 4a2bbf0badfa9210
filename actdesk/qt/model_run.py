"""A model run as the GUI drives it: the engine's ``label_video`` generator plus a
streaming cut that hands over only segments that will not change any more.

No Qt here: :func:`model_run` is a generator with ``progress``/``should_stop``
that ``qt.workers.Task`` runs in a thread. It yields a :class:`RunStarted`
(labels, device) once the model is loaded, then :class:`RunUpdate`\\ s whose
``segments`` extend the track without overlap (the store's
``AppendPredictions`` only appends), and finally one with ``final=True``
carrying the rest of the video cut from all scores (the same cut as
``actdesk label``) and the smoothed per-frame probabilities for the curves.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from actdesk.core.segments import Segment
from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.ml.postprocess import DEFAULT_MIN_FRAMES, DEFAULT_SMOOTH_FRAMES, partial_segments, scores_to_segments

MIN_CUT_INTERVAL_S = 0.3
FORWARD_TIMEOUT_S = 300.0
"""A model whose forward pass takes longer is reported as stuck (PluginError), so a run always ends."""


@dataclass(frozen=True)
class RunStarted:
    """The model is loaded: its class names, architecture and the device it runs on."""

    labels: tuple[str, ...]
    architecture: str
    checkpoint: str
    device: str


@dataclass(frozen=True)
class RunUpdate:
    """Progress of a run: new final ``segments`` (contiguous after the previous ones)
    and the window scores received since the last update."""

    segments: list[Segment]
    centers: np.ndarray
    probs: np.ndarray
    final: bool = False
    frame_probs: np.ndarray | None = None
    """Smoothed per-frame probabilities ``[F, C]``; set on the final update only."""


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


def model_run(
    video: str | os.PathLike,
    checkpoint: str | os.PathLike,
    *,
    architecture: str | None = None,
    device: str = "auto",
    stride: int = 2,
    batch: int = 16,
    progress: ProgressFn = no_progress,
    should_stop: StopFn = never_stop,
) -> Iterator[RunStarted | RunUpdate]:
    """Load the checkpoint and label ``video``, yielding results as windows finish.

    Runs in a worker thread (it imports torch). Errors are the engine's:
    CheckpointError, MediaError, PluginError naming the plugin.
    """
    from actdesk.media import VideoReader
    from actdesk.ml.checkpoints import load_model
    from actdesk.ml.device import configure_threads
    from actdesk.ml.inference import label_video

    video = Path(video)
    progress(0, 0, "loading model")
    loaded = load_model(checkpoint, device=device, architecture=architecture)
    yield RunStarted(tuple(loaded.meta.labels), loaded.meta.architecture, str(checkpoint), str(loaded.device))
    decode_threads, _ = configure_threads(None)
    with VideoReader(video, threads=decode_threads) as reader:
        cut = StreamingCut(tuple(loaded.meta.labels), np.asarray(reader.times_s, np.float64),
                           float(reader.index.end_time_s), source=loaded.meta.architecture, video=video.name)
        next_cut, interval = 0.0, MIN_CUT_INTERVAL_S
        for scores in label_video(reader, loaded, stride=stride, batch=batch, decode_threads=decode_threads,
                                  timeout_s=FORWARD_TIMEOUT_S, progress=progress, should_stop=should_stop):
            cut.add(scores.centers, scores.probs)
            segments: list[Segment] = []
            now = time.monotonic()
            if now >= next_cut:
                segments = cut.stable()
                # Re-cutting costs time proportional to the video so far: space the cuts to match.
                interval = max(MIN_CUT_INTERVAL_S, 10 * (time.monotonic() - now))
                next_cut = time.monotonic() + interval
            yield RunUpdate(segments, scores.centers, scores.probs)
        if should_stop():
            return
        rest, frame_probs = cut.finish()
        yield RunUpdate(rest, np.zeros(0, np.int64), np.zeros((0, len(loaded.meta.labels)), np.float32),
                        final=True, frame_probs=frame_probs)
