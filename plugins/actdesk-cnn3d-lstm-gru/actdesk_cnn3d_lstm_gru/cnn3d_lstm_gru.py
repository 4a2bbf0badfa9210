"""3D CNN → LSTM → GRU → dense (seed 002).

The seed's hybrid: 3D convolutions extract spatio-temporal features, an LSTM
and then a GRU model the sequence, a dense layer gives the class scores. The
convolutions pool and stride in space only, so the recurrent layers get one
feature vector per input frame (the time axis is kept whole). Three blocks
after the stem let a unit see the whole figure (about 40 pixels at 48x48)
before the spatial average: with two, the model trained to 78 % frames on
the issue-4 schedule, most of the misses sitting figures taken for idle ones.

The recurrent layers run forward in time; the class comes from the GRU's
output at the *last* step, the only one that has seen the whole clip. The
label is the centre frame's, and telling sit-down from stand-up (the same
poses in opposite order) needs the frames after the centre as well as before.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["CNN3DLSTMGRU", "cnn3d_lstm_gru"]


def _conv_block(in_channels: int, out_channels: int, kernel: tuple[int, int, int],
                stride: tuple[int, int, int]) -> list[nn.Module]:
    padding = tuple(k // 2 for k in kernel)
    return [nn.Conv3d(in_channels, out_channels, kernel, stride=stride, padding=padding, bias=False),
            nn.BatchNorm3d(out_channels), nn.ReLU(inplace=True)]


class CNN3DLSTMGRU(nn.Module):
    """Maps clips ``[B, 3, T, H, W]`` to class logits ``[B, num_classes]``."""

    def __init__(self, num_classes: int, *, widths: tuple[int, ...] = (16, 32, 64, 128),
                 hidden_size: int = 64, dropout: float = 0.3):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be at least 1, got {num_classes}")
        # A wide strided stem, then 3x3x3 blocks each followed by spatial max pooling.
        layers = _conv_block(3, widths[0], (3, 5, 5), (1, 2, 2))
        for in_channels, out_channels in zip(widths, widths[1:]):
            layers += _conv_block(in_channels, out_channels, (3, 3, 3), (1, 1, 1))
            layers.append(nn.MaxPool3d((1, 2, 2)))
        self.features = nn.Sequential(*layers)
        self.spatial_pool = nn.AdaptiveAvgPool3d((None, 1, 1))
        self.lstm = nn.LSTM(widths[-1], hidden_size, batch_first=True)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_size, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        features = self.spatial_pool(self.features(clips)).flatten(2).transpose(1, 2)  # [B, T, C]
        sequence, _ = self.lstm(features)
        sequence, _ = self.gru(sequence)
        return self.classifier(self.dropout(sequence[:, -1]))


def cnn3d_lstm_gru(*, num_classes: int, widths: tuple[int, ...] = (16, 32, 64, 128),
                   hidden_size: int = 64, dropout: float = 0.3) -> CNN3DLSTMGRU:
    """Build a freshly initialised :class:`CNN3DLSTMGRU`.

    :param widths: channels of the stem and of each 3D convolution block
        (every block after the stem halves height and width).
    :param hidden_size: units of the LSTM and of the GRU.
    :param dropout: before the dense output layer.
    """
    return CNN3DLSTMGRU(num_classes, widths=widths, hidden_size=hidden_size, dropout=dropout)
