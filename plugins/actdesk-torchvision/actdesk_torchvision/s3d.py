"""S3D (Xie et al., ECCV 2018) from torchvision, with an ``nn.Linear`` head.

torchvision's S3D classifies with a 1x1x1 convolution applied to the pooled
feature map and then averages its output over time and space. A 1x1x1
convolution is a linear map per position, so averaging first and applying the
same weights as an ``nn.Linear`` gives identical logits (in eval mode) while
giving actdesk the ``nn.Linear`` head it replaces when fine-tuning.
:func:`from_torchvision_state_dict` converts torchvision's weights.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models.video import s3d as torchvision_s3d

__all__ = ["S3D", "s3d", "from_torchvision_state_dict"]

_FEATURES = 1024
_CLASSIFIER_WEIGHT = "classifier.1.weight"


class S3D(nn.Module):
    """Maps clips ``[B, 3, T, 224, 224]`` (T ≥ 13) to class logits ``[B, num_classes]``."""

    def __init__(self, num_classes: int, *, dropout: float = 0.2):
        super().__init__()
        backbone = torchvision_s3d(num_classes=num_classes, dropout=dropout)
        self.features = backbone.features
        self.avgpool = backbone.avgpool
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(_FEATURES, num_classes))

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        pooled = self.avgpool(self.features(clips)).mean(dim=(2, 3, 4))
        return self.classifier(pooled)


def s3d(*, num_classes: int, dropout: float = 0.2) -> S3D:
    """Build a freshly initialised :class:`S3D`."""
    return S3D(num_classes, dropout=dropout)


def from_torchvision_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """torchvision S3D weights → :class:`S3D` weights (the 1x1x1 kernel flattened to a matrix)."""
    converted = dict(state)
    weight = converted[_CLASSIFIER_WEIGHT]
    converted[_CLASSIFIER_WEIGHT] = weight.reshape(weight.shape[0], weight.shape[1])
    return converted
