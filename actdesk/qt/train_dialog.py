"""The Train dialog: fine-tune a model on the project's segments or a data set, watching its curves.

The run is :func:`actdesk.ml.training.train_model` (the generator ``actdesk
train`` uses) in a :class:`~actdesk.qt.workers.Task`: every
:class:`~actdesk.ml.training.EpochReport` it yields adds a point to the loss and
accuracy curves and refreshes the per-class table and the confusion matrix
(:mod:`actdesk.qt.curves`). Cancel stops at the next batch; Resume continues
the same run from its last completed epoch (its ``TrainingState``). When the
run ends the best epoch's weights are saved into the per-user models folder
and ``checkpointSaved(path)`` lets the model panel offer them.

The first part of this module holds no Qt: :class:`FineTuneRun` turns a
project (or a data-set folder, imported into a temporary project) into
:class:`~actdesk.ml.datasets.ClipDataset` s and a model to fine-tune. It is the
seam until ``actdesk.ml`` offers fine-tuning sources itself
(:func:`datasets_from_project` has the shape that function is expected to
have); then this part goes and the dialog calls the engine's.
"""

from __future__ import annotations

import math
import re
import tempfile
import time
from collections import Counter
from collections.abc import Generator, Iterator, Sequence
from dataclasses import asdict, dataclass, field
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

from actdesk.core.project import Project, VideoRecord
from actdesk.core.segments import Segment
from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.errors import ActdeskError
from actdesk.plugins import PluginManager
from actdesk.qt.curves import ClassScoresTable, ConfusionMatrixView, TrainingCurves
from actdesk.qt.dialogs import ask, show_error
from actdesk.qt.export_dialog import EtaProgressBar
from actdesk.qt.workers import Task

if TYPE_CHECKING:
    import torch

    from actdesk.ml.datasets import ClipDataset
    from actdesk.ml.training import EpochReport, TrainingConfig, TrainingState
    from actdesk.plugins.spec import ModelSpec

CHECKPOINT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


# --------------------------------------------------------------------------- the run (no Qt)


@dataclass(frozen=True)
class TrainingSource:
    """Where the training clips come from: a project file, or a data-set folder any importer reads."""

    project: Path | None = None
    folder: Path | None = None
    accepted: bool = True
    """Also train on model segments marked accepted (human segments win where both cover a frame)."""
    val_fraction: float = 0.2
    """Share of the labelled videos held out for validation (whole videos, stratified)."""
    seed: int = 0

    def describe(self) -> str:
        if self.folder is not None:
            return f"data set {self.folder}"
        return f"project {self.project} (human{' + accepted model' if self.accepted else ''} segments)"


@dataclass(frozen=True)
class TrainingData:
    """Clips to train and validate on, and the class order of the model's output."""

    labels: tuple[str, ...]
    train: "ClipDataset"
    val: "ClipDataset | None"
    splits: dict[str, str]
    """Video name -> ``train`` or ``val``."""


def project_segments(project: Project, *, accepted: bool) -> list[tuple[VideoRecord, list[Segment]]]:
    """Each video with its training segments: accepted model segments (if asked), then the human track's.

    Rejected segments are left out; human segments come last, so where both
    cover a frame the human label wins.
    """
    out = []
    for video in project.videos():
        human: list[Segment] = []
        from_models: list[Segment] = []
        for track in project.tracks(video.id):
            rows = project.segments(track.id)
            if track.kind == "human":
                human = [s.to_segment() for s in rows if s.status != "rejected"]
            elif accepted:
                from_models += [s.to_segment() for s in rows if s.status == "accepted"]
        if human or from_models:
            out.append((video, from_models + human))
    return out


