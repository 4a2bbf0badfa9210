"""The open project as the widgets see it: the store plus Qt signals.

napari's split: the model is plain Python (``actdesk.core.project.Project``
with its commands and change callbacks); this object only forwards the
store's :class:`~actdesk.core.project.Change` notifications as signals and
keeps the view state that is not the store's business (current video,
selection, I/O marks) and the confidence curves of model tracks: loaded from
the store with their video, updated live by a running model, stored back with
:meth:`save_curves`. Every edit goes through :meth:`execute` (a store command,
one transaction, on the undo stack).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from actdesk.core.commands import Command
from actdesk.core.labels import Label
from actdesk.core.project import Change, Project, StoredSegment, Track, TrackScores, VideoRecord
from actdesk.errors import ActdeskError


def frame_times_array(project: Project, video_id: int) -> np.ndarray:
    """The stored presentation time of every frame of a video, as a float64 array."""
    times = project.frame_times(video_id)
    return np.fromiter((times.time_of(i) for i in range(len(times))), np.float64, len(times))


class ProjectDocument(QObject):
    """One open project, its undo stack, and what the user has selected."""

    changed = Signal(object)  # actdesk.core.project.Change
    videoChanged = Signal()
    selectionChanged = Signal()
    marksChanged = Signal()
    undoStateChanged = Signal()
    curvesChanged = Signal(int)  # track id

    def __init__(self, project: Project, *, temporary: bool = False):
        super().__init__()
        self.project = project
        self.temporary = temporary
        """True for a project made for a bare video in a temporary folder (asked where to keep on save)."""
        self.video: VideoRecord | None = None
        self.times_s = np.zeros(0, np.float64)
        self.selected_track: int | None = None
        self.selected_ids: list[int] = []
        self.mark_in: int | None = None
        self.mark_out: int | None = None
        self.current_label: str | None = None
        self.curves: dict[int, TrackScores] = {}
        """Confidence curves by model track id: the current video's stored ones and this session's runs."""
        self.curve_errors: list[str] = []
        """Why stored curves of the current video could not be read (their segments are unaffected)."""
        self._unsubscribe = project.subscribe(self._on_change)

    # -- lifecycle -----------------------------------------------------------
    @property
    def path(self) -> Path:
        return self.project.path

    def close(self) -> None:
        self._unsubscribe()
        self.project.close()

    # -- video -----------------------------------------------------------------
    def set_video(self, video_id: int) -> VideoRecord:
        """Make ``video_id`` the current video (its frame times come from the store)."""
        self.video = self.project.video(video_id)
        self.times_s = frame_times_array(self.project, video_id)
        self._load_curves()
        self.selected_track, self.selected_ids = None, []
        self.mark_in = self.mark_out = None
        self.videoChanged.emit()
        return self.video

    @property
    def frame_count(self) -> int:
        return len(self.times_s)

    @property
    def end_time_s(self) -> float:
        return float(self.video.end_time_s) if self.video is not None else 0.0

    def tracks(self) -> list[Track]:
        return self.project.tracks(self.video.id) if self.video is not None else []

    def human_track(self) -> Track | None:
        return self.project.human_track(self.video.id) if self.video is not None else None

    def labels(self) -> list[Label]:
        return self.project.labels()

    def label_names(self) -> list[str]:
        return [label.name for label in self.project.labels()]

    # -- edits -----------------------------------------------------------------
    def execute(self, command: Command) -> bool:
        """Run ``command`` on the undo stack; ActdeskError propagates (the caller shows it)."""
        changed = self.project.undo_stack.execute(command)
        self.undoStateChanged.emit()
        return changed

    def undo(self) -> bool:
        done = self.project.undo_stack.undo()
        self.undoStateChanged.emit()
        return done

    def redo(self) -> bool:
        done = self.project.undo_stack.redo()
        self.undoStateChanged.emit()
        return done

    def _on_change(self, change: Change) -> None:
        # Keep the selection to segments that still exist (after a delete, a merge, an undo).
        touched = change.kind == "tracks" or (change.kind == "segments" and change.track_id == self.selected_track
                                               and not set(change.segment_ids).isdisjoint(self.selected_ids))
        if self.selected_ids and touched:
            track = self.selected_track
            alive = {s.id for s in self.project.segments(track)} if self._track_exists(track) else set()
            kept = [i for i in self.selected_ids if i in alive]
            if kept != self.selected_ids:
                self.selected_ids = kept
                self.selectionChanged.emit()
        self.changed.emit(change)

    def _track_exists(self, track_id: int | None) -> bool:
        return track_id is not None and any(t.id == track_id for t in self.tracks())

    # -- selection and marks --------------------------------------------------------
    def select(self, track_id: int | None, ids: list[int], *, additive: bool = False) -> None:
        if additive and track_id == self.selected_track:
            ids = list(dict.fromkeys(self.selected_ids + [i for i in ids if i not in self.selected_ids]))
        self.selected_track = track_id
        self.selected_ids = list(ids)
        self.selectionChanged.emit()

    def selected_segments(self) -> list[StoredSegment]:
        if not self.selected_ids:
            return []
        return self.project.segments_by_id(self.selected_ids)

    def set_marks(self, mark_in: int | None, mark_out: int | None) -> None:
        self.mark_in, self.mark_out = mark_in, mark_out
        self.marksChanged.emit()

    # -- curves ---------------------------------------------------------------------
    def set_curves(self, track_id: int, curves: TrackScores) -> None:
        """Show new curves for a track (a running model's so far); :meth:`save_curves` stores them."""
        self.curves[track_id] = curves
        self.curvesChanged.emit(track_id)

    def save_curves(self, track_id: int) -> None:
        """Store a track's curves with it; ActdeskError if the track is gone or they do not fit it."""
        curves = self.curves.get(track_id)
        if curves is not None:
            self.project.set_track_scores(track_id, curves)

    def curve_times(self, curves: TrackScores) -> np.ndarray:
        """Seconds of each row of the current video's ``curves``."""
        return self.times_s[curves.frames]

    def _load_curves(self) -> None:
        self.curve_errors = []
        for track in self.project.tracks(self.video.id):
            if track.kind != "model" or track.id in self.curves:
                continue
            try:
                stored = self.project.track_scores(track.id)
            except ActdeskError as e:
                self.curve_errors.append(str(e))
                continue
            if stored is not None:
                self.curves[track.id] = stored
