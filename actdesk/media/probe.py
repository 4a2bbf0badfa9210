"""What a video is: container, codec, displayed size, rotation, rate, exact frame count."""

from __future__ import annotations

from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path

import av.error
import numpy as np
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from actdesk.errors import MediaError
from actdesk.media._ffmpeg import decode_problem, decoded_frames, open_video
from actdesk.media.index import FrameIndex, frame_index


@dataclass(frozen=True)
class VideoInfo:
    """The facts about one video that actdesk relies on.

    ``width``/``height`` are the size as displayed, i.e. after ``rotation``
    (the clockwise rotation a player applies, from the display-matrix side
    data or the legacy ``rotate`` tag), which is also the shape frames are
    read in. ``frame_count`` is exact (from the packet index);
    ``header_frame_count`` is what the container claims (0 when it does not
    say, wrong when the file is truncated).
    """

    path: str
    container: str
    codec: str
    width: int
    height: int
    rotation: int
    avg_fps: float
    is_vfr: bool
    duration_s: float
    frame_count: int
    header_frame_count: int

    def to_dict(self) -> dict:
        """Plain JSON-ready values (stored with a project's videos, printed by ``actdesk info --json``)."""
        return asdict(self)


def probe(path: str | Path) -> VideoInfo:
    """Describe the video at ``path``; raises MediaError when it is not a readable video.

    Demuxes the whole file once (cached) for the exact frame count and
    decodes the first frame, so a stream that cannot be decoded is reported
    here rather than halfway through labelling.
    """
    path = Path(path)
    index = frame_index(path)
    container, stream = open_video(path)
    with closing(container):
        return describe(path, container, stream, index, first_frame(path, container, stream))


def first_frame(path: Path, container: InputContainer, stream: VideoStream) -> VideoFrame:
    """Decode the first picture of a freshly opened stream, or raise MediaError."""
    try:
        frame = next(decoded_frames(container, stream), None)
    except (av.error.FFmpegError, ValueError) as e:
        raise MediaError(path, decode_problem(0, e)) from None
    if frame is None:
        raise MediaError(path, "cannot decode frame 0: the decoder produced no picture (damaged or unsupported stream)")
    return frame


def describe(path: Path, container: InputContainer, stream: VideoStream, index: FrameIndex,
             frame: VideoFrame) -> VideoInfo:
    """Assemble a VideoInfo from an open stream, its index and one decoded frame."""
    rotation = display_rotation(stream, frame)
    width, height = (frame.height, frame.width) if rotation in (90, 270) else (frame.width, frame.height)
    n = index.frame_count
    if index.end_time_s > 0:
        avg_fps = n / index.end_time_s
    else:
        avg_fps = float(stream.average_rate or 0)
    return VideoInfo(
        path=str(path),
        container=_container_name(path, container),
        codec=stream.codec.canonical_name,
        width=width,
        height=height,
        rotation=rotation,
        avg_fps=avg_fps,
        is_vfr=is_variable_rate(index),
        duration_s=index.end_time_s,
        frame_count=n,
        header_frame_count=int(stream.frames or 0),
    )


def display_rotation(stream: VideoStream, frame: VideoFrame) -> int:
    """Clockwise display rotation in degrees (0, 90, 180 or 270).

    FFmpeg attaches the stream's display matrix to decoded frames; its angle is
    counterclockwise, the legacy ``rotate`` tag (and what players apply) is
    clockwise. Files without either are upright.
    """
    degrees = -frame.rotation
    if not degrees:
        try:
            degrees = int(float(stream.metadata.get("rotate", "0")))
        except ValueError:
            degrees = 0
    return int(round(degrees / 90.0)) * 90 % 360


def is_variable_rate(index: FrameIndex) -> bool:
    """Whether frame intervals differ by more than timestamp rounding.

    Containers with millisecond timestamps store 30 fps as 33/34 ms steps:
    that is constant rate, so a step of 1.5 ticks (or 2 %) is tolerated.
    """
    if index.frame_count < 3:
        return False
    steps = np.diff(index.pts)
    typical = float(np.median(steps))
    return bool(np.max(np.abs(steps - typical)) > max(1.5, 0.02 * typical))


def _container_name(path: Path, container: InputContainer) -> str:
    # FFmpeg names demuxers by family ("mov,mp4,m4a,..."); show the member the file claims to be.
    names = container.format.name.split(",")
    suffix = path.suffix.lower().lstrip(".")
    return suffix if suffix in names else names[0]
