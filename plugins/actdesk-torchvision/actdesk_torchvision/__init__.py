"""actdesk plugin: the torchvision video classification zoo.

Models ``tv-r2plus1d-18``, ``tv-mc3-18``, ``tv-s3d``, ``tv-mvit-v2-s`` and
``tv-swin3d-t``, built from ``torchvision.models.video``. Weights come only
from local files (``actdesk_import_weights``); nothing is downloaded. Each
spec keeps torchvision's own input (crop size and normalisation from
``*_Weights.KINETICS400_V1.transforms()``, clip length from the evaluation
settings torchvision documents, frame step from the documented frame rate at a
~30 fps source): these models are for users with real weights and a GPU.

Registration imports no torch; the build and import hooks do.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from actdesk.plugins import hookimpl
from actdesk.plugins.spec import ModelSpec

if TYPE_CHECKING:
    from torch import nn

    from actdesk.plugins.registry import ModelRegistry

__version__ = "1.0.0"

__all__ = ["SPECS"]

_KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
_KINETICS_STD = (0.22803, 0.22145, 0.216989)
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
# Fine-tuning Kinetics weights on a GPU; the trainer may override any of these.
_FINE_TUNE = {"lr": 1e-4, "batch": 8, "epochs": 10, "weight_decay": 1e-4}
_SEED = "torchvision.models.video (https://pytorch.org/vision/stable/models.html#video-classification)"

SPECS: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="tv-r2plus1d-18",
        title="R(2+1)D-18 (torchvision)",
        clip_len=16, size=(112, 112), frame_step=2,
        mean=_KINETICS_MEAN, std=_KINETICS_STD,
        head="fc",
        seed=_SEED,
        paper="Tran et al., A Closer Look at Spatiotemporal Convolutions for Action Recognition, "
              "CVPR 2018 (arXiv:1711.11248)",
        description="18-layer ResNet with 3D convolutions factorised into 2D spatial + 1D temporal; "
                    "Kinetics-400 weights from a local torchvision file.",
        train_defaults=_FINE_TUNE,
    ),
    ModelSpec(
        name="tv-mc3-18",
        title="MC3-18 (torchvision)",
        clip_len=16, size=(112, 112), frame_step=2,
        mean=_KINETICS_MEAN, std=_KINETICS_STD,
        head="fc",
        seed=_SEED,
        paper="Tran et al., A Closer Look at Spatiotemporal Convolutions for Action Recognition, "
              "CVPR 2018 (arXiv:1711.11248)",
        description="18-layer ResNet with mixed convolutions (3D in the first block, 2D after); "
                    "Kinetics-400 weights from a local torchvision file.",
        train_defaults=_FINE_TUNE,
    ),
    ModelSpec(
        name="tv-s3d",
        title="S3D (torchvision)",
        # torchvision evaluates S3D on 128-frame clips (8.5 s at 15 fps); a
        # centre-frame labeller with that window would smear every boundary by
        # seconds, so we take 32 frames (the minimum is 13).
        clip_len=32, size=(224, 224), frame_step=2,
        mean=_KINETICS_MEAN, std=_KINETICS_STD,
        head="classifier.1",
        seed=_SEED,
        paper="Xie et al., Rethinking Spatiotemporal Feature Learning: Speed-Accuracy Trade-offs "
              "in Video Classification, ECCV 2018 (arXiv:1712.04851)",
        description="Separable 3D Inception network; Kinetics-400 weights from a local torchvision file.",
        train_defaults=_FINE_TUNE,
    ),
    ModelSpec(
        name="tv-mvit-v2-s",
        title="MViT v2 S (torchvision)",
        # Relative position tables are sized for exactly 16x224x224; frames at
        # 7.5 fps (every 4th frame of a 30 fps video).
        clip_len=16, size=(224, 224), frame_step=4,
        mean=(0.45, 0.45, 0.45), std=(0.225, 0.225, 0.225),
        head="head.1",
        seed=_SEED,
        paper="Li et al., MViTv2: Improved Multiscale Vision Transformers for Classification "
              "and Detection, CVPR 2022 (arXiv:2112.01526)",
        description="Multiscale vision transformer (small); needs exactly 16x224x224 clips; "
                    "Kinetics-400 weights from a local torchvision file.",
        train_defaults=_FINE_TUNE,
    ),
    ModelSpec(
        name="tv-swin3d-t",
        title="Video Swin-T (torchvision)",
        clip_len=32, size=(224, 224), frame_step=2,
        mean=_IMAGENET_MEAN, std=_IMAGENET_STD,
        head="head",
        seed=_SEED,
        paper="Liu et al., Video Swin Transformer, CVPR 2022 (arXiv:2106.13230)",
        description="Shifted-window video transformer (tiny); Kinetics-400 weights from a local "
                    "torchvision file.",
        train_defaults=_FINE_TUNE,
    ),
)
_NAMES = frozenset(spec.name for spec in SPECS)


@hookimpl
def actdesk_register_models(registry: ModelRegistry) -> None:
    for spec in SPECS:
        registry.add(spec)


@hookimpl
def actdesk_build_model(spec: ModelSpec, num_classes: int) -> nn.Module | None:
    if spec.name not in _NAMES:
        return None
    from actdesk_torchvision.zoo import build

    return build(spec.name, num_classes=num_classes)


@hookimpl
def actdesk_import_weights(spec: ModelSpec, path: Path) -> dict[str, Any] | None:
    if spec.name not in _NAMES:
        return None
    from actdesk_torchvision.zoo import import_weights

    return import_weights(spec, path)
