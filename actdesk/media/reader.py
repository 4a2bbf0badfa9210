"""Exact frame access: frame N is the same image however and whenever it is asked for.

A frame is identified by its presentation timestamp from the FrameIndex,
never by counting decoded frames from an approximate seek: ``read(n)`` seeks
to the keyframe at or before frame n, decodes forward and returns the picture
whose PTS is ``index.pts[n]``. That holds for variable frame rates, long GOPs
and B-frames, where time-based seeking drifts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from enum import Enum
from pathlib import Path

import av.error
import numpy as np
from av.video.frame import VideoFrame
from av.video.reformatter import VideoReformatter

from actdesk.errors import MediaError
from actdesk.media._ffmpeg import decode_problem, decoded_frames, open_video
from actdesk.media.index import FrameIndex, frame_index
from actdesk.media.probe import VideoInfo, describe

_SEEK_ATTEMPTS = 3
"""Keyframes tried, nearest first, before decoding from the start of the file."""


def default_decode_threads() -> int:
    """Decoder threads for a reader feeding a model: half the usable cores, at least one.

    The other half is left to torch (``actdesk.ml.device.configure_threads``),
    so decoding and inference running side by side do not oversubscribe the
    machine (on 2 cores: 1 + 1); labelling may later give torch the decoder's
    share too (``actdesk.ml.device.torch_threads_beside_decoding``).
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores // 2)


class _Outcome(Enum):
    FOUND = "found"
    PASSED = "passed"  # the decoder went past the frame without producing it
    ENDED = "ended"  # the stream ended before the frame


