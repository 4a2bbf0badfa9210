"""Fine-tuning inside the app: corrected segments in, a better checkpoint out.

**Sources.** A project (its human track's segments plus the accepted segments
of its model tracks) or a data-set folder that ``actdesk export`` wrote or
``actdesk import`` reads (``clips``, ``csv``, MMAction2, Kinetics, UCF101,
HMDB51, ...). Either becomes a :class:`TrainingSource`: videos with their
segments and split as plain data, which crosses threads (a Project's SQLite
connection does not). Validation is a held-out set of videos: the source's
``val`` split, else a seeded, stratified subset of the training videos;
``test`` and ``unused`` videos are left out.

**Labels and the head.** A run starts from a checkpoint (the bundled model
by default). Its label list is the checkpoint's labels in their order, then
the source's new labels appended. The model is built for that list through the
plugin manager and gets every weight of the checkpoint except the head
(``ModelSpec.head``), plus the head's rows of the labels both share, so old
classes work from epoch 0 (:func:`transfer_weights`).

**The run.** :func:`finetune` is one generator, used by ``actdesk train``,
the Train dialog, the tests and ``actdesk bench``: it decodes the data, trains
with :func:`actdesk.ml.training.train_model` (augmentation, temporal jitter,
class-balanced sampling, early stopping, seeded) under bf16 autocast on CUDA,
and yields each epoch's :class:`~actdesk.ml.training.EpochReport`. After every
epoch the run folder gets the training state and the last weights, each
written atomically, so a stopped run resumes from its last completed epoch.
At the end the best epoch's weights become the checkpoint (safetensors with
provenance and metrics), the training report is written beside it
(:mod:`actdesk.ml.report`) and a copy goes to the per-user models folder,
where the model panel finds it.

torch and PyAV are imported inside functions: ``actdesk train`` builds its
parser from :func:`add_finetune_arguments` whenever the CLI starts.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Generator, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np

from actdesk.core.project import HUMAN_TRACK, SUFFIX as PROJECT_SUFFIX, Project, video_fingerprint
from actdesk.core.segments import Segment
from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.errors import ActdeskError, Cancelled, CheckpointError, FormatError, LabelError, MediaError

if TYPE_CHECKING:
    import torch

    from actdesk.ml.checkpoints import CheckpointMeta
    from actdesk.ml.datasets import ClipDataset, LabelledVideo
    from actdesk.ml.report import TrainingReportFiles
    from actdesk.ml.training import EpochReport, TrainingConfig, TrainingState
    from actdesk.plugins.manager import PluginManager
    from actdesk.plugins.spec import ModelSpec

TRAIN, VAL, LEFT_OUT = "train", "val", "left out"
"""The splits of a run: what each video is used for."""
DEFAULT_VAL_FRACTION = 0.2
"""Share of the training videos held out for validation when the source has no ``val`` split."""
SPLIT_SET = "1"
"""The split set used from sources that have several (UCF101 and HMDB51 have 3)."""
FINETUNE_DEFAULTS: dict[str, Any] = {"epochs": 8, "clips_per_epoch": 2048, "patience": 3}
"""TrainingConfig settings of a fine-tuning run, over the model's own ``train_defaults``."""
FINETUNE_LR_FACTOR = 0.3
"""Starting from trained weights, the peak learning rate is the model's own times this
(a full-size first step would undo much of what the backbone knows)."""
RUN_FILE = "run.json"
STATE_FILE = "state.safetensors"
LAST_CHECKPOINT = "last.safetensors"
_STATE_KEY = "actdesk-training-state"
_RUN_FORMAT = 1


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class SourceVideo:
    """One video of a training source."""

    name: str
    path: Path
    frame_count: int
    segments: tuple[Segment, ...]
    """Frame intervals with labels; where two overlap, the later one wins."""
    split: str = ""
    """The split the source assigns (``train``, ``val``, ``test``, ``unused``); '' for none."""
    content_hash: str = ""


@dataclass(frozen=True)
class TrainingSource:
    """Labelled videos to fine-tune on, read from a project or a data-set folder."""

    kind: str
    """``project`` or ``dataset``."""
    path: Path
    videos: tuple[SourceVideo, ...]
    labels: tuple[str, ...]
    """The labels the segments carry, in the source's order (label set, labels.txt)."""
    options: dict[str, Any] = field(default_factory=dict)
    """How it was read (track; format and video folders), for provenance and resuming."""

    def segment_counts(self, names: Sequence[str] | None = None) -> dict[str, int]:
        """Segments per label over the videos ``names`` (default: all)."""
        chosen = [v for v in self.videos if names is None or v.name in names]
        counts = Counter(s.label for v in chosen for s in v.segments)
        return {label: counts[label] for label in self.labels if counts[label]}


def project_source(project: Project, *, track: str = HUMAN_TRACK, accepted: bool = True) -> TrainingSource:
    """The training data of a project: each video's ``track`` segments (all but rejected
    ones) over the accepted segments of its other tracks (unless ``accepted`` is False).

    Reads the database only (fast): call it on the thread that owns ``project``
    and hand the result to :func:`finetune` in a worker. A split an import
    recorded (``actdesk.formats.importing.recorded_splits``) is kept.
    """
    from actdesk.formats.importing import recorded_splits

    missing = project.missing_videos()
    if missing:
        raise MediaError(missing[0].abs_path, f"video {missing[0].name!r} of {project.path.name} is missing "
                                              "(moved or deleted?); relink it first")
    videos = []
    for video in project.videos():
        main = project.track_named(video.id, track)
        others = [s.to_segment() for t in project.tracks(video.id) if accepted and (main is None or t.id != main.id)
                  for s in project.segments(t.id) if s.status == "accepted"]
        own = [s.to_segment() for s in project.segments(main.id) if s.status != "rejected"] if main else []
        if others or own:  # named by stored path: two folders may hold files of one name
            videos.append(SourceVideo(video.path, video.abs_path, video.frame_count, tuple(others + own),
                                      recorded_splits(project, video.id).get(SPLIT_SET, ""), video.content_hash))
    if not videos:
        raise ActdeskError(f"{project.path}: no segments on track {track!r}"
                           + (" and no accepted model segments" if accepted else "") + " to train on")
    used = {s.label for v in videos for s in v.segments}
    labels = tuple(label.name for label in project.labels() if label.name in used)
    return TrainingSource("project", project.path, tuple(videos), labels, {"track": track, "accepted": accepted})


