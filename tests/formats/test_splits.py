"""Splits are by video, stratified by label, seeded, and written as files."""

from __future__ import annotations

from collections import Counter

import pytest

from actdesk.cli import main
from actdesk.errors import ActdeskError
from actdesk.formats.splits import assign_splits, parse_fractions


def catalogue(n_per_label: int = 20) -> dict[str, dict[str, int]]:
    """Videos with one to three segments of one of three labels; a few also hold a second label."""
    videos = {}
    for i in range(n_per_label):
        for label, other in (("walk", "run"), ("run", "jump"), ("jump", "walk")):
            counts = {label: 1 + i % 3}
            if i % 5 == 0:
                counts[other] = 1
            videos[f"{label}-{i:02d}.mp4"] = counts
    return videos


def test_every_video_lies_in_one_split_and_every_split_holds_every_label():
    videos = catalogue()
    splits = assign_splits(videos, (0.6, 0.2, 0.2), seed=1)
    assert set(splits) == set(videos) and set(splits.values()) == {"train", "val", "test"}
    for split, share in (("train", 0.6), ("val", 0.2), ("test", 0.2)):
        members = [v for v, s in splits.items() if s == split]
        assert abs(len(members) - share * len(videos)) <= 3
        segments = Counter()
        for video in members:
            segments.update(videos[video])
        totals = Counter()
        for counts in videos.values():
            totals.update(counts)
        for label, total in totals.items():  # stratified: each label's segments divide like the videos
            assert abs(segments[label] - share * total) <= 0.1 * total + 1, (split, label)


def test_same_seed_same_split_other_seed_other_split():
    videos = catalogue()
    assert assign_splits(videos, seed=7) == assign_splits(dict(reversed(videos.items())), seed=7)
    assert assign_splits(videos, seed=7) != assign_splits(videos, seed=8)


def test_small_sets_still_fill_every_split_and_skip_unlabelled_videos():
    videos = {"a.mp4": {"walk": 3}, "b.mp4": {"walk": 1}, "c.mp4": {"run": 2}, "empty.mp4": {}}
    splits = assign_splits(videos, (0.7, 0.15, 0.15), seed=0)
    assert "empty.mp4" not in splits
    assert sorted(splits.values()) == ["test", "train", "val"]
    assert set(assign_splits(videos, (1.0, 0.0, 0.0)).values()) == {"train"}


@pytest.mark.parametrize("text, problem", [
    ("0.7,0.2", "add up to 1"), ("0.5,0.5,0.5", "add up to 1"), ("a,b", "numbers"), ("1", "2 or 3"),
    ("0,1,0", "training fraction"), ("1.2,-0.2", ">= 0"), ("nan,0,0", "finite")])
def test_bad_fractions_are_refused(text, problem):
    with pytest.raises(ActdeskError, match=problem):
        parse_fractions(text)
    assert parse_fractions("0.8,0.2") == (0.8, 0.2, 0.0)


def test_split_files_of_an_export_never_share_a_video(tmp_path, project, capsys):
    path = project.path
    project.close()
    out = tmp_path / "csv"
    assert main(["export", str(path), "--out", str(out), "--format", "kinetics-csv", "--split", "0.5,0.5,0",
                 "--seed", "3"]) == 0
    assert "videos per split: train 1, val 1" in capsys.readouterr().out
    ids = {split: {line.split(",")[1] for line in (out / f"{split}.csv").read_text().splitlines()[1:]}
           for split in ("train", "val")}
    assert not (out / "test.csv").exists()
    assert ids["train"] and ids["val"] and not ids["train"] & ids["val"]
    assert ids["train"] | ids["val"] == {"cfr", "vfr"}
    assert main(["export", str(path), "--out", str(tmp_path / "x"), "--format", "csv", "--split", "0.5,0.6"]) == 2
    assert "must add up to 1" in capsys.readouterr().err
