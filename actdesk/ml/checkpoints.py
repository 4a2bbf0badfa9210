"""actdesk checkpoints: safetensors weights with JSON metadata in the file header.

The metadata (:class:`CheckpointMeta`) sits in the safetensors header's
``__metadata__`` under the key ``"actdesk"``, so one file carries the weights
and everything needed to use them (architecture, labels, sampling,
normalisation, provenance). Nothing here unpickles a file: weight files that
are not actdesk checkpoints (a torchvision ``.pth``) are handed to the
architecture's plugin (``actdesk_import_weights``), which must load them with
``weights_only=True``.
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actdesk.core.labels import validate_label_name
from actdesk.errors import CheckpointError, LabelError, PluginError

if TYPE_CHECKING:
    import torch

    from actdesk.plugins.manager import PluginManager
    from actdesk.plugins.spec import ModelSpec

META_KEY = "actdesk"
"""Key of our JSON in the safetensors header's ``__metadata__``."""
META_FORMAT = 1
"""Version of the metadata layout; a checkpoint with a higher one is refused."""

_MAX_HEADER_BYTES = 100 * 1024 * 1024  # safetensors' own limit
_MAX_LISTED = 5  # mismatching keys named in an error message


@dataclass(frozen=True)
class CheckpointMeta:
    """What a checkpoint's weights are and how to feed them.

    ``labels`` are the class names in output order; ``size`` is (height,
    width); ``mean``/``std`` normalise RGB values in [0, 1]; ``provenance``
    says how the weights were made (data, seeds, epochs, ...); ``metrics``
    how good they are (evaluation results).
    """

    architecture: str
    labels: tuple[str, ...]
    clip_len: int
    size: tuple[int, int]
    frame_step: int = 1
    mean: tuple[float, float, float] = (0.45, 0.45, 0.45)
    std: tuple[float, float, float] = (0.225, 0.225, 0.225)
    standardise_clips: bool = False
    """Standardise each clip after ``mean``/``std`` (:attr:`ModelSpec.standardise_clips`)."""
    arch_version: str = "1"
    app_version: str = ""
    created: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Normalise containers so equality and JSON round trips are exact.
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "size", tuple(int(v) for v in self.size))
        object.__setattr__(self, "mean", tuple(float(v) for v in self.mean))
        object.__setattr__(self, "std", tuple(float(v) for v in self.std))
        self.validate()

    @classmethod
    def for_spec(
        cls,
        spec: "ModelSpec",
        labels: list[str] | tuple[str, ...],
        *,
        provenance: dict[str, Any] | None = None,
        metrics: dict[str, Any] | None = None,
    ) -> "CheckpointMeta":
        """Metadata for weights of ``spec``'s architecture, stamped with this app version and now."""
        from actdesk import __version__

        return cls(
            architecture=spec.name, labels=tuple(labels), clip_len=spec.clip_len, size=spec.size,
            frame_step=spec.frame_step, mean=spec.mean, std=spec.std,
            standardise_clips=spec.standardise_clips, arch_version=spec.version,
            app_version=__version__, created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            provenance=dict(provenance or {}), metrics=dict(metrics or {}),
        )

    def validate(self) -> None:
        """Raise ValueError saying which field is wrong."""
        if not isinstance(self.architecture, str) or not self.architecture:
            raise ValueError("architecture must be a non-empty name")
        if not self.labels:
            raise ValueError("labels is empty")
        for name in self.labels:
            try:
                validate_label_name(name)
            except LabelError as e:
                raise ValueError(f"labels: {e}") from None
        if len(set(self.labels)) != len(self.labels):
            raise ValueError("labels contains a name twice")
        for name in ("clip_len", "frame_step"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if len(self.size) != 2 or min(self.size) < 1:
            raise ValueError(f"size must be (height, width) in pixels, got {self.size!r}")
        if len(self.mean) != 3 or len(self.std) != 3:
            raise ValueError("mean and std must have 3 values (R, G, B)")
        if not all(math.isfinite(v) for v in self.mean) or not all(math.isfinite(v) and v > 0 for v in self.std):
            raise ValueError(f"mean must be finite and std positive, got {self.mean}, {self.std}")
        if not isinstance(self.standardise_clips, bool):
            raise ValueError(f"standardise_clips must be true or false, got {self.standardise_clips!r}")
        for name in ("provenance", "metrics"):
            value = getattr(self, name)
            if not isinstance(value, dict):
                raise ValueError(f"{name} must be a JSON object (dict), got {type(value).__name__}")
            try:
                json.dumps(value)
            except (TypeError, ValueError) as e:
                raise ValueError(f"{name} must hold JSON data only: {e}") from None

    def to_json(self) -> str:
        """JSON text of the metadata (with ``format``), as stored in the file header."""
        data = asdict(self)
        data["format"] = META_FORMAT
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "CheckpointMeta":
        """Parse and validate; ValueError says what is missing or wrong."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"metadata is not valid JSON ({e.msg} at character {e.pos})") from None
        if not isinstance(data, dict):
            raise ValueError("metadata is not a JSON object")
        version = data.pop("format", None)
        if not isinstance(version, int):
            raise ValueError("metadata lacks its format number")
        if version > META_FORMAT:
            raise ValueError(f"metadata format {version} is newer than this actdesk reads ({META_FORMAT}); update actdesk")
        required = ("architecture", "labels", "clip_len", "size")
        missing = [k for k in required if k not in data]
        if missing:
            raise ValueError(f"metadata lacks {', '.join(missing)}")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"metadata has unknown field(s) {', '.join(unknown)}")
        try:
            return cls(**data)
        except (TypeError, ValueError) as e:
            raise ValueError(f"metadata: {e}") from None


@dataclass
class LoadedModel:
    """A model ready for inference: in eval mode, on ``device``, with its metadata and spec."""

    model: "torch.nn.Module"
    meta: CheckpointMeta
    spec: "ModelSpec"
    device: "torch.device"
    path: Path | None = None
    manager: "PluginManager | None" = None
    """The manager that built the model; failures are recorded there."""

    @property
    def plugin(self) -> str:
        """Name of the plugin that provides the architecture (for error messages)."""
        return self.spec.plugin or self.spec.name

    def to(self, device: "torch.device") -> "LoadedModel":
        """Move the model (in place) to ``device``; returns self."""
        import torch

        if device != self.device:
            self.model.to(device)
            if self.spec.channels_last_3d and device.type == "cuda":
                self.model.to(memory_format=torch.channels_last_3d)
            self.device = device
        return self


def save_checkpoint(path: str | os.PathLike, state_dict: dict[str, "torch.Tensor"], meta: CheckpointMeta) -> None:
    """Write ``state_dict`` and ``meta`` as one safetensors file, atomically (temp file + rename)."""
    from safetensors.torch import save_file

    meta.validate()
    path = Path(path)
    # Copies on the CPU: safetensors refuses tensors that share storage (tied weights).
    tensors = {name: t.detach().to("cpu").contiguous().clone() for name, t in state_dict.items()}
    tmp = path.with_name(path.name + ".tmp")
    try:
        save_file(tensors, str(tmp), metadata={META_KEY: meta.to_json()})
        os.replace(tmp, path)
    except OSError as e:
        raise CheckpointError(path, f"cannot write checkpoint: {e.strerror or e}") from None
    finally:
        tmp.unlink(missing_ok=True)


def read_meta(path: str | os.PathLike) -> CheckpointMeta:
    """The metadata of a checkpoint without loading its weights (cheap: reads the header)."""
    path = Path(path)
    header = _read_header(path)
    return _meta_from_header(path, header)


def load_checkpoint(path: str | os.PathLike) -> tuple[dict[str, "torch.Tensor"], CheckpointMeta]:
    """Read a checkpoint: ``(state_dict on the CPU, meta)``.

    Raises :class:`CheckpointError` naming the file when it is missing, not a
    safetensors file, truncated or corrupt, or lacks valid actdesk metadata.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    header = _read_header(path)
    meta = _meta_from_header(path, header)
    try:
        state_dict = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(path, f"corrupt checkpoint: {e}") from None
    return state_dict, meta


def load_model(
    path: str | os.PathLike,
    *,
    manager: "PluginManager | None" = None,
    device: "str | torch.device" = "cpu",
    architecture: str | None = None,
) -> LoadedModel:
    """Build the checkpoint's architecture through its plugin and load the weights.

    ``architecture`` names the model the caller wants: a weight file that is
    not an actdesk checkpoint (a torchvision ``.pth``) is then converted by
    that model's plugin (``actdesk_import_weights``); for an actdesk
    checkpoint it must match the stored architecture. Raises
    :class:`CheckpointError` naming the file and the problem.
    """
    import torch

    from actdesk.ml.device import select_device

    path = Path(path)
    if manager is None:
        from actdesk.plugins import get_plugin_manager

        manager = get_plugin_manager()
    torch_device = select_device(device)
    foreign = _foreign_kind(path)
    if foreign is not None:
        if architecture is None:
            raise CheckpointError(path, f"not an actdesk checkpoint but {foreign}; name the model it is for "
                                        "(--model) to import it through that model's plugin")
        spec = _spec_for(path, manager, architecture)
        state_dict, meta = _import_foreign(path, manager, spec, foreign)
    else:
        state_dict, meta = load_checkpoint(path)
        if architecture is not None and architecture != meta.architecture:
            raise CheckpointError(path, f"checkpoint is for model {meta.architecture!r}, not {architecture!r}")
        spec = _spec_for(path, manager, meta.architecture)
    model = manager.build_model(spec.name, len(meta.labels))
    _load_weights(path, model, state_dict, meta, spec)
    model.eval()
    return LoadedModel(model, meta, spec, torch.device("cpu"), path, manager).to(torch_device)


def find_checkpoint(model: str | None = None) -> Path:
    """The checkpoint to use when the user names no file.

    No ``model``: the bundled checkpoint. A ``model`` name: the bundled
    checkpoint if it is of that architecture, else the newest checkpoint of it
    in the per-user models folder. Raises :class:`CheckpointError` when there is none.
    """
    from actdesk.paths import bundled_checkpoint, user_models_dir

    bundled = bundled_checkpoint()
    if model is None:
        if not bundled.is_file():
            raise CheckpointError(bundled, "the bundled checkpoint is missing (rebuild it with `make model`)")
        return bundled
    users = user_models_dir()
    candidates = [bundled] if bundled.is_file() else []
    if users.is_dir():
        candidates += sorted(users.glob("*.safetensors"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in candidates:
        try:
            if read_meta(path).architecture == model:
                return path
        except CheckpointError:
            continue  # a broken file in the folder is not this model's checkpoint
    raise CheckpointError(users, f"no checkpoint for model {model!r} here or bundled; name one with --checkpoint")


class _ForeignFile(CheckpointError):
    """The file is not safetensors at all; ``kind`` says what it looks like."""

    def __init__(self, path: Path, kind: str):
        self.kind = kind
        super().__init__(path, f"not an actdesk checkpoint but {kind}")


def _read_header(path: Path) -> dict[str, Any]:
    """Parse the safetensors header; check the data section is all there."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise CheckpointError(path, "file is empty" if not head else
                                      f"truncated: {len(head)} bytes, too short to be a checkpoint")
            kind = _sniff_bytes(head)
            if kind != "safetensors":
                raise _ForeignFile(path, kind)
            (header_len,) = struct.unpack("<Q", head)
            if header_len > min(_MAX_HEADER_BYTES, size - 8):
                raise CheckpointError(path, "not an actdesk checkpoint: not a safetensors file (or truncated in its header)")
            raw = f.read(header_len)
    except FileNotFoundError:
        raise CheckpointError(path, "checkpoint file not found") from None
    except IsADirectoryError:
        raise CheckpointError(path, "is a folder, not a checkpoint file") from None
    except PermissionError:
        raise CheckpointError(path, "permission denied") from None
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError(path, "not an actdesk checkpoint: not a safetensors file (unreadable header)") from None
    if not isinstance(header, dict):
        raise CheckpointError(path, "not an actdesk checkpoint: not a safetensors file (unreadable header)")
    data_len = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(v, int) for v in offsets)):
            raise CheckpointError(path, f"corrupt checkpoint: tensor {name!r} has no valid data offsets")
        data_len = max(data_len, offsets[1])
    available = size - 8 - header_len
    if available < data_len:
        raise CheckpointError(path, f"truncated: the weights need {data_len} bytes, the file holds {available}")
    return header


def _meta_from_header(path: Path, header: dict[str, Any]) -> CheckpointMeta:
    text = _actdesk_json(header)
    if text is None:
        raise CheckpointError(path, "not an actdesk checkpoint but a safetensors file without actdesk metadata; "
                                    "name the model it is for to import it through that model's plugin")
    try:
        return CheckpointMeta.from_json(text)
    except ValueError as e:
        raise CheckpointError(path, f"invalid actdesk metadata: {e}") from None


def _actdesk_json(header: dict[str, Any]) -> str | None:
    metadata = header.get("__metadata__")
    return metadata.get(META_KEY) if isinstance(metadata, dict) else None


def _foreign_kind(path: Path) -> str | None:
    """None for an actdesk checkpoint, else what the file looks like (for import and messages)."""
    try:
        header = _read_header(path)
    except _ForeignFile as e:
        return e.kind
    return None if _actdesk_json(header) is not None else "a safetensors file without actdesk metadata"


def _sniff_bytes(head: bytes) -> str:
    """``safetensors`` or what else the first 8 bytes of a file say it is."""
    if head.startswith(b"PK\x03\x04"):
        return "a PyTorch .pth/.pt zip archive"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a pickle (a legacy PyTorch .pth)"
    return "safetensors"


def _spec_for(path: Path, manager: "PluginManager", name: str) -> "ModelSpec":
    from actdesk.plugins import UnknownModelError

    try:
        return manager.spec(name)
    except UnknownModelError as e:
        raise CheckpointError(path, f"checkpoint is for architecture {name!r}, which no installed plugin "
                                    f"provides ({e.problem})") from None


def _import_foreign(path: Path, manager: "PluginManager", spec: "ModelSpec", kind: str) -> tuple[dict, CheckpointMeta]:
    """Convert a non-actdesk weight file through the model's plugin."""
    try:
        result = manager.import_weights(spec.name, path)
    except PluginError as e:
        raise CheckpointError(path, f"not an actdesk checkpoint but {kind}; importing it through plugin "
                                    f"{e.plugin!r} failed: {e.problem}") from None
    # The input the imported weights expect overrides the spec's (say torchvision's 16 frames at
    # 112x112 where the spec trains at 64x64); foreign weights never saw standardised clips.
    provenance = {"imported_from": path.name}
    if isinstance(result.get("source"), dict):
        provenance["source"] = result["source"]
    try:
        meta = CheckpointMeta.for_spec(spec, result["labels"], provenance=provenance)
        meta = replace(meta, standardise_clips=result.get("standardise_clips", False),
                       **{k: tuple(result[k]) if k in ("size", "mean", "std") else result[k]
                          for k in _IMPORTED_INPUT if k in result})
        meta.validate()
    except (TypeError, ValueError) as e:
        raise PluginError(spec.plugin or spec.name, f"import_weights returned unusable metadata for {path}: {e}") from None
    return result["state_dict"], meta


_IMPORTED_INPUT = ("clip_len", "frame_step", "size", "mean", "std")
"""Keys of an ``actdesk_import_weights`` result that say what input the weights expect."""


def _load_weights(path: Path, model: "torch.nn.Module", state_dict: dict, meta: CheckpointMeta, spec: "ModelSpec") -> None:
    """``load_state_dict(strict=True)`` with a message listing what does not fit."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    mismatched = [
        f"{k}: checkpoint {list(state_dict[k].shape)} vs model {list(expected[k].shape)}"
        for k in expected if k in state_dict and tuple(state_dict[k].shape) != tuple(expected[k].shape)
    ]
    problems = []
    for title, items in (("missing", missing), ("unexpected", unexpected), ("shape mismatch", mismatched)):
        if items:
            more = f" (+{len(items) - _MAX_LISTED} more)" if len(items) > _MAX_LISTED else ""
            problems.append(f"{title}: {', '.join(items[:_MAX_LISTED])}{more}")
    if problems:
        version = ""
        if meta.arch_version != spec.version:
            version = f" (checkpoint made for version {meta.arch_version}, installed plugin provides {spec.version})"
        raise CheckpointError(path, f"weights do not fit model {spec.name!r}{version}: {'; '.join(problems)}")
    model.load_state_dict(state_dict, strict=True)