def folder_source(path: str | os.PathLike, *, format_name: str | None = None,
                  video_dirs: Sequence[str | os.PathLike] = ()) -> TrainingSource:
    """The training data of a data-set folder (or an annotation file) in any importable format.

    Videos are the data set's own files, else found by name in ``video_dirs``
    and the folder itself (a ``csv`` export names videos without holding
    them). Times in seconds become frames through each video's PTS index.
    """
    from actdesk.formats.data import interval_frames
    from actdesk.formats.importing import read_source
    from actdesk.media import frame_index

    path = Path(path)
    imported = read_source(path, format_name)
    folder = path if path.is_dir() else path.parent
    search = [Path(d) for d in video_dirs] + [folder]
    files: dict[str, Path] = dict(imported.video_files)
    by_video: dict[str, list[Segment]] = {}
    for interval in imported.intervals:
        if interval.video not in files:
            files[interval.video] = _find_video(interval.video, search, interval.file, interval.line)
        index = frame_index(files[interval.video])
        start, end = interval_frames(interval, index.times_s, index.end_time_s)
        if end > index.frame_count:
            raise FormatError(interval.file, f"segment {start}..{end} ({interval.label}) ends after the last frame "
                                             f"of {interval.video} ({index.frame_count} frames)", interval.line)
        by_video.setdefault(interval.video, []).append(
            Segment(start, end, interval.label, source=interval.source, video=interval.video))
    if not by_video:
        raise ActdeskError(f"{path}: no labelled segments to train on")
    videos = tuple(
        SourceVideo(name, files[name], frame_index(files[name]).frame_count, tuple(segments),
                    imported.splits.get(name, {}).get(SPLIT_SET, ""), video_fingerprint(files[name])[0])
        for name, segments in by_video.items())
    used = {s.label for segments in by_video.values() for s in segments}
    labels = tuple(dict.fromkeys([*imported.labels, *sorted(used)]))
    return TrainingSource("dataset", path, videos, tuple(label for label in labels if label in used),
                          {"format": imported.format, "video_dirs": [str(d) for d in video_dirs]})


def _find_video(name: str, folders: Sequence[Path], listed_in: Path, line: int | None) -> Path:
    """The video file a data set names ``name`` (a path, a file name or an id without suffix)."""
    base = PurePosixPath(name.replace("\\", "/"))
    for folder in folders:
        for candidate in (folder / base, folder / base.name):
            if candidate.is_file():
                return candidate
        by_id = sorted(p for p in folder.glob(f"{glob.escape(base.name)}.*") if p.is_file())
        if by_id:
            return by_id[0]
    raise FormatError(listed_in, f"video {name!r} not found in {', '.join(map(str, folders))}; say where the "
                                 "videos are with --video-dir", line)


def open_source(path: str | os.PathLike, *, track: str = HUMAN_TRACK, accepted: bool = True,
                format_name: str | None = None, video_dirs: Sequence[str | os.PathLike] = ()) -> TrainingSource:
    """A project file (``.actdesk``, opened read-only) or a data-set folder/annotation file as a source."""
    path = Path(path)
    if path.suffix == PROJECT_SUFFIX and path.is_file():
        with Project.open(path, readonly=True) as project:
            return project_source(project, track=track, accepted=accepted)
    if not path.exists():
        raise ActdeskError(f"{path}: no such project or data-set folder")
    return folder_source(path, format_name=format_name, video_dirs=video_dirs)


def finetune_labels(base: Sequence[str], source: Sequence[str]) -> tuple[str, ...]:
    """The label list of a fine-tuned model: ``base`` (the initial checkpoint's) in its order, then new ones."""
    return tuple(base) + tuple(label for label in source if label not in base)


def training_splits(source: TrainingSource, *, val_fraction: float = DEFAULT_VAL_FRACTION,
                 seed: int = 0) -> dict[str, str]:
    """Video name -> :data:`TRAIN`, :data:`VAL` or :data:`LEFT_OUT`.

    The source's own splits come first (``val`` validates, ``test`` and
    ``unused`` are left out). Without a ``val`` split, ``val_fraction`` of the
    training videos is held out, stratified by label and seeded
    (``actdesk.formats.splits``); a single video is not split.
    """
    from actdesk.formats.splits import assign_splits

    if not 0 <= val_fraction < 1:
        raise ActdeskError(f"validation fraction must be in [0, 1), got {val_fraction}")
    splits = {v.name: VAL if v.split == "val" else LEFT_OUT if v.split in ("test", "unused") else TRAIN
             for v in source.videos}
    pool = [v for v in source.videos if splits[v.name] == TRAIN]
    if VAL not in splits.values() and val_fraction > 0 and len(pool) >= 2:
        counts = {v.name: Counter(s.label for s in v.segments) for v in pool}
        held_out = [name for name, split in assign_splits(counts, (1 - val_fraction, val_fraction, 0.0),
                                                          seed=seed).items() if split == "val"]
        if len(held_out) < len(pool):
            splits.update(dict.fromkeys(held_out, VAL))
    if TRAIN not in splits.values():
        raise ActdeskError(f"{source.path}: no video is left for training (all are validation or test videos)")
    return splits


