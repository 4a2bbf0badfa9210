"""actdesk plugin providing ``mnasnet-birnn``: MnasNet per frame, bidirectional GRU (seed 004).

Registration is metadata only; torch and torchvision are imported when a
model is built or weights are imported. The backbone starts from random
weights; ``actdesk_import_weights`` initialises it from torchvision's ImageNet
``mnasnet0_5`` file that the user downloaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from actdesk.plugins import ModelSpec, hookimpl

if TYPE_CHECKING:
    from torch import nn

    from actdesk.plugins.registry import ModelRegistry

__version__ = "1.0.0"

__all__ = ["SPEC", "import_backbone_weights"]

SPEC = ModelSpec(
    name="mnasnet-birnn",
    title="MnasNet + bidirectional GRU",
    # 8 frames every 4th span the same 1.2 s as 16 every 2nd at half the cost per clip; per epoch
    # the two learnt alike from scratch (issue 4 figures in docs/benchmarks.md).
    clip_len=8,
    size=(64, 64),
    frame_step=4,
    standardise_clips=True,
    # ImageNet's normalisation, which the MnasNet backbone weights expect.
    mean=(0.485, 0.456, 0.406),
    std=(0.229, 0.224, 0.225),
    head="classifier",
    seed="shared/seeds/004 (reshalfahsi/action-recognition: MnasNet + bidirectional RNN on HMDB51)",
    paper="Tan et al., MnasNet: Platform-Aware Neural Architecture Search for Mobile, CVPR 2019 "
          "(arXiv:1807.11626); Schuster & Paliwal, Bidirectional Recurrent Neural Networks, 1997",
    description="torchvision MnasNet 0.5 features on every frame, bidirectional GRU(128) over the "
                "8 frames, dense output from the centre step.",
    # From scratch MnasNet needs many steps, even with its residual blocks starting as the identity.
    train_defaults={"lr": 3e-3, "batch": 32, "epochs": 18, "weight_decay": 0.01},
)


@hookimpl
def actdesk_register_models(registry: ModelRegistry) -> None:
    registry.add(SPEC)


@hookimpl
def actdesk_build_model(spec: ModelSpec, num_classes: int) -> nn.Module | None:
    if spec.name != SPEC.name:
        return None
    from actdesk_mnasnet_birnn.mnasnet_birnn import mnasnet_birnn

    return mnasnet_birnn(num_classes=num_classes)


@hookimpl
def actdesk_import_weights(spec: ModelSpec, path: Path) -> dict[str, Any] | None:
    if spec.name != SPEC.name:
        return None
    return import_backbone_weights(path)


def import_backbone_weights(path: Path) -> dict[str, Any]:
    """Read torchvision's ImageNet ``mnasnet0_5`` ``.pth`` as weights for the backbone.

    The file is checked like every torchvision file (SHA-256 prefix in its
    name, ``weights_only`` load, every key and shape against torchvision's
    ``mnasnet0_5``). ImageNet's classes are not actions, so the result
    carries no labels: ``labels`` is empty and ``state_dict`` holds only the
    backbone's keys; load it with ``model.load_state_dict(state_dict,
    strict=False)`` into a model built for your own labels, then train.

    :raises CheckpointError: naming the file (unreadable, hash mismatch, another architecture).
    """
    import torch
    from torchvision.models import MNASNet0_5_Weights, mnasnet0_5

    from actdesk_mnasnet_birnn.mnasnet_birnn import backbone_state_from_torchvision
    from actdesk_torchvision.weights import (
        check_file_hash, check_state_dict_fits, read_state_dict, recorded_hash_prefix,
    )

    weights = MNASNet0_5_Weights.IMAGENET1K_V1
    path = Path(path)
    checked_prefix = check_file_hash(path, recorded_hash_prefix(weights))
    state = read_state_dict(path)
    with torch.device("meta"):
        reference = mnasnet0_5(num_classes=len(weights.meta["categories"])).state_dict()
    check_state_dict_fits(path, state, reference, f"torchvision mnasnet0_5 ({SPEC.name}'s backbone)")
    return {
        "state_dict": backbone_state_from_torchvision(state),
        "labels": [],
        "source": {"weights": f"torchvision MNASNet0_5_Weights.{weights.name} (backbone only)",
                   "sha256_prefix": checked_prefix},
    }
