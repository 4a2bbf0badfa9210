"""LRCN: a 2D CNN on every frame, its features fed to an LSTM, trained end to end (seed 003).

Donahue et al., *Long-term Recurrent Convolutional Networks for Visual
Recognition and Description*, arXiv:1411.4389. The same 2D CNN runs on each
frame independently (Keras' ``TimeDistributed``: the frames are folded into
the batch), a dense layer turns its pooled map into a per-frame feature
vector (the paper's fc6 input to the LSTM), and an LSTM reads the vectors in
order. Gradients flow from the class scores through the LSTM into the CNN.

The paper averages per-step predictions over a whole video. Here each clip is
labelled by its *centre* frame, and the class comes from the LSTM output at
the last step: a forward LSTM's centre step has seen only the frames before
the centre, while the last step has seen the clip on both sides of it (needed
to tell sit-down from stand-up: the same poses in opposite order).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["LRCN", "lrcn"]


class LRCN(nn.Module):
    """Maps clips ``[B, 3, T, H, W]`` to class logits ``[B, num_classes]``."""

    def __init__(self, num_classes: int, *, widths: tuple[int, ...] = (16, 32, 64, 128),
                 feature_size: int = 128, hidden_size: int = 128, dropout: float = 0.3):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be at least 1, got {num_classes}")
        # A strided 5x5 stem, then 3x3 blocks each followed by 2x2 max pooling.
        layers: list[nn.Module] = [nn.Conv2d(3, widths[0], 5, stride=2, padding=2, bias=False),
                                   nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True)]
        for in_channels, out_channels in zip(widths, widths[1:]):
            layers += [nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
                       nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                   nn.Linear(widths[-1], feature_size), nn.ReLU(inplace=True)]
        self.frame_cnn = nn.Sequential(*layers)
        self.lstm = nn.LSTM(feature_size, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_size, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        batch, channels, time, height, width = clips.shape
        frames = clips.transpose(1, 2).reshape(batch * time, channels, height, width)
        features = self.frame_cnn(frames).view(batch, time, -1)
        sequence, _ = self.lstm(features)
        return self.classifier(self.dropout(sequence[:, -1]))


def lrcn(*, num_classes: int, widths: tuple[int, ...] = (16, 32, 64, 128), feature_size: int = 128,
         hidden_size: int = 128, dropout: float = 0.3) -> LRCN:
    """Build a freshly initialised :class:`LRCN`.

    :param widths: channels of the per-frame CNN's stem and blocks (each block
        after the stem halves height and width).
    :param feature_size: per-frame feature vector fed to the LSTM.
    :param hidden_size: LSTM units.
    :param dropout: before the dense output layer.
    """
    return LRCN(num_classes, widths=widths, feature_size=feature_size, hidden_size=hidden_size,
                dropout=dropout)
