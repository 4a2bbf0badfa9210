"""Edit commands: every do/undo/redo restores the exact rows; each command's own rules."""

from __future__ import annotations

import pytest

from actdesk.core.commands import (
    AcceptAboveThreshold, AddLabel, AddModelTrack, AddSegments, AppendPredictions, Batch, Command,
    CopyTrackToHuman, CreateSegment, DeleteLabel, DeleteSegments, MergeSegments, MoveBoundary, Relabel,
    RenameLabel, SetLabelColour, SetLabelShortcut, SetStatus, SplitSegment, UndoStack, import_segments,
)
from actdesk.core.project import Change, Project
from actdesk.core.segments import Segment
from actdesk.errors import ActdeskError, LabelError, ProjectError


@pytest.fixture
def ids(project, human):
    """A human track with walk 0..10, run 10..20, jump 30..40 and a model track 'c3d' with
    walk 0..15 (0.9), run 15..35 (0.4, rejected), jump 35..50 (0.7); frames 50..60 free."""
    video = project.videos()[0].id
    for start, end, label in [(0, 10, "walk"), (10, 20, "run"), (30, 40, "jump")]:
        project.execute(CreateSegment(human, start, end, label))
    project.execute(AddLabel("unused"))
    add = AddModelTrack(video, "c3d", "c3d.safetensors", [
        Segment(0, 15, "walk", confidence=0.9, source="c3d"),
        Segment(15, 35, "run", confidence=0.4, source="c3d"),
        Segment(35, 50, "jump", confidence=0.7, source="c3d"),
    ])
    project.execute(add)
    h = [s.id for s in project.segments(human)]
    m = [s.id for s in project.segments(add.track_id)]
    project.execute(SetStatus([m[1]], "rejected"))
    project.undo_stack.clear()
    return {"v": video, "h": human, "m": add.track_id, "h0": h[0], "h1": h[1], "h2": h[2],
            "m0": m[0], "m1": m[1], "m2": m[2]}


def rows(project, track_id):
    """(start, end, label, confidence, status, source) of a track's segments."""
    return [(s.start_frame, s.end_frame, s.label, s.confidence, s.status, s.source) for s in project.segments(track_id)]


COMMANDS = {
    "AddLabel": lambda i: AddLabel("sit", "#123456", "s"),
    "RenameLabel": lambda i: RenameLabel("walk", "stroll"),
    "SetLabelColour": lambda i: SetLabelColour("run", "#abcdef"),
    "SetLabelShortcut": lambda i: SetLabelShortcut("jump", "j"),
    "DeleteLabel unused": lambda i: DeleteLabel("unused"),
    "DeleteLabel reassign": lambda i: DeleteLabel("jump", reassign_to="walk"),
    "CreateSegment": lambda i: CreateSegment(i["h"], 45, 55, "jump"),
    "DeleteSegments": lambda i: DeleteSegments([i["h0"], i["h2"]]),
    "Relabel": lambda i: Relabel([i["h0"], i["m1"]], "jump"),
    "MoveBoundary start": lambda i: MoveBoundary(i["h2"], "start", 25),
    "MoveBoundary end": lambda i: MoveBoundary(i["m2"], "end", 57),
    "SplitSegment": lambda i: SplitSegment(i["m2"], 42),
    "MergeSegments": lambda i: MergeSegments(i["h1"], i["h2"]),
    "SetStatus": lambda i: SetStatus([i["m0"], i["m2"]], "accepted"),
    "AcceptAboveThreshold": lambda i: AcceptAboveThreshold(i["m"], 0.5),
    "CopyTrackToHuman": lambda i: CopyTrackToHuman(i["m"]),
    "CopyTrackToHuman overwrite": lambda i: CopyTrackToHuman(i["m"], overwrite=True),
    "AddSegments": lambda i: AddSegments(i["h"], [Segment(40, 50, "sit"), Segment(50, 60, "walk")]),
    "AppendPredictions": lambda i: AppendPredictions(i["m"], [Segment(50, 60, "sit", confidence=0.3, source="c3d")]),
    "AddModelTrack": lambda i: AddModelTrack(i["v"], "c3d", "b.safetensors", [Segment(3, 9, "sit", confidence=1.0)]),
    "Batch": lambda i: Batch("two", [AddLabel("sit"), CreateSegment(i["h"], 20, 30, "sit")]),
}