# --------------------------------------------------------------------------- data sets


@dataclass
class TrainingData:
    """Decoded training and validation clips, their label list and each video's split."""

    labels: tuple[str, ...]
    train: "ClipDataset"
    val: "ClipDataset | None"
    splits: dict[str, str]
    """Video name -> :data:`TRAIN`, :data:`VAL` or :data:`LEFT_OUT`."""


def labelled_videos(source: TrainingSource, labels: Sequence[str]) -> dict[str, "LabelledVideo"]:
    """Video name -> its per-frame class indices over ``labels``."""
    from actdesk.ml.datasets import LabelledVideo

    return {v.name: LabelledVideo.from_segments(v.path, v.segments, labels, v.frame_count) for v in source.videos}


def data_fingerprint(items: dict[str, "LabelledVideo"], source: TrainingSource, splits: dict[str, str]) -> str:
    """sha256 hex over each video's name, content hash, split and frame labels."""
    digest = hashlib.sha256()
    hashes = {v.name: v.content_hash for v in source.videos}
    for name in sorted(items):
        digest.update(f"{name}\0{hashes[name]}\0{splits[name]}\0".encode())
        digest.update(np.ascontiguousarray(items[name].frame_labels, dtype=np.int16).tobytes())
    return digest.hexdigest()


def decode_training_data(
    source: TrainingSource,
    labels: Sequence[str],
    sampling: "ModelSpec | CheckpointMeta",
    *,
    splits: dict[str, str],
    progress: ProgressFn = no_progress,
    should_stop: StopFn = never_stop,
) -> TrainingData:
    """Decode the training and validation videos at ``sampling``'s size for its clips.

    ``sampling`` is the model's spec or its checkpoint's metadata (``size``,
    ``clip_len``, ``frame_step``). Raises Cancelled when stopped.
    """
    from actdesk.ml.datasets import ClipDataset

    items = labelled_videos(source, labels)

    def decode(split: str) -> "ClipDataset | None":
        chosen = [items[v.name] for v in source.videos if splits[v.name] == split]
        if not chosen:
            return None
        return ClipDataset.decode(chosen, size=tuple(sampling.size), clip_len=sampling.clip_len,
                                  frame_step=sampling.frame_step, progress=progress, should_stop=should_stop)

    train = decode(TRAIN)
    if train is None:
        raise ActdeskError(f"{source.path}: no video is left for training")
    return TrainingData(tuple(labels), train, decode(VAL), dict(splits))


def datasets_from_project(
    project: Project,
    spec: "ModelSpec | CheckpointMeta",
    *,
    labels: Sequence[str] = (),
    track: str = HUMAN_TRACK,
    accepted: bool = True,
    val_fraction: float = DEFAULT_VAL_FRACTION,
    seed: int = 0,
    progress: ProgressFn = no_progress,
    should_stop: StopFn = never_stop,
) -> TrainingData:
    """A project's training and validation clips for a model (``spec`` or checkpoint metadata).

    The class order is ``labels`` (the initial checkpoint's, all kept), then
    the project's new labels. Reads the project on the calling thread, then
    decodes; raises Cancelled when stopped.
    """
    source = project_source(project, track=track, accepted=accepted)
    splits = training_splits(source, val_fraction=val_fraction, seed=seed)
    return decode_training_data(source, finetune_labels(labels, source.labels), spec, splits=splits,
                                progress=progress, should_stop=should_stop)


# --------------------------------------------------------------------------- model


def transfer_weights(model: "torch.nn.Module", spec: "ModelSpec", state_dict: dict[str, "torch.Tensor"],
                     old_labels: Sequence[str], new_labels: Sequence[str]) -> list[str]:
    """Load a checkpoint's weights (for ``old_labels``) into ``model`` (built for ``new_labels``).

    Every weight outside the head (``spec.head``) is loaded as it is; the head
    keeps its fresh initialisation except the rows of labels both lists hold,
    which are copied from the checkpoint (a head whose input width differs is
    skipped whole). Returns the labels whose rows were kept.
    """
    import torch

    prefix = spec.head + "."
    current = model.state_dict()
    merged = {k: (current[k] if k.startswith(prefix) else v) for k, v in state_dict.items()}
    merged.update({k: v for k, v in current.items() if k.startswith(prefix)})
    model.load_state_dict(merged, strict=True)
    head = model.get_submodule(spec.head)
    old_weight, old_bias = state_dict.get(prefix + "weight"), state_dict.get(prefix + "bias")
    if old_weight is None or old_weight.shape != (len(old_labels), head.in_features):
        return []
    old_row = {label: i for i, label in enumerate(old_labels)}
    kept = [label for label in new_labels if label in old_row]
    with torch.no_grad():
        for label in kept:
            row = new_labels.index(label)
            head.weight[row] = old_weight[old_row[label]]
            if head.bias is not None and old_bias is not None:
                head.bias[row] = old_bias[old_row[label]]
    return kept


@contextlib.contextmanager
def mixed_precision(model: "torch.nn.Module", device_type: str, dtype: "torch.dtype | None") -> Iterator[None]:
    """Run ``model``'s forward under bf16 autocast, returning float32 logits; any other ``dtype``
    (None on the CPU, fp16 on old GPUs: training in fp16 needs a gradient scaler) leaves it as it is.

    ``train_model`` has no autocast of its own; wrapping the forward keeps the
    state dict's keys as they are.
    """
    import torch

    if dtype != torch.bfloat16:
        yield
        return
    forward = model.forward

    def autocast_forward(*args: Any, **kwargs: Any) -> "torch.Tensor":
        with torch.autocast(device_type=device_type, dtype=dtype):
            return forward(*args, **kwargs).float()

    model.forward = autocast_forward
    try:
        yield
    finally:
        del model.forward


