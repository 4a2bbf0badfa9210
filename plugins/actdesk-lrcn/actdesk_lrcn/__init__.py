"""actdesk plugin providing ``lrcn``: per-frame 2D CNN features into an LSTM (seed 003).

Registration is metadata only; torch is imported when a model is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from actdesk.plugins import ModelSpec, hookimpl

if TYPE_CHECKING:
    from torch import nn

    from actdesk.plugins.registry import ModelRegistry

__version__ = "1.0.0"

SPEC = ModelSpec(
    name="lrcn",
    title="LRCN (2D CNN per frame + LSTM)",
    clip_len=16,
    size=(64, 64),
    frame_step=2,
    standardise_clips=True,
    head="classifier",
    seed="shared/seeds/003 (Human-Action-Recognition-using-LRCN, UCF50)",
    paper="Donahue et al., Long-term Recurrent Convolutional Networks for Visual Recognition "
          "and Description, CVPR 2015 (arXiv:1411.4389)",
    description="2D CNN 16-32-64-128 on every frame (time-distributed) to 128 features, "
                "LSTM(128) over the 16 frames, dense output from the last step; end to end.",
    train_defaults={"lr": 3e-3, "batch": 32, "epochs": 8, "weight_decay": 0.01},
)


@hookimpl
def actdesk_register_models(registry: ModelRegistry) -> None:
    registry.add(SPEC)


@hookimpl
def actdesk_build_model(spec: ModelSpec, num_classes: int) -> nn.Module | None:
    if spec.name != SPEC.name:
        return None
    from actdesk_lrcn.lrcn import lrcn

    return lrcn(num_classes=num_classes)
