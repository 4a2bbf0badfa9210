"""The Train dialog: a tiny real fine-tuning run to completion, cancel and resume, refusals; its data sources."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from actdesk.core.commands import import_segments
from actdesk.core.project import Project

pytestmark = pytest.mark.gui

ACTIONS = ("idle", "walk", "clap")
SEEDS = (10201, 10202, 10203)


@pytest.fixture(scope="module")
def labelled_videos(tmp_path_factory) -> list[tuple[Path, list]]:
    """Three 6 s synthetic videos at 96x72 with their truth (actions idle, walk, clap)."""
    from actdesk.synth import generate_video

    folder = tmp_path_factory.mktemp("train-videos")
    out = []
    for seed in SEEDS:
        path = folder / f"synth-{seed}.mp4"
        out.append((path, generate_video(path, seconds=6, seed=seed, size=(96, 72), actions=ACTIONS)))
    return out


@pytest.fixture
def train_project(tmp_path, labelled_videos) -> Path:
    """A project whose human tracks hold the videos' truth."""
    path = tmp_path / "train.actdesk"
    with Project.create(path) as project:
        for video, truth in labelled_videos:
            copy = tmp_path / video.name
            shutil.copyfile(video, copy)
            project.add_video(copy)
            project.execute(import_segments(project, truth, video=copy.name))
    return path


def truth_labels(labelled_videos) -> set[str]:
    return {s.label for _, truth in labelled_videos for s in truth}


def boxes(name: str) -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.objectName() == name
            and w.isVisible()]


def make_dialog(qtbot, manager, project_path, *, model: str, init: Path | None, epochs: int, clips: int, batch: int):
    from actdesk.qt.train_dialog import TrainDialog

    dialog = TrainDialog(manager, project_path)
    qtbot.addWidget(dialog)
    dialog.set_model(model)
    dialog.set_init_checkpoint(init)
    dialog.epochs_box.setValue(epochs)
    dialog.clips_box.setValue(clips)
    dialog.batch_box.setValue(batch)
    dialog.val_box.setValue(34)  # one of the three videos validates
    dialog.device_box.setCurrentText("cpu")
    dialog.name_edit.setText("tiny-run")
    dialog.show()
    return dialog


def test_a_tiny_fine_tuning_run_to_completion(qtbot, plugins, tiny_checkpoint, train_project, labelled_videos,
                                              user_home):
    from actdesk.ml.checkpoints import load_checkpoint, load_model

    dialog = make_dialog(qtbot, plugins, train_project, model="qt-tiny", init=tiny_checkpoint, epochs=2, clips=64,
                         batch=16)
    assert dialog.project_radio.isChecked() and not dialog.resume_button.isEnabled()
    epochs = []
    dialog.epochReported.connect(epochs.append)
    with qtbot.waitSignal(dialog.checkpointSaved, timeout=300000) as saved:
        assert dialog.start() is None
        assert dialog.task is not None and dialog.cancel_button.isEnabled() and not dialog.start_button.isEnabled()
    path = saved.args[0]
    qtbot.waitUntil(lambda: dialog.task is None)

    # One point per epoch on every curve, validation included.
    assert [r.epoch for r in epochs] == [1, 2]
    for name in ("train_loss", "val_loss", "train_acc", "val_acc"):
        x, y = dialog.curves.series(name)
        assert list(x) == [1, 2] and np.isfinite(y).all()
    assert list(dialog.curves.series("val_acc")[1]) == [r.val_acc for r in epochs]
    # The classes: the checkpoint's (all kept, in its order), then the new one.
    LABELS = load_checkpoint(tiny_checkpoint)[1].labels

    expected = list(LABELS) + [name for name in sorted(truth_labels(labelled_videos)) if name not in LABELS]
    assert dialog.matrix.labels == expected and expected[-1] == "clap"
    n = len(expected)
    assert dialog.matrix.matrix.shape == (n, n) and dialog.matrix.matrix.sum() > 0
    assert np.array_equal(dialog.matrix.matrix, epochs[-1].confusion)
    assert [row[0] for row in dialog.scores.scores()] == expected
    assert sum(row[4] for row in dialog.scores.scores()) == dialog.matrix.matrix.sum()
    unseen = ", ".join(name for name in LABELS if name not in truth_labels(labelled_videos))
    assert "New: clap" in dialog.plan_label.text() and f"No training frames (kept, may be unlearnt): {unseen}" \
        in dialog.plan_label.text()
    assert dialog.epoch_label.text().startswith("Epoch 2/2")

    # The checkpoint went to the per-user models folder, with the new label set and its provenance.
    assert path == user_home / "models" / "tiny-run.safetensors" and path.is_file()
    state, meta = load_checkpoint(path)
    assert list(meta.labels) == expected and meta.architecture == "qt-tiny"
    assert meta.provenance["new_labels"] == ["clap"] and meta.provenance["epochs"] == 2
    assert {k: len(v) for k, v in meta.provenance["videos"].items()} == {"train": 2, "val": 1, "left_out": 0}
    best = [r for r in epochs if r.best][-1]
    assert meta.provenance["best_epoch"] == best.epoch
    assert meta.metrics["val_clip_accuracy"] == pytest.approx(best.val_acc, abs=1e-5)
    loaded = load_model(path, manager=plugins)
    assert loaded.model.classifier.out_features == n
    assert f"Saved {path}" in dialog.status.text()
    # A training report beside it, with the curves and the best epoch's confusion matrix.
    report = dialog.report_path.read_text()
    assert dialog.report_path == path.with_name("tiny-run.report.md")
    assert any(line.startswith(f"| {best.epoch} |") and line.endswith("| best |") for line in report.splitlines())
    assert "| clap |" in report
    for image in ("tiny-run.curves.png", "tiny-run.confusion.png"):
        assert f"]({image})" in report and (path.parent / image).stat().st_size > 1000
    assert dialog.start_button.isEnabled() and not dialog.resume_button.isEnabled()
    assert not dialog.save_button.isEnabled() and not dialog.cancel_button.isEnabled()
    dialog.grab().save("/tmp/actdesk-train-dialog.png")


