"""The Train dialog: fine-tune a model on the project's segments or a data set, watching its curves.

The run is :func:`actdesk.ml.finetune.finetune` (the generator ``actdesk
train`` uses, on a source :func:`~actdesk.ml.finetune.open_source` reads) in a
:class:`~actdesk.qt.workers.Task`: every
:class:`~actdesk.ml.training.EpochReport` it yields adds a point to the loss and
accuracy curves and refreshes the per-class table and the confusion matrix
(:mod:`actdesk.qt.curves`). Cancel stops at the next batch; Resume continues
the same run from its last completed epoch (the engine's run folder). When the
run ends the engine saves the best epoch's weights and the training report in
the per-user models folder and ``checkpointSaved(path)`` lets the model panel
offer them. The dialog holds no training logic of its own.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from actdesk.core.project import SUFFIX as PROJECT_SUFFIX
from actdesk.core.tasks import ProgressFn, StopFn
from actdesk.errors import ActdeskError
from actdesk.plugins import PluginManager
from actdesk.qt.curves import ClassScoresTable, ConfusionMatrixView, TrainingCurves
from actdesk.qt.dialogs import ask, show_error
from actdesk.qt.export_dialog import EtaProgressBar
from actdesk.qt.workers import Task

if TYPE_CHECKING:
    from actdesk.ml.finetune import FinetuneResult, RunPrepared
    from actdesk.ml.training import EpochReport, TrainingConfig, TrainingState

CHECKPOINT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


# --------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class TrainingRequest:
    """The run the dialog's widgets describe, in the terms of :func:`actdesk.ml.finetune.finetune`."""

    source: Path
    """A project file or a data-set folder (:func:`actdesk.ml.finetune.open_source` reads either)."""
    accepted: bool
    """Also train on a project's accepted model segments."""
    model: str
    init: Path | None
    """Initial weights; None trains from scratch."""
    config: "TrainingConfig"
    val_fraction: float
    device: str
    out: Path

    def describe(self) -> str:
        if self.source.suffix == PROJECT_SUFFIX:
            return f"project {self.source} (human{' + accepted model' if self.accepted else ''} segments)"
        return f"data set {self.source}"


@dataclass
class DialogRun:
    """The dialog's view of one engine run: what it yielded so far, and its run folder for Resume."""

    request: TrainingRequest
    launched: bool = False
    prepared: "RunPrepared | None" = None
    history: list["EpochReport"] = field(default_factory=list)
    result: "FinetuneResult | None" = None
    saved: Path | None = None

    @property
    def run_dir(self) -> Path:
        from actdesk.ml.finetune import default_run_dir

        return default_run_dir(self.request.out)

    @property
    def finished(self) -> bool:
        return self.result is not None

    @property
    def state(self) -> "TrainingState | None":
        """The engine's training state as last saved in the run folder (None before the first epoch)."""
        from actdesk.ml.finetune import STATE_FILE, load_training_state

        path = self.run_dir / STATE_FILE
        return load_training_state(path) if path.is_file() else None


def fine_tune(run: DialogRun, manager: PluginManager, *, progress: ProgressFn,
              should_stop: StopFn) -> Generator["RunPrepared | EpochReport", None, "FinetuneResult | None"]:
    """The Task's work: :func:`actdesk.ml.finetune.finetune` on the request's source, as ``actdesk train`` runs it;
    a relaunched run resumes from its run folder. Returns the engine's result (None when stopped)."""
    from actdesk.ml.finetune import RUN_FILE, finetune, open_source

    request = run.request
    resume = run.launched and (run.run_dir / RUN_FILE).is_file()
    run.launched = True
    source = open_source(request.source, accepted=request.accepted)
    if resume:
        options = dict(run_dir=run.run_dir, resume=True)
    else:
        options = dict(model=request.model, init=request.init, from_scratch=request.init is None,
                       config=request.config, val_fraction=request.val_fraction)
    return (yield from finetune(source, request.out, device=request.device, manager=manager, progress=progress,
                                should_stop=should_stop, **options))