def datasets_from_project(project: Project, spec: "ModelSpec", *, labels: Sequence[str] = (), accepted: bool = True,
                          val_fraction: float = 0.2, seed: int = 0, progress: ProgressFn = no_progress,
                          should_stop: StopFn = never_stop) -> TrainingData:
    """Training and validation clips of ``spec``'s input size from the project's segments.

    :param labels: class order to keep (an initial checkpoint's); its classes
        without segments are dropped, classes the project adds come after it.
    :raises ActdeskError: when no video has segments to train on.
    :raises Cancelled: when stopped while decoding.
    """
    from actdesk.formats.splits import assign_splits
    from actdesk.ml.datasets import ClipDataset, LabelledVideo

    per_video = project_segments(project, accepted=accepted)
    if not per_video:
        what = "human or accepted model segments" if accepted else "human segments"
        raise ActdeskError(f"{project.path}: no video has {what} to train on; label some first")
    used = {s.label for _, segments in per_video for s in segments}
    order = [name for name in labels if name in used]
    order += [label.name for label in project.labels() if label.name in used and label.name not in order]
    splits = assign_splits({video.name: Counter(s.label for s in segments) for video, segments in per_video},
                           (1.0 - val_fraction, val_fraction, 0.0), seed=seed)
    items: dict[str, list[LabelledVideo]] = {"train": [], "val": []}
    for video, segments in per_video:
        items[splits[video.name]].append(LabelledVideo.from_segments(video.abs_path, segments, order,
                                                                     video.frame_count))

    def decode(videos: list[LabelledVideo]) -> ClipDataset:
        return ClipDataset.decode(videos, size=spec.size, clip_len=spec.clip_len, frame_step=spec.frame_step,
                                  progress=progress, should_stop=should_stop)

    return TrainingData(tuple(order), decode(items["train"]), decode(items["val"]) if items["val"] else None, splits)


def training_data(source: TrainingSource, spec: "ModelSpec", *, labels: Sequence[str] = (),
                  progress: ProgressFn = no_progress, should_stop: StopFn = never_stop) -> TrainingData:
    """:func:`datasets_from_project` on the source's project, or on a data-set folder imported into a temporary one."""
    options = dict(labels=labels, val_fraction=source.val_fraction, seed=source.seed, progress=progress,
                   should_stop=should_stop)
    if source.folder is None:
        with Project.open(source.project, readonly=True) as project:
            return datasets_from_project(project, spec, accepted=source.accepted, **options)
    from actdesk.formats.importing import import_into_project, read_source

    imported = read_source(source.folder)
    with tempfile.TemporaryDirectory(prefix="actdesk-train-") as folder, \
            Project.create(Path(folder) / "dataset.actdesk") as project:
        plan = import_into_project(project, imported, progress=progress, should_stop=should_stop)
        project.execute(plan.command)
        return datasets_from_project(project, spec, accepted=True, **options)


@dataclass(frozen=True)
class TrainingRequest:
    """Everything a fine-tuning run needs to know."""

    source: TrainingSource
    model: str
    init: Path | None
    """Initial weights: an actdesk checkpoint or a file the model's plugin imports; None trains from scratch."""
    config: "TrainingConfig"
    device: str
    out: Path


@dataclass(frozen=True)
class RunPrepared:
    """What the run will train on; yielded once, before the first epoch."""

    labels: tuple[str, ...]
    new_labels: tuple[str, ...]
    """Classes the initial checkpoint did not have (their head rows start fresh)."""
    dropped_labels: tuple[str, ...]
    """Classes of the initial checkpoint without any training segment (left out)."""
    splits: dict[str, str]
    class_frames: dict[str, int]
    """Labelled training frames per class."""
    device: str