@pytest.mark.parametrize("name", COMMANDS)
def test_do_undo_redo_restore_exact_rows(project, ids, name, snapshot):
    command = COMMANDS[name](ids)
    before = snapshot(project)
    assert project.undo_stack.execute(command) is True
    after = snapshot(project)
    assert after != before
    assert project.undo_stack.undo_text() == command.description != ""
    project.undo()
    assert snapshot(project) == before
    assert project.undo_stack.redo_text() == command.description
    project.redo()
    assert snapshot(project) == after
    project.undo()
    assert snapshot(project) == before
    assert not project.undo_stack.can_undo() and project.undo_stack.can_redo()


def test_edits_and_undos_persist_across_reopen(project, ids, tmp_path, snapshot):
    project.execute(Relabel([ids["h0"]], "jump"))
    project.execute(SplitSegment(ids["h2"], 35))
    project.execute(DeleteSegments([ids["h1"]]))
    project.undo()
    expected = snapshot(project)
    project.close()
    with Project.open(tmp_path / "p.actdesk") as again:
        assert snapshot(again) == expected
        assert rows(again, ids["h"]) == [(0, 10, "jump", None, "accepted", "human"),
                                         (10, 20, "run", None, "accepted", "human"),
                                         (30, 35, "jump", None, "accepted", "human"),
                                         (35, 40, "jump", None, "accepted", "human")]


# --------------------------------------------------------------------------- segment rules


def test_create_segment_refuses_overlap_range_and_unknown_label(project, ids, snapshot):
    before = snapshot(project)
    with pytest.raises(ActdeskError, match=r"segment #\d+ 10\.\.20 \(run\) and segment 15\.\.25 \(walk\) "
                                           r"would overlap on track 'human'"):
        project.execute(CreateSegment(ids["h"], 15, 25, "walk"))
    with pytest.raises(ActdeskError, match=r"ends after the video's last frame \(60 frames\)"):
        project.execute(CreateSegment(ids["h"], 50, 61, "walk"))
    with pytest.raises(LabelError, match="no label 'swim'"):
        project.execute(CreateSegment(ids["h"], 50, 55, "swim"))
    with pytest.raises(ProjectError, match="no track #77"):
        project.execute(CreateSegment(77, 50, 55, "walk"))
    assert snapshot(project) == before
    assert not project.undo_stack.can_undo()


def test_created_segment_is_a_human_accepted_one_with_pts_seconds(project, ids):
    project.execute(CreateSegment(ids["h"], 20, 30, "walk"))
    seg = project.segments_in_range(ids["h"], 20, 30)[0]
    assert (seg.start_s, seg.end_s, seg.confidence, seg.source, seg.status) == (0.8, 1.2, None, "human", "accepted")


def test_move_boundary_clamps_to_neighbours_and_video_and_refuses_empty(project, ids):
    project.execute(MoveBoundary(ids["h2"], "start", 5))  # run ends at 20
    project.execute(MoveBoundary(ids["h2"], "end", 1000))  # the video ends at 60
    (seg,) = project.segments_by_id([ids["h2"]])
    assert (seg.start_frame, seg.end_frame, seg.start_s, seg.end_s) == (20, 60, 0.8, 2.4)
    assert project.undo_stack.execute(MoveBoundary(ids["h1"], "end", 25)) is False  # already at its neighbour
    with pytest.raises(ActdeskError, match="would leave it empty"):
        project.execute(MoveBoundary(ids["h1"], "start", 20))
    with pytest.raises(ActdeskError, match="would leave it empty"):
        project.execute(MoveBoundary(ids["h1"], "end", 3))
    with pytest.raises(ActdeskError, match="'start' or 'end'"):
        MoveBoundary(ids["h1"], "middle", 3)