# --------------------------------------------------------------------------- the dialog


class TrainDialog(QDialog):
    """Source, model, settings; Start / Cancel / Resume; live curves, per-class table, confusion matrix.

    :param manager: the plugin manager whose models are offered.
    :param project_path: the open project's file, offered as the source (None: a data-set folder only).
    """

    checkpointSaved = Signal(object)
    """The run's checkpoint was written: its path (in the per-user models folder)."""
    epochReported = Signal(object)
    """An epoch finished: its :class:`~actdesk.ml.training.EpochReport`."""

    def __init__(self, manager: PluginManager, project_path: Path | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trainDialog")
        self.setWindowTitle("Train a model")
        self.manager = manager
        self.project_path = Path(project_path) if project_path is not None else None
        self.run: DialogRun | None = None
        self.task: Task | None = None
        self._extra_checkpoints: list[Path] = []
        self.report_path: Path | None = None

        settings = QWidget()
        settings.setMaximumWidth(420)
        side = QVBoxLayout(settings)
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self._build_source())
        side.addWidget(self._build_model())
        side.addWidget(self._build_settings())
        side.addStretch(1)
        side.addLayout(self._build_buttons())

        self.curves = TrainingCurves()
        self.scores = ClassScoresTable()
        self.matrix = ConfusionMatrixView()
        self.epoch_label = QLabel("No run yet.")
        self.epoch_label.setObjectName("epochLabel")
        self.plan_label = QLabel("")
        self.plan_label.setObjectName("dimLabel")
        self.plan_label.setWordWrap(True)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.scores)
        bottom.addWidget(self.matrix)
        bottom.setStretchFactor(0, 1)
        bottom.setStretchFactor(1, 1)
        views = QSplitter(Qt.Orientation.Vertical)
        views.addWidget(self.curves)
        views.addWidget(bottom)
        views.setStretchFactor(0, 1)
        views.setStretchFactor(1, 1)
        right = QVBoxLayout()
        right.addWidget(self.epoch_label)
        right.addWidget(self.plan_label)
        right.addWidget(views, 1)

        self.progress = EtaProgressBar()
        self.status = QLabel("")
        self.status.setObjectName("dimLabel")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        top = QHBoxLayout()
        top.addWidget(settings)
        top.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        self.resize(1280, 820)

        self._fill_models()
        self._update_buttons()

    # ------------------------------------------------------------------ building
    def _build_source(self) -> QGroupBox:
        group = QGroupBox("Training data")
        self.project_radio = QRadioButton("This project's segments")
        self.project_radio.setToolTip("the human track of every video (rejected segments left out)")
        self.accepted_check = QCheckBox("also accepted model segments")
        self.accepted_check.setChecked(True)
        self.folder_radio = QRadioButton("A data-set folder")
        self.folder_radio.setToolTip("an exported training set (clips, mmaction) or UCF101/UCF50/HMDB51")
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("folder of an exported or downloaded data set")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_folder)
        self.source_group = QButtonGroup(self)
        for button in (self.project_radio, self.folder_radio):
            self.source_group.addButton(button)
        if self.project_path is None:
            self.project_radio.setEnabled(False)
            self.project_radio.setToolTip("open a project first")
            self.folder_radio.setChecked(True)
        else:
            self.project_radio.setChecked(True)
        self.val_box = QSpinBox()
        self.val_box.setRange(0, 50)
        self.val_box.setValue(20)
        self.val_box.setSuffix(" % of videos")
        self.val_box.setToolTip("whole videos held out for validation (stratified by label, seeded)")
        folder_row = QHBoxLayout()
        folder_row.setContentsMargins(20, 0, 0, 0)
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)
        accepted_row = QHBoxLayout()
        accepted_row.setContentsMargins(20, 0, 0, 0)
        accepted_row.addWidget(self.accepted_check)
        form = QFormLayout()
        form.addRow("Validation", self.val_box)
        layout = QVBoxLayout(group)
        layout.addWidget(self.project_radio)
        layout.addLayout(accepted_row)
        layout.addWidget(self.folder_radio)
        layout.addLayout(folder_row)
        layout.addLayout(form)
        return group

    def _build_model(self) -> QGroupBox:
        group = QGroupBox("Model")
        self.model_box = QComboBox()
        self.model_box.currentIndexChanged.connect(self._model_changed)
        self.init_box = QComboBox()
        self.init_box.setToolTip("weights to start from; a new class gets a fresh output row, the rest is kept")
        browse = QPushButton("File…")
        browse.setToolTip("start from a checkpoint file (.safetensors, or weights the model's plugin imports)")
        browse.clicked.connect(self._browse_checkpoint)
        init_row = QHBoxLayout()
        init_row.addWidget(self.init_box, 1)
        init_row.addWidget(browse)
        form = QFormLayout(group)
        form.addRow("Architecture", self.model_box)
        form.addRow("Start from", init_row)
        return group

    def _build_settings(self) -> QGroupBox:
        group = QGroupBox("Settings")
        self.epochs_box = QSpinBox()
        self.epochs_box.setRange(1, 1000)
        self.clips_box = QSpinBox()
        self.clips_box.setRange(1, 10_000_000)
        self.clips_box.setSingleStep(256)
        self.clips_box.setToolTip("training clips drawn per epoch (class-balanced, augmented)")
        self.batch_box = QSpinBox()
        self.batch_box.setRange(1, 4096)
        self.lr_box = QDoubleSpinBox()
        self.lr_box.setDecimals(6)
        self.lr_box.setRange(1e-6, 1.0)
        self.lr_box.setSingleStep(1e-4)
        self.lr_box.setToolTip("peak learning rate of the one-cycle schedule")
        self.device_box = QComboBox()
        self.device_box.addItems(["auto", "cpu", "cuda"])
        self.seed_box = QSpinBox()
        self.seed_box.setRange(0, 2**31 - 1)
        self.seed_box.setToolTip("seed of the validation split, initialisation, sampling and augmentation")
        self.name_edit = QLineEdit()
        self.name_edit.setToolTip("file name of the new checkpoint in the per-user models folder")
        grid = QGridLayout(group)
        rows = [("Epochs", self.epochs_box, "Batch", self.batch_box),
                ("Clips / epoch", self.clips_box, "Seed", self.seed_box),
                ("Learning rate", self.lr_box, "Device", self.device_box)]
        for r, (a, wa, b, wb) in enumerate(rows):
            grid.addWidget(QLabel(a), r, 0)
            grid.addWidget(wa, r, 1)
            grid.addWidget(QLabel(b), r, 2)
            grid.addWidget(wb, r, 3)
        grid.addWidget(QLabel("Save as"), len(rows), 0)
        grid.addWidget(self.name_edit, len(rows), 1, 1, 3)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        return group

    def _build_buttons(self) -> QHBoxLayout:
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("primaryButton")
        self.start_button.setToolTip("start a new run with these settings")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("stop after the current batch; Resume continues from the last finished epoch")
        self.cancel_button.clicked.connect(self.cancel)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("continue the stopped run (with its own settings)")
        self.resume_button.clicked.connect(self.resume)
        self.save_button = QPushButton("Save best")
        self.save_button.setToolTip("save the best epoch so far of the stopped run")
        self.save_button.clicked.connect(self.save_best)
        row = QHBoxLayout()
        for button in (self.start_button, self.cancel_button, self.resume_button, self.save_button):
            row.addWidget(button)
        return row

    # ------------------------------------------------------------------ choices
    def _fill_models(self) -> None:
        from actdesk.qt.model_panel import find_checkpoints

        self._checkpoints = find_checkpoints()
        for entry in self.manager.models():
            self.model_box.addItem(f"{entry.name} — {entry.spec.title}" if entry.spec.title else entry.name, entry.name)
        bundled = [c.architecture for c in self._checkpoints if c.title.endswith("(bundled)")]
        if bundled and self.model_box.findData(bundled[0]) >= 0:
            self.model_box.setCurrentIndex(self.model_box.findData(bundled[0]))
        self._model_changed()

    def set_model(self, name: str) -> None:
        index = self.model_box.findData(name)
        if index < 0:
            raise ActdeskError(f"unknown model {name!r}")
        self.model_box.setCurrentIndex(index)
        self._model_changed()

    def model_name(self) -> str | None:
        return self.model_box.currentData()

    def _model_changed(self) -> None:
        """Offer the new model's checkpoints and fill in its training defaults."""
        from actdesk.ml.finetune import finetune_config

        name = self.model_name()
        if name is None:
            return
        self._fill_init_choices()
        config = finetune_config(self.manager.spec(name), from_checkpoint=self.init_box.currentData() is not None)
        self.epochs_box.setValue(config.epochs)
        self.clips_box.setValue(config.clips_per_epoch)
        self.batch_box.setValue(config.batch_size)
        self.lr_box.setValue(config.lr)
        self.seed_box.setValue(config.seed)
        self.name_edit.setText(f"{name}-finetuned-{time.strftime('%Y%m%d-%H%M')}")

    def _fill_init_choices(self) -> None:
        name = self.model_name()
        self.init_box.clear()
        for choice in self._checkpoints:
            if choice.architecture == name:
                self.init_box.addItem(choice.title, str(choice.path))
        for path in self._extra_checkpoints:
            self.init_box.addItem(f"{path.name} (file)", str(path))
        self.init_box.addItem("random weights (train from scratch)", None)

    def set_init_checkpoint(self, path: Path | None) -> None:
        """Start from ``path`` (offered from now on), or from random weights with None."""
        if path is not None and Path(path) not in self._extra_checkpoints:
            self._extra_checkpoints.append(Path(path))
            self._fill_init_choices()
        index = self.init_box.findData(None if path is None else str(path))
        self.init_box.setCurrentIndex(index)

    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Data-set folder", self.folder_edit.text())
        if path:
            self.folder_edit.setText(path)
            self.folder_radio.setChecked(True)

    def _browse_checkpoint(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Initial checkpoint", "",
                                              "Checkpoints (*.safetensors *.pth *.pt);;All files (*)")
        if path:
            self.set_init_checkpoint(Path(path))

    def request(self) -> TrainingRequest:
        """The run the widgets describe; ActdeskError names a setting that cannot work."""
        from actdesk.ml.finetune import finetune_config
        from actdesk.paths import user_models_dir

        name = self.model_name()
        if name is None:
            raise ActdeskError("no model to train: no plugin provides one (see Plugins)")
        if self.folder_radio.isChecked():
            text = self.folder_edit.text().strip()
            if not text or not Path(text).expanduser().is_dir():
                raise ActdeskError(f"choose the data-set folder to train on{f' ({text} is not a folder)' if text else ''}")
            source = Path(text).expanduser()
        else:
            source = self.project_path
        out_name = self.name_edit.text().strip().removesuffix(".safetensors")
        if not CHECKPOINT_NAME.fullmatch(out_name):
            raise ActdeskError(f"checkpoint name {out_name!r}: use letters, digits, '.', '_' and '-' only")
        init = self.init_box.currentData()
        config = finetune_config(self.manager.spec(name), from_checkpoint=init is not None,
                                 epochs=self.epochs_box.value(), clips_per_epoch=self.clips_box.value(),
                                 batch_size=self.batch_box.value(), lr=self.lr_box.value(), seed=self.seed_box.value())
        return TrainingRequest(source, self.folder_radio.isChecked() or self.accepted_check.isChecked(), name,
                               Path(init) if init else None, config, self.val_box.value() / 100,
                               self.device_box.currentText(), user_models_dir() / f"{out_name}.safetensors")

    # ------------------------------------------------------------------ running
    def start(self) -> QMessageBox | None:
        """Start a new run with the current settings (asking first before replacing a checkpoint file)."""
        if self.task is not None:
            return None
        try:
            request = self.request()
        except ActdeskError as e:
            show_error(self, "Cannot start training", e)
            return None
        if request.out.exists():
            return ask(self, "Replace the checkpoint?", f"{request.out} exists. Replace it when this run ends?",
                       [("Replace", QMessageBox.ButtonRole.AcceptRole), ("Cancel", QMessageBox.ButtonRole.RejectRole)],
                       lambda choice: self._start_run(request) if choice == "Replace" else None)
        self._start_run(request)
        return None

    def _start_run(self, request: TrainingRequest) -> None:
        try:
            request.out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            show_error(self, "Cannot start training", f"{request.out.parent}: {e.strerror or e}")
            return
        self.run = DialogRun(request)
        self.curves.clear()
        self.scores.set_scores([])
        self.matrix.clear()
        self.plan_label.setText("")
        self.epoch_label.setText(f"Preparing {request.model} on {request.describe()}…")
        self._launch()

    def resume(self) -> None:
        """Continue the stopped run from its last finished epoch."""
        if self.task is None and self._resumable():
            self._launch()

    def _resumable(self) -> bool:
        return self.run is not None and not (self.run.finished and self.run.saved is not None)

    def _launch(self) -> None:
        task = Task(fine_tune, self.run, self.manager, name="fine-tune")
        task.progressed.connect(self.progress.show_progress)
        task.yielded.connect(self._on_item)
        task.succeeded.connect(self._succeeded)
        task.cancelled.connect(self._cancelled)
        task.failed.connect(self._failed)
        self.task = task
        self.progress.start("preparing…")
        self.status.setText("")
        self._update_buttons()
        task.start()

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.status.setText("Stopping after the current batch…")

    def save_best(self) -> Path | None:
        """Save the best epoch so far of a stopped run."""
        if self.task is not None or self.run is None:
            return None
        try:
            path = self._save_best()
        except ActdeskError as e:
            show_error(self, "Cannot save the checkpoint", e)
            return None
        self._saved(path)
        return path

    def _save_best(self) -> Path:
        """The best epoch so far of the stopped run, from the engine's run folder, with its training report."""
        from actdesk.ml.checkpoints import read_meta, save_checkpoint
        from actdesk.ml.finetune import LAST_CHECKPOINT
        from actdesk.ml.report import write_training_report

        run = self.run
        state = run.state
        if state is None or not state.history or state.best_weights is None:
            raise ActdeskError("no epoch has finished yet: nothing to save")
        best = next(r for r in state.history if r.epoch == state.best_epoch)
        meta = read_meta(run.run_dir / LAST_CHECKPOINT)
        provenance = {**meta.provenance, "epoch": best.epoch, "best_epoch": best.epoch, "epochs": state.epoch,
                      "stopped": True, "init": str(run.request.init) if run.request.init else None}
        metrics = {"best_epoch": best.epoch, "val_clip_accuracy": None if math.isnan(best.val_acc) else best.val_acc,
                   "train_clip_accuracy": best.train_acc,
                   "val_per_class_f1": {c.label: round(c.f1, 4) for c in best.per_class}}
        out = run.request.out
        save_checkpoint(out, state.best_weights, replace(meta, provenance=provenance, metrics=metrics))
        try:
            self.report_path = write_training_report(out, state.history, labels=meta.labels, provenance=provenance,
                                                     metrics=metrics, title=f"Fine-tuning {meta.architecture} "
                                                     f"(stopped): {out.name}").markdown
        except OSError as e:
            show_error(self, "Cannot write the training report", f"{out.parent}: {e.strerror or e}")
        run.saved = out
        return out

    def _on_item(self, item) -> None:
        from actdesk.ml.finetune import RunPrepared

        if isinstance(item, RunPrepared):
            self.run.prepared = item
            self._show_prepared(item)
        else:
            self.run.history.append(item)
            self._show_epoch(item)
            self.epochReported.emit(item)

    def _show_prepared(self, prepared: "RunPrepared") -> None:
        from actdesk.ml.finetune import LEFT_OUT, TRAIN, VAL

        splits = Counter(prepared.splits.values())
        classes = ", ".join(f"{name} ({prepared.class_frames[name]})" for name in prepared.labels)
        text = (f"{splits[TRAIN]} training and {splits[VAL]} validation videos on {prepared.device}"
                + (f" ({splits[LEFT_OUT]} left out)" if splits[LEFT_OUT] else "")
                + f". Classes (training frames): {classes}.")
        if prepared.new_labels:
            text += f" New: {', '.join(prepared.new_labels)}."
        unseen = [name for name in prepared.labels if not prepared.class_frames[name]]
        if unseen:
            text += f" No training frames (kept, may be unlearnt): {', '.join(unseen)}."
        if prepared.first_epoch > 1:
            text += f" Resuming at epoch {prepared.first_epoch}."
        if not splits[VAL]:
            text += " No validation video: curves and the best epoch use training figures."
        self.plan_label.setText(text)

    def _show_epoch(self, report: "EpochReport") -> None:
        self.curves.add_epoch(report)
        labels = self.run.prepared.labels
        if report.per_class:
            self.scores.set_scores(report.per_class)
            self.matrix.set_matrix(report.confusion, labels)
        val = "" if math.isnan(report.val_acc) else f" · validation accuracy {report.val_acc:.3f} (loss {report.val_loss:.3f})"
        self.epoch_label.setText(f"Epoch {report.epoch}/{report.epochs} · training accuracy {report.train_acc:.3f} "
                                 f"(loss {report.train_loss:.3f}){val} · best epoch {self.curves.best_epoch}"
                                 f" · {report.seconds:.1f} s")

    def _end(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.wait()
        self._update_buttons()

    def _succeeded(self, result: "FinetuneResult | None") -> None:
        if result is not None:
            self.run.result = result
            self.run.saved = result.registered or result.checkpoint
            self.report_path = result.report.markdown
        self._end()
        if result is not None:
            self._saved(self.run.saved)

    def _saved(self, path: Path) -> None:
        state = self.run.state
        self.progress.finish("done", complete=True)
        early = ""
        if state.finished and state.epoch < self.run.request.config.epochs:
            early = f", stopped early: no improvement for {state.stale_epochs} epochs"
        self.status.setText(f"Saved {path} (best epoch {state.best_epoch} of {state.epoch}{early}). "
                            "The model panel offers it now.")
        self._update_buttons()
        self.checkpointSaved.emit(path)

    def _cancelled(self) -> None:
        self._end()
        self.progress.finish("stopped")
        state = self.run.state
        if state is None or not state.epoch:
            self.status.setText("Stopped before the first epoch finished. Resume starts it again.")
        else:
            self.status.setText(f"Stopped after epoch {state.epoch} of {self.run.request.config.epochs}. Resume "
                                f"continues from epoch {state.epoch + 1}; Save best keeps epoch {state.best_epoch}.")

    def _failed(self, error: BaseException, details: str) -> None:
        if not self.run.history:
            self.run = None  # nothing to resume or save: the same request would fail the same way
        self._end()
        self.progress.finish("failed")
        show_error(self, "Training failed", error, details="" if isinstance(error, ActdeskError) else details)

    def _update_buttons(self) -> None:
        running = self.task is not None
        run = self.run
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.resume_button.setEnabled(not running and self._resumable())
        self.save_button.setEnabled(not running and run is not None and not run.finished and bool(run.history))
        for widget in (self.model_box, self.init_box, self.epochs_box, self.clips_box, self.batch_box, self.lr_box,
                       self.device_box, self.seed_box, self.name_edit, self.val_box, self.project_radio,
                       self.folder_radio, self.folder_edit, self.accepted_check):
            widget.setEnabled(not running and (widget is not self.project_radio or self.project_path is not None))

    def closeEvent(self, event) -> None:
        if self.task is not None:
            self.task.cancel()
            self._end()
        super().closeEvent(event)
