"""Edit commands with undo, and the undo stack that runs them.

Every user edit is a command object (SLEAP's ``gui/commands.py`` shape) with
``do(project)``, ``undo(project)`` and a ``description`` for the Edit menu. The
:class:`UndoStack` runs each ``do``/``undo``/``redo`` inside ONE SQLite
transaction: it is committed at once (nothing to save later) or, on any error,
rolled back with the stack unchanged.

A command plans its change against the rows it finds on its first ``do`` and
records the exact rows it removed and added (ids included); ``undo`` puts the
removed rows back as they were and ``redo`` replays the recorded rows, so
do/undo/redo restore identical rows. Segment ids are never reused
(AUTOINCREMENT), so a replayed row cannot collide with a newer one.

Invariants every command keeps: on one track segments do not overlap and lie
inside the video (``0 <= start < end <= frame_count``); every segment's label is
in the label set; boundary seconds are the stored presentation times of the
boundary frames (``Project.frame_times``).

Review status: segments a person draws or copies to the human track are
``accepted``; model segments start ``pending``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import replace
from itertools import pairwise

from actdesk.core.labels import Label, default_colour, validate_label_name
from actdesk.core.project import HUMAN_TRACK, STATUSES, LabelRow, Project, StoredSegment, Track, TrackScores
from actdesk.core.segments import Segment
from actdesk.errors import ActdeskError, LabelError

_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
MAX_SHORTCUT_LENGTH = 16
_Plan = tuple[list[StoredSegment], list[StoredSegment]]
"""(rows removed, rows added) of a segment edit; an updated row is in both with its id."""


class Command(ABC):
    """One undoable edit. ``do`` is called again for redo, in the state its undo left."""

    description: str = ""

    @abstractmethod
    def do(self, project: Project) -> None: ...

    @abstractmethod
    def undo(self, project: Project) -> None: ...

    @property
    def changed(self) -> bool:
        """False after a ``do`` that found nothing to change; such a command is not kept for undo."""
        return True

    def merges_with(self, later: "Command") -> bool:
        """Whether ``later`` (already done) joins this command's undo step."""
        return False


class UndoStack:
    """Undo/redo history of one open project; each step is undone in one transaction.

    A step is one command, or a command plus the later commands it
    :meth:`Command.merges_with` (streamed model results).
    """

    def __init__(self, project: Project, *, limit: int = 1000):
        self.project = project
        self.limit = limit
        self._done: list[list[Command]] = []
        self._undone: list[list[Command]] = []

    def execute(self, command: Command) -> bool:
        """Do ``command`` in one transaction; returns False when it changed nothing (not recorded)."""
        with self.project.transaction():
            command.do(self.project)
        if not command.changed:
            return False
        if self._done and self._done[-1][0].merges_with(command):
            self._done[-1].append(command)
        else:
            self._done.append([command])
            del self._done[:-self.limit]
        self._undone.clear()
        return True

    def undo(self) -> bool:
        """Undo the last step; False when there is none."""
        if not self._done:
            return False
        step = self._done[-1]
        with self.project.transaction():
            for command in reversed(step):
                command.undo(self.project)
        self._undone.append(self._done.pop())
        return True

    def redo(self) -> bool:
        """Redo the last undone step; False when there is none."""
        if not self._undone:
            return False
        step = self._undone[-1]
        with self.project.transaction():
            for command in step:
                command.do(self.project)
        self._done.append(self._undone.pop())
        return True

    def can_undo(self) -> bool:
        return bool(self._done)

    def can_redo(self) -> bool:
        return bool(self._undone)

    def undo_text(self) -> str:
        """Description of the step :meth:`undo` would undo ('' when none)."""
        return self._done[-1][0].description if self._done else ""

    def redo_text(self) -> str:
        return self._undone[-1][0].description if self._undone else ""

    def clear(self) -> None:
        self._done.clear()
        self._undone.clear()