def test_split_keeps_label_confidence_and_status(project, ids):
    project.execute(SplitSegment(ids["m2"], 42))
    assert rows(project, ids["m"])[-2:] == [(35, 42, "jump", 0.7, "pending", "c3d"),
                                             (42, 50, "jump", 0.7, "pending", "c3d")]
    assert project.segments_by_id([ids["m2"]])[0].end_s == pytest.approx(42 / 25)
    for frame in (35, 42, 50):
        with pytest.raises(ActdeskError, match="strictly inside"):
            project.execute(SplitSegment(ids["m2"], frame))


def test_merge_fills_the_gap_and_weights_confidence(project, ids):
    project.execute(MergeSegments(ids["h1"], ids["h2"]))  # run 10..20 + jump 30..40
    assert rows(project, ids["h"]) == [(0, 10, "walk", None, "accepted", "human"),
                                       (10, 40, "run", None, "accepted", "human")]
    with pytest.raises(ActdeskError, match="not neighbours"):
        project.execute(MergeSegments(ids["m0"], ids["m2"]))
    with pytest.raises(ActdeskError, match="different tracks"):
        project.execute(MergeSegments(ids["m0"], ids["h0"]))
    with pytest.raises(ActdeskError, match="with itself"):
        project.execute(MergeSegments(ids["m0"], ids["m0"]))
    project.execute(MergeSegments(ids["m2"], ids["m1"]))  # keeps jump's label and status
    assert rows(project, ids["m"])[1] == (15, 50, "jump", pytest.approx((0.4 * 20 + 0.7 * 15) / 35), "pending", "c3d")


def test_set_status_and_accept_above_threshold(project, ids):
    with pytest.raises(ActdeskError, match="status must be one of"):
        SetStatus([ids["m0"]], "maybe")
    project.execute(AcceptAboveThreshold(ids["m"], 0.8))
    assert [r[4] for r in rows(project, ids["m"])] == ["accepted", "rejected", "pending"]
    project.execute(AcceptAboveThreshold(ids["m"], 0.0))  # rejected ones stay rejected
    assert [r[4] for r in rows(project, ids["m"])] == ["accepted", "rejected", "accepted"]
    assert project.undo_stack.execute(AcceptAboveThreshold(ids["m"], 0.0)) is False
    assert project.undo_stack.undo_text().startswith("Accept segments with confidence")


def test_copy_to_human_default_keeps_human_segments(project, ids):
    project.execute(CopyTrackToHuman(ids["m"]))
    # c3d walk 0..15 fills only 10..20's complement: nothing of 0..10, run occupies 10..20;
    # rejected run is not copied; jump 35..50 fills 40..50 beside the human jump 30..40.
    assert rows(project, ids["h"]) == [(0, 10, "walk", None, "accepted", "human"),
                                       (10, 20, "run", None, "accepted", "human"),
                                       (30, 40, "jump", None, "accepted", "human"),
                                       (40, 50, "jump", 0.7, "accepted", "c3d")]


def test_copy_to_human_overwrite_trims_human_segments(project, ids):
    project.execute(CopyTrackToHuman(ids["m"], overwrite=True))
    assert rows(project, ids["h"]) == [(0, 15, "walk", 0.9, "accepted", "c3d"),
                                       (15, 20, "run", None, "accepted", "human"),
                                       (30, 35, "jump", None, "accepted", "human"),
                                       (35, 50, "jump", 0.7, "accepted", "c3d")]
    assert project.segments_by_id([ids["h1"]])[0].start_s == pytest.approx(15 / 25)
    with pytest.raises(ActdeskError, match="onto itself"):
        project.execute(CopyTrackToHuman(ids["h"]))


# --------------------------------------------------------------------------- labels