class MirrorWhereAllowed:
    """A ClipDataset whose training clips are mirrored left-right, each with probability 1/2,
    where its class allows it (``train_model``'s own flip treats every class alike).

    The coin for each centre is drawn in :meth:`sample` from the epoch's
    generator, and a mirrored centre is addressed as its video index plus the
    number of videos, so the decision travels with the centre: runs stay
    reproducible and resumable whoever cuts the clips. Everything else is the
    wrapped data set's.
    """

    def __init__(self, data: "ClipDataset", flippable: np.ndarray):
        self._data = data
        self._flippable = np.asarray(flippable, dtype=bool)
        self._videos = len(data.frames)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._data, name)

    def __len__(self) -> int:
        return len(self._data)

    def sample(self, rng: np.random.Generator, count: int, *, balance: bool = True) -> tuple[np.ndarray, np.ndarray]:
        videos, frames = self._data.sample(rng, count, balance=balance)
        mirror = (rng.random(count) < 0.5) & self._flippable[self._data.labels_at(videos, frames)]
        return videos + mirror * self._videos, frames

    def labels_at(self, videos: np.ndarray, frames: np.ndarray) -> np.ndarray:
        return self._data.labels_at(np.asarray(videos) % self._videos, frames)

    def clips(self, videos: np.ndarray, frames: np.ndarray) -> np.ndarray:
        videos = np.asarray(videos)
        clips = self._data.clips(videos % self._videos, frames)
        mirror = videos >= self._videos
        clips[mirror] = clips[mirror][:, :, :, ::-1]
        return clips


# --------------------------------------------------------------------------- the run plan


@dataclass(frozen=True)
class RunPlan:
    """Everything a run decides before training; ``run.json`` in the run folder, so a resume repeats it."""

    model: str
    labels: tuple[str, ...]
    init: str | None
    """The checkpoint the weights came from; None: a freshly initialised model."""
    init_labels: tuple[str, ...]
    kept_rows: tuple[str, ...]
    """Labels whose head rows came from ``init``."""
    sampling: dict[str, Any]
    """``size``, ``clip_len``, ``frame_step``, ``mean``, ``std`` (the initial checkpoint's)."""
    config: "TrainingConfig"
    splits: dict[str, str]
    fingerprint: str
    no_flip: tuple[str, ...]
    source: dict[str, Any]
    """``kind``, ``path`` and the options the source was read with."""

    def to_json(self) -> str:
        data = asdict(self)
        data["config"] = asdict(self.config)
        data["format"] = _RUN_FORMAT
        return json.dumps(data, indent=1)

    @classmethod
    def load(cls, run_dir: Path) -> "RunPlan":
        """Read ``run.json``; ActdeskError naming the folder when it is not a run folder."""
        from actdesk.ml.training import Augmentation, TrainingConfig

        path = run_dir / RUN_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.pop("format") > _RUN_FORMAT:
                raise ActdeskError(f"{path}: written by a newer actdesk; update actdesk to resume it")
            config = data.pop("config")
            config["augmentation"] = Augmentation(**{**config["augmentation"],
                                                     "zoom": tuple(config["augmentation"]["zoom"])})
            return cls(config=TrainingConfig(**config), **{
                k: tuple(v) if k in ("labels", "init_labels", "kept_rows", "no_flip") else v
                for k, v in data.items()})
        except FileNotFoundError:
            raise ActdeskError(f"{run_dir}: not a fine-tuning run folder (no {RUN_FILE})") from None
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ActdeskError(f"{path}: unreadable run settings ({e})") from None


def finetune_config(spec: "ModelSpec", *, from_checkpoint: bool, **overrides: Any) -> "TrainingConfig":
    """The training settings of a fine-tuning run: :data:`FINETUNE_DEFAULTS` over the model's
    own, the learning rate lowered by :data:`FINETUNE_LR_FACTOR` when starting from trained
    weights, then ``overrides`` (None values ignored)."""
    from actdesk.ml.training import TrainingConfig

    base = TrainingConfig.for_spec(spec, **FINETUNE_DEFAULTS)
    if from_checkpoint:
        base = replace(base, lr=base.lr * FINETUNE_LR_FACTOR)
    config = replace(base, **{k: v for k, v in overrides.items() if v is not None})
    config.validate()
    return config


def _resolve_init(model: str | None, init: str | os.PathLike | None, from_scratch: bool,
                  manager: "PluginManager") -> tuple[str, Path | None]:
    """The architecture and the checkpoint to start from (None: a fresh model)."""
    from actdesk.ml.checkpoints import find_checkpoint, read_meta

    if from_scratch:
        if model is None:
            raise ActdeskError("training from scratch needs a model name (--model)")
        if init is not None:
            raise ActdeskError("choose either a checkpoint to start from or training from scratch, not both")
        return manager.spec(model).name, None
    if init is not None:
        path = Path(init)
        if model is None:
            model = read_meta(path).architecture
        return manager.spec(model).name, path
    try:
        path = find_checkpoint(model)
    except CheckpointError as e:
        if model is None:
            raise
        raise ActdeskError(f"no checkpoint of model {model!r} to start from ({e.problem}); name one with --init, "
                           "or train from scratch with --scratch") from None
    return read_meta(path).architecture, path