@dataclass
class FineTuneRun:
    """One fine-tuning run: data and model prepared once, then epochs (resumable), then the checkpoint."""

    request: TrainingRequest
    manager: PluginManager
    prepared: RunPrepared | None = None
    state: "TrainingState | None" = None
    """Made by :meth:`prepare`; :func:`~actdesk.ml.training.train_model` updates it after every epoch."""
    saved: Path | None = None
    started: float = field(default_factory=time.monotonic)
    _model: "torch.nn.Module | None" = field(default=None, init=False, repr=False)
    _data: TrainingData | None = field(default=None, init=False, repr=False)

    @property
    def spec(self) -> "ModelSpec":
        return self.manager.spec(self.request.model)

    def prepare(self, *, progress: ProgressFn = no_progress, should_stop: StopFn = never_stop) -> RunPrepared:
        """Load the initial weights, decode the clips, and fit the model's head to the data's classes."""
        import torch

        from actdesk.ml.checkpoints import load_model
        from actdesk.ml.device import select_device
        from actdesk.ml.training import TrainingState

        request, spec = self.request, self.spec
        device = select_device(request.device)  # refuse a missing CUDA before decoding anything
        initial = None
        if request.init is not None:
            progress(0, 0, f"loading {request.init.name}")
            initial = load_model(request.init, manager=self.manager, device="cpu", architecture=spec.name)
        old_labels = tuple(initial.meta.labels) if initial is not None else ()
        data = training_data(request.source, spec, labels=old_labels, progress=progress, should_stop=should_stop)
        torch.manual_seed(request.config.seed)
        if initial is not None and data.labels == old_labels:
            model = initial.model
        else:
            model = self.manager.build_model(spec.name, len(data.labels))
            if initial is not None:
                _load_backbone(model, initial.model, spec.head, old_labels, data.labels)
        self._model, self._data = model, data
        self.state = TrainingState()
        counts = data.train.class_counts(len(data.labels))
        self.prepared = RunPrepared(
            data.labels, tuple(n for n in data.labels if initial is not None and n not in old_labels),
            tuple(n for n in old_labels if n not in data.labels), data.splits,
            {name: int(c) for name, c in zip(data.labels, counts)}, str(device))
        return self.prepared

    def epochs(self, *, progress: ProgressFn = no_progress, should_stop: StopFn = never_stop) -> Iterator["EpochReport"]:
        """:func:`~actdesk.ml.training.train_model` from where the run stands."""
        from actdesk.ml.training import train_model

        spec, data = self.spec, self._data
        yield from train_model(self._model, data.train, data.val, labels=data.labels, mean=spec.mean, std=spec.std,
                               config=self.request.config, state=self.state, device=self.request.device,
                               progress=progress, should_stop=should_stop)

    @property
    def finished(self) -> bool:
        return self.state is not None and self.state.finished

    def save(self) -> Path:
        """Write the best epoch's weights, with provenance and validation metrics, to ``request.out``."""
        from actdesk.ml.checkpoints import CheckpointMeta, save_checkpoint

        if not self.state or not self.state.history:
            raise ActdeskError("no epoch has finished yet: nothing to save")
        request, spec = self.request, self.spec
        best = next(r for r in self.state.history if r.epoch == self.state.best_epoch)
        provenance = {
            "data": request.source.describe(), "seed": request.source.seed,
            "videos": dict(Counter(self.prepared.splits.values())),
            "init": str(request.init) if request.init else "random", "new_labels": list(self.prepared.new_labels),
            "epochs": self.state.epoch, "best_epoch": best.epoch, "config": asdict(request.config),
            "device": self.prepared.device, "wall_time_s": round(time.monotonic() - self.started, 1),
        }
        metrics = {"val_clip_accuracy": _finite(best.val_acc), "val_loss": _finite(best.val_loss),
                   "train_clip_accuracy": best.train_acc,
                   "val_per_class_f1": {c.label: round(c.f1, 4) for c in best.per_class}}
        meta = CheckpointMeta.for_spec(spec, list(self._data.labels), provenance=provenance, metrics=metrics)
        request.out.parent.mkdir(parents=True, exist_ok=True)
        save_checkpoint(request.out, self._model.state_dict(), meta)
        self.saved = request.out
        return request.out


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _load_backbone(model: "torch.nn.Module", initial: "torch.nn.Module", head: str, old_labels: Sequence[str],
                   new_labels: Sequence[str]) -> None:
    """Copy every weight but the head's; head rows of classes both label sets have keep their weights."""
    import torch

    prefix = head + "."
    state = model.state_dict()
    with torch.no_grad():
        for key, value in initial.state_dict().items():
            if not key.startswith(prefix):
                state[key] = value
            elif value.shape[:1] == (len(old_labels),):
                for row, name in enumerate(new_labels):
                    if name in old_labels:
                        state[key][row] = value[old_labels.index(name)]
    model.load_state_dict(state)


