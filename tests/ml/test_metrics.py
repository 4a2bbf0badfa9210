"""MS-TCN segmentation metrics on hand-made cases whose values were computed by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from actdesk.cli import main
from actdesk.core.segments import Segment
from actdesk.formats.segments_csv import write_segments_csv
from actdesk.ml.metrics import (
    ClassScores,
    confusion_matrix,
    edit_score,
    evaluate,
    f1_counts,
    f1_from_counts,
    frame_accuracy,
    label_runs,
    levenshtein,
    per_class_scores,
)


def runs(*parts: tuple[str, int]) -> list[str]:
    """Per-frame labels from (label, length) runs."""
    return [label for label, n in parts for _ in range(n)]


def test_shifted_boundary_costs_frames_only():
    truth = runs(("A", 10), ("B", 10))
    pred = runs(("A", 8), ("B", 12))
    assert frame_accuracy(pred, truth) == pytest.approx(18 / 20)
    assert edit_score(pred, truth) == pytest.approx(100.0)
    # IoU A = 8/10, B = 10/12: both match at every threshold.
    for k in (0.1, 0.25, 0.5):
        assert f1_counts(pred, truth, k) == (2, 0, 0)


def test_over_segmentation_lowers_edit_and_f1_but_barely_accuracy():
    # MS-TCN's motivation: a short spurious segment inside a long one.
    truth = runs(("A", 50), ("B", 50))
    over = runs(("A", 24), ("B", 2), ("A", 24), ("B", 50))
    shifted = runs(("A", 52), ("B", 48))
    assert frame_accuracy(over, truth) == pytest.approx(0.98)
    assert frame_accuracy(shifted, truth) == pytest.approx(0.98)
    # Label sequences ABAB vs AB: distance 2 over 4 segments.
    assert edit_score(over, truth) == pytest.approx(50.0)
    assert edit_score(shifted, truth) == pytest.approx(100.0)
    # A[0,24) IoU 24/50 matches at 10 % and 25 %; the spurious B and the second A are
    # false positives; B[50,100) matches. At 50 % the first A (0.48) no longer matches.
    assert f1_counts(over, truth, 0.10) == (2, 2, 0)
    assert f1_counts(over, truth, 0.25) == (2, 2, 0)
    assert f1_counts(over, truth, 0.50) == (1, 3, 1)
    assert f1_from_counts(2, 2, 0) == pytest.approx(2 / 3)
    assert f1_from_counts(1, 3, 1) == pytest.approx(1 / 3)
    assert f1_counts(shifted, truth, 0.50) == (2, 0, 0)


def test_truth_segment_is_matched_once():
    truth = runs(("A", 10))
    pred = runs(("A", 5), ("B", 1), ("A", 4))
    # Both A predictions overlap the one truth A; only the first counts.
    assert f1_counts(pred, truth, 0.1) == (1, 2, 0)


def test_levenshtein_and_runs():
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein([], ["a", "b"]) == 2
    assert label_runs(["", "a", "a", "", "b"]) == [("a", 1, 3), ("b", 4, 5)]
    assert edit_score([], []) == 100.0
    assert edit_score(["", ""], ["a", "a"]) == 0.0
    assert f1_from_counts(0, 0, 0) == 1.0
    with pytest.raises(ValueError, match="3 frames, truth 2"):
        frame_accuracy(["a"] * 3, ["a"] * 2)


def test_unlabelled_truth_frames_are_not_scored():
    truth = runs(("", 5), ("A", 5))
    pred = runs(("B", 5), ("A", 5))
    assert frame_accuracy(pred, truth) == 1.0


def test_confusion_and_per_class_table():
    c = confusion_matrix([0, 0, 1, 1, 1, 2], [0, 1, 1, 1, 0, 2], 3)
    assert c.tolist() == [[1, 1, 0], [1, 2, 0], [0, 0, 1]]
    scores = per_class_scores(c, ["a", "b", "c"])
    assert scores[0] == ClassScores("a", 0.5, 0.5, 0.5, 2)
    assert scores[1].precision == pytest.approx(2 / 3) and scores[1].recall == pytest.approx(2 / 3)
    assert scores[2] == ClassScores("c", 1.0, 1.0, 1.0, 1)
    never_predicted = per_class_scores(np.array([[0, 2], [0, 3]]), ["x", "y"])[0]
    assert never_predicted == ClassScores("x", 0.0, 0.0, 0.0, 2)


def two_video_case():
    truth = [
        Segment(0, 10, "A", source="truth", video="a/v1.mp4"),
        Segment(10, 20, "B", source="truth", video="a/v1.mp4"),
        Segment(0, 10, "C", source="truth", video="a/v2.mp4"),
    ]
    pred = [
        Segment(0, 10, "A", confidence=0.9, source="m", video="v1.mp4"),
        Segment(10, 15, "A", confidence=0.6, source="m", video="v1.mp4"),
        Segment(0, 30, "A", confidence=0.6, source="m", video="elsewhere.mp4"),
    ]
    return pred, truth


def test_evaluate_groups_videos_and_pools_counts():
    pred, truth = two_video_case()
    r = evaluate(pred, truth)
    # v1: A right on 10 frames, B 5 frames called A + 5 uncovered; v2 has no prediction.
    assert r.frames == 30
    assert r.frame_accuracy == pytest.approx(10 / 30)
    assert [v.frame_accuracy for v in r.videos] == pytest.approx([0.5, 0.0])
    # v1: [A] vs [A, B] = 50; v2: [] vs [C] = 0.
    assert r.edit == pytest.approx(25.0)
    # Pooled: A[0,15) matches A[0,10) (IoU 2/3), B and C missed: tp 1, fp 0, fn 2.
    assert r.f1[0.5] == pytest.approx(0.5)
    assert r.labels == ["A", "B", "C", ""]
    assert r.confusion.tolist() == [[10, 0, 0, 0], [5, 0, 0, 5], [0, 0, 0, 10], [0, 0, 0, 0]]
    assert [c.label for c in r.per_class] == ["A", "B", "C"]
    assert r.per_class[0].precision == pytest.approx(10 / 15)
    assert r.per_class[0].recall == 1.0 and r.per_class[0].f1 == pytest.approx(0.8)
    assert r.class_accuracy(["B", "C"]) == 0.0
    assert r.class_accuracy(["A"]) == 1.0


def test_evaluate_frame_count_extends_video_without_scoring_unlabelled_frames():
    pred, truth = two_video_case()
    r = evaluate(pred, truth, {"a/v1.mp4": 25, "a/v2.mp4": 10})
    assert r.videos[0].frames == 25
    assert r.frame_accuracy == pytest.approx(10 / 30)


def test_perfect_prediction_scores_full_marks():
    truth = [Segment(0, 30, "walk", video="x"), Segment(30, 45, "run", video="x")]
    r = evaluate([s.with_(source="m") for s in truth], truth)
    assert (r.frame_accuracy, r.edit) == (1.0, 100.0)
    assert r.f1 == {0.1: 1.0, 0.25: 1.0, 0.5: 1.0}
    assert all(c.f1 == 1.0 for c in r.per_class)


def test_eval_command_prints_metrics_and_table(tmp_path, capsys):
    pred, truth = two_video_case()
    write_segments_csv(tmp_path / "pred.csv", pred)
    write_segments_csv(tmp_path / "truth.csv", truth)
    assert main(["eval", str(tmp_path / "pred.csv"), str(tmp_path / "truth.csv")]) == 0
    text = capsys.readouterr().out
    assert "frame accuracy 33.33 %" in text and "edit 25.00" in text and "F1@50 0.500" in text
    assert any(line.split()[:4] == ["A", "0.667", "1.000", "0.800"] for line in text.splitlines())

    assert main(["eval", str(tmp_path / "pred.csv"), str(tmp_path / "truth.csv"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["f1"]["F1@50"] == pytest.approx(0.5)
    assert data["confusion"][1] == [5, 0, 0, 5]


def test_eval_command_reports_bad_file(tmp_path, capsys):
    (tmp_path / "truth.csv").write_text("video,start_frame\n")
    write_segments_csv(tmp_path / "pred.csv", [])
    assert main(["eval", str(tmp_path / "pred.csv"), str(tmp_path / "truth.csv")]) == 2
    assert "truth.csv:1: header lacks column" in capsys.readouterr().err