def plan_run(
    source: TrainingSource,
    *,
    model: str | None,
    init: str | os.PathLike | None,
    from_scratch: bool,
    config: "TrainingConfig | None",
    overrides: dict[str, Any],
    val_fraction: float,
    no_flip: Sequence[str],
    manager: "PluginManager",
) -> tuple[RunPlan, "torch.nn.Module"]:
    """Decide a new run (architecture, starting weights, labels, settings, splits) and build its model.

    The model is built for the run's labels (seeded) and holds the initial
    checkpoint's weights, its head replaced where the labels changed.
    """
    import torch

    from actdesk.ml.checkpoints import CheckpointMeta, load_model

    name, init_path = _resolve_init(model, init, from_scratch, manager)
    spec = manager.spec(name)
    if init_path is not None:
        loaded = load_model(init_path, manager=manager, device="cpu", architecture=name)
        meta, base_labels = loaded.meta, loaded.meta.labels
        inherited_no_flip = tuple(meta.provenance.get("no_flip", ()))
    else:
        meta, base_labels, inherited_no_flip = CheckpointMeta.for_spec(spec, source.labels), (), ()
    labels = finetune_labels(base_labels, source.labels)
    unknown = [label for label in no_flip if label not in labels]
    if unknown:
        raise LabelError(f"cannot keep {', '.join(map(repr, unknown))} from flipping: not a label of this run "
                         f"({', '.join(labels)})")
    if config is None:
        config = finetune_config(spec, from_checkpoint=init_path is not None, **overrides)
    else:
        config = replace(config, **{k: v for k, v in overrides.items() if v is not None})
        config.validate()
    torch.manual_seed(config.seed)
    net = manager.build_model(name, len(labels))
    kept = transfer_weights(net, spec, loaded.model.state_dict(), base_labels, labels) if init_path else []
    splits = training_splits(source, val_fraction=val_fraction, seed=config.seed)
    plan = RunPlan(
        model=name, labels=labels, init=str(init_path) if init_path is not None else None,
        init_labels=tuple(base_labels), kept_rows=tuple(kept),
        sampling={"size": list(meta.size), "clip_len": meta.clip_len, "frame_step": meta.frame_step,
                  "mean": list(meta.mean), "std": list(meta.std), "standardise_clips": meta.standardise_clips},
        config=config, splits=splits, fingerprint=data_fingerprint(labelled_videos(source, labels), source, splits),
        no_flip=tuple(dict.fromkeys([*inherited_no_flip, *no_flip])),
        source={"kind": source.kind, "path": str(source.path), **source.options},
    )
    return plan, net


# --------------------------------------------------------------------------- run folder


def default_run_dir(out: str | os.PathLike) -> Path:
    """The run folder of a checkpoint: ``NAME.run`` beside ``NAME.safetensors``."""
    return Path(out).with_suffix(".run")


def save_training_state(path: str | os.PathLike, state: "TrainingState") -> None:
    """Write a TrainingState as one safetensors file (tensors + JSON in its header), atomically."""
    from safetensors.torch import save_file

    tensors: dict[str, Any] = {}
    data = {
        "epoch": state.epoch, "best_epoch": state.best_epoch,
        "best_score": list(state.best_score) if state.best_score is not None else None,
        "stale_epochs": state.stale_epochs, "finished": state.finished,
        "history": [report.to_dict() for report in state.history],
        "weights": _pack(state.weights, tensors, "weights"),
        "best_weights": _pack(state.best_weights, tensors, "best_weights"),
        "optimizer": _pack(state.optimizer, tensors, "optimizer"),
        "scheduler": _pack(state.scheduler, tensors, "scheduler"),
    }
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        save_file({k: t.detach().to("cpu").contiguous().clone() for k, t in tensors.items()}, str(tmp),
                  metadata={_STATE_KEY: json.dumps(data)})
        os.replace(tmp, path)
    except OSError as e:
        raise ActdeskError(f"{path}: cannot write the training state: {e.strerror or e}") from None
    finally:
        tmp.unlink(missing_ok=True)


def load_training_state(path: str | os.PathLike) -> "TrainingState":
    """Read a file :func:`save_training_state` wrote."""
    from safetensors import SafetensorError, safe_open

    from actdesk.ml.metrics import ClassScores
    from actdesk.ml.training import EpochReport, TrainingState

    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            data = json.loads((f.metadata() or {})[_STATE_KEY])
            tensors = {key: f.get_tensor(key) for key in f.keys()}
    except (OSError, SafetensorError, KeyError, ValueError) as e:
        raise ActdeskError(f"{path}: unreadable training state ({e})") from None
    history = [EpochReport(**{**r, "confusion": np.asarray(r["confusion"], dtype=np.int64),
                              "per_class": [ClassScores(**c) for c in r["per_class"]]}) for r in data["history"]]
    return TrainingState(
        epoch=data["epoch"], weights=_unpack(data["weights"], tensors),
        optimizer=_unpack(data["optimizer"], tensors), scheduler=_unpack(data["scheduler"], tensors),
        best_epoch=data["best_epoch"],
        best_score=tuple(data["best_score"]) if data["best_score"] is not None else None,
        best_weights=_unpack(data["best_weights"], tensors), stale_epochs=data["stale_epochs"],
        history=history, finished=data["finished"],
    )


