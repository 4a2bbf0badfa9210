"""``overlay``: each video re-encoded with the labels of the exported tracks drawn on it.

Writes ``<video id>.overlay.mp4`` per video (see :mod:`actdesk.overlay`), one
line per exported track (``--track`` may be given several times).
"""

from __future__ import annotations

from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.formats.data import ExportSet
from actdesk.formats.registry import Format
from actdesk.formats.safety import OutputFolder

SUFFIX = ".overlay.mp4"


class OverlayFormat(Format):
    name = "overlay"
    title = "Video with the labels drawn on it"
    kind = "video"
    suffixes = (".mp4",)
    needs_video_files = True
    description = "<video id>.overlay.mp4: frames with a label band per track and a timeline strip"

    def export(self, data: ExportSet, out: OutputFolder, *, progress: ProgressFn = no_progress,
               should_stop: StopFn = never_stop) -> None:
        from actdesk.overlay import render_overlay

        data.ids_unique(self.name)
        total = sum(v.frame_count for v in data.videos)
        done = 0
        for video in data.videos:
            def video_progress(frames: int, _total: int, message: str = "", name: str = video.name) -> None:
                progress(done + frames, total, name)

            render_overlay(video.path, out.path(f"{video.video_id}{SUFFIX}"),
                           {track: video.segments(track) for track in data.tracks}, colours=data.colours,
                           progress=video_progress, should_stop=should_stop)
            done += video.frame_count
