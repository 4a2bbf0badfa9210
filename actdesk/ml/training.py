"""Train (or fine-tune) any registered model on clips cut from labelled videos.

:func:`train_model` is the one training loop behind ``actdesk train``, the
GUI's fine-tuning and the tests: a generator yielding an :class:`EpochReport`
after each epoch, following the long-work protocol of
:mod:`actdesk.core.tasks` (``progress`` per batch, ``should_stop`` polled per
batch). Each epoch draws ``clips_per_epoch`` centres from the training videos,
class-balanced, at any frame (so clips fall on and between the inference
stride grid: the temporal jitter), augments them on the fly (zoom and shift,
horizontal flip, brightness and contrast) and takes AdamW steps under a
one-cycle learning-rate schedule. Validation scores clips on a fixed grid of
held-out frames; the best epoch's weights are kept, and training stops early
when validation has not improved for ``patience`` epochs.

Everything random is seeded from ``config.seed`` and the epoch number, so a run
is reproducible on one machine and a stopped run resumes (pass the same
:class:`TrainingState` again) exactly where it stopped.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.errors import ActdeskError
from actdesk.ml.datasets import ClipDataset
from actdesk.ml.device import available_cores, select_device
from actdesk.ml.metrics import ClassScores, confusion_matrix, per_class_scores
from actdesk.ml.preprocess import normalise_clips, to_unit_range

if TYPE_CHECKING:
    from actdesk.plugins.spec import ModelSpec


@dataclass(frozen=True)
class Augmentation:
    """Random changes applied to each training clip (the same for all its frames).

    Every synthetic action is mirror-symmetric (figures face either way), so a
    horizontal flip keeps the label.
    """

    flip: bool = True
    zoom: tuple[float, float] = (0.8, 1.2)
    """Range of the scale factor (above 1 zooms in)."""
    shift: float = 0.12
    """Largest shift, as a fraction of the frame size, in each direction."""
    brightness: float = 0.15
    """Largest brightness change, in units of full scale."""
    contrast: float = 0.25
    """Largest relative contrast change."""

    @classmethod
    def none(cls) -> "Augmentation":
        return cls(flip=False, zoom=(1.0, 1.0), shift=0.0, brightness=0.0, contrast=0.0)


@dataclass(frozen=True)
class TrainingConfig:
    """How to train; :meth:`for_spec` starts from the model's own ``train_defaults``."""

    epochs: int = 16
    batch_size: int = 32
    lr: float = 3e-3
    """Peak learning rate of the one-cycle schedule."""
    weight_decay: float = 0.05
    clips_per_epoch: int = 4096
    val_stride: int = 4
    """Validate on every ``val_stride``-th labelled frame of the validation videos."""
    patience: int = 4
    """Stop after this many epochs without a better validation score; 0 never stops early."""
    min_delta: float = 1e-3
    """At equal validation accuracy, the validation loss must fall by this much to count as better."""
    label_smoothing: float = 0.05
    balance: bool = True
    """Draw every class equally often (otherwise frames are drawn uniformly)."""
    augmentation: Augmentation = field(default_factory=Augmentation)
    seed: int = 0
    threads: int | None = None
    """torch CPU threads; None uses every core this process may run on."""

    @classmethod
    def for_spec(cls, spec: "ModelSpec", **overrides: Any) -> "TrainingConfig":
        """The defaults, then the spec's ``train_defaults`` (lr, batch, epochs, weight_decay), then ``overrides``."""
        names = {"lr": "lr", "batch": "batch_size", "epochs": "epochs", "weight_decay": "weight_decay"}
        from_spec = {names[k]: v for k, v in spec.train_defaults.items() if k in names}
        return replace(cls(), **{**from_spec, **overrides})

    def validate(self) -> None:
        """Raise ActdeskError naming a setting that cannot work."""
        for name in ("epochs", "batch_size", "clips_per_epoch", "val_stride"):
            if getattr(self, name) < 1:
                raise ActdeskError(f"training setting {name} must be at least 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ActdeskError(f"training setting lr must be positive, got {self.lr}")


@dataclass(frozen=True)
class EpochReport:
    """What one epoch achieved. Validation figures are NaN (and ``per_class`` empty) without validation data."""

    epoch: int
    """1-based."""
    epochs: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    per_class: list[ClassScores]
    """Validation precision/recall/F1 per class."""
    confusion: np.ndarray
    """Validation confusion matrix, rows = truth, columns = prediction."""
    lr: float
    """Learning rate at the end of the epoch."""
    seconds: float
    best: bool
    """Whether this epoch is the best so far (its weights are kept)."""
    stopping: bool = False
    """Whether training stops after this epoch (last epoch or no improvement for ``patience`` epochs)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        data["confusion"] = self.confusion.tolist()
        return data


@dataclass
class TrainingState:
    """Where a run stands after its last completed epoch; pass it again to resume.

    :func:`train_model` updates it in place after each epoch. ``weights`` are
    those at the end of the last epoch, ``best_weights`` those of the best one
    (which the model holds once training ends or is stopped).
    """

    epoch: int = 0
    weights: dict[str, torch.Tensor] | None = None
    optimizer: dict[str, Any] | None = None
    scheduler: dict[str, Any] | None = None
    best_epoch: int = 0
    best_score: tuple[float, float] | None = None
    """(accuracy, loss) of the best epoch: validation figures, or training ones without validation data."""
    best_weights: dict[str, torch.Tensor] | None = None
    stale_epochs: int = 0
    history: list[EpochReport] = field(default_factory=list)
    finished: bool = False


def augment_clips(x: torch.Tensor, aug: Augmentation, generator: torch.Generator) -> torch.Tensor:
    """Apply ``aug`` to clips in [0, 1] ``[B, 3, T, H, W]``; every frame of a clip changes alike."""
    b, c, t, h, w = x.shape
    rand = lambda *shape: torch.rand(*shape, generator=generator).to(x.device)  # noqa: E731
    zoom_lo, zoom_hi = aug.zoom
    zoom = zoom_lo + (zoom_hi - zoom_lo) * rand(b)
    flip = torch.where(rand(b) < 0.5, -1.0, 1.0) if aug.flip else torch.ones(b, device=x.device)
    shift = (rand(b, 2) * 2 - 1) * (2 * aug.shift)  # affine_grid spans [-1, 1]: a frame is 2 wide
    if zoom_lo != 1.0 or zoom_hi != 1.0 or aug.shift > 0 or aug.flip:
        theta = torch.zeros(b, 2, 3, device=x.device)
        theta[:, 0, 0] = flip / zoom
        theta[:, 1, 1] = 1.0 / zoom
        theta[:, :, 2] = shift
        grid = F.affine_grid(theta, [b, c * t, h, w], align_corners=False)
        x = F.grid_sample(x.reshape(b, c * t, h, w), grid, mode="bilinear", padding_mode="border",
                          align_corners=False).reshape(b, c, t, h, w)
    if aug.brightness > 0 or aug.contrast > 0:
        contrast = 1.0 + (rand(b) * 2 - 1) * aug.contrast
        brightness = (rand(b) * 2 - 1) * aug.brightness
        mean = x.mean(dim=(1, 2, 3, 4), keepdim=True)
        x = (x - mean) * contrast.view(b, 1, 1, 1, 1) + mean + brightness.view(b, 1, 1, 1, 1)
    return x.clamp_(0.0, 1.0)


def train_model(
    model: torch.nn.Module,
    train: ClipDataset,
    val: ClipDataset | None,
    *,
    labels: Sequence[str],
    mean: Sequence[float],
    std: Sequence[float],
    standardise: bool = False,
    config: TrainingConfig = TrainingConfig(),
    state: TrainingState | None = None,
    device: str | torch.device = "cpu",
    progress: ProgressFn = no_progress,
    should_stop: StopFn = never_stop,
) -> Iterator[EpochReport]:
    """Train ``model`` (logits over ``labels``) in place; yield an :class:`EpochReport` per epoch.

    ``mean``/``std``/``standardise`` normalise inputs as at inference (the
    model's spec or checkpoint: :func:`actdesk.ml.preprocess.normalise_clips`).
    ``state`` (optional) is updated after every epoch; passing a state from a
    stopped run resumes it. When training ends, stops early or
    ``should_stop()`` turns True, the model holds the best epoch's weights
    (validation accuracy, then loss) and the generator returns.
    ``progress(done_batches, total_batches, message)`` is called per batch.
    """
    config.validate()
    if state is None:
        state = TrainingState()
    if state.finished:
        return
    torch_device = select_device(device)
    if torch_device.type == "cpu":
        torch.set_num_threads(config.threads or available_cores())
    model.to(torch_device)
    num_classes = len(labels)
    has_val = val is not None and len(val) > 0
    if state.weights is not None:
        model.load_state_dict(state.weights)

    steps = math.ceil(config.clips_per_epoch / config.batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, total_steps=config.epochs * steps, pct_start=0.15,
    )
    if state.optimizer is not None:
        optimizer.load_state_dict(state.optimizer)
        scheduler.load_state_dict(state.scheduler)
    total = config.epochs * steps

    try:
        for epoch in range(state.epoch + 1, config.epochs + 1):
            start = time.perf_counter()
            seed = [config.seed, epoch]
            rng = np.random.default_rng(seed)
            torch.manual_seed(config.seed * 100_003 + epoch)  # dropout
            generator = torch.Generator().manual_seed(config.seed * 100_003 + epoch)
            videos, frames = train.sample(rng, steps * config.batch_size, balance=config.balance)
            targets_all = train.labels_at(videos, frames)
            model.train()
            loss_sum, correct, seen = 0.0, 0, 0
            for step in range(steps):
                if should_stop():
                    return
                pick = slice(step * config.batch_size, (step + 1) * config.batch_size)
                x = augment_clips(to_unit_range(train.clips(videos[pick], frames[pick]), torch_device),
                                  config.augmentation, generator)
                targets = torch.from_numpy(targets_all[pick]).to(torch_device)
                logits = model(normalise_clips(x, mean, std, standardise))
                loss = F.cross_entropy(logits, targets, label_smoothing=config.label_smoothing)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
                loss_sum += float(loss.detach()) * len(targets)
                correct += int((logits.argmax(1) == targets).sum())
                seen += len(targets)
                progress((epoch - 1) * steps + step + 1, total,
                         f"epoch {epoch}/{config.epochs} loss {loss_sum / seen:.3f}")

            train_loss, train_acc = loss_sum / seen, correct / seen
            val_loss, val_acc = float("nan"), float("nan")
            confusion = np.zeros((num_classes, num_classes), np.int64)
            if has_val:
                scored = evaluate_clips(model, val, mean=mean, std=std, standardise=standardise,
                                        num_classes=num_classes,
                                        stride=config.val_stride, batch_size=config.batch_size,
                                        device=torch_device, should_stop=should_stop)
                if scored is None:
                    return
                val_loss, val_acc, confusion = scored
            score = (val_acc, val_loss) if has_val else (train_acc, train_loss)
            best = _improves(score, state.best_score, config.min_delta)
            state.stale_epochs = 0 if best else state.stale_epochs + 1
            if best:
                state.best_score, state.best_epoch = score, epoch
                state.best_weights = _copy_weights(model)
            stopping = epoch == config.epochs or (0 < config.patience <= state.stale_epochs)
            report = EpochReport(
                epoch=epoch, epochs=config.epochs, train_loss=train_loss, train_acc=train_acc,
                val_loss=val_loss, val_acc=val_acc,
                per_class=per_class_scores(confusion, labels) if has_val else [],
                confusion=confusion, lr=scheduler.get_last_lr()[0],
                seconds=time.perf_counter() - start, best=best, stopping=stopping,
            )
            state.epoch = epoch
            state.weights = _copy_weights(model)
            state.optimizer = copy.deepcopy(optimizer.state_dict())
            state.scheduler = scheduler.state_dict()
            state.history.append(report)
            state.finished = stopping
            yield report
            if stopping:
                return
    finally:
        if state.best_weights is not None:
            model.load_state_dict(state.best_weights)


def evaluate_clips(
    model: torch.nn.Module,
    data: ClipDataset,
    *,
    mean: Sequence[float],
    std: Sequence[float],
    standardise: bool = False,
    num_classes: int,
    stride: int = 1,
    batch_size: int = 32,
    device: torch.device = torch.device("cpu"),
    should_stop: StopFn = never_stop,
) -> tuple[float, float, np.ndarray] | None:
    """``(loss, accuracy, confusion)`` of ``model`` on every ``stride``-th labelled frame; None when stopped."""
    videos, frames = data.centres(stride)
    targets_all = data.labels_at(videos, frames)
    predictions = np.empty(len(frames), dtype=np.int64)
    loss_sum = 0.0
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(frames), batch_size):
            if should_stop():
                return None
            pick = slice(start, start + batch_size)
            x = normalise_clips(to_unit_range(data.clips(videos[pick], frames[pick]), device),
                                mean, std, standardise)
            logits = model(x)
            targets = torch.from_numpy(targets_all[pick]).to(device)
            loss_sum += float(F.cross_entropy(logits, targets, reduction="sum"))
            predictions[pick] = logits.argmax(1).cpu().numpy()
    confusion = confusion_matrix(targets_all, predictions, num_classes)
    return loss_sum / len(frames), float((predictions == targets_all).mean()), confusion


def _improves(score: tuple[float, float], best: tuple[float, float] | None, min_delta: float) -> bool:
    """Higher accuracy, or the same accuracy with a loss lower by more than ``min_delta``."""
    if best is None:
        return True
    return score[0] > best[0] or (score[0] == best[0] and score[1] < best[1] - min_delta)


def _copy_weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@dataclass(frozen=True)
class SyntheticRecipe:
    """What ``actdesk train --synthetic`` generates and how it trains.

    Training videos use seeds ``0..videos-1``; validation videos the held-out
    training seeds from :data:`actdesk.ml.datasets.VALIDATION_SEEDS_START`.
    ``config`` holds :class:`TrainingConfig` overrides on top of the model's
    own ``train_defaults``.
    """

    videos: int = 24
    val_videos: int = 4
    seconds: float = 60.0
    video_size: tuple[int, int] = (320, 240)
    """(width, height) of the generated videos, as ``actdesk synth`` takes it."""
    fps: int = 25
    config: dict[str, Any] = field(default_factory=dict)
    half: bool = False
    """Store the weights in float16."""

    @property
    def train_seeds(self) -> list[int]:
        return list(range(self.videos))

    @property
    def val_seeds(self) -> list[int]:
        from actdesk.ml.datasets import VALIDATION_SEEDS_START

        return list(range(VALIDATION_SEEDS_START, VALIDATION_SEEDS_START + self.val_videos))

    def with_overrides(self, **changes: Any) -> "SyntheticRecipe":
        """A copy with the given fields changed; None values are ignored."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @staticmethod
    def seed_range(seeds: Sequence[int]) -> str:
        """``"0-23"`` for a run of consecutive seeds (provenance)."""
        return f"{seeds[0]}-{seeds[-1]}" if seeds else ""


BUNDLED_RECIPE = SyntheticRecipe(
    videos=24, val_videos=4, seconds=60.0,
    config={"epochs": 16, "clips_per_epoch": 4096, "seed": 0},
    half=True,
)
"""The recipe of the bundled model (``make model``; resources/models/README.md)."""
