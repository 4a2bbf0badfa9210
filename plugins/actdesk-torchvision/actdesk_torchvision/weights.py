"""Read torchvision-format weight files that a user downloaded themselves.

Nothing here downloads anything. A ``.pth`` file is loaded with
``torch.load(..., weights_only=True)`` (tensors and plain containers only, no
pickled code), checked against the SHA-256 prefix that torchvision writes into
its file names (``r3d_18-b3b3357e.pth``: the digest of the file starts with
``b3b3357e``), compared key by key with the architecture it is meant for, and
returned with the label list and input settings from torchvision's metadata.

The other actdesk plugins that accept torchvision files (``actdesk-r3d``,
``actdesk-mnasnet-birnn``) use these functions too.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actdesk.errors import CheckpointError

if TYPE_CHECKING:
    import torch
    from torch import nn
    from torchvision.models import WeightsEnum

    from actdesk.plugins.spec import ModelSpec

__all__ = [
    "hash_prefix_in_name",
    "file_sha256",
    "check_file_hash",
    "recorded_hash_prefix",
    "read_state_dict",
    "check_state_dict_fits",
    "transform_settings",
    "import_torchvision_weights",
]

# torch.hub's convention is "-<hex>." anywhere in the name; we ask for at least
# 8 hex digits just before the extension so that a name like "r3d-18.pth" is
# not taken for a hash.
_HASH_IN_NAME = re.compile(r"-([0-9a-f]{8,64})\.[A-Za-z0-9]+$")

# Wrappers other training scripts put around the state dict.
_WRAPPER_KEYS = ("state_dict", "model", "model_state")
# Key prefix of a model saved from nn.DataParallel / DistributedDataParallel.
_PARALLEL_PREFIX = "module."


def _one_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    return f"{type(e).__name__}: {lines[0]}" if lines else type(e).__name__


def hash_prefix_in_name(name: str) -> str | None:
    """The SHA-256 prefix a torchvision-style file name records (``r3d_18-b3b3357e.pth`` → ``b3b3357e``)."""
    match = _HASH_IN_NAME.search(name)
    return match.group(1) if match else None


def file_sha256(path: Path) -> str:
    """Hex SHA-256 digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_file_hash(path: Path, recorded_prefix: str | None = None) -> str | None:
    """Check a file's SHA-256 against the prefix its name carries; return the checked prefix.

    The prefix comes from the file name (torchvision names its files after the
    digest, so an unrenamed download is checked against torchvision's recorded
    value). A name without a prefix is not checked and None is returned.

    :param recorded_prefix: torchvision's prefix for this architecture, quoted
        in the error so the user can tell a corrupt download from another file.
    :raises CheckpointError: the digest does not start with the name's prefix.
    """
    expected = hash_prefix_in_name(Path(path).name)
    if expected is None:
        return None
    actual = file_sha256(path)
    if not actual.startswith(expected):
        known = (f"; torchvision's file has prefix {recorded_prefix}"
                 if recorded_prefix and recorded_prefix != expected else "")
        raise CheckpointError(path, f"SHA-256 mismatch: the file name says the digest starts with "
                                    f"{expected}, the file's digest is {actual}{known} "
                                    f"(incomplete download or a different file)")
    return expected


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Load a ``.pth`` state dict without unpickling code.

    Accepts a plain state dict, one wrapped under ``state_dict``/``model``/
    ``model_state``, and ``module.``-prefixed keys (saved from DataParallel).

    :raises CheckpointError: missing file, not a torch file, pickled objects
        that are not plain tensors, or content that is not a state dict.
    """
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, "no such file")
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        # weights_only refuses anything but tensors and plain containers. torch's
        # own message suggests weights_only=False, which we never do: name only
        # the object it refused, if that is why it stopped.
        refused = re.search(r"Unsupported global: GLOBAL (\S+)", str(e))
        if refused is None:
            raise CheckpointError(path, "not a readable torch weight file "
                                        "(neither a torch archive nor a pickle of tensors)") from None
        raise CheckpointError(path, f"not a plain state dict: it holds pickled Python objects "
                                    f"({refused.group(1)}), which are not loaded because unpickling "
                                    f"can run code; save model.state_dict() instead") from None
    except Exception as e:  # torch.load raises about anything (IndexError, KeyError, ...) on garbage
        raise CheckpointError(path, f"not a readable torch weight file ({_one_line(e)})") from None
    if isinstance(loaded, Mapping) and not any(isinstance(v, torch.Tensor) for v in loaded.values()):
        for key in _WRAPPER_KEYS:
            if isinstance(loaded.get(key), Mapping):
                loaded = loaded[key]
                break
    if not isinstance(loaded, Mapping) or not loaded:
        found = "an empty mapping" if isinstance(loaded, Mapping) else f"a {type(loaded).__name__}"
        raise CheckpointError(path, f"does not contain a state dict (found {found})")
    state = {}
    for key, value in loaded.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise CheckpointError(path, f"does not contain a state dict (entry {key!r} is a "
                                        f"{type(value).__name__}, not a tensor)")
        state[key.removeprefix(_PARALLEL_PREFIX)] = value
    return state


def check_state_dict_fits(path: Path, state_dict: Mapping[str, torch.Tensor],
                          reference: Mapping[str, torch.Tensor], architecture: str) -> None:
    """Raise unless ``state_dict`` has exactly the keys and shapes of ``reference``.

    :param architecture: named in the message (``torchvision r3d_18``).
    :raises CheckpointError: listing the first missing, unexpected and mis-shaped keys.
    """
    missing = [k for k in reference if k not in state_dict]
    unexpected = [k for k in state_dict if k not in reference]
    misshaped = [f"{k} {tuple(state_dict[k].shape)} (expected {tuple(reference[k].shape)})"
                 for k in reference if k in state_dict and state_dict[k].shape != reference[k].shape]
    if not (missing or unexpected or misshaped):
        return
    parts = []
    for what, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", misshaped)):
        if keys:
            more = f" and {len(keys) - 3} more" if len(keys) > 3 else ""
            parts.append(f"{what}: {', '.join(keys[:3])}{more}")
    raise CheckpointError(path, f"does not fit {architecture} (is it another architecture's file?): "
                                + "; ".join(parts))


def transform_settings(weights: WeightsEnum) -> dict[str, Any]:
    """The input a torchvision weights entry expects: ``size`` (h, w), ``mean``, ``std``.

    Read from ``weights.transforms()``, torchvision's own preprocessing preset.
    """
    preset = weights.transforms()
    crop = [int(v) for v in preset.crop_size]  # image presets give one side for a square crop
    return {"size": (crop[0], crop[-1]),
            "mean": tuple(float(v) for v in preset.mean),
            "std": tuple(float(v) for v in preset.std)}


def recorded_hash_prefix(weights: WeightsEnum) -> str | None:
    """The SHA-256 prefix torchvision records for a weights entry (in its download file name)."""
    return hash_prefix_in_name(weights.url.rsplit("/", 1)[-1])


def import_torchvision_weights(
    spec: ModelSpec,
    path: Path,
    *,
    weights: WeightsEnum,
    build_reference: Callable[[int], nn.Module],
    clip_len: int,
    frame_step: int,
    convert: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]] | None = None,
) -> dict[str, Any]:
    """Turn a torchvision classification ``.pth`` into an ``actdesk_import_weights`` result.

    :param spec: the actdesk model the file is loaded for.
    :param path: the file the user chose.
    :param weights: the torchvision weights entry the file should be
        (``R3D_18_Weights.KINETICS400_V1``): hash prefix, label list, transforms.
    :param build_reference: ``num_classes -> nn.Module`` building the
        torchvision architecture; called under ``torch.device("meta")`` so no
        memory is spent on it.
    :param clip_len: frames per clip the weights were evaluated with (torchvision's docs).
    :param frame_step: source-frame step that approximates the weights' frame rate.
    :param convert: maps the checked torchvision state dict to the actdesk
        model's keys and shapes (None: identical).
    :returns: ``state_dict`` (for ``actdesk_build_model(spec, len(labels))``),
        ``labels`` (torchvision's categories), the input the weights expect
        (``clip_len``, ``frame_step``, ``size``, ``mean``, ``std``) and
        ``source`` (weights name and the checked hash prefix, or None).
    :raises CheckpointError: naming the file: unreadable, hash mismatch,
        another architecture, or a class count that is not the categories'.
    """
    import torch

    path = Path(path)
    checked_prefix = check_file_hash(path, recorded_hash_prefix(weights))
    state = read_state_dict(path)
    labels = list(weights.meta["categories"])
    with torch.device("meta"):
        reference = build_reference(len(labels)).state_dict()
    check_state_dict_fits(path, state, reference, f"torchvision {type(weights).__name__} for {spec.name}")
    if convert is not None:
        state = convert(state)
    return {
        "state_dict": state,
        "labels": labels,
        "clip_len": clip_len,
        "frame_step": frame_step,
        **transform_settings(weights),
        "source": {"weights": f"torchvision {type(weights).__name__}.{weights.name}",
                   "sha256_prefix": checked_prefix},
    }
