"""Encoding exported video (trimmed clips, overlays) with the source's own timestamps.

Frames keep the presentation timestamps of the frames they came from, in the
source stream's time base, so a clip of a variable-frame-rate video plays
with the same rhythm and its PTS index has the same gaps. The file appears
under its name only when complete (written as ``NAME.partial``, renamed).
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from actdesk.errors import MediaError

if TYPE_CHECKING:
    from actdesk.media import FrameIndex

CODEC = "libx264"
CODEC_OPTIONS = {"crf": "18", "preset": "veryfast"}
"""Visually near-lossless H.264: training clips should not lose detail to the re-encode."""


def even_size(width: int, height: int) -> tuple[int, int]:
    """``(width, height)`` rounded down to even numbers, as 4:2:0 H.264 requires."""
    return max(2, width - width % 2), max(2, height - height % 2)


def frame_duration(index: "FrameIndex", n: int) -> int:
    """How long frame ``n`` is shown, in the index's time base (the last one: up to the video's end)."""
    if n + 1 < index.frame_count:
        return int(index.pts[n + 1] - index.pts[n])
    return max(1, round((index.end_time_s - float(index.times_s[n])) / index.time_base))


class VideoWriter:
    """Writes RGB frames to an H.264 MP4 (a context manager; abandoned on error).

    ``time_base`` is the unit of the ``pts`` passed to :meth:`write`; ``rate``
    is the nominal frame rate the encoder plans its bit budget with.
    """

    def __init__(self, path: Path, *, width: int, height: int, time_base: Fraction, rate: float):
        import av

        self.path = Path(path)
        self._partial = self.path.with_name(self.path.name + ".partial")
        self._time_base = time_base
        try:
            self._container = av.open(str(self._partial), "w", format="mp4")
            self._stream = self._container.add_stream(
                CODEC, rate=Fraction(rate).limit_denominator(1001) if rate > 0 else 25, options=dict(CODEC_OPTIONS))
            self._stream.width, self._stream.height = width, height
            self._stream.pix_fmt = "yuv420p"
            self._stream.codec_context.time_base = time_base
        except (av.FFmpegError, OSError) as e:
            self._partial.unlink(missing_ok=True)
            raise MediaError(self.path, f"cannot write video: {e}") from None
        self.frames = 0
        self._durations: dict[int, int] = {}

    def write(self, rgb: np.ndarray, pts: int, duration: int) -> None:
        """Encode one RGB ``uint8 [height, width, 3]`` frame shown at ``pts`` for ``duration`` (time-base units)."""
        import av

        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame.pts, frame.time_base = int(pts), self._time_base
        self._durations[int(pts)] = int(duration)
        try:
            self._mux(self._stream.encode(frame))
        except (av.FFmpegError, OSError) as e:
            raise MediaError(self.path, f"cannot encode frame {self.frames}: {e}") from None
        self.frames += 1

    def _mux(self, packets: list) -> None:
        # The encoder drops frame durations; the muxer needs them, or the last frame's is guessed.
        for packet in packets:
            packet.duration = self._durations.pop(packet.pts, packet.duration)
        self._container.mux(packets)

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        import av

        try:
            if exc_type is None:
                self._mux(self._stream.encode(None))
            self._container.close()
            if exc_type is None:
                os.replace(self._partial, self.path)
        except (av.FFmpegError, OSError) as e:
            if exc_type is None:
                raise MediaError(self.path, f"cannot finish the video: {e}") from None
        finally:
            self._partial.unlink(missing_ok=True)
