"""Tiny real torch models behind the test plugins (imported only when a model is built)."""

from __future__ import annotations

import threading

import torch
from torch import nn

HANG_RELEASE = threading.Event()
"""Set it to let every hanging forward return; tests clear it before and set it after (no thread outlives a test)."""
HANG_SECONDS = 600.0


class TinyClipNet(nn.Module):
    """[B, 3, T, H, W] -> [B, num_classes]: one 3D convolution, global pooling, a linear head."""

    def __init__(self, num_classes: int, width: int = 4):
        super().__init__()
        self.features = nn.Sequential(nn.Conv3d(3, width, 3, padding=1), nn.BatchNorm3d(width), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.classifier = nn.Linear(width, num_classes)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(clips)).flatten(1))


class ForwardRaises(TinyClipNet):
    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("test plugin: forward always fails")


class NanOutput(TinyClipNet):
    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return super().forward(clips) * float("nan")


class InfOutput(TinyClipNet):
    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return super().forward(clips) + float("inf")


class WrongShape(TinyClipNet):
    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        logits = super().forward(clips)
        return torch.cat([logits, logits[:, :1]], dim=1)


class Hangs(TinyClipNet):
    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        HANG_RELEASE.wait(HANG_SECONDS)
        return super().forward(clips)


class Frozen(TinyClipNet):
    """Every parameter has requires_grad=False, so a training step cannot change it."""

    def __init__(self, num_classes: int):
        super().__init__(num_classes)
        self.requires_grad_(False)


class UnsavedState(TinyClipNet):
    """Keeps a random offset in a plain attribute: not in the state dict, so a reload differs."""

    def __init__(self, num_classes: int):
        super().__init__(num_classes)
        self.offset = torch.randn(num_classes)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return super().forward(clips) + self.offset


class ClassSizedBackbone(TinyClipNet):
    """Sizes a backbone layer by num_classes, so swapping the head cannot give a model for other classes."""

    def __init__(self, num_classes: int):
        super().__init__(num_classes, width=num_classes + 1)
