"""The torchvision video models: how each is built and which weights it accepts.

Imported only when a model is built or weights are imported (it imports torch
and torchvision). The models' input settings live in the specs
(``actdesk_torchvision.SPECS``); a test checks them against torchvision's
metadata.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torchvision.models import video

from actdesk.plugins.spec import ModelSpec
from actdesk_torchvision import s3d
from actdesk_torchvision.weights import import_torchvision_weights

__all__ = ["ZooModel", "ZOO", "build", "import_weights"]


@dataclass(frozen=True)
class ZooModel:
    """One torchvision video architecture as an actdesk model."""

    torchvision_builder: Callable[..., nn.Module]
    """torchvision's builder; the architecture a weight file must fit."""
    weights: Any
    """The torchvision weights entry (hash prefix, categories, transforms)."""
    actdesk_builder: Callable[..., nn.Module] | None = None
    """Builder of the actdesk model when it differs from torchvision's."""
    convert: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]] | None = None
    """torchvision state dict → actdesk model state dict, when they differ."""


ZOO: dict[str, ZooModel] = {
    "tv-r2plus1d-18": ZooModel(video.r2plus1d_18, video.R2Plus1D_18_Weights.KINETICS400_V1),
    "tv-mc3-18": ZooModel(video.mc3_18, video.MC3_18_Weights.KINETICS400_V1),
    "tv-s3d": ZooModel(video.s3d, video.S3D_Weights.KINETICS400_V1,
                       actdesk_builder=s3d.s3d, convert=s3d.from_torchvision_state_dict),
    "tv-mvit-v2-s": ZooModel(video.mvit_v2_s, video.MViT_V2_S_Weights.KINETICS400_V1),
    "tv-swin3d-t": ZooModel(video.swin3d_t, video.Swin3D_T_Weights.KINETICS400_V1),
}


def build(name: str, *, num_classes: int) -> nn.Module:
    """A randomly initialised model ``name`` (a key of :data:`ZOO`) with ``num_classes`` outputs."""
    entry = ZOO[name]
    builder = entry.actdesk_builder or entry.torchvision_builder
    return builder(num_classes=num_classes)


def import_weights(spec: ModelSpec, path: Path) -> dict[str, Any]:
    """Load a torchvision Kinetics-400 ``.pth`` for ``spec`` (see :func:`import_torchvision_weights`)."""
    entry = ZOO[spec.name]
    return import_torchvision_weights(
        spec, path,
        weights=entry.weights,
        build_reference=lambda n: entry.torchvision_builder(num_classes=n),
        clip_len=spec.clip_len,
        frame_step=spec.frame_step,
        convert=entry.convert,
    )
