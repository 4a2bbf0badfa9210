"""actdesk plugin providing the ``c3d-attention`` model (seed 000).

Registration is metadata only; torch and the architecture module are imported
when a model is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from actdesk.plugins import ModelSpec, hookimpl

if TYPE_CHECKING:
    from torch import nn

    from actdesk.plugins.registry import ModelRegistry

__version__ = "1.0.0"

SPEC = ModelSpec(
    name="c3d-attention",
    title="3D CNN + attention gate",
    clip_len=16,
    size=(48, 48),
    frame_step=2,
    standardise_clips=True,
    head="head",
    version="1",
    seed="shared/seeds/000 (github.com/.../Action-Recgontion-: 3D-CNN + attention + DNN)",
    paper="C3D: Learning Spatiotemporal Features with 3D Convolutional Networks, arXiv:1412.0767",
    description=(
        "Clip standardisation, one 3D convolution (64 channels, kernel 3x5x5, spatial stride 2) "
        "+ ReLU, a sigmoid attention gate, 3D average pooling to 4x8x8, dense layers 128-128 "
        "with dropout 0.25."
    ),
    train_defaults={"lr": 2e-3, "batch": 32, "epochs": 16, "weight_decay": 0.05},
)


@hookimpl
def actdesk_register_models(registry: "ModelRegistry") -> None:
    registry.add(SPEC)


@hookimpl
def actdesk_build_model(spec: ModelSpec, num_classes: int) -> "nn.Module | None":
    if spec.name != SPEC.name:
        return None
    from actdesk_c3d_attention.c3d_attention import c3d_attention

    return c3d_attention(num_classes=num_classes)
