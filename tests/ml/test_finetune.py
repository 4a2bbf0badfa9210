"""Fine-tuning: sources, head replacement, the run generator, resume, cancel, report, CLI.

Real parts throughout: synthetic videos encoded with PyAV, a real SQLite
project, the tiny real ``test-good`` model (a 3D convolution, BatchNorm and a
linear head) trained with the real training loop on the CPU.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from actdesk.core.commands import AddModelTrack, SetStatus, import_segments
from actdesk.core.project import Project
from actdesk.core.segments import Segment
from actdesk.errors import ActdeskError, CheckpointError, FormatError, LabelError
from actdesk.media import ClipSampling
from actdesk.ml.checkpoints import CheckpointMeta, find_checkpoint, load_model, read_meta, save_checkpoint
from actdesk.ml.datasets import ClipDataset
from actdesk.ml.finetune import (
    LAST_CHECKPOINT,
    LEFT_OUT,
    RUN_FILE,
    STATE_FILE,
    TRAIN,
    VAL,
    MirrorWhereAllowed,
    RunPrepared,
    training_splits,
    datasets_from_project,
    default_run_dir,
    finetune,
    finetune_labels,
    folder_source,
    labelled_videos,
    load_training_state,
    mixed_precision,
    open_source,
    plan_run,
    project_source,
    transfer_weights,
)
from actdesk.ml.training import EpochReport, TrainingConfig
from actdesk.synth import ACTIONS, generate_video

ACTIONS_WITH_KICK = ACTIONS + ("kick",)
SEEDS = (31, 32, 33, 34)


@pytest.fixture(autouse=True)
def user_home(tmp_path, monkeypatch) -> Path:
    """Registered checkpoints go to a per-test models folder."""
    home = tmp_path / "home"
    monkeypatch.setenv("ACTDESK_HOME", str(home))
    return home


@pytest.fixture(scope="module")
def synthetic_clips(tmp_path_factory) -> dict[Path, list[Segment]]:
    """Four real synthetic videos of 4 s at 96x72 (training seeds, kick among the actions) and their truth."""
    folder = tmp_path_factory.mktemp("finetune-videos")
    out = {}
    for seed in SEEDS:
        path = folder / f"seed{seed}.mp4"
        out[path] = generate_video(path, seconds=4, seed=seed, size=(96, 72), actions=ACTIONS_WITH_KICK)
    return out


@pytest.fixture
def project(tmp_path, synthetic_clips) -> Project:
    """A project holding the four videos, their truth as the human track."""
    project = Project.create(tmp_path / "tiny.actdesk")
    for path, truth in synthetic_clips.items():
        project.add_video(path)
        project.execute(import_segments(project, truth, video=path.name))
    yield project
    project.close()


def run_to_end(run, on_item=lambda item: None):
    """Drive a finetune generator: (what it yielded, its EpochReports, its return value)."""
    items = []
    try:
        while True:
            items.append(next(run))
            on_item(items[-1])
    except StopIteration as stop:
        return items, [item for item in items if isinstance(item, EpochReport)], stop.value


def tiny_config(**changes) -> TrainingConfig:
    base = TrainingConfig(epochs=2, batch_size=4, lr=3e-3, clips_per_epoch=16, val_stride=8, patience=0,
                          threads=1)
    return dataclasses.replace(base, **changes)


# --------------------------------------------------------------------------- sources


def test_project_source_takes_human_segments_over_accepted_model_segments(project):
    video = project.videos()[0]
    human = project.human_track(video.id)
    first = project.segments(human.id)[0]
    project.execute(SetStatus([first.id], "rejected"))  # a rejected human segment is not training data
    end = video.frame_count
    model = AddModelTrack(video.id, "c3d-attention", None, [
        Segment(0, 10, "kick"), Segment(10, 20, "wave"), Segment(20, end, "clap")])
    project.execute(model)
    kick, wave, _ = project.segments(model.track_id)
    project.execute(SetStatus([kick.id, wave.id], "accepted"))  # clap stays pending

    source = project_source(project)
    assert source.kind == "project" and source.path == project.path and len(source.videos) == 4
    first_video = source.videos[0]
    assert first_video.name == video.path and first_video.frame_count == video.frame_count
    assert first_video.content_hash == video.content_hash
    human_rows = [(s.start_frame, s.end_frame, s.label) for s in project.segments(human.id) if s.status != "rejected"]
    assert [(s.start_frame, s.end_frame, s.label) for s in first_video.segments] == \
        [(0, 10, "kick"), (10, 20, "wave")] + human_rows
    labels = finetune_labels((), source.labels)
    classes = [labels[i] if i >= 0 else None for i in labelled_videos(source, labels)[video.path].frame_labels]
    for s in first_video.segments[2:]:  # the human track wins where it overlaps a model segment
        assert set(classes[s.start_frame:s.end_frame]) == {s.label}
    uncovered = set(range(end)) - {f for s in first_video.segments for f in range(s.start_frame, s.end_frame)}
    assert all(classes[f] is None for f in uncovered)
    used = {s.label for v in source.videos for s in v.segments}
    assert list(source.labels) == [label.name for label in project.labels() if label.name in used]


def test_project_without_training_segments_is_refused(tmp_path, synthetic_clips):
    with Project.create(tmp_path / "empty.actdesk") as project:
        project.add_video(next(iter(synthetic_clips)))
        with pytest.raises(ActdeskError, match=r"empty\.actdesk: no segments on track 'human'"):
            project_source(project)
    with pytest.raises(ActdeskError, match="no such project or data-set folder"):
        open_source(tmp_path / "missing.actdesk")


def test_roles_follow_source_splits_else_hold_out_videos(project):
    source = project_source(project)
    roles = training_splits(source, val_fraction=0.25, seed=0)
    assert sorted(roles.values()).count(VAL) == 1 and set(roles) == {v.name for v in source.videos}
    assert training_splits(source, val_fraction=0.25, seed=0) == roles  # seeded
    assert set(training_splits(source, val_fraction=0.0).values()) == {TRAIN}
    given = dataclasses.replace(source, videos=tuple(
        dataclasses.replace(v, split=split) for v, split in zip(source.videos, ("train", "val", "test", "unused"))))
    assert list(training_splits(given).values()) == [TRAIN, VAL, LEFT_OUT, LEFT_OUT]
    with pytest.raises(ActdeskError, match="no video is left for training"):
        training_splits(dataclasses.replace(given, videos=given.videos[1:]))


def test_datasets_from_project_decodes_clips_at_the_model_size(project, test_plugins):
    spec = test_plugins.spec("test-good")
    base = ("wave", "idle", "unseen")
    data = datasets_from_project(project, spec, labels=base, val_fraction=0.25)
    assert data.labels[:3] == base and set(data.labels[3:]) == set(project_source(project).labels) - set(base)
    assert data.train.frames[0].shape[1:] == (*spec.size, 3)
    assert len(data.train.frames) == 3 and len(data.val.frames) == 1
    assert sorted(data.splits.values()) == [TRAIN, TRAIN, TRAIN, VAL]
    clips = data.train.clips(np.array([0]), np.array([10]))
    assert clips.shape == (1, spec.clip_len, *spec.size, 3)

    video = project.videos()[0]
    project.execute(AddModelTrack(video.id, "c3d-attention", None, [Segment(0, 5, "kick")]))
    model_track = project.track_named(video.id, "c3d-attention")
    project.execute(SetStatus([s.id for s in project.segments(model_track.id)], "accepted"))
    human = project.human_track(video.id)
    project.execute(SetStatus([s.id for s in project.segments(human.id)], "rejected"))
    assert [(s.start_frame, s.end_frame, s.label) for s in project_source(project).videos[0].segments] == \
        [(0, 5, "kick")]
    assert video.path not in {v.name for v in project_source(project, accepted=False).videos}


def test_exported_data_sets_are_sources(project, tmp_path, test_plugins, synthetic_clips):
    from actdesk.formats.export import export_project

    export_project(project, tmp_path / "clips", "clips", fractions=(0.5, 0.25, 0.25), seed=1)
    clips = folder_source(tmp_path / "clips")
    assert clips.kind == "dataset" and clips.options["format"] == "clips"
    human_segments = sum(len(project.segments(project.human_track(v.id).id)) for v in project.videos())
    assert len(clips.videos) == human_segments  # one clip file per segment
    assert all(len(v.segments) == 1 and v.segments[0].start_frame == 0 and v.segments[0].end_frame == v.frame_count
               for v in clips.videos)
    roles = training_splits(clips)
    splits = {v.name: v.split for v in clips.videos}
    assert {name for name, role in roles.items() if role == VAL} == {n for n, s in splits.items() if s == "val"}
    assert {name for name, role in roles.items() if role == LEFT_OUT} == {n for n, s in splits.items() if s == "test"}

    export_project(project, tmp_path / "csv", "csv", fractions=(0.5, 0.25, 0.25), seed=1)
    with pytest.raises(FormatError, match=r"csv/train\.csv(:\d+)?: video 'seed\d+\.mp4' not found .*--video-dir"):
        folder_source(tmp_path / "csv")
    table = folder_source(tmp_path / "csv", video_dirs=[next(iter(synthetic_clips)).parent])
    assert {v.name for v in table.videos} == {p.name for p in synthetic_clips}
    by_name = {v.name: v for v in table.videos}
    for video in project.videos():
        stored = [(s.start_frame, s.end_frame, s.label) for s in project.segments(project.human_track(video.id).id)]
        assert [(s.start_frame, s.end_frame, s.label) for s in by_name[video.name].segments] == stored

    run = finetune(clips, tmp_path / "from-clips.safetensors", model="test-good", from_scratch=True,
                   config=tiny_config(epochs=1), manager=test_plugins)
    _, _, result = run_to_end(run)
    assert result.provenance["data"] == "dataset" and result.provenance["format"] == "clips"
    assert result.provenance["videos"]["left_out"]  # the test split is never trained or validated on


# --------------------------------------------------------------------------- the model


def test_head_replacement_keeps_the_backbone_and_old_rows(tiny_checkpoint, test_plugins):
    spec = test_plugins.spec("test-good")
    loaded = load_model(tiny_checkpoint, manager=test_plugins)
    old, old_labels = loaded.model, loaded.meta.labels
    assert old_labels == ("idle", "walk", "wave")
    labels = finetune_labels(old_labels, ["walk", "kick", "idle"])
    assert labels == ("idle", "walk", "wave", "kick")
    torch.manual_seed(5)
    new = test_plugins.build_model("test-good", len(labels))
    fresh_row = new.classifier.weight[3].detach().clone()
    kept = transfer_weights(new, spec, old.state_dict(), old_labels, labels)
    assert kept == ["idle", "walk", "wave"]
    for name, value in old.state_dict().items():
        if not name.startswith("classifier."):
            assert torch.equal(new.state_dict()[name], value), name
    assert torch.equal(new.classifier.weight[:3], old.classifier.weight)
    assert torch.equal(new.classifier.weight[3], fresh_row)
    new.eval()
    clips = torch.randn(2, 3, spec.clip_len, *spec.size)
    with torch.inference_mode():
        # Same weights, but a 4-row and a 3-row matrix product may take different kernels.
        torch.testing.assert_close(new(clips)[:, :3], old(clips), rtol=1e-5, atol=1e-6)  # old classes work from epoch 0

    reordered = ("kick", "wave", "idle")
    other = test_plugins.build_model("test-good", 3)
    assert transfer_weights(other, spec, old.state_dict(), old_labels, reordered) == ["wave", "idle"]
    assert torch.equal(other.classifier.weight[1], old.classifier.weight[2])
    assert torch.equal(other.classifier.bias[2], old.classifier.bias[0])

    mismatched = dict(old.state_dict(), **{"classifier.weight": torch.zeros(3, 99)})
    before = other.classifier.weight.detach().clone()
    assert transfer_weights(other, spec, mismatched, old_labels, reordered) == []
    assert torch.equal(other.classifier.weight, before)


def test_mirror_only_where_the_class_allows():
    frames = np.tile(np.arange(8, dtype=np.uint8)[None, None, :, None] * 30, (40, 2, 1, 3))  # a left-right ramp
    labels = np.array([0] * 20 + [1] * 20)
    data = MirrorWhereAllowed(ClipDataset([frames], [labels], ClipSampling(clip_len=2)), np.array([True, False]))
    videos, centres = data.sample(np.random.default_rng(0), 400, balance=True)
    again = data.sample(np.random.default_rng(0), 400, balance=True)
    assert np.array_equal(again[0], videos) and np.array_equal(again[1], centres)  # seeded
    classes = data.labels_at(videos, centres)
    assert set(classes.tolist()) == {0, 1} and np.array_equal(classes, labels[centres])
    clips = data.clips(videos, centres)
    mirrored = clips[:, 0, 0, 0, 0] > clips[:, 0, 0, -1, 0]
    assert not mirrored[classes == 1].any()
    assert 0.35 < mirrored[classes == 0].mean() < 0.65
    assert np.array_equal(mirrored, videos >= 1)
    assert len(data) == 40 and data.class_counts(2).tolist() == [20, 20]


def test_mixed_precision_wraps_the_forward_only_while_active(test_plugins):
    model = test_plugins.build_model("test-good", 3).eval()
    clips = torch.randn(2, 3, 4, 16, 16)
    keys = list(model.state_dict())
    with torch.inference_mode():
        full = model(clips)
        with mixed_precision(model, "cpu", torch.bfloat16):
            half = model(clips)
            assert list(model.state_dict()) == keys
        assert half.dtype == torch.float32 and not torch.equal(half, full)
        assert torch.allclose(half, full, atol=0.05)
        assert torch.equal(model(clips), full) and "forward" not in vars(model)
        with mixed_precision(model, "cpu", torch.float16):  # fp16 training would need a gradient scaler
            assert torch.equal(model(clips), full)


# --------------------------------------------------------------------------- the run


def test_finetune_adds_a_class_writes_checkpoint_report_and_registers(project, tmp_path, tiny_checkpoint,
                                                                      test_plugins, user_home):
    source = project_source(project)
    old_labels = read_meta(tiny_checkpoint).labels
    out = tmp_path / "tuned.safetensors"
    progress = []
    items, reports, result = run_to_end(finetune(source, out, init=tiny_checkpoint, config=tiny_config(),
                                                 val_fraction=0.25, manager=test_plugins,
                                                 progress=lambda d, t, m="": progress.append((d, t, m))))
    assert [r.epoch for r in reports] == [1, 2] and reports[-1].stopping
    assert any(m.startswith("decoding") for _, _, m in progress) and any(m.startswith("epoch") for _, _, m in progress)
    new = tuple(label for label in source.labels if label not in old_labels)
    assert result.labels == old_labels + new and result.new_labels == new and "kick" in new
    prepared = items[0]  # yielded once, before the first epoch
    assert isinstance(prepared, RunPrepared) and items[1:] == reports
    assert prepared.labels == result.labels and prepared.new_labels == new and prepared.first_epoch == 1
    assert sorted(prepared.splits.values()) == [TRAIN, TRAIN, TRAIN, VAL] and prepared.device == "cpu"
    assert sum(prepared.class_frames.values()) == sum(
        v.frame_count for v in project.videos() if prepared.splits[v.path] == TRAIN)

    loaded = load_model(out, manager=test_plugins)
    assert loaded.meta.labels == result.labels and loaded.meta.architecture == "test-good"
    p = loaded.meta.provenance
    assert p["data"] == "project" and p["source"] == str(project.path) and p["track"] == "human"
    assert p["init"] == str(tiny_checkpoint) and p["new_labels"] == list(new)
    assert p["kept_head_rows"] == list(old_labels) and p["epochs"] == 2
    assert sorted(p["videos"]["train"] + p["videos"]["val"]) == sorted(v.path for v in project.videos())
    assert len(p["videos"]["val"]) == 1
    assert sum(sum(c.values()) for c in p["segments_per_class"].values()) == \
        sum(len(project.segments(project.human_track(v.id).id)) for v in project.videos())
    assert sum(p["frames_per_class"]["train"].values()) + sum(p["frames_per_class"]["val"].values()) == \
        sum(v.frame_count for v in project.videos())
    assert len(p["data_hash"]) == 64
    m = loaded.meta.metrics
    assert [h["epoch"] for h in m["history"]] == [1, 2] and m["best_epoch"] == result.best.epoch
    assert m["val_clip_accuracy"] == pytest.approx(result.best.val_acc, abs=1e-5)

    files = result.report
    assert files.markdown == tmp_path / "tuned.report.md"
    text = files.markdown.read_text()
    assert "kick" in text and str(project.path) in text and "tuned.curves.png" in text and "tuned.confusion.png" in text
    for png in (files.curves, files.confusion):
        with Image.open(png) as image:
            assert image.format == "PNG" and image.width > 200 and image.height > 200
            low, high = image.convert("L").getextrema()
            assert low < 100 and high == 255  # drawn on, not blank

    assert result.registered == user_home / "models" / "tuned.safetensors"
    assert result.registered.read_bytes() == out.read_bytes()
    assert find_checkpoint("test-good") == result.registered  # the model panel's lookup finds it
    run_dir = default_run_dir(out)
    assert (run_dir / RUN_FILE).is_file() and (run_dir / STATE_FILE).is_file()
    assert read_meta(run_dir / LAST_CHECKPOINT).labels == result.labels
    assert load_training_state(run_dir / STATE_FILE).finished


def test_resume_continues_from_the_saved_epoch_exactly(project, tmp_path, tiny_checkpoint, test_plugins):
    source = project_source(project)
    config = tiny_config(epochs=3)
    _, _, whole = run_to_end(finetune(source, tmp_path / "whole.safetensors", init=tiny_checkpoint, config=config,
                                   manager=test_plugins, register=False))

    out = tmp_path / "parts.safetensors"
    stop = {"now": False}
    first = finetune(source, out, init=tiny_checkpoint, config=config, manager=test_plugins, register=False,
                     should_stop=lambda: stop["now"])
    _, reports, result = run_to_end(first, on_item=lambda item: stop.update(now=isinstance(item, EpochReport)))
    assert [r.epoch for r in reports] == [1] and result is None and not out.exists()
    state = load_training_state(default_run_dir(out) / STATE_FILE)
    assert state.epoch == 1 and not state.finished and len(state.history) == 1

    with pytest.raises(ActdeskError, match=r"parts\.run holds an unfinished run; continue it with --resume"):
        next(finetune(source, out, init=tiny_checkpoint, config=config, manager=test_plugins))
    with pytest.raises(ActdeskError, match="keeps its settings; epochs differ"):
        next(finetune(source, out, epochs=5, resume=True, manager=test_plugins))

    items, reports, resumed = run_to_end(finetune(source, out, resume=True, manager=test_plugins, register=False))
    assert [r.epoch for r in reports] == [2, 3] and items[0].first_epoch == 2
    assert [r.epoch for r in resumed.history] == [1, 2, 3] and resumed.provenance["resumed"]
    assert [r.train_loss for r in resumed.history] == [r.train_loss for r in whole.history]
    parts = load_model(out, manager=test_plugins).model.state_dict()
    for name, value in load_model(whole.checkpoint, manager=test_plugins).model.state_dict().items():
        assert torch.equal(parts[name], value), name
    with pytest.raises(ActdeskError, match="already finished"):
        next(finetune(source, out, resume=True, manager=test_plugins))


def test_resume_refuses_changed_data_and_foreign_folders(project, tmp_path, test_plugins):
    out = tmp_path / "changed.safetensors"
    stop = {"now": False}
    run_to_end(finetune(project_source(project), out, model="test-good", from_scratch=True, config=tiny_config(),
                        manager=test_plugins, should_stop=lambda: stop["now"]),
               on_item=lambda item: stop.update(now=isinstance(item, EpochReport)))
    video = project.videos()[0]
    first = project.segments(project.human_track(video.id).id)[0]
    project.execute(SetStatus([first.id], "rejected"))
    with pytest.raises(ActdeskError, match="training data differs from the data this run started with"):
        next(finetune(project_source(project), out, resume=True, manager=test_plugins))
    with pytest.raises(ActdeskError, match=r"not a fine-tuning run folder \(no run\.json\)"):
        next(finetune(project_source(project), tmp_path / "other.safetensors", resume=True, manager=test_plugins))


def test_cancel_is_prompt_in_decoding_and_in_training(project, tmp_path, test_plugins):
    source = project_source(project)
    calls = []

    def stop_in(phase: str):
        return lambda: any(m.startswith(phase) for _, _, m in calls)

    out = tmp_path / "cancelled.safetensors"
    items, _, result = run_to_end(finetune(source, out, model="test-good", from_scratch=True, config=tiny_config(),
                                           manager=test_plugins, should_stop=stop_in("decoding"),
                                           progress=lambda d, t, m="": calls.append((d, t, m))))
    assert items == [] and result is None and not (default_run_dir(out) / STATE_FILE).exists()
    assert not any(m.startswith("epoch") for _, _, m in calls)

    calls.clear()
    items, reports, result = run_to_end(finetune(source, tmp_path / "cancelled-2.safetensors", model="test-good",
                                                 from_scratch=True, config=tiny_config(), manager=test_plugins,
                                                 should_stop=stop_in("epoch"),
                                                 progress=lambda d, t, m="": calls.append((d, t, m))))
    assert [type(item) for item in items] == [RunPrepared] and reports == [] and result is None
    assert [m for _, _, m in calls if m.startswith("epoch")] == [calls[-1][2]]  # not one batch after the request


def test_no_flip_labels_are_checked_recorded_and_inherited(project, tmp_path, test_plugins):
    source = project_source(project)
    with pytest.raises(LabelError, match="'turn-left'.*not a label of this run"):
        next(finetune(source, tmp_path / "x.safetensors", model="test-good", from_scratch=True,
                      no_flip=["turn-left"], manager=test_plugins))
    _, _, result = run_to_end(finetune(source, tmp_path / "kick.safetensors", model="test-good", from_scratch=True,
                                    config=tiny_config(epochs=1), no_flip=["kick"], manager=test_plugins))
    assert result.provenance["no_flip"] == ["kick"]
    other = next(label for label in source.labels if label != "kick")
    plan, _ = plan_run(source, model=None, init=result.checkpoint, from_scratch=False, config=None, overrides={},
                       val_fraction=0.2, no_flip=[other], manager=test_plugins)
    assert plan.no_flip == ("kick", other)
    assert plan.config.epochs == 8 and plan.config.lr == pytest.approx(3e-3 * 0.3)  # fine-tuning defaults


def test_bad_outputs_are_refused_before_any_work(project, tmp_path, test_plugins):
    source = project_source(project)
    with pytest.raises(CheckpointError, match=r"tuned\.pt: a checkpoint's file name must end in \.safetensors"):
        next(finetune(source, tmp_path / "tuned.pt", manager=test_plugins))
    with pytest.raises(CheckpointError, match="folder .*nowhere does not exist"):
        next(finetune(source, tmp_path / "nowhere" / "tuned.safetensors", manager=test_plugins))
    with pytest.raises(ActdeskError, match="no checkpoint of model 'test-good' to start from.*--scratch"):
        next(finetune(source, tmp_path / "tuned.safetensors", model="test-good", manager=test_plugins))


# --------------------------------------------------------------------------- the CLI


def test_train_command_fine_tunes_a_project(project, tmp_path, user_home, capsys):
    from actdesk.cli import main
    from actdesk.plugins import get_plugin_manager

    manager = get_plugin_manager()
    spec = manager.spec("c3d-attention")
    torch.manual_seed(0)
    init = tmp_path / "c3d-init.safetensors"
    save_checkpoint(init, manager.build_model("c3d-attention", len(ACTIONS)).state_dict(),
                    CheckpointMeta.for_spec(spec, ACTIONS))
    path = project.path
    project.close()
    out = tmp_path / "cli.safetensors"
    args = ["train", str(path), "--init", str(init), "--out", str(out), "--epochs", "1", "--clips", "8",
            "--batch", "4", "--device", "cpu", "--quiet"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "epoch  1/1" in printed and "new: kick" in printed and f"wrote {out}" in printed
    assert "videos: 3 training, 1 validation, 0 left out; 11 labels (new: kick); device cpu; from epoch 1" in printed
    assert "; no training frames for " in printed  # three 4-s videos cannot show every old class
    meta = read_meta(out)
    assert meta.labels[:len(ACTIONS)] == ACTIONS and meta.labels[len(ACTIONS):] == ("kick",)
    assert json.loads((default_run_dir(out) / RUN_FILE).read_text())["init"] == str(init)
    assert (user_home / "models" / "cli.safetensors").is_file()

    assert main(["train", str(tmp_path / "missing-folder"), "--out", str(out)]) == 2
    assert "no such project or data-set folder" in capsys.readouterr().err


def test_bench_row_compares_finetune_with_a_bare_loop(tmp_path, monkeypatch):
    from actdesk import bench
    from actdesk.media import probe
    from actdesk.plugins import get_plugin_manager

    monkeypatch.setattr(bench, "FINETUNE_CLIPS", 8)
    video = tmp_path / "bench.mp4"
    generate_video(video, seconds=2, seed=bench.VIDEO_SEED, size=(96, 72))
    manager = get_plugin_manager()
    checkpoint = tmp_path / "c3d.safetensors"
    save_checkpoint(checkpoint, manager.build_model("c3d-attention", len(ACTIONS)).state_dict(),
                    CheckpointMeta.for_spec(manager.spec("c3d-attention"), ACTIONS))
    row = bench._finetune_throughput(tmp_path, video, probe(video).frame_count, 2, checkpoint, 1,
                                     torch.get_num_threads())
    assert row.name == "fine-tune clips/s: finetune / bare torch loop" and row.goal == ">= 0.9"
    assert row.value > 0 and row.passed == (row.value >= 0.9)
    assert "32 clips, batch 32" in row.detail and "finetune" in row.detail and "bare loop" in row.detail
