"""The model panel: choose a model and checkpoint, run it, watch it stream in.

Plugins, checkpoints and torch load in a background :class:`~actdesk.qt.workers.Task`
after the window has painted (:func:`load_catalogue`). A run is the
:func:`actdesk.qt.model_run.model_run` generator in a Task; its results enter
the store as ``AddModelTrack`` + ``AppendPredictions`` commands on the GUI
thread (one undo step for the whole run), so segments appear on the timeline
as windows finish and the event loop only ever does small pieces of work.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from actdesk.core.commands import AddLabel, AddModelTrack, AppendPredictions, Batch, Command
from actdesk.core.project import TrackScores
from actdesk.errors import ActdeskError, PluginError
from actdesk.qt.dialogs import log
from actdesk.qt.document import ProjectDocument
from actdesk.qt.model_run import RunStarted, RunUpdate, model_run
from actdesk.qt.timeline import format_time
from actdesk.qt.workers import Task


@dataclass(frozen=True)
class CheckpointChoice:
    """A checkpoint file offered for an architecture."""

    title: str
    path: Path
    architecture: str


@dataclass
class Catalogue:
    """What the background loader found: models, plugin failures, checkpoints, the device."""

    models: list = field(default_factory=list)  # actdesk.plugins.ModelEntry
    load_errors: list = field(default_factory=list)  # actdesk.plugins.PluginLoadError
    checkpoints: list[CheckpointChoice] = field(default_factory=list)
    device: str = "cpu"

    def checkpoints_for(self, architecture: str) -> list[CheckpointChoice]:
        return [c for c in self.checkpoints if c.architecture == architecture]


def find_checkpoints(extra: list[Path] = ()) -> list[CheckpointChoice]:
    """The bundled checkpoint, the user's fine-tuned ones, and ``extra`` files; unreadable ones are skipped."""
    from actdesk.ml.checkpoints import read_meta
    from actdesk.paths import bundled_checkpoint, user_models_dir

    candidates: list[tuple[str, Path]] = [("bundled", bundled_checkpoint())]
    models_dir = user_models_dir()
    if models_dir.is_dir():
        candidates += [("fine-tuned", p) for p in sorted(models_dir.glob("*.safetensors"))]
    candidates += [("file", Path(p)) for p in extra]
    out = []
    for kind, path in candidates:
        if not path.is_file():
            continue
        try:
            meta = read_meta(path)
        except ActdeskError:
            continue
        out.append(CheckpointChoice(f"{path.stem} ({kind})", path, meta.architecture))
    return out


def load_catalogue(*, progress, should_stop) -> Catalogue:  # noqa: ARG001 - the Task protocol
    """Load the plugins and torch, list models and checkpoints, pick the device (background thread)."""
    from actdesk.ml.device import select_device
    from actdesk.plugins import get_plugin_manager

    progress(0, 0, "loading plugins")
    manager = get_plugin_manager()
    device = select_device("auto")
    name = str(device)
    if device.type == "cuda":
        import torch

        name = f"{device} ({torch.cuda.get_device_name(device)})"
    return Catalogue(manager.models(), list(manager.load_errors), find_checkpoints(), name)


SAVE_CURVES_EVERY_S = 60.0


