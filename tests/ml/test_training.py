"""Training: data from real synthetic videos, the training loop's protocol, the train command."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from actdesk.cli import main
from actdesk.core.segments import Segment
from actdesk.errors import ActdeskError
from actdesk.media import ClipSampling, VideoReader, iter_clip_batches
from actdesk.ml.checkpoints import load_model
from actdesk.ml.datasets import UNLABELLED, ClipDataset, LabelledVideo, synthetic_videos
from actdesk.ml.training import (
    Augmentation,
    EpochReport,
    TrainingConfig,
    TrainingState,
    augment_clips,
    evaluate_clips,
    train_model,
)
from actdesk.synth import ACTIONS
from actdesk_c3d_attention.c3d_attention import c3d_attention

SIZE = (32, 32)
CLIP_LEN, FRAME_STEP = 8, 2
MEAN, STD = (0.45,) * 3, (0.225,) * 3


@pytest.fixture(scope="module")
def synthetic_items(tmp_path_factory) -> list[LabelledVideo]:
    """Three real synthetic videos of 4 s at 96x72 (training seeds), labelled by ACTIONS."""
    cache = tmp_path_factory.mktemp("synthetic")
    return synthetic_videos([3, 4, 5], seconds=4, size=(96, 72), cache_dir=cache)


@pytest.fixture(scope="module")
def dataset(synthetic_items) -> ClipDataset:
    return ClipDataset.decode(synthetic_items, size=SIZE, clip_len=CLIP_LEN, frame_step=FRAME_STEP)


def small_model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return c3d_attention(num_classes=len(ACTIONS), channels=8, fc_widths=(32,))


def tiny_config(**changes) -> TrainingConfig:
    base = TrainingConfig(epochs=3, batch_size=8, lr=3e-3, clips_per_epoch=48, val_stride=8, patience=0,
                          threads=1)
    return dataclasses.replace(base, **changes)


def test_synthetic_videos_are_labelled_and_cached(synthetic_items, tmp_path):
    assert len(synthetic_items) == 3
    for item in synthetic_items:
        assert len(item.frame_labels) == 100
        assert (item.frame_labels != UNLABELLED).all()  # the truth covers every frame
        assert item.path.with_suffix(".csv").exists()
    mtime = synthetic_items[0].path.stat().st_mtime_ns
    again = synthetic_videos([3], seconds=4, size=(96, 72), cache_dir=synthetic_items[0].path.parent)
    assert again[0].path.stat().st_mtime_ns == mtime  # reused, not regenerated
    assert np.array_equal(again[0].frame_labels, synthetic_items[0].frame_labels)
    with pytest.raises(ActdeskError, match="reserved for evaluation"):
        synthetic_videos([10000], seconds=4, cache_dir=tmp_path)


def test_dataset_clips_are_the_inference_clips(dataset, synthetic_items):
    # Training must see exactly what inference sees: the same decode, resize and clip frames.
    sampling = ClipSampling(clip_len=CLIP_LEN, frame_step=FRAME_STEP, stride=3, size=SIZE)
    with VideoReader(synthetic_items[1].path) as reader:
        for batch in iter_clip_batches(reader, sampling, 16):
            ours = dataset.clips(np.full(len(batch.centers), 1), batch.centers)
            assert np.array_equal(ours, batch.clips)


def test_labelled_video_from_segments(tmp_path):
    segments = [Segment(2, 5, "walk"), Segment(5, 7, "run")]
    item = LabelledVideo.from_segments(tmp_path / "v.mp4", segments, ["run", "walk"], 9)
    assert item.frame_labels.tolist() == [-1, -1, 1, 1, 1, 0, 0, -1, -1]
    with pytest.raises(ActdeskError, match=r"v\.mp4: segment 0\.\.3 has label 'jump'"):
        LabelledVideo.from_segments(tmp_path / "v.mp4", [Segment(0, 3, "jump")], ["run"], 9)


def test_balanced_sampling_draws_classes_equally_and_skips_unlabelled():
    labels = np.array([0] * 90 + [1] * 10 + [UNLABELLED] * 20)
    data = ClipDataset([np.zeros((120, 2, 2, 3), np.uint8)], [labels], ClipSampling(clip_len=4))
    videos, frames = data.sample(np.random.default_rng(0), 4000, balance=True)
    classes = data.labels_at(videos, frames)
    assert UNLABELLED not in classes
    assert abs((classes == 1).mean() - 0.5) < 0.05
    _, frames = data.sample(np.random.default_rng(0), 4000, balance=False)
    assert abs((data.labels_at(videos, frames) == 1).mean() - 0.1) < 0.03
    assert data.class_counts(3).tolist() == [90, 10, 0]
    assert len(data) == 100


def test_augmentation_keeps_shape_and_range_and_flips_whole_clips():
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(4, 3, 5, 16, 16)
    assert torch.equal(augment_clips(x.clone(), Augmentation.none(), gen), x)
    flipped = augment_clips(x.clone(), Augmentation(flip=True, zoom=(1, 1), shift=0, brightness=0, contrast=0), gen)
    for clip, out in zip(x, flipped):
        assert torch.allclose(out, clip, atol=1e-5) or torch.allclose(out, clip.flip(-1), atol=1e-5)
    assert any(not torch.allclose(o, c, atol=1e-5) for o, c in zip(flipped, x))
    jittered = augment_clips(x.clone(), Augmentation(), gen)
    assert jittered.shape == x.shape and jittered.min() >= 0 and jittered.max() <= 1
    assert not torch.allclose(jittered, x)


def test_tiny_training_run_learns_and_reports(dataset):
    model = small_model()
    before = evaluate_clips(model, dataset, mean=MEAN, std=STD, num_classes=len(ACTIONS), stride=4)
    calls = []
    reports = list(train_model(model, dataset, dataset, labels=ACTIONS, mean=MEAN, std=STD,
                               config=tiny_config(), progress=lambda d, t, m="": calls.append((d, t))))
    after = evaluate_clips(model, dataset, mean=MEAN, std=STD, num_classes=len(ACTIONS), stride=4)
    assert after[0] < before[0] * 0.8, (before[0], after[0])  # loss on the training clips fell

    assert [r.epoch for r in reports] == [1, 2, 3]
    assert [r.stopping for r in reports] == [False, False, True]
    assert calls[-1] == (3 * 6, 3 * 6)  # 48 clips / batch 8 = 6 batches per epoch
    for r in reports:
        assert isinstance(r, EpochReport) and r.epochs == 3
        assert np.isfinite([r.train_loss, r.val_loss]).all()
        assert 0 <= r.train_acc <= 1 and 0 <= r.val_acc <= 1
        assert r.confusion.shape == (len(ACTIONS), len(ACTIONS))
        assert r.confusion.sum() == len(dataset.centres(8)[0])
        assert [c.label for c in r.per_class] == list(ACTIONS)
        assert r.lr > 0 and r.seconds >= 0
        json.dumps(r.to_dict())
    assert reports[0].best
    best = max(reports, key=lambda r: (r.val_acc, -r.val_loss))
    assert best.best
    # The model ends with the best epoch's weights.
    assert evaluate_clips(model, dataset, mean=MEAN, std=STD, num_classes=len(ACTIONS),
                          stride=8)[1] == pytest.approx(best.val_acc)


def test_stop_is_prompt_and_the_run_resumes_exactly(dataset):
    config = tiny_config()
    uninterrupted = small_model()
    full = list(train_model(uninterrupted, dataset, dataset, labels=ACTIONS, mean=MEAN, std=STD, config=config))

    model = small_model()
    state = TrainingState()
    batches = []
    stop_after = 6 + 2  # two batches into the second epoch
    reports = list(train_model(model, dataset, dataset, labels=ACTIONS, mean=MEAN, std=STD, config=config,
                               state=state, progress=lambda d, t, m="": batches.append(d),
                               should_stop=lambda: len(batches) >= stop_after))
    assert len(batches) == stop_after  # no batch after the stop was asked for
    assert [r.epoch for r in reports] == [1] and state.epoch == 1 and not state.finished

    resumed = list(train_model(model, dataset, dataset, labels=ACTIONS, mean=MEAN, std=STD, config=config,
                               state=state))
    assert [r.epoch for r in resumed] == [2, 3]
    assert [r.train_loss for r in resumed] == pytest.approx([r.train_loss for r in full[1:]], rel=1e-4)
    for key, value in uninterrupted.state_dict().items():
        assert torch.allclose(model.state_dict()[key], value, atol=1e-5), key
    assert list(train_model(model, dataset, dataset, labels=ACTIONS, mean=MEAN, std=STD, config=config,
                            state=state)) == []  # a finished run stays finished


def test_early_stopping_without_improvement(dataset):
    config = tiny_config(epochs=6, patience=1, lr=1e-12)  # too small a rate to improve anything
    reports = list(train_model(small_model(), dataset, dataset, labels=ACTIONS, mean=MEAN, std=STD,
                               config=config))
    assert len(reports) < 6 and reports[-1].stopping and not reports[-1].best


def test_bad_settings_are_refused(dataset):
    with pytest.raises(ActdeskError, match="epochs must be at least 1"):
        next(train_model(small_model(), dataset, None, labels=ACTIONS, mean=MEAN, std=STD,
                         config=tiny_config(epochs=0)))


def test_train_command_writes_a_checkpoint(tmp_path, capsys):
    out = tmp_path / "model.safetensors"
    code = main(["train", "--synthetic", "--model", "c3d-attention", "--out", str(out), "--videos", "2",
                 "--val-videos", "1", "--seconds", "3", "--epochs", "1", "--clips", "16", "--batch", "8",
                 "--device", "cpu", "--half", "--quiet", "--cache", str(tmp_path / "cache")])
    assert code == 0
    assert "wrote" in capsys.readouterr().out
    loaded = load_model(out)
    meta = loaded.meta
    assert meta.architecture == "c3d-attention" and meta.labels == ACTIONS
    assert (meta.clip_len, meta.frame_step, meta.size) == (16, 2, (48, 48))
    assert meta.provenance["train_seeds"] == "0-1" and meta.provenance["val_seeds"] == "9000-9000"
    assert meta.provenance["epochs"] == 1 and meta.provenance["wall_time_s"] > 0
    assert 0 <= meta.metrics["val_clip_accuracy"] <= 1
    assert next(loaded.model.parameters()).dtype == torch.float32  # fp16 on disk, cast on load


def test_train_command_clip_size_sets_the_input_and_the_metadata(tmp_path, capsys):
    out = tmp_path / "small.safetensors"
    code = main(["train", "--synthetic", "--model", "c3d-attention", "--out", str(out), "--videos", "1",
                 "--val-videos", "1", "--seconds", "2", "--epochs", "1", "--clips", "8", "--batch", "4",
                 "--clip-size", "40x24", "--device", "cpu", "--quiet", "--cache", str(tmp_path / "cache")])
    assert code == 0, capsys.readouterr().err
    loaded = load_model(out)
    assert loaded.meta.size == (24, 40)  # (height, width), as the model sees it


@pytest.mark.parametrize("argv, problem", [
    (["--synthetic", "--clip-size", "40"], "--clip-size must look like WIDTHxHEIGHT (e.g. 320x240), got '40'"),
    (["--synthetic", "--clip-size", "0x24"], "--clip-size 0x24: width and height must be at least 16 pixels"),
    (["project.actdesk", "--clip-size", "40x24"], "--clip-size applies to --synthetic training"),
])
def test_train_command_refuses_a_bad_clip_size(tmp_path, capsys, argv, problem):
    code = main(["train", *argv, "--out", str(tmp_path / "m.safetensors"), "--quiet"])
    assert code == 2
    assert problem in capsys.readouterr().err
    assert not (tmp_path / "m.safetensors").exists()


def test_train_command_refuses_unknown_model(tmp_path, capsys):
    code = main(["train", "--synthetic", "--model", "no-such-model", "--out", str(tmp_path / "m.safetensors")])
    assert code == 2
    assert "unknown model 'no-such-model'" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.long("trains for 4.4 minutes on 2 CPU cores (79.5 % validation clips), more than CI's suite "
                  "has left of its 90 minutes; the seed models' tests train from scratch there")
def test_short_synthetic_schedule_reaches_accuracy(tmp_path):
    """From scratch, the default augmentation on: 512 steps of 32x32 clips (256 reach 47 %)."""
    out = tmp_path / "short.safetensors"
    code = main(["train", "--synthetic", "--model", "c3d-attention", "--scratch", "--out", str(out),
                 "--videos", "8", "--val-videos", "2", "--seconds", "30", "--clip-size", "32x32", "--epochs", "16",
                 "--clips", "1024", "--patience", "0", "--device", "cpu", "--quiet", "--no-register",
                 "--cache", str(tmp_path / "cache")])
    assert code == 0
    assert load_model(out).meta.metrics["val_clip_accuracy"] >= 0.6