class Batch(Command):
    """Several commands as one step in one transaction (an import, a new project's label set)."""

    def __init__(self, description: str, commands: Sequence[Command]):
        self.description = description
        self.commands = list(commands)

    def do(self, project: Project) -> None:
        for command in self.commands:
            command.do(project)

    def undo(self, project: Project) -> None:
        for command in reversed(self.commands):
            command.undo(project)

    @property
    def changed(self) -> bool:
        return any(c.changed for c in self.commands)


# --------------------------------------------------------------------------- labels


def _checked_colour(colour: str) -> str:
    if not isinstance(colour, str) or not _COLOUR.fullmatch(colour):
        raise LabelError(f"colour {colour!r} is not of the form #rrggbb")
    return colour.lower()


def _checked_shortcut(shortcut: str | None) -> str:
    """'' means no shortcut."""
    if shortcut is None or shortcut == "":
        return ""
    if (not isinstance(shortcut, str) or len(shortcut) > MAX_SHORTCUT_LENGTH
            or any(c.isspace() or not c.isprintable() for c in shortcut)):
        raise LabelError(f"shortcut {shortcut!r} must be a key name of at most {MAX_SHORTCUT_LENGTH} "
                         "printable characters without spaces")
    return shortcut


def _refuse_used_shortcut(project: Project, shortcut: str, owner: str | None) -> None:
    if not shortcut:
        return
    for label in project.labels():
        if label.shortcut == shortcut and label.name != owner:
            raise LabelError(f"shortcut {shortcut!r} is already used by label {label.name!r}")


class AddLabel(Command):
    """Add a label at the end of the label set (colour from the palette unless given)."""

    def __init__(self, name: str, colour: str | None = None, shortcut: str | None = None):
        self.name = validate_label_name(name)
        self.colour = None if colour is None else _checked_colour(colour)
        self.shortcut = _checked_shortcut(shortcut)
        self.description = f"Add label {self.name}"
        self._row: LabelRow | None = None

    def do(self, project: Project) -> None:
        row = self._row
        if row is None:
            rows = project.label_rows()
            if any(r.label.name == self.name for r in rows):
                raise LabelError(f"label {self.name!r} already exists")
            _refuse_used_shortcut(project, self.shortcut, None)
            position = max((r.position for r in rows), default=-1) + 1
            row = LabelRow(Label(self.name, self.colour or default_colour(len(rows)), self.shortcut), position)
        project._insert_label_row(row)
        self._row = row

    def undo(self, project: Project) -> None:
        project._delete_label_row(self.name)


class _ChangeLabel(Command):
    """Replace a label's name, colour or shortcut; undo puts the old values back."""

    def __init__(self, name: str):
        self.name = name
        self._old: Label | None = None
        self._new: Label | None = None

    @abstractmethod
    def _changed_label(self, project: Project, old: Label) -> Label: ...

    def do(self, project: Project) -> None:
        if self._old is None:
            old = project.label_row(self.name).label
            self._new = self._changed_label(project, old)
            self._old = old
        if self._new != self._old:
            project._update_label_row(self._old.name, self._new)

    def undo(self, project: Project) -> None:
        if self._new != self._old:
            project._update_label_row(self._new.name, self._old)

    @property
    def changed(self) -> bool:
        return self._old is None or self._new != self._old


class RenameLabel(_ChangeLabel):
    """Rename a label; every segment carrying it follows (ON UPDATE CASCADE)."""

    def __init__(self, name: str, new_name: str):
        super().__init__(name)
        self.new_name = validate_label_name(new_name)
        self.description = f"Rename label {name} to {self.new_name}"

    def _changed_label(self, project: Project, old: Label) -> Label:
        if self.new_name != old.name and any(label.name == self.new_name for label in project.labels()):
            raise LabelError(f"cannot rename {old.name!r} to {self.new_name!r}: that label already exists")
        return replace(old, name=self.new_name)


class SetLabelColour(_ChangeLabel):
    def __init__(self, name: str, colour: str):
        super().__init__(name)
        self.colour = _checked_colour(colour)
        self.description = f"Set colour of {name}"

    def _changed_label(self, project: Project, old: Label) -> Label:
        return replace(old, colour=self.colour)