class ModelRunner(QObject):
    """Runs a model over one or more videos of the document, one Task at a time.

    ``execute(factory)`` is the window's command runner (shows refusals in a
    dialog and returns False); results go through it as store commands.
    """

    runStarted = Signal(int)  # video id
    progressed = Signal(int, int, float)  # done windows, total windows, ETA seconds (nan unknown)
    deviceKnown = Signal(str)
    trackCreated = Signal(int)  # track id
    runFinished = Signal(str)  # "done" | "cancelled" | "failed"
    failed = Signal(object, str)  # exception, traceback text

    def __init__(self, execute: Callable[[Callable[[], Command]], bool]):
        super().__init__()
        self._execute = execute
        self.document: ProjectDocument | None = None
        self.task: Task | None = None
        self._queue: list[int] = []
        self._params: dict = {}
        self._video_id: int | None = None
        self._track_id: int | None = None
        self._labels: tuple[str, ...] = ()
        self._centers: list[np.ndarray] = []
        self._probs: list[np.ndarray] = []
        self._last_curves = 0.0
        self._last_saved = 0.0

    @property
    def running(self) -> bool:
        return self.task is not None

    @property
    def track_id(self) -> int | None:
        """The track the current run writes to."""
        return self._track_id

    def run(self, document: ProjectDocument, video_ids: list[int], *, checkpoint: Path, architecture: str,
            device: str = "auto", stride: int = 2, batch: int = 16) -> None:
        """Label each video in turn; each becomes a new model track."""
        if self.running:
            raise ActdeskError("a model is already running; cancel it first")
        self.document = document
        self._queue = list(video_ids)
        self._params = dict(checkpoint=Path(checkpoint), architecture=architecture, device=device,
                            stride=stride, batch=batch)
        self._next_video()

    def cancel(self) -> None:
        self._queue.clear()
        if self.task is not None:
            self.task.cancel()

    def stop(self, ms: int = 10000) -> None:
        """Cancel and wait up to ``ms`` for the run to end, store its curves and let go of the document
        (it is about to close); a run still stuck after that ends on its own."""
        task = self.task
        self.cancel()
        ended = task is None or task.wait(ms)
        if task is not None:  # a finished run stored its curves at its end
            self._save_curves()
        self.document = None  # late signals of the run then write nowhere
        if not ended:
            self.task = None  # it ends on its own (workers keep it alive); its late signals are ignored
            self.runFinished.emit("cancelled")

    def _next_video(self) -> None:
        if not self._queue:
            return
        video_id = self._queue.pop(0)
        video = self.document.project.video(video_id)
        p = self._params
        self._video_id, self._track_id = video_id, None
        self._centers, self._probs = [], []
        self._last_saved = time.monotonic()
        task = Task(model_run, video.abs_path, p["checkpoint"], architecture=p["architecture"], device=p["device"],
                    stride=p["stride"], batch=p["batch"], name=f"label {video.name}")
        # Every signal names its task: one abandoned by stop() may still report after a new run began.
        task.yielded.connect(lambda item, t=task: self._on_item(t, item))
        task.progressed.connect(lambda done, total, message, t=task: self._on_progress(t, done, total))
        task.succeeded.connect(lambda _, t=task: self._end(t, "done"))
        task.cancelled.connect(lambda t=task: self._end(t, "cancelled"))
        task.failed.connect(lambda error, details, t=task: self._on_failed(t, error, details))
        self.task = task
        self.runStarted.emit(video_id)
        task.start()

    def _on_progress(self, task: Task, done: int, total: int) -> None:
        if task is not self.task:
            return
        eta = float("nan")
        if total and done:
            elapsed = time.monotonic() - self.task.started_at
            eta = elapsed / done * (total - done)
        self.progressed.emit(done, total, eta)

    def _on_item(self, task: Task, item: RunStarted | RunUpdate) -> None:
        if task is not self.task or task.cancel_requested:
            return
        if isinstance(item, RunStarted):
            self._start_track(item)
        elif self._track_id is not None:
            self._append(item)

    def _start_track(self, item: RunStarted) -> None:
        self._labels = item.labels
        self.deviceKnown.emit(item.device)
        # The model's whole label set joins the project (its own undo step), so the palette offers every class.
        known = set(self.document.label_names())
        missing = [name for name in item.labels if name not in known]
        if missing and not self._execute(lambda: Batch(f"Add the labels of {item.architecture}",
                                                       [AddLabel(name) for name in missing])):
            self.cancel()
            return
        p = self._params
        params = {"stride": p["stride"], "device": item.device, "labels": list(item.labels)}
        command = AddModelTrack(self._video_id, item.architecture, str(item.checkpoint), [], params=params)
        if self._execute(lambda: command):
            self._track_id = command.track_id
            self.trackCreated.emit(command.track_id)
        else:
            self.cancel()

    def _append(self, item: RunUpdate) -> None:
        if item.segments:
            track_id = self._track_id
            if not self._execute(lambda: AppendPredictions(track_id, item.segments)):
                self.cancel()  # the track is gone (undone) or refused the rows: stop writing to it
                return
        if len(item.centers):
            self._centers.append(item.centers)
            self._probs.append(item.probs)
        now = time.monotonic()
        if item.final or now - self._last_curves > 0.5:
            self._last_curves = now
            self._publish_curves(item.frame_probs)
        if not item.final and now - self._last_saved > SAVE_CURVES_EVERY_S:
            self._last_saved = now
            self._save_curves()

    def _publish_curves(self, frame_probs: np.ndarray | None) -> None:
        doc = self.document
        if doc is None or self._track_id is None:
            return
        if frame_probs is not None:
            frames, probs = np.arange(len(frame_probs)), frame_probs
        elif self._centers:
            frames = np.concatenate(self._centers)
            probs = np.concatenate(self._probs)
            self._centers, self._probs = [frames], [probs]
        else:
            return
        doc.set_curves(self._track_id, TrackScores(self._labels, frames, probs))

    def _save_curves(self) -> None:
        """Store the run's curves with its track: at its end and every minute (a crash keeps them)."""
        if self.document is None or self._track_id is None:
            return
        try:
            self.document.save_curves(self._track_id)
        except ActdeskError as e:  # the track was undone meanwhile, or the model gave odd values
            log.warning("the curves of track #%s are not stored: %s", self._track_id, e)

    def _on_failed(self, task: Task, error: BaseException, details: str) -> None:
        if task is not self.task:
            return
        if isinstance(error, PluginError) and self._params.get("architecture"):
            from actdesk.plugins import get_plugin_manager

            get_plugin_manager().record_model_error(self._params["architecture"], str(error))
        self._queue.clear()
        self.failed.emit(error, details)
        self._end(task, "failed")

    def _end(self, task: Task, outcome: str) -> None:
        if task is not self.task:
            return
        self.task = None
        task.wait()
        self._save_curves()  # what arrived, however the run ended (segments are kept likewise)
        self.runFinished.emit(outcome)
        if outcome == "done":
            self._next_video()


