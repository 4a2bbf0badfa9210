"""actdesk plugin providing ``r3d-18`` and ``r3d-34``: 3D ResNets after Hara et al. (seed 001).

Registration is metadata only; torch and torchvision are imported when a model
is built or weights are imported. ``r3d-18`` also loads torchvision's
Kinetics-400 ``r3d_18`` weights from a file the user downloaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from actdesk.errors import CheckpointError
from actdesk.plugins import ModelSpec, hookimpl

if TYPE_CHECKING:
    from torch import nn

    from actdesk.plugins.registry import ModelRegistry

__version__ = "1.0.0"

__all__ = ["SPECS", "KINETICS_CLIP_LEN", "KINETICS_FRAME_STEP"]

# torchvision's Kinetics normalisation, so a model trained here and one
# initialised from torchvision's weights see the same input.
_KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
_KINETICS_STD = (0.22803, 0.22145, 0.216989)
KINETICS_CLIP_LEN = 16
"""Frames per clip torchvision's r3d_18 weights were evaluated with."""
KINETICS_FRAME_STEP = 2
"""Those weights saw 15 fps: every 2nd frame of a ~30 fps video."""

_SEED = "shared/seeds/001 (3D ResNet-34 for Kinetics; github.com/kenshohara/3D-ResNets-PyTorch)"
_PAPER = ("Hara, Kataoka, Satoh: Can Spatiotemporal 3D CNNs Retrace the History of 2D CNNs "
          "and ImageNet?, CVPR 2018 (arXiv:1711.09577)")
# The default input is sized for training on synthetic video on a CPU (issue 4):
# 8 frames every 4th frame span the same 1.2 s as 16 every 2nd at a third of the cost.
# Clips standardised one by one: trained from scratch, the model learns the motion instead of each
# video's colours. Imported Kinetics weights keep torchvision's own input (actdesk_import_weights).
_INPUT = {"clip_len": 8, "frame_step": 4, "size": (64, 64), "mean": _KINETICS_MEAN, "std": _KINETICS_STD,
          "standardise_clips": True}

SPECS: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="r3d-18",
        title="3D ResNet-18",
        **_INPUT,
        head="fc",
        seed=_SEED,
        paper=_PAPER,
        description="ResNet-18 with 3D convolutions (basic blocks 2-2-2-2), torchvision r3d_18's "
                    "layout: loads its Kinetics-400 weights from a local file.",
        train_defaults={"lr": 2e-3, "batch": 16, "epochs": 6, "weight_decay": 0.05},
    ),
    ModelSpec(
        name="r3d-34",
        title="3D ResNet-34",
        **_INPUT,
        head="fc",
        seed=_SEED,
        paper=_PAPER,
        description="ResNet-34 with 3D convolutions (basic blocks 3-4-6-3), the seed's model.",
        train_defaults={"lr": 2e-3, "batch": 16, "epochs": 6, "weight_decay": 0.05},
    ),
)
_BUILDERS = {"r3d-18": "r3d_18", "r3d-34": "r3d_34"}


@hookimpl
def actdesk_register_models(registry: ModelRegistry) -> None:
    for spec in SPECS:
        registry.add(spec)


@hookimpl
def actdesk_build_model(spec: ModelSpec, num_classes: int) -> nn.Module | None:
    if spec.name not in _BUILDERS:
        return None
    from actdesk_r3d import r3d

    return getattr(r3d, _BUILDERS[spec.name])(num_classes=num_classes)


@hookimpl
def actdesk_import_weights(spec: ModelSpec, path: Path) -> dict[str, Any] | None:
    if spec.name not in _BUILDERS:
        return None
    if spec.name != "r3d-18":
        raise CheckpointError(path, f"{spec.name} has no torchvision weights to import "
                                    "(torchvision publishes 3D ResNet weights for 18 layers only: use r3d-18)")
    from torchvision.models.video import R3D_18_Weights, r3d_18

    from actdesk_torchvision.weights import import_torchvision_weights

    return import_torchvision_weights(
        spec, path,
        weights=R3D_18_Weights.KINETICS400_V1,
        build_reference=lambda n: r3d_18(num_classes=n),
        clip_len=KINETICS_CLIP_LEN,
        frame_step=KINETICS_FRAME_STEP,
    )
