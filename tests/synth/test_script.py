"""The action script and truth: exact tiling, the sit-down/stand-up rule, the seed split, balance."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from actdesk.core.segments import frame_labels
from actdesk.errors import ActdeskError
from actdesk.synth import ACTIONS, ALL_ACTIONS, EXTRA_ACTIONS, TRAIN_SEED_LIMIT, check_seed, synth_truth
from actdesk.synth.script import make_script, validate_actions

FPS = 25


def test_vocabulary_order_is_the_bundled_label_index():
    assert ACTIONS == ("idle", "walk", "run", "jump", "wave", "clap", "jumping-jack", "bend",
                       "sit-down", "stand-up")
    assert EXTRA_ACTIONS == ("kick", "punch")
    assert not set(ACTIONS) & set(EXTRA_ACTIONS)


@pytest.mark.parametrize("seed", [0, 1, 7, 42, 9999, 10000, 12345])
def test_truth_tiles_every_frame_once_with_valid_labels_and_durations(seed):
    seconds = 60
    truth = synth_truth(seconds=seconds, seed=seed, fps=FPS, video="v.mp4")
    assert truth[0].start_frame == 0
    assert truth[-1].end_frame == seconds * FPS
    for a, b in zip(truth, truth[1:]):
        assert a.end_frame == b.start_frame
        assert a.label != b.label
    for seg in truth:
        assert seg.label in ACTIONS
        assert seg.source == "truth" and seg.video == "v.mp4" and seg.confidence is None
        assert seg.start_s == pytest.approx(seg.start_frame / FPS)
        assert seg.end_s == pytest.approx(seg.end_frame / FPS)
    for seg in truth[:-1]:
        assert 2 * FPS <= seg.length <= 8 * FPS, seg
    assert truth[-1].length <= 8 * FPS


@pytest.mark.parametrize("seed", range(20))
def test_sitting_is_physically_consistent(seed):
    labels = [s.label for s in synth_truth(seconds=90, seed=seed, fps=FPS)]
    seated = False
    for i, label in enumerate(labels):
        if seated:
            # A seated figure may only idle (once) or stand up.
            assert label == "stand-up" or (label == "idle" and labels[i - 1] == "sit-down"), labels[i - 1:i + 1]
        else:
            assert label != "stand-up", labels[max(0, i - 1):i + 1]
        if label == "sit-down":
            seated = True
        elif label == "stand-up":
            seated = False


def test_seated_idle_occurs_and_sitting_is_not_rare():
    frames = Counter()
    seated_idle = 0
    for seed in range(200):
        truth = synth_truth(seconds=60, seed=seed, fps=FPS)
        for prev, seg in zip([None] + truth, truth):
            frames[seg.label] += seg.length
            seated_idle += prev is not None and prev.label == "sit-down" and seg.label == "idle"
    total = sum(frames.values())
    shares = {a: frames[a] / total for a in ACTIONS}
    assert seated_idle > 20
    for action, share in shares.items():
        assert 0.07 <= share <= 0.15, shares


def test_same_seed_same_truth_and_longer_video_extends_it():
    short = synth_truth(seconds=30, seed=5)
    assert short == synth_truth(seconds=30, seed=5)
    assert short != synth_truth(seconds=30, seed=6)
    long = synth_truth(seconds=60, seed=5)
    assert frame_labels(long, 30 * FPS) == frame_labels(short, 30 * FPS)


def test_action_subset_and_extra_classes():
    truth = synth_truth(seconds=60, seed=3, actions=("walk", "kick", "punch"))
    assert {s.label for s in truth} == {"walk", "kick", "punch"}
    single = synth_truth(seconds=20, seed=3, actions=("kick",))
    assert [(s.label, s.start_frame, s.end_frame) for s in single] == [("kick", 0, 20 * FPS)]
    pair = synth_truth(seconds=40, seed=3, actions=("sit-down", "stand-up"))
    assert [s.label for s in pair] == ["sit-down", "stand-up"] * (len(pair) // 2) + ["sit-down"] * (len(pair) % 2)


def test_script_items_carry_speed_and_phase_in_range():
    script = make_script(frame_count=30000, fps=FPS, rng=np.random.default_rng(1), actions=ALL_ACTIONS)
    assert {item.motion for item in script} >= set(ALL_ACTIONS)
    assert all(0.8 <= item.speed <= 1.2 and 0 <= item.phase < 1 for item in script)


@pytest.mark.parametrize("actions, needle", [
    ((), "no actions"),
    (("walk", "fly"), "'fly'"),
    (("walk", "walk"), "more than once"),
    (("walk", "sit-down"), "together"),
    (("stand-up",), "together"),
    ("walk", "string"),
])
def test_bad_action_lists_are_refused(actions, needle):
    with pytest.raises(ActdeskError, match=needle):
        validate_actions(actions)


def test_seed_split():
    assert check_seed(0) == 0
    assert check_seed(TRAIN_SEED_LIMIT - 1, "train") == TRAIN_SEED_LIMIT - 1
    assert check_seed(np.int64(TRAIN_SEED_LIMIT), "eval") == TRAIN_SEED_LIMIT
    with pytest.raises(ActdeskError, match="reserved for evaluation"):
        check_seed(TRAIN_SEED_LIMIT, "train")
    with pytest.raises(ActdeskError, match="training seed"):
        check_seed(5, "eval")
    for bad in (-1, 1.5, "3", True, None):
        with pytest.raises(ActdeskError, match="non-negative integer"):
            check_seed(bad)
    with pytest.raises(ActdeskError, match="purpose"):
        check_seed(3, "test")
