"""A model run as the GUI drives it: the engine's ``label_video`` generator plus a
streaming cut (:class:`actdesk.ml.postprocess.StreamingCut`) that hands over only
segments that will not change any more.

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from actdesk.core.segments import Segment
from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.ml.postprocess import StreamingCut

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


def model_run(
    video: str | os.PathLike,
    checkpoint: str | os.PathLike,
    *,
    architecture: str | None = None,
    device: str = "auto",
    stride: int = 2,
    batch: int | None = None,
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
