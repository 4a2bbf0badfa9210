"""Exporting a project: one function, called by ``actdesk export`` and by the app's Export dialog.

:func:`export_project` gathers the chosen tracks of the chosen videos
(:func:`export_set`: rejected segments left out, times from the project's
PTS index), splits the videos that have segments into train/val/test
(:mod:`actdesk.formats.splits`), and hands them to the format's exporter
with an :class:`~actdesk.formats.safety.OutputFolder` that refuses to write
outside the folder and, unless asked, into a folder that is not empty.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from actdesk.core.project import HUMAN_TRACK, Project
from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.errors import ActdeskError, MediaError
from actdesk.formats.data import ExportSet, ExportVideo
from actdesk.formats.registry import FormatRegistry
from actdesk.formats.safety import OutputFolder
from actdesk.formats.splits import DEFAULT_FRACTIONS, assign_splits


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    format: str
    kind: str
    folder: Path
    files: list[Path]
    videos: int
    segments: int
    splits: dict[str, str]
    """Video name -> split, for the videos with segments on the exported (first) track."""


def export_set(project: Project, *, tracks: Sequence[str] = (HUMAN_TRACK,), videos: Sequence[str] | None = None,
               fractions: Sequence[float] = DEFAULT_FRACTIONS, seed: int = 0) -> ExportSet:
    """The segments of ``tracks`` of ``videos`` (file names; None = all), each video with its split.

    Rejected segments are left out. Splits are assigned from the first track's
    segments; videos without any get none. The label order is the project's
    label set, limited to the labels the exported segments use.
    """
    if not tracks:
        raise ActdeskError("choose at least one track to export")
    chosen = [project.video_named(name) for name in videos] if videos is not None else project.videos()
    if not chosen:
        raise ActdeskError(f"{project.path}: the project has no videos to export")
    per_video: list[tuple] = []
    for video in chosen:
        by_track = {}
        for name in tracks:
            track = project.track_named(video.id, name)
            if track is not None:
                by_track[name] = [s.to_segment() for s in project.segments(track.id) if s.status != "rejected"]
        per_video.append((video, by_track))
    if not any(by_track for _, by_track in per_video):
        raise ActdeskError(f"{project.path}: no video has a track named {', '.join(map(repr, tracks))}")
    counts = {video.name: Counter(s.label for s in by_track.get(tracks[0], ())) for video, by_track in per_video}
    splits = assign_splits(counts, fractions, seed=seed)
    used = {s.label for _, by_track in per_video for segments in by_track.values() for s in segments}
    labels = [label for label in project.labels() if label.name in used]
    out = []
    for video, by_track in per_video:
        times = project.frame_times(video.id)
        out.append(ExportVideo(
            name=video.name, path=video.abs_path, times_s=np.asarray(times.times_s, dtype=np.float64),
            end_time_s=times.end_time_s, width=int(video.probe.get("width", 0)),
            height=int(video.probe.get("height", 0)), avg_fps=video.avg_fps, tracks=by_track,
            split=splits.get(video.name, "")))
    return ExportSet(out, [label.name for label in labels], list(tracks),
                     {label.name: label.colour for label in labels})


def export_project(project: Project, out: str | os.PathLike, format_name: str, *,
                   tracks: Sequence[str] = (HUMAN_TRACK,), videos: Sequence[str] | None = None,
                   fractions: Sequence[float] = DEFAULT_FRACTIONS, seed: int = 0, overwrite: bool = False,
                   registry: FormatRegistry | None = None, progress: ProgressFn = no_progress,
                   should_stop: StopFn = never_stop) -> ExportResult:
    """Export ``project`` into the folder ``out`` in format ``format_name``.

    :param tracks: track names to export (formats other than ELAN, Label
        Studio and the overlay take exactly one).
    :param videos: project video file names; None exports every video.
    :param fractions: train, val, test shares for data-set formats' splits.
    :param seed: the same seed gives the same split.
    :param overwrite: allow a folder that already holds files (files the export
        writes are replaced; nothing else is touched).
    :param registry: the formats (default: the plugin manager's, plugins' formats included).
    :raises ActdeskError: unknown format, nothing to export, a folder that is
        not empty, a path that would leave the folder, missing videos.
    :raises Cancelled: when ``should_stop()`` returns True.
    """
    if registry is None:
        from actdesk.plugins import get_plugin_manager

        registry = get_plugin_manager().formats()
    fmt = registry.get(format_name)
    if not fmt.can_export:
        raise ActdeskError(f"format {format_name!r} can only be imported; formats that export: "
                           f"{', '.join(f.name for f in registry.exporters())}")
    data = export_set(project, tracks=tracks, videos=videos, fractions=fractions, seed=seed)
    exported = [s for v in data.videos for t in data.tracks for s in v.segments(t)]
    if fmt.kind == "dataset" and not exported:
        raise ActdeskError(f"{project.path}: no segments on track {', '.join(map(repr, data.tracks))} to build "
                           "a training set from")
    if fmt.needs_video_files:
        missing = [v for v in data.videos if not v.path.is_file()]
        if missing:
            raise MediaError(missing[0].path, f"video {missing[0].name!r} of the project is missing (moved or "
                                              "deleted?); relink it first")
    folder = OutputFolder.prepare(out, overwrite=overwrite)
    fmt.export(data, folder, progress=progress, should_stop=should_stop)
    return ExportResult(fmt.name, fmt.kind, folder.root, list(folder.written), len(data.videos), len(exported),
                        {v.name: v.split for v in data.videos if v.split})
