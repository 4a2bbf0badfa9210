"""The bundled model meets its goals on fresh evaluation-seed videos, through the real pipeline.

Seeds 31001 and 31002 are used here and nowhere else (not in training, not in
tuning the recipe: that used seeds 20000-20009), so this is a held-out test.
The videos are labelled exactly as ``actdesk label`` does it: clips every
2nd frame, window scores interpolated to frames, smoothed and cut into
segments with the postprocess defaults.
"""

from __future__ import annotations

import pytest

from actdesk.ml.checkpoints import load_model
from actdesk.ml.inference import label_video_to_segments
from actdesk.ml.metrics import evaluate
from actdesk.paths import bundled_checkpoint
from actdesk.synth import ACTIONS, check_seed, generate_video

EVAL_SEEDS = (31001, 31002)
SECONDS = 60


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundled-eval")
    loaded = load_model(bundled_checkpoint(), device="cpu")
    truth, pred = [], []
    for seed in EVAL_SEEDS:
        video = folder / f"eval-{check_seed(seed, 'eval')}.mp4"
        truth += generate_video(video, seconds=SECONDS, seed=seed)
        pred += label_video_to_segments(video, loaded, stride=2).segments
    return loaded, evaluate(pred, truth, labels=ACTIONS)


def test_bundled_checkpoint_describes_itself(evaluation):
    loaded, _ = evaluation
    meta = loaded.meta
    assert meta.architecture == "c3d-attention"
    assert meta.labels == ACTIONS
    assert bundled_checkpoint().stat().st_size <= 5 * 1024 * 1024
    assert meta.provenance["data"] == "synthetic" and meta.provenance["recipe"] == "bundled"


def test_bundled_model_frame_accuracy(evaluation):
    _, result = evaluation
    assert result.frame_accuracy >= 0.95, result.to_dict()["per_class"]


def test_bundled_model_f1_at_50(evaluation):
    _, result = evaluation
    assert result.f1[0.5] >= 0.90, (result.f1, result.edit)


def test_bundled_model_tells_sit_down_from_stand_up(evaluation):
    # The two are the same frames in opposite order: only a model that uses time separates them.
    _, result = evaluation
    assert result.class_accuracy(["sit-down", "stand-up"]) >= 0.90, result.confusion.tolist()
