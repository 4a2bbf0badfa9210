"""A model track's confidence curves, stored with it: round trip, refusals, undo/redo, older files."""

from __future__ import annotations

import numpy as np
import pytest

from actdesk.core import schema
from actdesk.core.commands import AddModelTrack, AppendPredictions
from actdesk.core.project import Project, TrackScores
from actdesk.core.segments import Segment
from actdesk.errors import ProjectError

CLASSES = ("walk", "run", "jump")


def softmax_rows(frames: int, seed: int = 0) -> np.ndarray:
    logits = np.random.default_rng(seed).normal(size=(frames, len(CLASSES))) * 3
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def model_run(project: Project, **kwargs) -> int:
    video = project.videos()[0].id
    command = AddModelTrack(video, "c3d", "c3d.safetensors", [Segment(0, 60, "walk", confidence=0.8)], **kwargs)
    project.execute(command)
    return command.track_id


def test_scores_round_trip_to_1_255_and_survive_reopen(project, tmp_path):
    track = model_run(project)
    assert project.track_scores(track) is None
    frames = np.arange(0, 60, 2)
    probs = softmax_rows(len(frames))
    project.set_track_scores(track, TrackScores(CLASSES, frames, probs))
    project.close()
    with Project.open(tmp_path / "p.actdesk", readonly=True) as again:
        stored = again.track_scores(track)
    assert stored.labels == CLASSES and stored.frames.dtype == np.int64
    np.testing.assert_array_equal(stored.frames, frames)
    assert stored.probs.shape == probs.shape
    np.testing.assert_allclose(stored.probs, probs, atol=0.5 / 255 + 1e-6)
    assert 0 < np.abs(stored.probs - probs).max()  # quantised, as documented


def test_an_hour_of_curves_stays_under_a_megabyte():
    frames = np.arange(30 * 3600)
    # Smooth curves, as a model's are after smoothing: each class rises and falls over minutes.
    t = frames[:, None] / 1800.0 + np.arange(8)[None, :]
    probs = ((np.sin(t) + 1) / 2).astype(np.float32)
    _, frame_blob, level_blob = TrackScores(tuple(f"c{i}" for i in range(8)), frames, probs).encode()
    assert len(frame_blob) < 2_000  # constant steps
    assert len(frame_blob) + len(level_blob) < 1_000_000


@pytest.mark.parametrize("frames, probs, problem", [
    (np.arange(30), softmax_rows(30)[:, :2], "shape"),
    (np.arange(30) * 3, softmax_rows(30), "frame numbers must increase within the video's 0..59"),
    (np.array([0, 2, 2, 4]), softmax_rows(4), "frame numbers must increase"),
    (np.array([-1, 0]), softmax_rows(2), "frame numbers"),
    (np.arange(30), np.full((30, 3), np.nan, np.float32), "0..1"),
    (np.arange(30), softmax_rows(30) * 2, "0..1"),
])
def test_scores_that_do_not_fit_are_refused_and_change_nothing(project, frames, probs, problem):
    track = model_run(project)
    good = TrackScores(CLASSES, np.arange(10), softmax_rows(10))
    project.set_track_scores(track, good)
    with pytest.raises(ProjectError, match=problem) as refused:
        project.set_track_scores(track, TrackScores(CLASSES, frames, probs))
    assert "p.actdesk" in str(refused.value) and "'c3d'" in str(refused.value)
    np.testing.assert_array_equal(project.track_scores(track).frames, good.frames)


def test_duplicate_class_names_and_human_tracks_are_refused(project, human):
    track = model_run(project)
    with pytest.raises(ProjectError, match="distinct"):
        project.set_track_scores(track, TrackScores(("walk", "walk"), np.arange(3), np.zeros((3, 2))))
    with pytest.raises(ProjectError, match="not a model track"):
        project.set_track_scores(human, TrackScores(CLASSES, np.arange(3), softmax_rows(3)))
    with pytest.raises(ProjectError, match="no track #999"):
        project.set_track_scores(999, TrackScores(CLASSES, np.arange(3), softmax_rows(3)))


def test_undo_removes_the_scores_with_the_track_and_redo_brings_them_back(project):
    track = model_run(project)
    project.execute(AppendPredictions(track, []))  # a streamed run is one undo step
    probs = softmax_rows(60, seed=1)
    project.set_track_scores(track, TrackScores(CLASSES, np.arange(60), probs))
    project.undo()
    assert project.db.execute("SELECT count(*) FROM track_scores").fetchone() == (0,)
    project.redo()
    np.testing.assert_allclose(project.track_scores(track).probs, probs, atol=0.5 / 255 + 1e-6)


def test_a_command_can_bring_its_scores_and_refuses_ones_that_do_not_fit(project, snapshot):
    probs = softmax_rows(60, seed=2)
    track = model_run(project, scores=TrackScores(CLASSES, np.arange(60), probs))
    assert project.track_scores(track).labels == CLASSES
    before = snapshot(project)
    with pytest.raises(ProjectError, match="scores for track 'c3d \\(2\\)' refused: frame numbers"):
        model_run(project, scores=TrackScores(CLASSES, np.arange(61), softmax_rows(61)))
    assert snapshot(project) == before  # the whole command rolled back: no second track


def test_a_damaged_row_names_the_track_and_spares_the_rest(project):
    track = model_run(project)
    project.set_track_scores(track, TrackScores(CLASSES, np.arange(60), softmax_rows(60)))
    with project.transaction():
        project.db.execute("UPDATE track_scores SET levels = x'00ff00'")
    with pytest.raises(ProjectError, match=f"stored scores of track #{track} are unreadable"):
        project.track_scores(track)
    assert project.segments(track)[0].label == "walk"


def _as_schema_1(monkeypatch):
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])


def test_a_schema_1_file_reads_as_is_and_gains_the_table_when_opened_for_editing(tmp_path, clip, monkeypatch,
                                                                                raw_rows):
    path = tmp_path / "old.actdesk"
    with monkeypatch.context() as m:
        _as_schema_1(m)
        with Project.create(path) as old:
            old.add_video(clip)
            track = model_run(old)
    assert raw_rows(path, "PRAGMA user_version") == [(1,)]
    with Project.open(path, readonly=True) as reader:  # e.g. `actdesk export`: no upgrade needed
        assert reader.schema_version == 1 and reader.track_scores(track) is None
        assert reader.segments(track)[0].label == "walk"
    assert raw_rows(path, "PRAGMA user_version") == [(1,)]
    with Project.open(path) as upgraded:
        assert upgraded.schema_version == schema.schema_version() == 2
        upgraded.set_track_scores(track, TrackScores(CLASSES, np.arange(60), softmax_rows(60)))
    assert raw_rows(path, "SELECT count(*) FROM track_scores") == [(1,)]
