"""The frame index: every frame's presentation timestamp, from the packets alone.

Frame ``n`` of a video *is* the frame whose PTS is ``index.pts[n]``, the n-th
smallest PTS of the video stream. Building the index only demuxes (no
decoding), so it is exact even when the container's header lies about the
frame count (Matroska/WebM have none; a truncated file claims frames it lacks)
and it is cheap enough to build on open.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av.error
import numpy as np

from actdesk.errors import MediaError
from actdesk.media._ffmpeg import check_file, open_video

_CACHE_SIZE = 16


@dataclass(frozen=True, eq=False)
class FrameIndex:
    """Presentation timestamps of one video stream, frame 0 first.

    Frame 0 is at t = 0: ``times_s`` counts from the first frame's PTS and
    deliberately ignores the container's start-time offset, so frame ``n``
    has the same time in every tool that uses this index (offsets handled
    differently by player and exporter are a known source of shifted labels
    in other annotation tools). All arrays are read-only and shared.
    """

    pts: np.ndarray
    """int64 [N]: PTS of frame n, in ``time_base`` units, increasing."""
    times_s: np.ndarray
    """float64 [N]: seconds from frame 0 (``times_s[0] == 0``)."""
    end_time_s: float
    """Seconds from frame 0 to the end of the last frame (its PTS plus its duration)."""
    keyframes: np.ndarray
    """bool [N]: frame n is a keyframe (decoding can start there)."""
    seek_ts: np.ndarray
    """int64 [N]: the timestamp that seeks to frame n's packet (its DTS, else its PTS)."""
    time_base: Fraction
    _keyframe_positions: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_keyframe_positions", np.flatnonzero(self.keyframes))

    @property
    def frame_count(self) -> int:
        return len(self.pts)

    def frame_at_time(self, t: float) -> int:
        """The frame shown at ``t`` seconds: the last one starting at or before ``t`` (clamped)."""
        # A microsecond of slack absorbs the float error of times computed elsewhere.
        n = int(np.searchsorted(self.times_s, t + 1e-6, side="right")) - 1
        return min(max(n, 0), self.frame_count - 1)

    def frame_of_pts(self, pts: int) -> int:
        """The frame whose PTS is ``pts``, or -1 when no frame has it."""
        n = int(np.searchsorted(self.pts, pts))
        return n if n < self.frame_count and self.pts[n] == pts else -1

    def keyframe_before(self, n: int) -> int:
        """The last keyframe at or before frame ``n`` (0 when there is none)."""
        positions = self._keyframe_positions
        i = int(np.searchsorted(positions, n, side="right")) - 1
        return int(positions[i]) if i >= 0 else 0

    def keyframes_before(self, n: int, limit: int) -> list[int]:
        """Up to ``limit`` keyframes at or before frame ``n``, nearest first."""
        positions = self._keyframe_positions
        i = int(np.searchsorted(positions, n, side="right"))
        return [int(k) for k in positions[max(0, i - limit):i][::-1]]


def build_index(path: Path) -> FrameIndex:
    """Demux every video packet of ``path`` (no decoding) into a FrameIndex."""
    container, stream = open_video(path)
    pts: list[int] = []
    seek_ts: list[int] = []
    keyframe: list[bool] = []
    durations: list[int] = []
    try:
        for packet in container.demux(stream):
            # Empty packets are PyAV's end-of-stream flush; discarded ones (edit
            # lists) are dropped by the decoder, so neither is a frame.
            if packet.size == 0 or packet.is_discard:
                continue
            ts = packet.pts if packet.pts is not None else packet.dts
            if ts is None:
                raise MediaError(path, "video packets carry no timestamps; frames cannot be located")
            pts.append(ts)
            seek_ts.append(packet.dts if packet.dts is not None else ts)
            keyframe.append(packet.is_keyframe)
            durations.append(packet.duration or 0)
    except av.error.FFmpegError:
        # A damaged tail: the index holds the packets read before it.
        pass
    finally:
        time_base = stream.time_base or Fraction(1, 1)
        container.close()
    if not pts:
        raise MediaError(path, "the video stream has no frames (empty or truncated file?)")

    order = np.argsort(np.asarray(pts, np.int64), kind="stable")
    sorted_pts = np.asarray(pts, np.int64)[order]
    if np.any(np.diff(sorted_pts) == 0):
        raise MediaError(path, "several frames share one timestamp; frames cannot be told apart")
    times = (sorted_pts - sorted_pts[0]).astype(np.float64) * float(time_base)
    last_duration = np.asarray(durations, np.int64)[order][-1]
    if last_duration <= 0:
        # Containers that omit durations: assume the typical frame interval.
        last_duration = int(np.median(np.diff(sorted_pts))) if len(sorted_pts) > 1 else 0
    end_time = float((sorted_pts[-1] + last_duration - sorted_pts[0]) * time_base)
    arrays = {
        "pts": sorted_pts,
        "times_s": times,
        "keyframes": np.asarray(keyframe, bool)[order],
        "seek_ts": np.asarray(seek_ts, np.int64)[order],
    }
    for array in arrays.values():
        array.setflags(write=False)
    return FrameIndex(end_time_s=end_time, time_base=time_base, **arrays)


_cache: OrderedDict[tuple[str, int, int], FrameIndex] = OrderedDict()
_cache_lock = threading.Lock()


def frame_index(path: str | Path) -> FrameIndex:
    """The FrameIndex of ``path``, built once per file version.

    Cached in memory (least recently used, a few files) by path, size and
    modification time, so reopening a video costs nothing and a rewritten
    file is indexed again.
    """
    path = Path(path)
    stat = check_file(path)
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    index = build_index(path)
    with _cache_lock:
        _cache[key] = index
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return index