def report_markdown(run: FineTuneRun, *, curves_image: str, confusion_image: str) -> str:
    """A training report for the run's saved checkpoint: settings, every epoch, the best epoch's class scores."""
    request, state, prepared = run.request, run.state, run.prepared
    best = next(r for r in state.history if r.epoch == state.best_epoch)
    config = request.config
    lines = [
        f"# Training report: {request.out.name}", "",
        f"- model: {request.model}, started from {request.init or 'random weights'}",
        f"- data: {request.source.describe()}; videos: "
        + ", ".join(f"{n} {split}" for split, n in sorted(Counter(prepared.splits.values()).items())),
        f"- classes: {', '.join(prepared.labels)}"
        + (f" (new: {', '.join(prepared.new_labels)})" if prepared.new_labels else ""),
        f"- settings: {state.epoch} of {config.epochs} epochs, {config.clips_per_epoch} clips per epoch, batch "
        f"{config.batch_size}, peak learning rate {config.lr:g}, seed {config.seed}, device {prepared.device}",
        f"- best epoch: {best.epoch} (its weights are the checkpoint's)", "",
        f"![Loss and accuracy per epoch]({curves_image})", "",
        "| epoch | train loss | train acc | val loss | val acc | lr | seconds |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {r.epoch}{' *' if r.epoch == best.epoch else ''} | {r.train_loss:.4f} | {r.train_acc:.4f} | "
              f"{r.val_loss:.4f} | {r.val_acc:.4f} | {r.lr:.2e} | {r.seconds:.1f} |" for r in state.history]
    if best.per_class:
        lines += ["", f"## Validation scores of epoch {best.epoch}", "",
                  "| class | precision | recall | F1 | frames |", "|---|---:|---:|---:|---:|"]
        lines += [f"| {c.label} | {c.precision:.3f} | {c.recall:.3f} | {c.f1:.3f} | {c.support} |"
                  for c in best.per_class]
        lines += ["", f"![Confusion matrix, rows true, columns predicted]({confusion_image})"]
    return "\n".join(lines) + "\n"