class ModelPanel(QWidget):
    """Model and checkpoint choice, run buttons, progress with ETA, cancel."""

    runRequested = Signal(bool)  # True: every video of the project
    cancelRequested = Signal()
    showPluginErrors = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.catalogue: Catalogue | None = None
        self._extra_checkpoints: list[Path] = []

        self.model_box = QComboBox()
        self.model_box.currentIndexChanged.connect(self._model_changed)
        self.checkpoint_box = QComboBox()
        browse = QPushButton("File…")
        browse.setToolTip("Use a checkpoint file (.safetensors, or a weight file the model's plugin can import)")
        browse.clicked.connect(self._browse)
        self.stride_box = QSpinBox()
        self.stride_box.setRange(1, 16)
        self.stride_box.setValue(2)
        self.stride_box.setToolTip("Score a window every N frames (1: every frame, slowest)")
        self.device_box = QComboBox()
        self.device_box.addItems(["auto", "cpu", "cuda"])
        self.run_button = QPushButton("Run on this video")
        self.run_button.setObjectName("primaryButton")
        self.run_button.clicked.connect(lambda: self.runRequested.emit(False))
        self.run_all_button = QPushButton("Run on all videos")
        self.run_all_button.clicked.connect(lambda: self.runRequested.emit(True))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("idle")
        self.progress.setValue(0)
        self.status = QLabel("Loading plugins…")
        self.status.setObjectName("dimLabel")
        self.status.setWordWrap(True)
        self.plugin_errors = QPushButton("")
        self.plugin_errors.setObjectName("warningButton")
        self.plugin_errors.setVisible(False)
        self.plugin_errors.clicked.connect(self.showPluginErrors)

        checkpoint_row = QHBoxLayout()
        checkpoint_row.addWidget(self.checkpoint_box, 1)
        checkpoint_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Model", self.model_box)
        form.addRow("Checkpoint", checkpoint_row)
        form.addRow("Stride", self.stride_box)
        form.addRow("Device", self.device_box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.run_all_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.plugin_errors)
        layout.addStretch(1)
        self.set_running(False)

    def set_catalogue(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.model_box.blockSignals(True)
        self.model_box.clear()
        for entry in catalogue.models:
            text = f"{entry.name} — {entry.spec.title}" if entry.spec.title else entry.name
            if entry.status != "ok":
                text += " (failing)"
            self.model_box.addItem(text, entry.name)
            self.model_box.setItemData(self.model_box.count() - 1,
                                       entry.error or entry.spec.description or entry.spec.title,
                                       Qt.ItemDataRole.ToolTipRole)
        bundled = [c.architecture for c in catalogue.checkpoints if c.title.endswith("(bundled)")]
        if bundled and self.model_box.findData(bundled[0]) >= 0:
            self.model_box.setCurrentIndex(self.model_box.findData(bundled[0]))
        self.model_box.blockSignals(False)
        self._model_changed()
        n = len(catalogue.load_errors)
        self.plugin_errors.setVisible(bool(n))
        if n:
            names = ", ".join(e.plugin for e in catalogue.load_errors)
            self.plugin_errors.setText(f"{n} plugin{'s' if n != 1 else ''} failed to load: {names} (details)")
        self.status.setText(f"{len(catalogue.models)} models from plugins · device {catalogue.device}")

    def architecture(self) -> str | None:
        return self.model_box.currentData()

    def checkpoint(self) -> Path | None:
        data = self.checkpoint_box.currentData()
        return Path(data) if data else None

    def set_checkpoint(self, path: Path) -> None:
        """Offer ``path`` (a file the user chose) and select it."""
        path = Path(path)
        if path not in self._extra_checkpoints:
            self._extra_checkpoints.append(path)
        self._model_changed()
        index = self.checkpoint_box.findData(str(path))
        if index >= 0:
            self.checkpoint_box.setCurrentIndex(index)

    def refresh_checkpoints(self) -> None:
        """Look for checkpoints again (a fine-tuning run has saved one)."""
        if self.catalogue is None:
            return
        self.catalogue.checkpoints = find_checkpoints()
        self._model_changed()

    def _model_changed(self) -> None:
        self.checkpoint_box.clear()
        arch = self.architecture()
        if self.catalogue is None or arch is None:
            return
        for choice in self.catalogue.checkpoints_for(arch):
            self.checkpoint_box.addItem(choice.title, str(choice.path))
        for path in self._extra_checkpoints:
            if self.checkpoint_box.findData(str(path)) < 0:
                self.checkpoint_box.addItem(f"{path.name} (file)", str(path))
        if not self.checkpoint_box.count():
            self.checkpoint_box.addItem("no checkpoint for this model: choose a file", None)
        self._update_buttons()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Checkpoint", "", "Checkpoints (*.safetensors *.pth *.pt);;All files (*)")
        if path:
            self.set_checkpoint(Path(path))

    def set_running(self, running: bool) -> None:
        self._running = running
        self.cancel_button.setEnabled(running)
        for w in (self.model_box, self.checkpoint_box, self.stride_box, self.device_box):
            w.setEnabled(not running)
        self._update_buttons()
        if not running:
            self.progress.setFormat("idle" if self.progress.value() == 0 else self.progress.format())

    def _update_buttons(self) -> None:
        ready = not getattr(self, "_running", False) and self.checkpoint() is not None
        self.run_button.setEnabled(ready)
        self.run_all_button.setEnabled(ready)

    def show_progress(self, done: int, total: int, eta_s: float) -> None:
        if not total:
            self.progress.setMaximum(0)  # busy indicator while the model loads
            return
        self.progress.setMaximum(total)
        self.progress.setValue(done)
        eta = "" if eta_s != eta_s else f" · {format_time(eta_s)} left"
        self.progress.setFormat(f"{done}/{total} windows · %p%{eta}")

    def show_outcome(self, text: str) -> None:
        self.progress.setFormat(text)