class SetLabelShortcut(_ChangeLabel):
    """Set (or with None/'' clear) a label's shortcut key; a key belongs to one label."""

    def __init__(self, name: str, shortcut: str | None):
        super().__init__(name)
        self.shortcut = _checked_shortcut(shortcut)
        self.description = f"Set shortcut of {name}"

    def _changed_label(self, project: Project, old: Label) -> Label:
        _refuse_used_shortcut(project, self.shortcut, old.name)
        return replace(old, shortcut=self.shortcut)


# --------------------------------------------------------------------------- segments


def _reframed(project: Project, track: Track, row: StoredSegment, start: int, end: int) -> StoredSegment:
    """``row`` with new boundary frames and their stored presentation times."""
    times = project.frame_times(track.video_id)
    if end > len(times):
        raise ActdeskError(f"segment {start}..{end} ({row.label}) ends after the video's last frame "
                           f"({len(times)} frames)")
    if not 0 <= start < end:
        raise ActdeskError(f"segment {start}..{end} ({row.label}) is empty or starts before frame 0")
    return replace(row, start_frame=start, end_frame=end, start_s=times.time_of(start), end_s=times.time_of(end))


def _refuse_overlap(project: Project, track: Track, rows: Sequence[StoredSegment]) -> None:
    """Refuse new ``rows`` that overlap each other or the track's segments."""
    if not rows:
        return
    span = project.segments_in_range(track.id, min(r.start_frame for r in rows), max(r.end_frame for r in rows))
    ordered = sorted([*span, *rows], key=lambda s: (s.start_frame, s.end_frame))
    for a, b in pairwise(ordered):
        if b.start_frame < a.end_frame:
            raise ActdeskError(f"{_describe(a)} and {_describe(b)} would overlap on track {track.name!r}")


def _describe(seg: StoredSegment) -> str:
    number = f" #{seg.id}" if seg.id is not None else ""
    return f"segment{number} {seg.start_frame}..{seg.end_frame} ({seg.label})"


class _SegmentEdit(Command):
    """A command whose effect is: these segment rows removed, these added.

    An updated row appears in both lists with the same id. Subclasses plan the
    rows in :meth:`_plan` on the first ``do``.
    """

    def __init__(self) -> None:
        self._removed: list[StoredSegment] | None = None
        self._added: list[StoredSegment] = []

    @abstractmethod
    def _plan(self, project: Project) -> _Plan: ...

    def do(self, project: Project) -> None:
        if self._removed is None:
            removed, added = self._plan(project)
            unchanged = set(removed) & set(added)
            removed = [r for r in removed if r not in unchanged]
            added = [a for a in added if a not in unchanged]
            project._delete_segment_rows(removed)
            self._added = project._insert_segment_rows(added)
            self._removed = removed
        else:
            project._delete_segment_rows(self._removed)
            project._insert_segment_rows(self._added)

    def undo(self, project: Project) -> None:
        project._delete_segment_rows(self._added)
        project._insert_segment_rows(self._removed or [])

    @property
    def changed(self) -> bool:
        return self._removed is None or bool(self._removed or self._added)

    @property
    def added(self) -> list[StoredSegment]:
        """The rows this command inserted (with their ids), after ``do``."""
        return list(self._added)


class CreateSegment(_SegmentEdit):
    """A person draws a segment: confidence None, source ``human``, status ``accepted``."""

    def __init__(self, track_id: int, start_frame: int, end_frame: int, label: str):
        super().__init__()
        self.track_id, self.start_frame, self.end_frame, self.label = track_id, start_frame, end_frame, label
        self.description = f"Create segment {label}"

    def _plan(self, project: Project) -> _Plan:
        track = project.track(self.track_id)
        project.label_row(self.label)
        blank = StoredSegment(None, track.id, "accepted", 0, 1, self.label, 0.0, 0.0, None, "human")
        row = _reframed(project, track, blank, self.start_frame, self.end_frame)
        _refuse_overlap(project, track, [row])
        return [], [row]


