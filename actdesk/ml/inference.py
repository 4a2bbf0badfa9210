"""Label a video with a model: streaming window scores, then segments.

:func:`label_video` is the one implementation behind the CLI, the GUI worker
and the tests. A decode thread fills a small bounded queue with uint8 clip
batches (``actdesk.media.iter_clip_batches``) while the calling thread runs
the model, so decoding and inference overlap and memory stays bounded by a
few batches whatever the video length. Batches travel as uint8 and are
normalised on the device; on CUDA they are pinned in the decode thread and
copied without blocking, and the model runs under bf16/fp16 autocast and in
``channels_last_3d`` where its plugin allows.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from actdesk.core.segments import Segment
from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.errors import Cancelled, PluginError
from actdesk.media import ClipSampling, VideoInfo, VideoReader, clip_centers, iter_clip_batches
from actdesk.ml.checkpoints import LoadedModel
from actdesk.ml.device import (
    autocast_dtype,
    available_cores,
    configure_threads,
    default_inference_batch,
    keep_large_buffers_off_the_heap,
    select_device,
    torch_threads_beside_decoding,
)
from actdesk.ml.postprocess import DEFAULT_MIN_FRAMES, DEFAULT_SMOOTH_FRAMES, scores_to_segments
from actdesk.ml.preprocess import standardise_clips
from actdesk.plugins import check_model_output

PREFETCH_BATCHES = 2
"""Decoded batches waiting for the model: enough to hide decode jitter, few enough to bound memory."""
_POLL_S = 0.05  # how often blocked queue operations look at the stop flags
REBALANCE_AFTER_BATCHES = 4
"""Batches (after the first, which pays for start-up) timed before the CPU threads are rebalanced."""


@dataclass(frozen=True)
class WindowScores:
    """Class probabilities for a batch of windows: ``centers`` int64 ``[n]`` (frame
    index of each clip's centre), ``probs`` float32 ``[n, C]`` (softmax)."""

    centers: np.ndarray
    probs: np.ndarray


@dataclass
class LabellingResult:
    """A labelled video: ``segments`` (covering every frame), the smoothed per-frame
    probabilities ``frame_probs [F, C]`` they were cut from, the class ``labels``,
    the video's ``info`` (``actdesk.media.VideoInfo``), its frame ``times_s`` and
    ``end_time_s``, and the raw window scores (``centers``, ``window_probs``)."""

    segments: list[Segment]
    frame_probs: np.ndarray
    labels: tuple[str, ...]
    info: VideoInfo
    times_s: np.ndarray
    end_time_s: float
    centers: np.ndarray
    window_probs: np.ndarray
    settings: dict[str, Any] = field(default_factory=dict)
    """How the result was made (model, checkpoint, stride, device, ...), for provenance."""


def label_video(
    video: str | os.PathLike | VideoReader,
    loaded: LoadedModel,
    *,
    stride: int = 2,
    batch: int | None = None,
    device: str | torch.device | None = None,
    decode_threads: int | None = None,
    timeout_s: float | None = None,
    progress: ProgressFn = no_progress,
    should_stop: StopFn = never_stop,
) -> Iterator[WindowScores]:
    """Score the clip centred on every ``stride``-th frame of ``video``; yield one
    :class:`WindowScores` per batch, in frame order.

    ``video`` is a path or an open ``actdesk.media.VideoReader`` (left open).
    ``device`` None keeps the model where it is; otherwise the model is moved
    there. ``batch`` clips go through the model at once (default: the device's,
    :func:`actdesk.ml.device.default_inference_batch`). ``decode_threads``
    splits the CPU cores between decoding and torch
    (:func:`actdesk.ml.device.configure_threads`); on the CPU, once the first
    batches show that decoding needs only a small share of the model's time,
    torch gets every core for the rest of the run
    (:func:`actdesk.ml.device.torch_threads_beside_decoding`; torch's thread
    count is process-wide and stays there). A forward pass taking longer
    than ``timeout_s`` raises :class:`PluginError` (the stuck pass is
    abandoned in its helper thread). A model output that is not finite logits
    ``[B, len(labels)]`` raises :class:`PluginError` naming the plugin. When
    ``should_stop()`` turns True or the consumer closes the generator, the
    generator returns after the batch in hand, with its decode thread joined.
    ``progress(done_windows, total_windows)`` is called after each batch.
    """
    if stride < 1 or (batch is not None and batch < 1):
        raise ValueError(f"stride and batch must be positive, got {stride}, {batch}")
    if device is not None:
        loaded = loaded.to(select_device(device))
    if batch is None:
        batch = default_inference_batch(loaded.device)
    decode_threads, _ = configure_threads(decode_threads)
    if isinstance(video, VideoReader):
        yield from _label_open_video(video, loaded, stride, batch, timeout_s, progress, should_stop)
    else:
        with VideoReader(video, threads=decode_threads) as reader:
            yield from _label_open_video(reader, loaded, stride, batch, timeout_s, progress, should_stop)


def _label_open_video(reader: VideoReader, loaded: LoadedModel, stride: int, batch: int,
                      timeout_s: float | None, progress: ProgressFn, should_stop: StopFn) -> Iterator[WindowScores]:
    meta = loaded.meta
    sampling = ClipSampling(clip_len=meta.clip_len, frame_step=meta.frame_step, stride=stride, size=meta.size)
    total = len(clip_centers(reader.frame_count, stride))
    keep_large_buffers_off_the_heap()
    progress(0, total, "")
    forward = _Forward(loaded, timeout_s)
    decoder = _DecodeThread(reader, sampling, batch, pin=loaded.device.type == "cuda")
    rebalance = loaded.device.type == "cpu"
    decode_s = model_s = 0.0
    done = 0
    try:
        decoder.start()
        for number, (centers, clips, busy_s) in enumerate(decoder.batches(should_stop)):
            started = time.perf_counter()
            probs = forward(clips)
            if rebalance and number >= 1:  # the first batch pays for start-up on both sides
                decode_s += busy_s
                model_s += time.perf_counter() - started
                if number == REBALANCE_AFTER_BATCHES:
                    rebalance = False
                    forward.torch_threads = torch_threads_beside_decoding(
                        decode_s, model_s, torch.get_num_threads(), available_cores())
            done += len(centers)
            yield WindowScores(np.asarray(centers, dtype=np.int64), probs)
            progress(done, total, "")
            if should_stop():
                return
    finally:
        decoder.close()
        forward.close()


def label_video_to_segments(
    video: str | os.PathLike,
    loaded: LoadedModel,
    *,
    stride: int = 2,
    batch: int | None = None,
    device: str | torch.device | None = None,
    decode_threads: int | None = None,
    timeout_s: float | None = None,
    smooth_window: int = DEFAULT_SMOOTH_FRAMES,
    min_frames: int = DEFAULT_MIN_FRAMES,
    source: str | None = None,
    progress: ProgressFn = no_progress,
    should_stop: StopFn = never_stop,
) -> LabellingResult:
    """Run :func:`label_video` to the end and cut the scores into segments.

    ``source`` (default: the model's architecture name) goes into each segment.
    Raises :class:`Cancelled` when ``should_stop()`` turns True.
    """
    video = Path(video)
    decode_threads, _ = configure_threads(decode_threads)
    centers: list[np.ndarray] = []
    probs: list[np.ndarray] = []
    with VideoReader(video, threads=decode_threads) as reader:
        for scores in label_video(reader, loaded, stride=stride, batch=batch, device=device,
                                  decode_threads=decode_threads, timeout_s=timeout_s,
                                  progress=progress, should_stop=should_stop):
            centers.append(scores.centers)
            probs.append(scores.probs)
        if should_stop():
            raise Cancelled(f"labelling {video.name}")
        info = reader.info
        times_s = np.asarray(reader.times_s, dtype=np.float64)
        end_time_s = float(reader.index.end_time_s)
    all_centers = np.concatenate(centers)
    window_probs = np.concatenate(probs)
    labels = loaded.meta.labels
    source = source or loaded.meta.architecture
    segments, frame_probs = scores_to_segments(
        all_centers, window_probs, labels, times_s, end_time_s,
        smooth_window=smooth_window, min_frames=min_frames, source=source, video=video.name,
    )
    settings = {
        "model": loaded.meta.architecture, "checkpoint": str(loaded.path or ""), "stride": stride,
        "smooth_window": smooth_window, "min_frames": min_frames, "device": str(loaded.device),
    }
    return LabellingResult(segments, frame_probs, labels, info, times_s, end_time_s,
                           all_centers, window_probs, settings)


class _DecodeThread:
    """Runs ``iter_clip_batches`` in a thread, handing batches over a bounded queue."""

    _END = object()

    def __init__(self, reader: VideoReader, sampling: ClipSampling, batch: int, *, pin: bool) -> None:
        self._reader = reader
        self._sampling = sampling
        self._batch = batch
        self._pin = pin
        self._queue: queue.Queue = queue.Queue(maxsize=PREFETCH_BATCHES)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="actdesk-decode", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            started = time.perf_counter()
            for clip_batch in iter_clip_batches(self._reader, self._sampling, self._batch,
                                                should_stop=self._stop.is_set):
                clips = torch.from_numpy(np.ascontiguousarray(clip_batch.clips))
                if self._pin:
                    clips = clips.pin_memory()
                busy_s = time.perf_counter() - started  # decoding this batch, not waiting for room
                if not self._put((clip_batch.centers, clips, busy_s)):
                    return
                started = time.perf_counter()
            self._put(self._END)
        except BaseException as e:  # handed to the consumer, who raises it in its own thread
            self._put(e)

    def _put(self, item: object) -> bool:
        """Queue ``item`` unless stopped first; False when stopped."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def batches(self, should_stop: StopFn) -> Iterator[tuple[np.ndarray, torch.Tensor, float]]:
        """Decoded ``(centers, uint8 clips [B, T, H, W, 3], seconds spent decoding them)``
        until the end or ``should_stop()``."""
        while not should_stop():
            try:
                item = self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    raise RuntimeError("decode thread ended without a result")  # a bug, never input
                continue
            if item is self._END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        """Stop decoding and join the thread (prompt: every wait in it polls the stop flag)."""
        self._stop.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._queue.get_nowait()  # make room so a blocked put returns
            self._thread.join(timeout=_POLL_S)


class _Forward:
    """uint8 clips → probabilities, with the model's output checked and an optional timeout.

    With a timeout the forward pass runs in a helper thread; one that does not
    answer in time is abandoned there (a daemon thread, which ends if the model
    ever returns) and reported as the plugin's failure.
    """

    def __init__(self, loaded: LoadedModel, timeout_s: float | None) -> None:
        self._loaded = loaded
        self._timeout_s = timeout_s
        device = loaded.device
        meta, spec = loaded.meta, loaded.spec
        self._dtype = autocast_dtype(device, spec)
        self._memory_format = (torch.channels_last_3d if spec.channels_last_3d and device.type == "cuda"
                               else torch.contiguous_format)
        std = torch.tensor(meta.std, dtype=torch.float32, device=device).view(1, 3, 1, 1, 1)
        mean = torch.tensor(meta.mean, dtype=torch.float32, device=device).view(1, 3, 1, 1, 1)
        # (x/255 - mean)/std folded into one multiply and one subtract.
        self._scale = 1.0 / (255.0 * std)
        self._shift = mean / std
        self._standardise = meta.standardise_clips
        self.torch_threads: int | None = None
        """Torch threads for the forward passes from now on (None: leave as configured)."""
        self._helper: _Helper | None = None
        if timeout_s is not None:
            if timeout_s <= 0:
                raise ValueError(f"timeout must be positive, got {timeout_s}")
            self._helper = _Helper()

    def __call__(self, clips: torch.Tensor) -> np.ndarray:
        loaded = self._loaded
        if self._helper is None:
            logits = self._run_model(clips)
        else:
            logits = self._helper.call(self._run_model, clips, self._timeout_s)
            if logits is _Helper.TIMED_OUT:
                self._helper = None  # abandoned with the stuck pass
                self._fail(f"model {loaded.spec.name!r} did not answer within {self._timeout_s:g} s")
        try:
            check_model_output(loaded.plugin, logits, len(clips), len(loaded.meta.labels))
        except PluginError as e:
            self._record(e.problem)
            raise
        return torch.softmax(logits.float(), dim=1).cpu().numpy()

    def _run_model(self, clips: torch.Tensor) -> torch.Tensor:
        """Runs in the calling or the helper thread: inference mode, autocast and (with
        OpenMP) the thread count are per thread."""
        if self.torch_threads is not None and torch.get_num_threads() != self.torch_threads:
            torch.set_num_threads(self.torch_threads)
        device = self._loaded.device
        autocast = (torch.autocast(device_type=device.type, dtype=self._dtype) if self._dtype is not None
                    else contextlib.nullcontext())
        with torch.inference_mode():
            x = clips.to(device, non_blocking=True).permute(0, 4, 1, 2, 3)  # [B, 3, T, H, W]
            x = x.float().mul_(self._scale).sub_(self._shift)
            if self._standardise:
                x = standardise_clips(x)
            x = x.contiguous(memory_format=self._memory_format)
            try:
                with autocast:
                    return self._loaded.model(x)
            except Exception as e:  # whatever a model raises is its plugin's failure
                self._fail(f"model {self._loaded.spec.name!r} failed on a batch of shape "
                           f"{list(x.shape)}: {type(e).__name__}: {e}", cause=e)

    def _fail(self, problem: str, cause: BaseException | None = None) -> None:
        self._record(problem)
        raise PluginError(self._loaded.plugin, problem) from cause

    def _record(self, problem: str) -> None:
        """Mark the model as failing where `actdesk plugins` and the plugins view look."""
        if self._loaded.manager is not None:
            self._loaded.manager.record_model_error(self._loaded.spec.name, problem)

    def close(self) -> None:
        if self._helper is not None:
            self._helper.close()


class _Helper:
    """One daemon thread running calls handed to it, so the caller can stop waiting."""

    TIMED_OUT = object()

    def __init__(self) -> None:
        self._requests: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._serve, name="actdesk-forward", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            request = self._requests.get()
            if request is None:
                return
            fn, arg, reply = request
            try:
                reply.put((True, fn(arg)))
            except BaseException as e:
                reply.put((False, e))

    def call(self, fn: Callable[[Any], Any], arg: Any, timeout_s: float) -> Any:
        """``fn(arg)`` in the helper thread; :attr:`TIMED_OUT` if it takes longer than ``timeout_s``."""
        reply: queue.Queue = queue.Queue(maxsize=1)
        self._requests.put((fn, arg, reply))
        try:
            ok, value = reply.get(timeout=timeout_s)
        except queue.Empty:
            self._requests.put(None)  # the thread ends once the stuck call returns, if ever
            return self.TIMED_OUT
        if not ok:
            raise value
        return value

    def close(self) -> None:
        """Let the thread finish and wait for it."""
        self._requests.put(None)
        self._thread.join()