def test_rename_label_follows_into_every_segment(project, ids):
    heard = []
    project.subscribe(heard.append)
    project.execute(RenameLabel("walk", "stroll"))
    assert [r[2] for r in rows(project, ids["h"])] == ["stroll", "run", "jump"]
    assert [r[2] for r in rows(project, ids["m"])] == ["stroll", "run", "jump"]
    assert [label.name for label in project.labels()] == ["stroll", "run", "jump", "unused"]
    assert Change("labels") in heard
    assert Change("segments", ids["h"], (ids["h0"],)) in heard
    assert Change("segments", ids["m"], (ids["m0"],)) in heard
    with pytest.raises(LabelError, match="already exists"):
        project.execute(RenameLabel("stroll", "run"))
    with pytest.raises(LabelError, match="forbidden"):
        RenameLabel("stroll", "a/b")


def test_delete_label_is_refused_while_used(project, ids):
    with pytest.raises(LabelError, match="'jump' is used by 2 segments; reassign"):
        project.execute(DeleteLabel("jump"))
    with pytest.raises(LabelError, match="no label 'swim'"):
        project.execute(DeleteLabel("jump", reassign_to="swim"))
    project.execute(DeleteLabel("jump", reassign_to="run"))
    assert [r[2] for r in rows(project, ids["h"])] == ["walk", "run", "run"]
    assert "jump" not in [label.name for label in project.labels()]


def test_shortcuts_belong_to_one_label(project, ids):
    project.execute(SetLabelShortcut("walk", "w"))
    with pytest.raises(LabelError, match="'w' is already used by label 'walk'"):
        project.execute(SetLabelShortcut("run", "w"))
    with pytest.raises(LabelError, match="already used"):
        project.execute(AddLabel("wave", shortcut="w"))
    project.execute(SetLabelShortcut("walk", None))
    project.execute(SetLabelShortcut("run", "w"))
    assert {label.name: label.shortcut for label in project.labels()}["run"] == "w"


# --------------------------------------------------------------------------- model tracks and imports


def test_model_run_with_streamed_results_is_one_undo_step(project, ids, snapshot):
    before = snapshot(project)
    run = AddModelTrack(ids["v"], "c3d", "c3d.safetensors", [], params={"stride": 2})
    project.execute(run)
    track = project.track(run.track_id)
    assert (track.name, track.kind, track.model, track.params) == ("c3d (2)", "model", "c3d", {"stride": 2})
    project.execute(AppendPredictions(run.track_id, [Segment(0, 20, "walk", confidence=0.6, source="c3d")]))
    project.execute(AppendPredictions(run.track_id, [Segment(20, 60, "swim", confidence=0.8, source="c3d")]))
    assert rows(project, run.track_id) == [(0, 20, "walk", 0.6, "pending", "c3d"),
                                           (20, 60, "swim", 0.8, "pending", "c3d")]
    assert "swim" in [label.name for label in project.labels()]
    assert project.undo_stack.undo_text() == "Add c3d predictions"
    project.undo()
    assert snapshot(project) == before
    assert not project.undo_stack.can_undo()
    project.redo()
    assert rows(project, run.track_id) == [(0, 20, "walk", 0.6, "pending", "c3d"),
                                           (20, 60, "swim", 0.8, "pending", "c3d")]


def test_an_edit_between_appends_splits_the_undo_steps(project, ids):
    project.execute(AppendPredictions(ids["m"], [Segment(50, 55, "walk", confidence=0.5)]))
    project.execute(Relabel([ids["h0"]], "run"))
    project.execute(AppendPredictions(ids["m"], [Segment(55, 60, "walk", confidence=0.5)]))
    project.undo()
    assert [r[:2] for r in rows(project, ids["m"])][-1] == (50, 55)
    assert rows(project, ids["h"])[0][2] == "run"