class DeleteSegments(_SegmentEdit):
    def __init__(self, segment_ids: Iterable[int]):
        super().__init__()
        self.segment_ids = list(segment_ids)
        n = len(self.segment_ids)
        self.description = f"Delete {n} segment{'s' if n != 1 else ''}"

    def _plan(self, project: Project) -> _Plan:
        return project.segments_by_id(self.segment_ids), []


class Relabel(_SegmentEdit):
    def __init__(self, segment_ids: Iterable[int], label: str):
        super().__init__()
        self.segment_ids = list(segment_ids)
        self.label = label
        self.description = f"Relabel as {label}"

    def _plan(self, project: Project) -> _Plan:
        project.label_row(self.label)
        old = project.segments_by_id(self.segment_ids)
        return old, [replace(s, label=self.label) for s in old]


class SetStatus(_SegmentEdit):
    """Accept, reject or reset to pending the review status of segments."""

    def __init__(self, segment_ids: Iterable[int], status: str):
        super().__init__()
        if status not in STATUSES:
            raise ActdeskError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
        self.segment_ids = list(segment_ids)
        self.status = status
        verb = {"accepted": "Accept", "rejected": "Reject", "pending": "Reset"}[status]
        self.description = f"{verb} {len(self.segment_ids)} segment{'s' if len(self.segment_ids) != 1 else ''}"

    def _plan(self, project: Project) -> _Plan:
        old = project.segments_by_id(self.segment_ids)
        return old, [replace(s, status=self.status) for s in old]


class AcceptAboveThreshold(_SegmentEdit):
    """Accept every pending segment of a track whose confidence is at least ``threshold``."""

    def __init__(self, track_id: int, threshold: float):
        super().__init__()
        if not 0.0 <= threshold <= 1.0:
            raise ActdeskError(f"confidence threshold must lie in [0, 1], got {threshold}")
        self.track_id, self.threshold = track_id, threshold
        self.description = f"Accept segments with confidence ≥ {threshold:.2f}"

    def _plan(self, project: Project) -> _Plan:
        old = [s for s in project.segments(self.track_id)
               if s.status == "pending" and s.confidence is not None and s.confidence >= self.threshold]
        return old, [replace(s, status="accepted") for s in old]


class MoveBoundary(_SegmentEdit):
    """Move a segment's ``start`` or ``end`` boundary to ``new_frame``.

    The boundary is clamped to the neighbouring segments and to the video (a
    drag snaps there); a move that would leave the segment empty is refused.
    """

    def __init__(self, segment_id: int, side: str, new_frame: int):
        super().__init__()
        if side not in ("start", "end"):
            raise ActdeskError(f"boundary side must be 'start' or 'end', got {side!r}")
        self.segment_id, self.side, self.new_frame = segment_id, side, new_frame
        self.description = f"Move {side} boundary"

    def _plan(self, project: Project) -> _Plan:
        (seg,) = project.segments_by_id([self.segment_id])
        track = project.track(seg.track_id)
        before, after = project.neighbours(seg.id)
        if self.side == "start":
            if self.new_frame >= seg.end_frame:
                raise ActdeskError(f"moving the start of segment #{seg.id} to frame {self.new_frame} would leave "
                                   f"it empty (it ends at {seg.end_frame})")
            start, end = max(self.new_frame, before.end_frame if before else 0), seg.end_frame
        else:
            if self.new_frame <= seg.start_frame:
                raise ActdeskError(f"moving the end of segment #{seg.id} to frame {self.new_frame} would leave "
                                   f"it empty (it starts at {seg.start_frame})")
            limit = after.start_frame if after else len(project.frame_times(track.video_id))
            start, end = seg.start_frame, min(self.new_frame, limit)
        return [seg], [_reframed(project, track, seg, start, end)]