def _pack(value: Any, tensors: dict[str, Any], key: str) -> Any:
    """JSON-ready form of nested state dicts; tensors move to ``tensors`` under ``key`` paths."""
    import torch

    if isinstance(value, torch.Tensor):
        tensors[key] = value
        return {"$tensor": key}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _pack(v, tensors, f"{key}.{k}") for k, v in value.items()}
        return {"$items": [[k, _pack(v, tensors, f"{key}.{k}")] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"$tuple": [_pack(v, tensors, f"{key}.{i}") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_pack(v, tensors, f"{key}.{i}") for i, v in enumerate(value)]
    return value


def _unpack(value: Any, tensors: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        if "$tensor" in value:
            return tensors[value["$tensor"]]
        if "$items" in value:
            return {k: _unpack(v, tensors) for k, v in value["$items"]}
        if "$tuple" in value:
            return tuple(_unpack(v, tensors) for v in value["$tuple"])
        return {k: _unpack(v, tensors) for k, v in value.items()}
    if isinstance(value, list):
        return [_unpack(v, tensors) for v in value]
    return value


def register_checkpoint(path: str | os.PathLike) -> Path:
    """Make a checkpoint appear in the model panel: a copy in the per-user models folder
    (replacing one of the same name), unless it lies there already. Returns the registered file."""
    from actdesk.paths import user_models_dir

    path = Path(path)
    folder = user_models_dir()
    if path.resolve().parent == folder.resolve():
        return path
    target = folder / path.name
    tmp = target.with_name(target.name + ".tmp")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, tmp)
        os.replace(tmp, target)
    except OSError as e:
        raise CheckpointError(target, f"cannot register the checkpoint in the models folder: {e.strerror or e}") \
            from None
    finally:
        tmp.unlink(missing_ok=True)
    return target


# --------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class RunPrepared:
    """What a run trains on: :func:`finetune` yields it once, after decoding, before the first epoch."""

    labels: tuple[str, ...]
    new_labels: tuple[str, ...]
    """Labels the initial checkpoint lacked (their head rows start fresh)."""
    splits: dict[str, str]
    """Video name -> :data:`TRAIN`, :data:`VAL` or :data:`LEFT_OUT`."""
    class_frames: dict[str, int]
    """Labelled training frames per class."""
    device: str
    run_dir: Path
    first_epoch: int
    """1 for a new run; n + 1 for a run resumed after epoch n."""


@dataclass(frozen=True)
class FinetuneResult:
    """What a completed run wrote."""

    checkpoint: Path
    registered: Path | None
    """The copy the model panel finds (None when not registered)."""
    report: "TrainingReportFiles"
    labels: tuple[str, ...]
    new_labels: tuple[str, ...]
    best: "EpochReport"
    history: list["EpochReport"]
    provenance: dict[str, Any]
    metrics: dict[str, Any]


def finetune(
    source: TrainingSource,
    out: str | os.PathLike,
    *,
    model: str | None = None,
    init: str | os.PathLike | None = None,
    from_scratch: bool = False,
    config: "TrainingConfig | None" = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    clips_per_epoch: int | None = None,
    seed: int | None = None,
    patience: int | None = None,
    val_fraction: float = DEFAULT_VAL_FRACTION,
    no_flip: Sequence[str] = (),
    device: str = "auto",
    run_dir: str | os.PathLike | None = None,
    resume: bool = False,
    register: bool = True,
    half: bool = False,
    manager: "PluginManager | None" = None,
    progress: ProgressFn = no_progress,
    should_stop: StopFn = never_stop,
) -> Generator["RunPrepared | EpochReport", None, FinetuneResult | None]:
    """Fine-tune a model on ``source``: yield a :class:`RunPrepared`, then an EpochReport per epoch;
    return a :class:`FinetuneResult`.

    :param out: the checkpoint to write (``.safetensors``); the training report
        is written beside it (``NAME.report.md``, ``NAME.curves.png``,
        ``NAME.confusion.png``).
    :param model: architecture name; default: the ``init`` checkpoint's.
    :param init: checkpoint to start from; default: the bundled checkpoint
        (no ``model``) or the bundled/newest checkpoint of ``model``.
    :param from_scratch: start from a freshly initialised ``model`` instead.
    :param config: all training settings (default :func:`finetune_config`);
        ``epochs`` ... ``patience`` override single ones.
    :param val_fraction: share of training videos held out for validation
        when the source has no ``val`` split (0: no validation).
    :param no_flip: labels a left-right mirror would change; their clips are
        never flipped (also those the initial checkpoint recorded).
    :param run_dir: the run folder (default ``NAME.run`` beside ``out``);
        holds ``run.json``, the training state and ``last.safetensors``.
    :param resume: continue the run in ``run_dir`` from its last completed
        epoch with its saved settings (the data must be unchanged).
    :param register: copy the checkpoint into the per-user models folder.
    :param half: store the weights in float16 (half the file; the loader casts back).
    :returns: None when stopped (the run folder resumes it), else the result.
    :raises ActdeskError: bad input, naming what and where.
    """
    from actdesk.ml.checkpoints import CheckpointMeta, save_checkpoint
    from actdesk.ml.device import autocast_dtype, select_device
    from actdesk.ml.report import write_text_atomically, write_training_report
    from actdesk.ml.training import TrainingState, train_model

    started = time.perf_counter()
    out = Path(out)
    _check_output(out)
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(out)
    if manager is None:
        from actdesk.plugins import get_plugin_manager

        manager = get_plugin_manager()
    overrides = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "clips_per_epoch": clips_per_epoch,
                 "seed": seed, "patience": patience}
    torch_device = select_device(device)
    if resume:
        plan = RunPlan.load(run_dir)
        _refuse_other_settings(plan, run_dir, model, init, config, overrides)
        state = load_training_state(run_dir / STATE_FILE) if (run_dir / STATE_FILE).is_file() else TrainingState()
        fingerprint = data_fingerprint(labelled_videos(source, plan.labels), source, plan.splits) \
            if set(plan.splits) == {v.name for v in source.videos} else None
        if fingerprint != plan.fingerprint:
            raise ActdeskError(f"{run_dir}: the training data differs from the data this run started with "
                               f"({source.path}); start a new run")
        net = manager.build_model(plan.model, len(plan.labels))  # train_model loads the saved weights
    else:
        _refuse_unfinished_run(run_dir)
        plan, net = plan_run(source, model=model, init=init, from_scratch=from_scratch, config=config,
                             overrides=overrides, val_fraction=val_fraction, no_flip=no_flip, manager=manager)
        state = TrainingState()
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ActdeskError(f"{run_dir}: cannot create the run folder: {e.strerror or e}") from None
        (run_dir / STATE_FILE).unlink(missing_ok=True)
        write_text_atomically(run_dir / RUN_FILE, plan.to_json())
    if state.finished:
        raise ActdeskError(f"{run_dir}: this run has already finished")
    spec = manager.spec(plan.model)
    # The metadata every checkpoint of this run gets: the initial checkpoint's sampling and normalisation.
    base_meta = replace(CheckpointMeta.for_spec(spec, plan.labels), size=tuple(plan.sampling["size"]),
                        clip_len=plan.sampling["clip_len"], frame_step=plan.sampling["frame_step"],
                        mean=tuple(plan.sampling["mean"]), std=tuple(plan.sampling["std"]),
                        standardise_clips=bool(plan.sampling.get("standardise_clips", False)))
    try:
        data = decode_training_data(source, plan.labels, base_meta, splits=plan.splits, progress=progress,
                                    should_stop=should_stop)
    except Cancelled:
        return None

    new_labels = tuple(label for label in plan.labels if label not in plan.init_labels)
    yield RunPrepared(plan.labels, new_labels, dict(plan.splits),
                      dict(zip(plan.labels, data.train.class_counts(len(plan.labels)).tolist())), str(torch_device),
                      run_dir, state.epoch + 1)
    config, train = plan.config, data.train
    if plan.no_flip and config.augmentation.flip:
        train = MirrorWhereAllowed(data.train, np.array([label not in plan.no_flip for label in plan.labels]))
        config = replace(config, augmentation=replace(config.augmentation, flip=False))
    epochs_run = train_model(net, train, data.val, labels=plan.labels, mean=base_meta.mean, std=base_meta.std,
                             standardise=base_meta.standardise_clips, config=config, state=state,
                             device=torch_device, progress=progress, should_stop=should_stop)
    with mixed_precision(net, torch_device.type, autocast_dtype(torch_device, spec)), contextlib.closing(epochs_run):
        for report in epochs_run:
            save_training_state(run_dir / STATE_FILE, state)
            save_checkpoint(run_dir / LAST_CHECKPOINT, state.weights,
                            replace(base_meta, provenance={"run": str(run_dir), "epoch": report.epoch}))
            yield report
    if not state.finished:
        return None

    best = next(r for r in state.history if r.epoch == state.best_epoch)
    provenance = _provenance(source, plan, data, state, torch_device, time.perf_counter() - started, resume)
    metrics = _metrics(best, state.history)
    meta = replace(base_meta, provenance=provenance, metrics=metrics)
    weights = net.state_dict()
    if half:
        weights = {k: v.half() if v.is_floating_point() else v for k, v in weights.items()}
    save_checkpoint(out, weights, meta)
    report_files = write_training_report(out, state.history, labels=plan.labels, provenance=provenance,
                                         metrics=metrics, title=f"Fine-tuning {spec.name}: {out.name}")
    registered = register_checkpoint(out) if register else None
    return FinetuneResult(out, registered, report_files, plan.labels, new_labels, best, list(state.history),
                          provenance, metrics)


def _check_output(out: Path) -> None:
    if out.suffix != ".safetensors":
        raise CheckpointError(out, "a checkpoint's file name must end in .safetensors")
    if not out.parent.is_dir():
        raise CheckpointError(out, f"folder {out.parent} does not exist")


def _refuse_unfinished_run(run_dir: Path) -> None:
    state_file = run_dir / STATE_FILE
    if state_file.is_file() and not load_training_state(state_file).finished:
        raise ActdeskError(f"{run_dir} holds an unfinished run; continue it with --resume {run_dir}, "
                           "or delete the folder to start again")


def _refuse_other_settings(plan: RunPlan, run_dir: Path, model: str | None, init: str | os.PathLike | None,
                           config: "TrainingConfig | None", overrides: dict[str, Any]) -> None:
    """A resumed run keeps its settings; asking for different ones is an error, not silently ignored."""
    asked = {"model": (model, plan.model), "init": (str(init) if init is not None else None, plan.init)}
    asked.update({name: (value, getattr(plan.config, name)) for name, value in overrides.items()})
    if config is not None:
        asked["config"] = (config, plan.config)
    differing = [name for name, (wanted, saved) in asked.items() if wanted is not None and wanted != saved]
    if differing:
        raise ActdeskError(f"{run_dir}: a resumed run keeps its settings; {', '.join(differing)} differ from the "
                           f"run's (see {RUN_FILE})")


def _provenance(source: TrainingSource, plan: RunPlan, data: TrainingData, state: "TrainingState",
                device: "torch.device", wall_s: float, resumed: bool) -> dict[str, Any]:
    """Where the weights came from: data, starting point, settings (JSON-ready)."""
    by_split = {split: [name for name, s in plan.splits.items() if s == split] for split in (TRAIN, VAL, LEFT_OUT)}
    frames = {split: dict(zip(plan.labels, dataset.class_counts(len(plan.labels)).tolist()))
              for split, dataset in ((TRAIN, data.train), (VAL, data.val)) if dataset is not None}
    return {
        "data": source.kind, "source": str(source.path), **source.options,
        "data_hash": plan.fingerprint,
        "videos": {split.replace(" ", "_"): names for split, names in by_split.items()},
        "segments_per_class": {split: source.segment_counts(by_split[split]) for split in (TRAIN, VAL)},
        "frames_per_class": frames,
        "init": plan.init, "init_labels": list(plan.init_labels),
        "new_labels": [label for label in plan.labels if label not in plan.init_labels],
        "kept_head_rows": list(plan.kept_rows), "no_flip": list(plan.no_flip),
        "epochs": len(state.history), "best_epoch": state.best_epoch, "config": asdict(plan.config),
        "device": str(device), "wall_time_s": round(wall_s, 1), "resumed": resumed,
    }


def _metrics(best: "EpochReport", history: Sequence["EpochReport"]) -> dict[str, Any]:
    """The best epoch's validation figures and the per-epoch curves (JSON-ready, NaN as null)."""

    def number(value: float) -> float | None:
        return None if value != value else round(float(value), 5)

    return {
        "best_epoch": best.epoch,
        "val_clip_accuracy": number(best.val_acc), "val_loss": number(best.val_loss),
        "train_clip_accuracy": number(best.train_acc),
        "val_per_class_f1": {c.label: round(c.f1, 4) for c in best.per_class},
        "history": [{"epoch": r.epoch, "train_loss": number(r.train_loss), "train_acc": number(r.train_acc),
                     "val_loss": number(r.val_loss), "val_acc": number(r.val_acc)} for r in history],
    }


# --------------------------------------------------------------------------- the CLI


def add_finetune_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments ``actdesk train SOURCE ...`` adds to those it shares with ``--synthetic``
    (``--model``, ``--out``, ``--epochs``, ``--clips``, ``--batch``, ``--lr``, ``--seed``,
    ``--device``, ``--half``, ``--quiet``)."""
    parser.add_argument("source", nargs="?", metavar="DATASET_OR_PROJECT",
                        help="a project (.actdesk: its human track plus accepted model segments) or a data-set "
                             "folder (an export, or any format `actdesk import` reads) to fine-tune on")
    parser.add_argument("--init", metavar="CKPT",
                        help="checkpoint to start from (default: the bundled model, or the newest of --model)")
    parser.add_argument("--scratch", action="store_true", help="start from a freshly initialised --model")
    parser.add_argument("--resume", metavar="RUN",
                        help="continue the run in folder RUN (NAME.run beside the checkpoint) from its last "
                             "completed epoch, with its saved settings")
    parser.add_argument("--track", default=HUMAN_TRACK,
                        help="project track holding the corrected labels (default: human)")
    parser.add_argument("--no-accepted", action="store_true",
                        help="leave out the accepted segments of the project's other tracks")
    parser.add_argument("--video-dir", action="append", default=[], metavar="DIR",
                        help="folder holding the videos a segments-CSV data set names (repeatable)")
    parser.add_argument("--val-fraction", type=float, default=DEFAULT_VAL_FRACTION, metavar="F",
                        help="share of videos held out for validation when the data set has no val split "
                             f"(default {DEFAULT_VAL_FRACTION})")
    parser.add_argument("--no-flip", default="", metavar="LABEL,...",
                        help="labels whose clips must never be mirrored left-right (e.g. turn-left)")
    parser.add_argument("--patience", type=int, metavar="N",
                        help=f"stop after N epochs without validation gain (default {FINETUNE_DEFAULTS['patience']})")
    parser.add_argument("--no-register", action="store_true",
                        help="do not copy the checkpoint into the per-user models folder")


def run_finetune_command(args: argparse.Namespace) -> int:
    """``actdesk train SOURCE --out CKPT [...]``: fine-tune, print each epoch, write checkpoint and report."""
    from actdesk.cli.progress import progress_bar
    from actdesk.ml.report import describe_epoch, describe_prepared

    run_dir = Path(args.resume) if args.resume else None
    source_path = args.source
    options: dict[str, Any] = {"track": args.track, "video_dirs": args.video_dir}
    if source_path is None and run_dir is not None:
        saved = RunPlan.load(run_dir).source
        source_path = saved["path"]
        options = {"track": saved.get("track", HUMAN_TRACK), "video_dirs": saved.get("video_dirs", [])}
        args.no_accepted = not saved.get("accepted", True)
    if source_path is None:
        raise ActdeskError("name a project or data-set folder to train on (or --synthetic)")
    source = open_source(source_path, accepted=not args.no_accepted, **options)
    no_flip = [label.strip() for label in args.no_flip.split(",") if label.strip()]
    with progress_bar("fine-tuning", quiet=getattr(args, "quiet", False)) as progress:
        run = finetune(
            source, args.out, model=None if run_dir else args.model, init=args.init, from_scratch=args.scratch,
            epochs=args.epochs, batch_size=args.batch, lr=args.lr, clips_per_epoch=getattr(args, "clips", None),
            seed=args.seed, patience=args.patience, val_fraction=args.val_fraction, no_flip=no_flip,
            device=args.device, run_dir=run_dir, resume=run_dir is not None, register=not args.no_register,
            half=getattr(args, "half", False), progress=progress)
        try:
            while True:
                item = next(run)
                print(describe_prepared(item) if isinstance(item, RunPrepared) else describe_epoch(item), flush=True)
        except StopIteration as stop:
            result: FinetuneResult | None = stop.value
    if result is None:
        print(f"stopped; continue with --resume {run_dir or default_run_dir(args.out)}")
        return 1
    best = result.best
    accuracy = "no validation videos" if best.val_acc != best.val_acc else \
        f"validation clip accuracy {best.val_acc * 100:.2f} %"
    print(f"wrote {result.checkpoint}: labels {', '.join(result.labels)}"
          + (f" (new: {', '.join(result.new_labels)})" if result.new_labels else "")
          + f"; best epoch {best.epoch}, {accuracy}; report {result.report.markdown}")
    if result.registered is not None and result.registered != result.checkpoint:
        print(f"registered as {result.registered}")
    return 0
