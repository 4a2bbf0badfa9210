"""Every seed architecture, trained by ``actdesk train --synthetic`` on a short schedule,
labels evaluation-seed synthetic video at >= 90 % frame accuracy (issue 4).

Each model is trained from scratch on the CPU with the schedule below (the
figures and training times are in docs/benchmarks.md; a schedule past CI's
budget is marked ``long`` and runs with `make test-long`), then labels fresh
evaluation-seed videos exactly as ``actdesk label`` does: clips every 2nd
frame, window scores interpolated to frames, smoothed, cut into segments.
Seeds 32001-32002 are used here and nowhere else.
"""

from __future__ import annotations

import pytest

from actdesk.cli import main
from actdesk.ml.checkpoints import load_model
from actdesk.ml.inference import label_video_to_segments
from actdesk.ml.metrics import evaluate
from actdesk.synth import ACTIONS, check_seed, generate_video

EVAL_SEEDS = (32001, 32002)
EVAL_SECONDS = 30
GOAL = 0.90
TRAIN_VIDEOS = ["--videos", "24", "--val-videos", "2", "--seconds", "60"]
# The short schedule of each seed model: `actdesk train` options after the data set. Frames of
# 48x48 cost half of the plugins' 64x64 and still show the stick figures' poses (the bundled
# c3d-attention uses them); figures and times are in docs/benchmarks.md.
SCHEDULES: dict[str, list[str]] = {
    "lrcn": ["--clip-size", "48x48", "--epochs", "10", "--clips", "2048", "--batch", "32"],
    "cnn3d-lstm-gru": ["--clip-size", "48x48", "--epochs", "12", "--clips", "2048", "--batch", "32"],
    "mnasnet-birnn": ["--clip-size", "48x48", "--epochs", "18", "--clips", "2048", "--batch", "32",
                      "--patience", "0"],
    # Twice the videos at half the length: 33M parameters (63M for r3d-34) learn each training
    # video's look, and 24 were too few (82.7 % frames on 8 epochs; 87.5 % with these 48, 95.5 % on 16).
    "r3d-18": ["--videos", "48", "--seconds", "30", "--clip-size", "32x32", "--epochs", "16", "--clips", "2048",
               "--batch", "16", "--patience", "0"],
    "r3d-34": ["--videos", "48", "--seconds", "30", "--clip-size", "32x32", "--epochs", "16", "--clips", "2048",
               "--batch", "16", "--patience", "0"],
}
# Schedules seen to reach the goal, but in more minutes of 2 CPU cores than CI's 90-minute budget
# leaves: run by `make test-long` (ACTDESK_LONG_TESTS=1), skipped by `make test` (tests/conftest.py).
LONG: dict[str, str] = {
    "r3d-18": "trains for 59 minutes on 2 CPU cores (95.5 % frames)",
    "r3d-34": "trains for 85 minutes on 2 CPU cores (96.3 % frames)",
}
# pytest-timeout's limit for each training (the suite's default is 15 minutes).
TIMEOUT_MINUTES = {"r3d-18": 90, "r3d-34": 150}


def _model_params() -> list:
    params = []
    for model in sorted(SCHEDULES):
        # mnasnet-birnn trains for about 18 minutes, the longest of those CI runs.
        marks = [pytest.mark.timeout(TIMEOUT_MINUTES.get(model, 45) * 60)]
        if model in LONG:
            marks.append(pytest.mark.long(f"{model}'s schedule reaches the goal but {LONG[model]}"))
        params.append(pytest.param(model, marks=marks))
    return params


@pytest.fixture(scope="module")
def synthetic_cache(tmp_path_factory):
    """Training videos generated once for all the models."""
    return tmp_path_factory.mktemp("seed-training-videos")


@pytest.fixture(scope="module")
def evaluation_videos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seed-eval")
    videos = []
    for seed in EVAL_SEEDS:
        path = folder / f"eval-{check_seed(seed, 'eval')}.mp4"
        videos.append((path, generate_video(path, seconds=EVAL_SECONDS, seed=seed)))
    return videos


@pytest.mark.slow
@pytest.mark.parametrize("model", _model_params())
def test_seed_architecture_reaches_goal_frame_accuracy(model, synthetic_cache, evaluation_videos, tmp_path):
    checkpoint = tmp_path / f"{model}.safetensors"
    code = main(["train", "--synthetic", "--model", model, "--out", str(checkpoint), *TRAIN_VIDEOS,
                 *SCHEDULES[model], "--device", "cpu", "--quiet", "--cache", str(synthetic_cache)])
    assert code == 0
    loaded = load_model(checkpoint, device="cpu")
    assert loaded.meta.architecture == model and loaded.meta.labels == ACTIONS
    predicted, truth = [], []
    for video, video_truth in evaluation_videos:
        predicted += label_video_to_segments(video, loaded, stride=2).segments
        truth += video_truth
    result = evaluate(predicted, truth, labels=ACTIONS)
    assert result.frame_accuracy >= GOAL, (model, result.frame_accuracy, result.to_dict()["per_class"])
