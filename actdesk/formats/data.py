"""What formats exchange with the rest of actdesk: the export set going out, intervals coming in.

Exporters receive an :class:`ExportSet`: the chosen videos with their
per-frame presentation times, the segments of the chosen tracks, the label
order and each video's split. Importers return :class:`Imported`: the
labelled :class:`Interval` s of a file *as the file states them* (frames or
seconds, a video named as the file names it), plus the label order, the
video files of a data set and its official splits. Tying an interval to a
video's frames is :func:`interval_frames`, which converts seconds through
the video's PTS index, never ``fps * seconds``, so a file means the same
frames on variable-frame-rate video.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from actdesk.core.labels import validate_label_name
from actdesk.core.segments import Segment
from actdesk.errors import ActdeskError, FormatError, LabelError

FRAMES = "frame"
"""Interval unit: frame indices, end exclusive."""
SECONDS = "s"
"""Interval unit: seconds from the first frame (the PTS index's clock)."""


# --------------------------------------------------------------------------- export


@dataclass(frozen=True)
class ExportVideo:
    """One video to export: where it is, the time of every frame, its segments per track."""

    name: str
    """The file name, as segments CSVs and projects name videos."""
    path: Path
    times_s: np.ndarray
    """float64 [frame_count]: presentation time of each frame, frame 0 at 0."""
    end_time_s: float
    """Time just after the last frame."""
    width: int
    height: int
    avg_fps: float
    tracks: Mapping[str, Sequence[Segment]]
    """Track name -> its segments, ordered by start frame (tracks the video lacks are absent)."""
    split: str = ""
    """``train``, ``val`` or ``test``; empty for a video with no segments on the exported track."""

    @property
    def frame_count(self) -> int:
        return len(self.times_s)

    @property
    def video_id(self) -> str:
        """The file name without its suffix: the id that ActivityNet, Kinetics and AVA files use."""
        return PurePosixPath(self.name).stem

    def time_of(self, frame: int) -> float:
        """Presentation time of ``frame``; ``frame_count`` (an exclusive end) is the video's end."""
        return self.end_time_s if frame == self.frame_count else float(self.times_s[frame])

    def segments(self, track: str) -> Sequence[Segment]:
        return self.tracks.get(track, ())


@dataclass(frozen=True)
class ExportSet:
    """Everything an exporter writes: videos, the label order, the exported tracks, label colours."""

    videos: Sequence[ExportVideo]
    labels: Sequence[str]
    """The labels the exported segments carry, in the project's label-set order (class index order)."""
    tracks: Sequence[str]
    colours: Mapping[str, str] = field(default_factory=dict)
    """Label -> ``#rrggbb`` (the overlay video draws with them)."""

    def single_track(self, format_name: str) -> str:
        """The one exported track; formats that hold one track per file refuse several."""
        if len(self.tracks) != 1:
            raise ActdeskError(f"format {format_name!r} holds one track per video; choose one with --track "
                               f"(asked for {', '.join(self.tracks)})")
        return self.tracks[0]

    def labelled(self, track: str) -> list[ExportVideo]:
        """The videos that have segments on ``track``."""
        return [v for v in self.videos if v.segments(track)]

    def label_index(self, label: str) -> int:
        """0-based class index of ``label`` (its place in :attr:`labels`)."""
        return list(self.labels).index(label)

    def ids_unique(self, format_name: str) -> None:
        """Formats that name videos by id (file name without suffix) refuse two videos with one id."""
        seen: dict[str, str] = {}
        for video in self.videos:
            other = seen.setdefault(video.video_id, video.name)
            if other != video.name:
                raise ActdeskError(f"format {format_name!r} names videos by file name without suffix, and "
                                   f"{other!r} and {video.name!r} would both be {video.video_id!r}; "
                                   "export them separately (--video)")


# --------------------------------------------------------------------------- import


@dataclass(frozen=True, slots=True)
class Interval:
    """One labelled interval as a file states it, before it is tied to a video's frames.

    ``start``/``end`` are frame indices (``unit`` :data:`FRAMES`, end exclusive)
    or seconds (:data:`SECONDS`); ``end`` None means "to the video's end" (data
    sets with one action per video). ``video`` is the video as the file names
    it: a file name, a path, or an id without suffix; '' when the file names
    none. ``track`` is the file's own grouping (an ELAN tier), '' when it has
    none. ``file`` and ``line`` say where the interval was read, for messages.
    """

    video: str
    label: str
    start: float
    end: float | None
    unit: str
    file: Path
    line: int | None = None
    track: str = ""
    confidence: float | None = None
    source: str = "human"


@dataclass
class Imported:
    """What an importer read from a file or a data-set folder."""

    format: str
    source: Path
    intervals: list[Interval] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    """Label order the file declares (labels.txt, classInd.txt, a vocabulary), else first seen."""
    video_files: dict[str, Path] = field(default_factory=dict)
    """Video name (as intervals name it) -> the file, for data sets whose items are video files."""
    splits: dict[str, dict[str, str]] = field(default_factory=dict)
    """Video name -> {split set: split}: ``{"1": "train", "2": "test"}``; split sets are numbered
    from 1 (UCF101/HMDB51 have 3, UCF50's leave-one-group-out 25; other formats 1)."""

    def add_label(self, label: str) -> None:
        if label not in self.labels:
            self.labels.append(label)

    def add_video_item(self, name: str, file: Path, label: str, splits: Mapping[str, str], *,
                       listed_in: Path, line: int | None) -> None:
        """A data-set item that is a whole video file with one label (UCF101, HMDB51, clips)."""
        if name in self.video_files:
            raise FormatError(listed_in, f"video {name!r} is listed twice", line)
        self.video_files[name] = file
        self.intervals.append(Interval(name, label, 0, None, FRAMES, listed_in, line))
        self.splits[name] = dict(splits)
        self.add_label(label)


def checked_label(text: object, file: Path, line: int | None) -> str:
    """A label name from a file, validated; a bad one raises FormatError naming file and line."""
    try:
        return validate_label_name(text.strip() if isinstance(text, str) else text)
    except LabelError as e:
        raise FormatError(file, str(e), line) from None


def checked_seconds(text: object, what: str, file: Path, line: int | None) -> float:
    """A finite, non-negative time in seconds from a file, or FormatError."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise FormatError(file, f"{what} must be a number of seconds, got {text!r}", line) from None
    if not math.isfinite(value) or value < 0:
        raise FormatError(file, f"{what} must be a finite number of seconds >= 0, got {text!r}", line)
    return value


def interval_frames(interval: Interval, times_s: Sequence[float] | np.ndarray, end_time_s: float) -> tuple[int, int]:
    """The frames ``[start, end)`` of ``interval`` on a video whose frames start at ``times_s``.

    Seconds go to the nearest frame boundary of the PTS index (boundaries are
    the frames' start times and the video's end), so times rounded to
    milliseconds by ELAN or BORIS land on the frames they were written from,
    at any frame rate and on variable-frame-rate video; an interval that
    rounds to no frame keeps one. Ends past the video are
    clamped to it (annotation tools round durations up). Frame intervals are
    returned as they are: the project checks them against the video.
    """
    times = np.asarray(times_s, dtype=np.float64)
    n = len(times)
    if interval.unit == FRAMES:
        start = int(interval.start)
        return start, n if interval.end is None else int(interval.end)
    if interval.unit != SECONDS:
        raise ValueError(f"unknown interval unit {interval.unit!r}")
    where = f"{interval.label} {interval.start:g}..{'end' if interval.end is None else f'{interval.end:g}'} s"
    if interval.start >= end_time_s:
        raise FormatError(interval.file, f"{where} starts at or after the end of video {interval.video!r} "
                                         f"({end_time_s:.3f} s)", interval.line)
    if interval.end is not None and interval.end < interval.start:
        raise FormatError(interval.file, f"{where} ends before it starts", interval.line)
    boundaries = np.append(times, end_time_s)
    start = _nearest(boundaries[:n], interval.start)
    end = n if interval.end is None else 1 + _nearest(boundaries[1:], interval.end)
    return start, max(end, start + 1)


def _nearest(sorted_values: np.ndarray, t: float) -> int:
    i = int(np.searchsorted(sorted_values, t))
    if i == len(sorted_values):
        return i - 1
    if i > 0 and t - sorted_values[i - 1] <= sorted_values[i] - t:
        return i - 1
    return i
