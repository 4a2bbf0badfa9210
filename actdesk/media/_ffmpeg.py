"""The thin layer over PyAV: open a file's video stream, decode its packets.

Every PyAV/FFmpeg failure caused by the file is turned into a
:class:`~actdesk.errors.MediaError` here or by the caller that knows which
frame it was after, so no PyAV exception reaches the user.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import av
import av.error
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from actdesk.errors import MediaError

# FFmpeg demuxers that turn non-video files into pictures: refused, with what the file is.
_NOT_VIDEO_FORMATS = {"tty": "a text file, not a video", "image2": "an image, not a video"}


def check_file(path: Path) -> os.stat_result:
    """Stat ``path`` and raise MediaError unless it is a non-empty regular file."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise MediaError(path, "file not found") from None
    except PermissionError:
        raise MediaError(path, "cannot read the file (permission denied)") from None
    except OSError as e:
        raise MediaError(path, f"cannot read the file ({e.strerror or e})") from None
    if path.is_dir():
        raise MediaError(path, "is a folder, not a video file")
    if not path.is_file():
        # FIFOs and devices would block FFmpeg's reads forever.
        raise MediaError(path, "not a regular file")
    if stat.st_size == 0:
        raise MediaError(path, "file is empty")
    return stat


def open_video(path: Path) -> tuple[InputContainer, VideoStream]:
    """Open ``path`` and return its container and first real video stream.

    Raises MediaError for every file that is not a readable video: missing,
    a folder, empty, unrecognised format, damaged, an image, audio only, or a
    codec this FFmpeg build cannot decode.
    """
    check_file(path)
    try:
        container = av.open(str(path), "r")
    except PermissionError:
        raise MediaError(path, "cannot read the file (permission denied)") from None
    except av.error.FFmpegError as e:
        raise MediaError(path, _open_problem(path, e)) from None
    try:
        return container, _video_stream(path, container)
    except BaseException:
        container.close()
        raise


def _open_problem(path: Path, error: av.error.FFmpegError) -> str:
    with open(path, "rb") as f:
        head = f.read(12)
    if head[4:8] == b"ftyp":
        # An MP4/MOV whose index (moov) never got written or was cut off.
        return "damaged MP4/MOV file: its index is missing (truncated copy or interrupted recording?)"
    if isinstance(error, av.error.InvalidDataError):
        return "not a video file (unrecognised format)"
    return f"cannot open as a video ({error.strerror or error}: damaged or truncated file?)"


def _video_stream(path: Path, container: InputContainer) -> VideoStream:
    name = container.format.name
    if name in _NOT_VIDEO_FORMATS:
        raise MediaError(path, _NOT_VIDEO_FORMATS[name])
    if name.endswith("_pipe"):  # png_pipe, jpeg_pipe, ...: single-picture readers
        raise MediaError(path, f"an image ({name.removesuffix('_pipe')}), not a video")
    # Cover art in audio files is a "video" stream holding one attached picture.
    videos = [s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic]
    if not videos:
        has_audio = bool(container.streams.audio)
        raise MediaError(path, "no video stream (audio only)" if has_audio else "no video stream")
    stream = videos[0]
    if stream.codec_context is None or not stream.codec_context.codec.is_decoder:
        raise MediaError(path, f"no decoder for its video codec ({stream.codec.name}) in this FFmpeg build")
    return stream


def decoded_frames(container: InputContainer, stream: VideoStream) -> Iterator[VideoFrame]:
    """Decode ``stream`` from the container's current position to the end.

    Finite: every loop turn consumes one packet, and the stream ends. PyAV
    errors propagate; callers turn them into MediaError naming the frame.
    """
    for packet in container.demux(stream):
        yield from packet.decode()


def decode_problem(frame: int, error: Exception) -> str:
    """The MediaError problem text for a frame that failed to decode."""
    reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return f"cannot decode frame {frame}: {reason}"