class SplitSegment(_SegmentEdit):
    """Cut a segment in two at ``frame`` (the frame starts the second part)."""

    def __init__(self, segment_id: int, frame: int):
        super().__init__()
        self.segment_id, self.frame = segment_id, frame
        self.description = "Split segment"

    def _plan(self, project: Project) -> _Plan:
        (seg,) = project.segments_by_id([self.segment_id])
        if not seg.start_frame < self.frame < seg.end_frame:
            raise ActdeskError(f"cannot split segment #{seg.id} ({seg.start_frame}..{seg.end_frame}) at frame "
                               f"{self.frame}: the frame must lie strictly inside it")
        track = project.track(seg.track_id)
        first = _reframed(project, track, seg, seg.start_frame, self.frame)
        second = _reframed(project, track, replace(seg, id=None), self.frame, seg.end_frame)
        return [seg], [first, second]


class MergeSegments(_SegmentEdit):
    """Join two neighbouring segments of one track (any gap between them is filled).

    The result keeps the id, label, status and source of ``keep_id``; its
    confidence is the length-weighted mean (None if either is a human segment).
    """

    def __init__(self, keep_id: int, other_id: int):
        super().__init__()
        self.keep_id, self.other_id = keep_id, other_id
        self.description = "Merge segments"

    def _plan(self, project: Project) -> _Plan:
        if self.keep_id == self.other_id:
            raise ActdeskError(f"cannot merge segment #{self.keep_id} with itself")
        keep, other = project.segments_by_id([self.keep_id, self.other_id])
        if keep.track_id != other.track_id:
            raise ActdeskError(f"segments #{keep.id} and #{other.id} are on different tracks")
        first, second = sorted([keep, other], key=lambda s: s.start_frame)
        between = project.segments_in_range(first.track_id, first.end_frame, second.start_frame) \
            if first.end_frame < second.start_frame else []
        if between:
            raise ActdeskError(f"segments #{first.id} and #{second.id} are not neighbours: "
                               f"segment #{between[0].id} lies between them")
        if keep.confidence is None or other.confidence is None:
            confidence = None
        else:
            confidence = (keep.confidence * keep.length + other.confidence * other.length) / (keep.length + other.length)
        merged = replace(keep, confidence=confidence)
        merged = _reframed(project, project.track(keep.track_id), merged, first.start_frame, second.end_frame)
        return [keep, other], [merged]


