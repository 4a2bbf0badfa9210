"""Importing into a project: one function, called by ``actdesk import`` and by the app.

:func:`read_source` reads a file or data-set folder with its format (named,
or detected by the registry). :func:`import_into_project` ties what was read
to the project: data-set videos are added to the project, every interval is
matched to a project video and converted to frames through that video's
stored PTS index, and the result is one command (one undo step) that adds
missing labels in the file's order, the segments (to the file's tracks, or
to the one asked for), and, where the source has official splits, an empty
track named ``splits`` per video whose params record them
(:func:`recorded_splits` reads them back).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from actdesk.core.commands import AddLabel, AddModelTrack, Batch, Command, import_segments
from actdesk.core.project import HUMAN_TRACK, Project, VideoRecord
from actdesk.core.segments import Segment
from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.errors import ActdeskError, Cancelled, FormatError, ProjectError
from actdesk.formats.data import Imported, Interval, interval_frames
from actdesk.formats.registry import FormatRegistry

SPLITS_TRACK = "splits"
"""The track (no segments) whose params hold a video's imported splits: ``{"splits": {"1": "train", ...}}``."""
_UPLOAD_PREFIX = re.compile(r"[0-9a-f]{8}-(?P<name>.+)")
"""Label Studio renames uploaded files ``<8 hex digits>-<original name>``."""


def read_source(path: str | os.PathLike, format_name: str | None = None, *,
                registry: FormatRegistry | None = None) -> Imported:
    """Read an annotation file or a data-set folder (format named, or detected)."""
    if registry is None:
        from actdesk.plugins import get_plugin_manager

        registry = get_plugin_manager().formats()
    path = Path(path)
    return registry.for_import(path, format_name).import_(path)


@dataclass
class ImportPlan:
    """The command an import executes, and what it will add."""

    command: Command
    segments: int
    tracks: list[str]
    videos_added: list[VideoRecord]
    split_sets: list[str]


def import_into_project(project: Project, imported: Imported, *, track: str | None = None, video: str | None = None,
                        progress: ProgressFn = no_progress, should_stop: StopFn = never_stop) -> ImportPlan:
    """Plan the import of ``imported`` into ``project`` (execute ``plan.command`` to apply it).

    :param track: put every segment on this track (``human`` or a model
        track, made if missing); None keeps the file's own tracks (ELAN
        tiers, BORIS subjects, Label Studio predictions), else ``human``.
    :param video: put every interval on this project video (a file name);
        not for data sets, whose items are videos themselves.
    :param progress: ``(videos added, videos to add)`` while a data set's videos
        are added to the project (each added at once; not part of the undo step).
    :raises ActdeskError: an interval that matches no project video, or lies outside its video.
    :raises Cancelled: stopped while adding videos.
    """
    if video is not None and imported.video_files:
        raise ActdeskError(f"{imported.source}: a {imported.format} data set names its own videos; --video "
                           "applies to annotation files")
    added: list[VideoRecord] = []
    records: dict[str, VideoRecord] = {}
    known = {v.id for v in project.videos()}
    for done, (name, file) in enumerate(imported.video_files.items()):
        if should_stop():
            raise Cancelled("import")
        progress(done, len(imported.video_files), name)
        record = records[name] = project.add_video(file)
        if record.id not in known:
            added.append(record)
            known.add(record.id)
    progress(len(imported.video_files), len(imported.video_files), "")

    videos = project.videos()
    by_track: dict[str, list[Segment]] = {}
    for interval in imported.intervals:
        if interval.video not in records:
            records[interval.video] = project.video_named(video) if video is not None else \
                find_video(project, interval.video, videos)
        by_track.setdefault(track or interval.track or HUMAN_TRACK, []).append(
            _segment(project, records[interval.video], interval))

    known_labels = {label.name for label in project.labels()}
    commands: list[Command] = [AddLabel(name) for name in imported.labels if name not in known_labels]
    for track_name, segments in by_track.items():
        commands.append(import_segments(project, segments, track=track_name, origin=imported.source.name))
    split_sets: set[str] = set()
    for name, splits in imported.splits.items():
        record = records.get(name)
        if record is None or not splits or project.track_named(record.id, SPLITS_TRACK) is not None:
            continue
        split_sets.update(splits)
        commands.append(AddModelTrack(record.id, imported.format, None, name=SPLITS_TRACK,
                                      params={"splits": dict(sorted(splits.items(), key=lambda kv: _set_order(kv[0]))),
                                              "imported_from": str(imported.source)}))
    n = sum(len(s) for s in by_track.values())
    return ImportPlan(Batch(f"Import {n} segment{'s' if n != 1 else ''} from {imported.source.name}", commands), n,
                      sorted(by_track), added, sorted(split_sets, key=_set_order))


def _set_order(split_set: str) -> tuple[int, str]:
    return (int(split_set), "") if split_set.isdigit() else (1 << 30, split_set)


def _segment(project: Project, record: VideoRecord, interval: Interval) -> Segment:
    times = project.frame_times(record.id)
    start, end = interval_frames(interval, times.times_s, times.end_time_s)
    if end > len(times):
        raise FormatError(interval.file, f"segment {start}..{end} ({interval.label}) of {record.name} ends after "
                                         f"the video's last frame ({len(times)} frames)", interval.line)
    # The stored path names the video uniquely (file names may repeat across folders).
    return Segment(start, end, interval.label, confidence=interval.confidence, source=interval.source,
                   video=record.path)


def find_video(project: Project, name: str, videos: Sequence[VideoRecord]) -> VideoRecord:
    """The project video a file means by ``name``.

    Tried in order: the stored file name or path; the name's last path
    component (files that name videos by path or URL); the file name without
    its suffix (ActivityNet, Kinetics and AVA ids); Label Studio's upload
    prefix removed. Each must match exactly one video.
    """
    if not name:
        if len(videos) == 1:
            return videos[0]
        raise ActdeskError("the file names no video and the project has several; say which with --video")
    try:
        return project.video_named(name)
    except ProjectError as error:
        not_found = error
    base = PurePosixPath(name.replace("\\", "/")).name
    upload = _UPLOAD_PREFIX.fullmatch(base)
    for matches in (lambda v: v.name == base, lambda v: PurePosixPath(v.name).stem == base,
                    lambda v: upload is not None and v.name == upload["name"]):
        found = [v for v in videos if matches(v)]
        if len(found) == 1:
            return found[0]
    raise not_found


def recorded_splits(project: Project, video_id: int) -> dict[str, str]:
    """The splits an import recorded for a video (``{"1": "train", "2": "test"}``), empty when none."""
    track = project.track_named(video_id, SPLITS_TRACK)
    return dict(track.params.get("splits", {})) if track is not None else {}