def fine_tune(run: FineTuneRun, *, progress: ProgressFn,
              should_stop: StopFn) -> Generator[RunPrepared | EpochReport, None, Path | None]:
    """The Task's work: prepare (once), yield the run's :class:`RunPrepared` and epoch reports, save at the end.

    Returns the checkpoint path, or None when stopped before the run finished.
    """
    if run.prepared is None:
        yield run.prepare(progress=progress, should_stop=should_stop)
    yield from run.epochs(progress=progress, should_stop=should_stop)
    return run.save() if run.finished else None


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
        self.run: FineTuneRun | None = None
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
        from actdesk.ml.training import TrainingConfig

        name = self.model_name()
        if name is None:
            return
        self._fill_init_choices()
        config = TrainingConfig.for_spec(self.manager.spec(name))
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
        from actdesk.ml.training import TrainingConfig
        from actdesk.paths import user_models_dir

        name = self.model_name()
        if name is None:
            raise ActdeskError("no model to train: no plugin provides one (see Plugins)")
        split = {"val_fraction": self.val_box.value() / 100, "seed": self.seed_box.value()}
        if self.folder_radio.isChecked():
            text = self.folder_edit.text().strip()
            if not text or not Path(text).expanduser().is_dir():
                raise ActdeskError(f"choose the data-set folder to train on{f' ({text} is not a folder)' if text else ''}")
            source = TrainingSource(folder=Path(text).expanduser(), **split)
        else:
            source = TrainingSource(project=self.project_path, accepted=self.accepted_check.isChecked(), **split)
        out_name = self.name_edit.text().strip().removesuffix(".safetensors")
        if not CHECKPOINT_NAME.fullmatch(out_name):
            raise ActdeskError(f"checkpoint name {out_name!r}: use letters, digits, '.', '_' and '-' only")
        config = TrainingConfig.for_spec(self.manager.spec(name), epochs=self.epochs_box.value(),
                                         clips_per_epoch=self.clips_box.value(), batch_size=self.batch_box.value(),
                                         lr=self.lr_box.value(), seed=self.seed_box.value())
        config.validate()
        init = self.init_box.currentData()
        return TrainingRequest(source, name, Path(init) if init else None, config, self.device_box.currentText(),
                               user_models_dir() / f"{out_name}.safetensors")

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
        self.run = FineTuneRun(request, self.manager)
        self.curves.clear()
        self.scores.set_scores([])
        self.matrix.clear()
        self.plan_label.setText("")
        self.epoch_label.setText(f"Preparing {request.model} on {request.source.describe()}…")
        self._launch()

    def resume(self) -> None:
        """Continue the stopped run from its last finished epoch."""
        if self.task is None and self._resumable():
            self._launch()

    def _resumable(self) -> bool:
        return self.run is not None and not (self.run.finished and self.run.saved is not None)

    def _launch(self) -> None:
        task = Task(fine_tune, self.run, name="fine-tune")
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
            path = self.run.save()
        except ActdeskError as e:
            show_error(self, "Cannot save the checkpoint", e)
            return None
        self._saved(path)
        return path

    def _on_item(self, item) -> None:
        if isinstance(item, RunPrepared):
            self._show_prepared(item)
        else:
            self._show_epoch(item)
            self.epochReported.emit(item)

    def _show_prepared(self, prepared: RunPrepared) -> None:
        splits = Counter(prepared.splits.values())
        classes = ", ".join(f"{name} ({prepared.class_frames[name]})" for name in prepared.labels)
        text = (f"{splits['train']} training and {splits['val']} validation videos on {prepared.device}. "
                f"Classes (training frames): {classes}.")
        if prepared.new_labels:
            text += f" New: {', '.join(prepared.new_labels)}."
        if prepared.dropped_labels:
            text += f" Left out (no segments): {', '.join(prepared.dropped_labels)}."
        if not splits["val"]:
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

    def _succeeded(self, path: Path | None) -> None:
        self._end()
        if path is not None:
            self._saved(path)

    def _saved(self, path: Path) -> None:
        state = self.run.state
        self.progress.finish("done", complete=True)
        early = ""
        if state.finished and state.epoch < self.run.request.config.epochs:
            early = f", stopped early: no improvement for {state.stale_epochs} epochs"
        self.status.setText(f"Saved {path} (best epoch {state.best_epoch} of {state.epoch}{early}). "
                            "The model panel offers it now.")
        self._update_buttons()
        try:
            self.report_path = self._write_report(path)
        except OSError as e:
            show_error(self, "Cannot write the training report", f"{path.parent}: {e.strerror or e}")
        self.checkpointSaved.emit(path)

    def _write_report(self, path: Path) -> Path:
        """``NAME.report.md`` beside the checkpoint, with the curves and the best epoch's confusion matrix as PNGs."""
        stem = path.with_suffix("")
        curves, confusion = Path(f"{stem}.curves.png"), Path(f"{stem}.confusion.png")
        images = [(self.curves, curves)]
        best = next(r for r in self.run.state.history if r.epoch == self.run.state.best_epoch)
        if best.per_class:
            view = ConfusionMatrixView()
            view.set_matrix(best.confusion, self.run.prepared.labels)
            view.resize(view.sizeHint())
            images.append((view, confusion))
        for widget, image in images:
            if not widget.grab().save(str(image)):
                raise OSError(f"cannot write {image}")
        report = Path(f"{stem}.report.md")
        report.write_text(report_markdown(self.run, curves_image=curves.name, confusion_image=confusion.name),
                          encoding="utf-8")
        return report

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
        if self.run.state is None or not self.run.state.history:
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
        self.save_button.setEnabled(not running and run is not None and not run.finished and run.state is not None
                                    and bool(run.state.history))
        for widget in (self.model_box, self.init_box, self.epochs_box, self.clips_box, self.batch_box, self.lr_box,
                       self.device_box, self.seed_box, self.name_edit, self.val_box, self.project_radio,
                       self.folder_radio, self.folder_edit, self.accepted_check):
            widget.setEnabled(not running and (widget is not self.project_radio or self.project_path is not None))

    def closeEvent(self, event) -> None:
        if self.task is not None:
            self.task.cancel()
            self._end()
        super().closeEvent(event)