def _subtract(start: int, end: int, holes: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of ``[start, end)`` not covered by the sorted, disjoint ``holes``."""
    parts, cursor = [], start
    for hole_start, hole_end in holes:
        if hole_end <= cursor or hole_start >= end:
            continue
        if hole_start > cursor:
            parts.append((cursor, hole_start))
        cursor = max(cursor, hole_end)
    if cursor < end:
        parts.append((cursor, end))
    return parts


class CopyTrackToHuman(_SegmentEdit):
    """Copy a model track's non-rejected segments to its video's human track.

    The copies keep label, confidence and source (the model name, so their
    origin stays visible) and are ``accepted``. Overwrite policy: by default the
    human track wins, copies are clipped to the frames no human segment covers;
    with ``overwrite=True`` the copies win, human segments are trimmed (or split)
    away from the frames the copies cover.
    """

    def __init__(self, track_id: int, *, overwrite: bool = False):
        super().__init__()
        self.track_id, self.overwrite = track_id, overwrite
        self.description = "Copy predictions to the human track"

    def _plan(self, project: Project) -> _Plan:
        source = project.track(self.track_id)
        human = project.human_track(source.video_id)
        if source.id == human.id:
            raise ActdeskError("cannot copy the human track onto itself")
        copies = [s for s in project.segments(source.id) if s.status != "rejected"]
        existing = project.segments(human.id)
        removed, added = [], []
        if self.overwrite:
            holes = [(s.start_frame, s.end_frame) for s in copies]
            for seg in existing:
                parts = _subtract(seg.start_frame, seg.end_frame, holes)
                if parts == [(seg.start_frame, seg.end_frame)]:
                    continue
                removed.append(seg)
                for i, (a, b) in enumerate(parts):
                    added.append(_reframed(project, human, seg if i == 0 else replace(seg, id=None), a, b))
            fill = [(s, [(s.start_frame, s.end_frame)]) for s in copies]
        else:
            holes = [(s.start_frame, s.end_frame) for s in existing]
            fill = [(s, _subtract(s.start_frame, s.end_frame, holes)) for s in copies]
        for seg, parts in fill:
            row = replace(seg, id=None, track_id=human.id, status="accepted")
            added.extend(_reframed(project, human, row, a, b) for a, b in parts)
        return removed, added


class AddSegments(_SegmentEdit):
    """Add many segments to a track (an import, a batch of model results).

    Labels not yet in the label set are added (and removed again on undo).
    Seconds are recomputed from the frames; ``status`` defaults to ``accepted``
    on the human track and ``pending`` on a model track. Segments that overlap
    each other or the track's segments are refused.
    """

    def __init__(self, track_id: int, segments: Sequence[Segment], *, status: str | None = None):
        super().__init__()
        if status is not None and status not in STATUSES:
            raise ActdeskError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
        self.track_id, self.segments, self.status = track_id, list(segments), status
        self.description = f"Add {len(self.segments)} segments"
        self._new_labels: list[AddLabel] | None = None

    def do(self, project: Project) -> None:
        if self._new_labels is None:
            known = {label.name for label in project.labels()}
            wanted = dict.fromkeys(validate_label_name(s.label) for s in self.segments)
            new_labels = [AddLabel(name) for name in wanted if name not in known]
            for command in new_labels:
                command.do(project)
            self._new_labels = new_labels
        else:
            for command in self._new_labels:
                command.do(project)
        super().do(project)

    def undo(self, project: Project) -> None:
        super().undo(project)
        for command in reversed(self._new_labels or []):
            command.undo(project)

    @property
    def changed(self) -> bool:
        return super().changed or bool(self._new_labels)

    def _plan(self, project: Project) -> _Plan:
        track = project.track(self.track_id)
        status = self.status or ("accepted" if track.kind == "human" else "pending")
        rows = []
        for seg in self.segments:
            blank = StoredSegment(None, track.id, status, 0, 1, validate_label_name(seg.label), 0.0, 0.0,
                                  seg.confidence, seg.source)
            rows.append(_reframed(project, track, blank, seg.start_frame, seg.end_frame))
        _refuse_overlap(project, track, rows)
        return [], rows


class AppendPredictions(AddSegments):
    """Model results streaming into a track: consecutive appends to the same
    track (and the :class:`AddModelTrack` that made it) are one undo step."""

    def __init__(self, track_id: int, segments: Sequence[Segment]):
        super().__init__(track_id, segments)
        self.description = "Add model predictions"

    def merges_with(self, later: Command) -> bool:
        return isinstance(later, AppendPredictions) and later.track_id == self.track_id


class AddModelTrack(Command):
    """A model run's results as a new track of a video (undo removes the track).

    The track is named after the model (``model (2)`` etc. when taken);
    ``segments`` may be empty when results will stream in with
    :class:`AppendPredictions`, and ``scores`` (its confidence curves) None
    when they follow with :meth:`Project.set_track_scores`. Undo keeps the
    scores stored by then, so redo brings them back with the track.
    ``track_id`` is set after ``do``.
    """

    def __init__(self, video_id: int, model: str, checkpoint: str | None, segments: Sequence[Segment] = (),
                 *, name: str | None = None, params: dict | None = None, scores: TrackScores | None = None):
        self.video_id, self.model, self.checkpoint = video_id, model, checkpoint
        self.segments, self.name, self.params = list(segments), name, dict(params or {})
        self.description = f"Add {model} predictions"
        self.track_id: int | None = None
        self._track: Track | None = None
        self._add: AddSegments | None = None
        self._scores = scores

    def do(self, project: Project) -> None:
        track = self._track
        if track is None:
            project.video(self.video_id)
            base = self.name or self.model
            if base == HUMAN_TRACK:
                raise ActdeskError(f"a model track cannot be named {HUMAN_TRACK!r}")
            taken = {t.name for t in project.tracks(self.video_id)}
            if self.name is not None and base in taken:
                raise ActdeskError(f"video #{self.video_id} already has a track named {base!r}")
            name, n = base, 1
            while name in taken:
                n += 1
                name = f"{base} ({n})"
            track = Track(None, self.video_id, name, "model", self.model, self.checkpoint, params=self.params)
        self._track = project._insert_track_row(track)
        self.track_id = self._track.id
        if self._add is None:
            self._add = AddSegments(self.track_id, self.segments)
        self._add.do(project)
        if self._scores is not None:
            project._write_track_scores(self._track, self._scores)

    def undo(self, project: Project) -> None:
        self._scores = project.track_scores(self.track_id)  # stored after do() by the run; deleted with the row
        self._add.undo(project)
        project._delete_track_row(self._track)

    def merges_with(self, later: Command) -> bool:
        return isinstance(later, AppendPredictions) and later.track_id == self.track_id


class DeleteLabel(Command):
    """Remove a label; refused while segments carry it unless ``reassign_to`` names their new label."""

    def __init__(self, name: str, *, reassign_to: str | None = None):
        self.name, self.reassign_to = name, reassign_to
        self.description = f"Delete label {name}"
        self._row: LabelRow | None = None
        self._relabel: Relabel | None = None

    def do(self, project: Project) -> None:
        if self._row is None:
            row = project.label_row(self.name)
            users = project.segments_labelled(self.name)
            if users and self.reassign_to is None:
                raise LabelError(f"label {self.name!r} is used by {len(users)} segment"
                                 f"{'s' if len(users) != 1 else ''}; reassign them to another label first")
            if self.reassign_to == self.name:
                raise LabelError(f"cannot reassign the segments of {self.name!r} to the label itself")
            self._relabel = Relabel([s.id for s in users], self.reassign_to) if users else None
            self._row = row
        if self._relabel is not None:
            self._relabel.do(project)
        project._delete_label_row(self.name)

    def undo(self, project: Project) -> None:
        project._insert_label_row(self._row)
        if self._relabel is not None:
            self._relabel.undo(project)


# --------------------------------------------------------------------------- import


def import_segments(project: Project, segments: Sequence[Segment], *, video: str | None = None,
                    track: str = HUMAN_TRACK, origin: str = "") -> Batch:
    """The command that imports ``segments`` (one undo step).

    Rows go to the video named ``video``, else to the project video whose file
    name matches their ``video`` column (a project with one video takes rows
    with an empty column). ``track`` ``human`` is the video's human track; any
    other name is that track, made as a new model track (model = the rows'
    source) when the video has none of that name. ``origin`` (the file) is
    recorded in a new track's params.
    """
    by_video: dict[int, list[Segment]] = {}
    targets: dict[str, int] = {}  # video name -> id, so each name is looked up once
    only_video: list[int] = []    # filled on first need: the id of the project's only video

    def target_of(seg: Segment) -> int:
        name = video if video is not None else seg.video
        if name:
            if name not in targets:
                targets[name] = project.video_named(name).id
            return targets[name]
        if not only_video:
            videos = project.videos()
            if len(videos) != 1:
                raise ActdeskError(f"a row ({seg.start_frame}..{seg.end_frame} {seg.label}) names no video and the "
                                   "project has several; say which with --video")
            only_video.append(videos[0].id)
        return only_video[0]

    for seg in segments:
        by_video.setdefault(target_of(seg), []).append(seg)
    commands: list[Command] = []
    for video_id, rows in by_video.items():
        existing = project.track_named(video_id, track)
        if existing is not None:
            commands.append(AddSegments(existing.id, rows))
        else:
            model = rows[0].source if rows[0].source != HUMAN_TRACK else track
            commands.append(AddModelTrack(video_id, model, None, rows, name=track,
                                          params={"imported_from": origin} if origin else None))
    n = len(segments)
    return Batch(f"Import {n} segment{'s' if n != 1 else ''}" + (f" from {origin}" if origin else ""), commands)
