"""The labels overlay: a video re-encoded with the labels of its tracks drawn on every frame.

What seed 003 shows as its output, and what a reviewer can watch without
actdesk: a dark band along the top with one line per track (a swatch in the
label's colour, the track, the label and, for model segments, the
confidence) and a strip along the bottom with the first track's segments in
their colours and a white playhead. Frames are decoded, drawn and encoded
one at a time (memory does not grow with the video) and keep their source
timestamps, so the overlay is frame-for-frame the source, on
variable-frame-rate video too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from actdesk.core.segments import Segment
from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.errors import Cancelled

DEFAULT_COLOUR = "#ffffff"
BAND_RGBA = (0, 0, 0, 170)


class _ActiveSegments:
    """The segment covering each frame of one track, for frames asked in increasing order."""

    def __init__(self, segments: Sequence[Segment]):
        self._segments = sorted(segments, key=lambda s: s.start_frame)
        self._next = 0

    def at(self, frame: int) -> Segment | None:
        segments = self._segments
        while self._next < len(segments) and segments[self._next].end_frame <= frame:
            self._next += 1
        if self._next < len(segments) and segments[self._next].start_frame <= frame:
            return segments[self._next]
        return None


def _rgb(colour: str) -> tuple[int, int, int]:
    text = colour.lstrip("#")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def line_height(frame_height: int) -> int:
    """Height in pixels of one track's line in the top band."""
    return max(14, frame_height // 12)


def swatch_box(track_number: int, frame_height: int) -> tuple[int, int, int, int]:
    """``(left, top, right, bottom)`` of track ``track_number``'s colour swatch (inclusive)."""
    h = line_height(frame_height)
    top = 2 + track_number * h
    return 3, top + 1, 3 + h - 5, top + h - 4


def render_overlay(video: str | os.PathLike, out: str | os.PathLike, tracks: Mapping[str, Sequence[Segment]], *,
                   colours: Mapping[str, str], progress: ProgressFn = no_progress,
                   should_stop: StopFn = never_stop) -> Path:
    """Write ``out`` (MP4): ``video`` with the labels of ``tracks`` drawn on it.

    :param tracks: track name -> its segments, in the order the lines are drawn.
    :param colours: label -> ``#rrggbb`` (white for a label not given).
    :raises Cancelled: when ``should_stop()`` returns True (no file is left).
    """
    from PIL import Image, ImageDraw, ImageFont

    from actdesk.formats.video_writer import VideoWriter, even_size, frame_duration
    from actdesk.media import VideoReader

    out = Path(out)
    with VideoReader(video) as reader:
        index = reader.index
        width, height = even_size(reader.info.width, reader.info.height)
        size = None if (width, height) == (reader.info.width, reader.info.height) else (height, width)
        n_frames = reader.frame_count
        h = line_height(height)
        font = ImageFont.load_default(size=max(8, h - 4))
        active = {name: _ActiveSegments(segments) for name, segments in tracks.items()}
        strip = _timeline_strip(next(iter(tracks.values()), ()), n_frames, width, max(4, height // 24), colours)
        band = Image.new("RGBA", (width, 4 + h * max(1, len(tracks))), BAND_RGBA)
        base = int(index.pts[0])
        progress(0, n_frames, "drawing labels")
        with VideoWriter(out, width=width, height=height, time_base=index.time_base,
                         rate=reader.info.avg_fps) as writer:
            for n, frame in reader.iter_frames(size=size):
                if should_stop():
                    raise Cancelled("overlay video")
                image = Image.fromarray(frame).convert("RGBA")
                image.alpha_composite(band)
                image = image.convert("RGB")
                draw = ImageDraw.Draw(image)
                for i, (name, current) in enumerate(active.items()):
                    seg = current.at(n)
                    left, top, right, bottom = swatch_box(i, height)
                    text = f"{name}: -"
                    if seg is not None:
                        draw.rectangle((left, top, right, bottom), fill=_rgb(colours.get(seg.label, DEFAULT_COLOUR)))
                        confidence = "" if seg.confidence is None else f" {seg.confidence:.2f}"
                        text = f"{name}: {seg.label}{confidence}"
                    draw.text((right + 4, top - 1), text, fill=(255, 255, 255), font=font)
                image.paste(strip, (0, height - strip.height))
                x = min(width - 1, n * width // max(1, n_frames))
                draw.line((x, height - strip.height, x, height - 1), fill=(255, 255, 255), width=1)
                writer.write(np.asarray(image), int(index.pts[n]) - base, frame_duration(index, n))
                if n % 25 == 0:
                    progress(n, n_frames, "drawing labels")
    progress(n_frames, n_frames, "done")
    return out


def _timeline_strip(segments: Sequence[Segment], n_frames: int, width: int, height: int,
                    colours: Mapping[str, str]):
    """The bottom strip: the whole video's segments in their colours on dark grey."""
    from PIL import Image, ImageDraw

    strip = Image.new("RGB", (width, height), (40, 40, 40))
    draw = ImageDraw.Draw(strip)
    for seg in segments:
        left = seg.start_frame * width // max(1, n_frames)
        right = max(left, seg.end_frame * width // max(1, n_frames) - 1)
        draw.rectangle((left, 0, right, height - 1), fill=_rgb(colours.get(seg.label, DEFAULT_COLOUR)))
    return strip