def test_cancel_then_resume_from_the_last_finished_epoch(qtbot, plugins, train_project):
    dialog = make_dialog(qtbot, plugins, train_project, model="qt-slow", init=None, epochs=3, clips=16, batch=8)
    saved = []
    dialog.checkpointSaved.connect(saved.append)
    dialog.epochReported.connect(lambda report: dialog.cancel() if report.epoch == 1 else None)
    dialog.start()
    task = dialog.task
    with qtbot.waitSignal(task.cancelled, timeout=300000):
        pass
    qtbot.waitUntil(lambda: dialog.task is None)
    stopped_at = dialog.run.state.epoch
    assert 1 <= stopped_at < 3 and saved == []
    assert "Stopped after epoch" in dialog.status.text()
    assert dialog.resume_button.isEnabled() and dialog.save_button.isEnabled() and not dialog.cancel_button.isEnabled()

    dialog.epochReported.disconnect()
    with qtbot.waitSignal(dialog.checkpointSaved, timeout=300000):
        dialog.resume_button.click()
    qtbot.waitUntil(lambda: dialog.task is None)
    assert list(dialog.curves.series("train_loss")[0]) == [1, 2, 3]  # no epoch twice, none missing
    assert dialog.run.state.epoch == 3 and len(saved) == 1 and saved[0].is_file()
    assert not dialog.resume_button.isEnabled()


def test_refusals_are_shown_in_a_dialog(qtbot, plugins, project_path):
    """``project_path`` has a video but no segments; a missing folder and a bad name are refused before starting."""
    dialog = make_dialog(qtbot, plugins, project_path, model="qt-tiny", init=None, epochs=1, clips=16, batch=8)
    dialog.name_edit.setText("../escape")
    dialog.start()
    qtbot.waitUntil(lambda: bool(boxes("errorDialog")), timeout=5000)
    assert "checkpoint name '../escape'" in boxes("errorDialog")[-1].text() and dialog.task is None
    boxes("errorDialog")[-1].close()

    dialog.name_edit.setText("ok-name")
    dialog.folder_radio.setChecked(True)
    dialog.start()
    qtbot.waitUntil(lambda: bool(boxes("errorDialog")), timeout=5000)
    assert "choose the data-set folder" in boxes("errorDialog")[-1].text()
    boxes("errorDialog")[-1].close()

    dialog.project_radio.setChecked(True)
    dialog.start()
    qtbot.waitUntil(lambda: bool(boxes("errorDialog")), timeout=60000)
    box = boxes("errorDialog")[-1]
    assert box.windowTitle() == "Training failed" and "no segments on track 'human' and no accepted model segments" in box.text()
    assert dialog.task is None and dialog.run is None and not dialog.resume_button.isEnabled()


def test_fine_tuning_keeps_the_backbone_and_the_rows_of_known_classes(plugins, tiny_checkpoint, train_project,
                                                                      labelled_videos):
    """The engine the dialog drives, on the source it opens: backbone and known head rows come from the checkpoint."""
    import torch

    from actdesk.ml.checkpoints import load_checkpoint
    from actdesk.ml.finetune import open_source, plan_run

    source = open_source(train_project)
    plan, net = plan_run(source, model="qt-tiny", init=tiny_checkpoint, from_scratch=False, config=None,
                         overrides={"epochs": 1}, val_fraction=0.34, no_flip=(), manager=plugins)
    old, meta = load_checkpoint(tiny_checkpoint)
    new = net.state_dict()
    for key in ("features.0.weight", "features.0.bias"):
        assert torch.equal(new[key], old[key])
    for row, name in enumerate(plan.labels):
        if name in meta.labels:
            assert torch.equal(new["classifier.weight"][row], old["classifier.weight"][meta.labels.index(name)])
    assert [name for name in plan.labels if name not in meta.labels] == ["clap"]
    assert set(plan.kept_rows) == set(meta.labels)


def test_a_data_set_folder_trains_like_the_project(plugins, train_project, tmp_path):
    """An exported ``clips`` training set, opened as the dialog opens it, gives the same classes and trains."""
    from actdesk.formats.export import export_project
    from actdesk.ml.finetune import RunPrepared, finetune, open_source

    with Project.open(train_project, readonly=True) as project:
        export_project(project, tmp_path / "clips", "clips", fractions=(0.7, 0.3, 0.0))
        used = {s.label for v in project.videos() for s in project.segments(project.human_track(v.id).id)}
    source = open_source(tmp_path / "clips")
    run = finetune(source, tmp_path / "o.safetensors", model="qt-tiny", from_scratch=True, epochs=1,
                   clips_per_epoch=16, batch_size=8, val_fraction=0.3, device="cpu", register=False, manager=plugins)
    prepared = next(run)
    assert isinstance(prepared, RunPrepared) and set(prepared.labels) == used
    assert {"train", "val"} <= set(prepared.splits.values())
    assert [r.epoch for r in run] == [1]