def test_model_track_names_are_unique_and_not_human(project, ids):
    with pytest.raises(ActdeskError, match="already has a track named 'c3d'"):
        project.execute(AddModelTrack(ids["v"], "x", None, [], name="c3d"))
    with pytest.raises(ActdeskError, match="cannot be named 'human'"):
        project.execute(AddModelTrack(ids["v"], "human", None, []))


def test_add_segments_refuses_overlaps_among_themselves(project, ids, snapshot):
    before = snapshot(project)
    with pytest.raises(ActdeskError, match="overlap"):
        project.execute(AddSegments(ids["h"], [Segment(40, 50, "sit"), Segment(45, 55, "sit")]))
    assert snapshot(project) == before  # the new label 'sit' was rolled back too


def test_import_matches_videos_by_name_and_makes_named_tracks(project, ids, video_factory):
    second = project.add_video(video_factory("second.mkv", frames=20))
    truth = [Segment(40, 60, "walk", source="truth", video="clip.mp4"),
             Segment(0, 20, "wave", source="truth", video="second.mkv")]
    project.execute(import_segments(project, truth, origin="truth.csv"))
    assert rows(project, ids["h"])[-1] == (40, 60, "walk", None, "accepted", "truth")
    assert rows(project, project.human_track(second.id).id) == [(0, 20, "wave", None, "accepted", "truth")]
    project.execute(import_segments(project, truth[:1], track="truth", origin="truth.csv"))
    track = project.track_named(ids["v"], "truth")
    assert (track.kind, track.model, track.params) == ("model", "truth", {"imported_from": "truth.csv"})
    assert rows(project, track.id) == [(40, 60, "walk", None, "pending", "truth")]
    with pytest.raises(ProjectError, match="no video named 'other.mp4'"):
        import_segments(project, [Segment(0, 5, "walk", video="other.mp4")])
    with pytest.raises(ActdeskError, match="--video"):
        import_segments(project, [Segment(0, 5, "walk")])
    project.execute(import_segments(project, [Segment(0, 5, "walk", video="whatever")], video="second.mkv",
                                    track="extra"))
    assert len(project.tracks(second.id)) == 2


# --------------------------------------------------------------------------- the undo stack


class _Failing(Command):
    """Writes a row, then fails (in do or in undo), to prove the transaction is rolled back."""

    description = "failing"

    def __init__(self, track_id: int, fail_in: str):
        self.inner = CreateSegment(track_id, 50, 60, "walk")
        self.fail_in = fail_in

    def do(self, project):
        self.inner.do(project)
        if self.fail_in == "do":
            raise ActdeskError("do failed")

    def undo(self, project):
        self.inner.undo(project)
        if self.fail_in == "undo":
            raise ActdeskError("undo failed")


def test_a_failing_do_or_undo_changes_nothing(project, ids, snapshot):
    stack = project.undo_stack
    before = snapshot(project)
    with pytest.raises(ActdeskError, match="do failed"):
        stack.execute(_Failing(ids["h"], "do"))
    assert snapshot(project) == before and not stack.can_undo()
    stack.execute(_Failing(ids["h"], "undo"))
    after = snapshot(project)
    with pytest.raises(ActdeskError, match="undo failed"):
        stack.undo()
    assert snapshot(project) == after
    assert stack.can_undo() and not stack.can_redo() and stack.undo_text() == "failing"


def test_stack_limit_redo_clearing_and_texts(project, ids):
    stack = UndoStack(project, limit=2)
    assert (stack.undo(), stack.redo(), stack.undo_text(), stack.redo_text()) == (False, False, "", "")
    for colour in ("#000001", "#000002", "#000003"):
        stack.execute(SetLabelColour("walk", colour))
    assert stack.undo() and stack.undo() and not stack.undo()  # only two kept
    assert project.labels()[0].colour == "#000001"
    assert stack.can_redo()
    stack.execute(SetLabelColour("run", "#000004"))
    assert not stack.can_redo()
    stack.clear()
    assert not stack.can_undo() and project.labels()[1].colour == "#000004"