class VideoReader:
    """Frame-exact reading of one video file (a context manager; not thread-safe).

    ``read(n)`` returns frame n as an RGB ``uint8`` array ``[height, width, 3]``
    with the display rotation applied; ``size=(height, width)`` resizes with
    FFmpeg's scaler while converting. The decoder's position is kept, so
    reading frames in order never seeks, and ``iter_frames`` decodes straight
    through. ``threads`` sets FFmpeg's decoding threads
    (default :func:`default_decode_threads`).
    """

    def __init__(self, path: str | Path, threads: int | None = None):
        self.path = Path(path)
        self.index: FrameIndex = frame_index(self.path)
        self._container, self._stream = open_video(self.path)
        self._stream.thread_type = "AUTO"
        self._stream.thread_count = threads or default_decode_threads()
        self._frames: Iterator[VideoFrame] | None = decoded_frames(self._container, self._stream)
        self._next: int | None = 0  # the frame the decoder produces next, None when unknown
        self._floor = 0  # frames before the keyframe decoding started from are not trusted
        self._last: tuple[int, VideoFrame] | None = None
        self._start_ts = int(self.index.seek_ts.min())
        # One scaler for all frames: FFmpeg keeps its set-up between same-shaped conversions.
        self._reformatter = VideoReformatter()
        self.seek_count = 0
        """Seeks done so far; reading frames in order adds none."""
        self._closed = False
        try:
            self.info: VideoInfo = describe(self.path, self._container, self._stream, self.index,
                                            self._frame(0))
        except BaseException:
            self.close()
            raise
        self._quarter_turns = self.info.rotation // 90

    @property
    def frame_count(self) -> int:
        return self.index.frame_count

    @property
    def times_s(self) -> np.ndarray:
        """Presentation time of each frame in seconds, frame 0 at 0."""
        return self.index.times_s

    def read(self, n: int, size: tuple[int, int] | None = None) -> np.ndarray:
        """Frame ``n`` as RGB ``uint8 [height, width, 3]``, rotated for display, resized to ``size``."""
        return self._to_array(self._frame(self._check(n)), size)

    def iter_frames(self, start: int = 0, stop: int | None = None, size: tuple[int, int] | None = None,
                    *, only: np.ndarray | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(n, frame)`` for frames ``start <= n < stop`` in order, decoding sequentially.

        ``only`` (bool per frame of the video) limits the frames converted and
        yielded; the others are still decoded, as later frames depend on them.
        """
        stop = self.frame_count if stop is None else min(stop, self.frame_count)
        if start < 0:
            raise IndexError(f"iter_frames start must be 0 or more, got {start}")
        for n in range(start, stop):
            frame = self._frame(n)
            if only is None or only[n]:
                yield n, self._to_array(frame, size)

    def close(self) -> None:
        """Release the file and the decoder; the reader cannot be used afterwards."""
        self._closed = True
        self._frames = None
        self._last = None
        self._container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _check(self, n: int) -> int:
        n = int(n)
        if not 0 <= n < self.frame_count:
            raise IndexError(f"frame {n} out of range: {self.path} has frames 0..{self.frame_count - 1}")
        return n

    def _frame(self, n: int) -> VideoFrame:
        """Decoded frame ``n``: continue from the decoder's position when that is cheaper than seeking."""
        if self._closed:
            raise ValueError(f"reader of {self.path} is closed")
        if self._last is not None and self._last[0] == n:
            return self._last[1]
        if self._next is not None and self._next <= n and self.index.keyframe_before(n) <= self._next:
            outcome, frame = self._decode_until(n)
            if outcome is _Outcome.FOUND:
                return frame
        # Nearest keyframe first; if its seek lands past frame n (demuxers that
        # index by DTS) or leading pictures are dropped, step back, and in the
        # end decode from the very start, which is always right.
        plan = self.index.keyframes_before(n, _SEEK_ATTEMPTS)
        for k in plan if plan[-1:] == [0] else [*plan, 0]:
            self._seek(k, n)
            outcome, frame = self._decode_until(n)
            if outcome is _Outcome.FOUND:
                return frame
            if outcome is _Outcome.ENDED and self._next is not None and self._next <= n:
                break  # frames before n decoded, then nothing: n itself is missing
        raise MediaError(self.path, f"cannot decode frame {n}: the decoder produced no picture for it "
                                    f"(damaged or truncated stream)")

    def _decode_until(self, n: int) -> tuple[_Outcome, VideoFrame | None]:
        """Decode forward until frame ``n`` or past it; keeps the position for the next call."""
        if self._frames is None:
            return _Outcome.ENDED, None
        try:
            for frame in self._frames:
                ts = frame.pts if frame.pts is not None else frame.dts
                i = self.index.frame_of_pts(ts) if ts is not None else -1
                if i < self._floor:
                    # Not a frame of the index (a discarded packet's) or a leading picture
                    # of an open GOP, decoded without the references before the keyframe.
                    continue
                self._next = i + 1
                self._last = (i, frame)
                if i == n:
                    return _Outcome.FOUND, frame
                if i > n:
                    return _Outcome.PASSED, None
        except (av.error.FFmpegError, ValueError) as e:
            self._frames, self._next = None, None
            raise MediaError(self.path, decode_problem(n, e)) from None
        self._frames = None
        return _Outcome.ENDED, None

    def _seek(self, k: int, target: int) -> None:
        """Position the demuxer at keyframe ``k`` (to read frame ``target``) with a flushed decoder."""
        # Frame 0 need not be the first packet in decode order (open GOPs): start at the earliest.
        ts = self._start_ts if k == 0 else int(self.index.seek_ts[k])
        try:
            self._container.seek(ts, stream=self._stream, backward=True, any_frame=False)
        except av.error.FFmpegError as e:
            raise MediaError(self.path, f"cannot seek to frame {target}: {e.strerror or e}") from None
        self.seek_count += 1
        self._frames = decoded_frames(self._container, self._stream)
        self._floor = k
        self._next = None
        self._last = None

    def _to_array(self, frame: VideoFrame, size: tuple[int, int] | None) -> np.ndarray:
        turns = self._quarter_turns
        height, width = size or (None, None)
        if turns % 2:
            height, width = width, height  # size is asked for the displayed (rotated) frame
        # threads=1: FFmpeg's default scaler threading costs more than it saves on
        # frames this small and would compete with the decoder and torch for cores.
        image = self._reformatter.reformat(frame, format="rgb24", width=width, height=height,
                                           threads=1).to_ndarray()
        return np.ascontiguousarray(np.rot90(image, -turns)) if turns else image
