"""The c3d-attention architecture (seed 000): one 3D convolution, an attention gate, dense layers.

Block structure as the seed describes it: 16-frame RGB clip (preprocessed:
each clip standardised per colour channel, which the app does before the
model because the spec sets ``standardise_clips``) → 3D convolution of
64 channels + ReLU → attention gate (sigmoid of a convolution over those
features, multiplied elementwise with them) → 3D average pooling → fully
connected layers with ReLU and dropout 0.25 → class scores.

The seed leaves the input size, kernel, stride, pooling grid and dense widths
open; the defaults here are the ones the bundled model was trained with
(resources/models/README.md). The convolution strides 2 in space only; time
keeps its full resolution so that the dense layers see the order of the
frames (sit-down and stand-up are the same frames in opposite order).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["AttentionGate", "C3DAttention", "c3d_attention"]


class AttentionGate(nn.Module):
    """``x * sigmoid(conv(x))``: each feature is scaled by a learnt gate in [0, 1]."""

    def __init__(self, channels: int, kernel_size: tuple[int, int, int] = (1, 1, 1)):
        super().__init__()
        padding = tuple(k // 2 for k in kernel_size)
        self.gate = nn.Conv3d(channels, channels, kernel_size, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.gate(x))


class C3DAttention(nn.Module):
    """Maps clips ``[B, 3, T, H, W]`` to class logits ``[B, num_classes]``."""

    def __init__(
        self,
        num_classes: int,
        *,
        channels: int = 64,
        conv_kernel: tuple[int, int, int] = (3, 5, 5),
        conv_stride: tuple[int, int, int] = (1, 2, 2),
        attention_kernel: tuple[int, int, int] = (1, 1, 1),
        pool_output: tuple[int, int, int] = (4, 8, 8),
        fc_widths: tuple[int, ...] = (128, 128),
        dropout: float = 0.25,
    ):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be at least 1, got {num_classes}")
        padding = tuple(k // 2 for k in conv_kernel)
        self.conv = nn.Sequential(
            nn.Conv3d(3, channels, conv_kernel, stride=conv_stride, padding=padding),
            nn.ReLU(inplace=True),
        )
        self.attention = AttentionGate(channels, attention_kernel)
        # Adaptive pooling gives the same grid whatever the input size, so a
        # checkpoint's dense layers fit any clip size the spec may declare later.
        self.pool = nn.AdaptiveAvgPool3d(pool_output)
        layers: list[nn.Module] = [nn.Flatten()]
        width = channels * pool_output[0] * pool_output[1] * pool_output[2]
        for out in fc_widths:
            layers += [nn.Linear(width, out), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            width = out
        self.fc = nn.Sequential(*layers)
        self.head = nn.Linear(width, num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, (nn.Conv3d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
        # Start with every gate half open so the first steps see all features.
        nn.init.zeros_(self.attention.gate.weight)
        nn.init.normal_(self.head.weight, std=0.01)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        features = self.attention(self.conv(clips))
        return self.head(self.fc(self.pool(features)))


def c3d_attention(*, num_classes: int, **kwargs) -> C3DAttention:
    """Build a freshly initialised :class:`C3DAttention` (keyword arguments as its constructor)."""
    return C3DAttention(num_classes, **kwargs)
