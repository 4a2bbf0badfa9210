"""Streaming clip windows for models: one sequential decode, memory bounded by one clip span.

A model looks at clips of ``clip_len`` frames taken every ``frame_step``
frames around a centre frame; centres are every ``stride`` frames. The video
is decoded once, front to back; each frame is resized as it is decoded and
kept in a ring of one clip span, and a clip is cut from the ring as soon as
its last frame arrives. So a 10-minute video needs the same frame memory as a
1-minute one (per-frame bookkeeping is a few bytes: the index and a mask).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.media.reader import VideoReader


@dataclass(frozen=True)
class ClipSampling:
    """How clips are cut: ``clip_len`` frames ``frame_step`` apart, a centre every
    ``stride`` frames, each frame resized to ``size = (height, width)`` (None: as decoded)."""

    clip_len: int
    frame_step: int = 1
    stride: int = 1
    size: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        for name in ("clip_len", "frame_step", "stride"):
            if getattr(self, name) < 1:
                raise ValueError(f"ClipSampling.{name} must be at least 1, got {getattr(self, name)}")

    @property
    def span(self) -> int:
        """Source frames covered by one clip."""
        return (self.clip_len - 1) * self.frame_step + 1

    @property
    def offsets(self) -> np.ndarray:
        """int64 [clip_len]: frame offsets of a clip's slots from its centre."""
        return (np.arange(self.clip_len, dtype=np.int64) - self.clip_len // 2) * self.frame_step

    def frame_indices(self, centers: np.ndarray, frame_count: int) -> np.ndarray:
        """int64 [len(centers), clip_len]: the frames of each centre's clip, clamped to the video."""
        centers = np.asarray(centers, np.int64)
        return np.clip(centers[:, None] + self.offsets[None, :], 0, frame_count - 1)


@dataclass(frozen=True)
class ClipBatch:
    """Up to ``batch`` clips: ``centers`` int64 [B], ``clips`` uint8 [B, T, H, W, 3] RGB."""

    centers: np.ndarray
    clips: np.ndarray


def clip_centers(frame_count: int, stride: int) -> np.ndarray:
    """int64 centres ``0, stride, 2*stride, ...`` plus the last frame, so every frame is near one."""
    if stride < 1:
        raise ValueError(f"stride must be at least 1, got {stride}")
    centers = np.arange(0, frame_count, stride, dtype=np.int64)
    if frame_count and centers[-1] != frame_count - 1:
        centers = np.append(centers, frame_count - 1)
    return centers


class FrameRing:
    """The most recent frames of a sequential decode, ``capacity`` at most, looked up by number.

    Storage is allocated once; frame ``n`` lives in slot ``n % capacity`` until
    frame ``n + capacity`` replaces it. Asking for a replaced frame is an error,
    never a silently wrong picture.
    """

    def __init__(self, capacity: int, frame_shape: tuple[int, ...]):
        if capacity < 1:
            raise ValueError(f"ring capacity must be at least 1, got {capacity}")
        self._frames = np.empty((capacity, *frame_shape), np.uint8)
        self._held = np.full(capacity, -1, np.int64)

    @property
    def capacity(self) -> int:
        return len(self._held)

    @property
    def nbytes(self) -> int:
        """Bytes of frame storage: fixed at construction."""
        return self._frames.nbytes

    def held(self) -> list[int]:
        """Frame numbers currently held, ascending."""
        return sorted(int(n) for n in self._held if n >= 0)

    def put(self, n: int, frame: np.ndarray) -> None:
        slot = n % self.capacity
        self._frames[slot] = frame
        self._held[slot] = n

    def get(self, n: int) -> np.ndarray:
        """Frame ``n`` (a view into the ring, valid until the slot is reused)."""
        slot = n % self.capacity
        if self._held[slot] != n:
            raise KeyError(f"frame {n} is not held (ring of {self.capacity} frames)")
        return self._frames[slot]

    def gather(self, frames: np.ndarray, out: np.ndarray) -> None:
        """Copy the given frames, in order, into ``out`` [len(frames), ...] (one vectorised copy)."""
        frames = np.asarray(frames, np.int64)
        slots = frames % self.capacity
        missing = frames[self._held[slots] != frames]
        if len(missing):
            self.get(int(missing[0]))  # raises KeyError naming the frame
        np.take(self._frames, slots, axis=0, out=out)


def iter_clip_batches(
    reader: VideoReader,
    sampling: ClipSampling,
    batch: int,
    *,
    should_stop: StopFn = never_stop,
    progress: ProgressFn = no_progress,
) -> Iterator[ClipBatch]:
    """Yield every clip of the video (centres from :func:`clip_centers`) in batches of ``batch``.

    Slot ``i`` of the clip centred on ``c`` is frame
    ``clamp(c + (i - clip_len // 2) * frame_step, 0, frame_count - 1)``.
    One sequential decode; frames no clip uses are decoded but not converted.
    ``progress(clips_done, clips_total)`` after each batch; returns early
    when ``should_stop()`` (polled at every frame a clip uses) is true.
    """
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    frame_count = reader.frame_count
    centers = clip_centers(frame_count, sampling.stride)
    offsets = sampling.offsets
    needed = np.zeros(frame_count, bool)
    for offset in offsets:
        needed[np.clip(centers + offset, 0, frame_count - 1)] = True
    # A clip is complete when its last slot's frame has been decoded.
    ready_at = np.minimum(centers + offsets[-1], frame_count - 1)

    height, width = sampling.size or (reader.info.height, reader.info.width)
    ring = FrameRing(sampling.span, (height, width, 3))
    shape = (batch, sampling.clip_len, height, width, 3)
    clips, filled, done = np.empty(shape, np.uint8), 0, 0
    for n, frame in reader.iter_frames(0, frame_count, sampling.size, only=needed):
        if should_stop():
            return
        ring.put(n, frame)
        while done < len(centers) and ready_at[done] <= n:
            ring.gather(np.clip(centers[done] + offsets, 0, frame_count - 1), clips[filled])
            filled, done = filled + 1, done + 1
            if filled == batch:
                progress(done, len(centers))
                yield ClipBatch(centers[done - filled:done].copy(), clips)
                clips, filled = np.empty(shape, np.uint8), 0
    if filled:
        progress(done, len(centers))
        yield ClipBatch(centers[done - filled:done].copy(), clips[:filled])
