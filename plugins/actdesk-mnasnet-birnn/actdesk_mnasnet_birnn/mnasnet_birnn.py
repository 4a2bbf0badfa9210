"""MnasNet features per frame, then a bidirectional RNN over time (seed 004).

The seed's CNN + bidirectional RNN: torchvision's MnasNet (Tan et al., arXiv:1807.11626)
without its classifier turns every frame into a 1280-channel map, pooled to a
vector; a bidirectional GRU (or LSTM; Schuster & Paliwal 1997) reads the
vectors; a dense layer gives the class scores.

The class comes from the RNN output at the clip's *centre* step, the frame
being labelled (clip frame ``clip_len // 2``): its forward half has read the
clip up to the centre, its backward half from the end back to it, so together
they cover the whole clip, each direction ending on the labelled frame.

torchvision's MnasNet keeps TensorFlow's batch-norm momentum (0.0003): its
running statistics would barely move in a short training from scratch and the
model would be evaluated with near-initial statistics. The builder resets it
to PyTorch's usual 0.1 (buffers and keys are unchanged, so ImageNet weights
still load). It also zeroes the scale of the last batch norm in every residual
block (Goyal et al., arXiv:1706.02677), so each starts as the identity: from
scratch the deep, narrow backbone otherwise stays near chance for its first
~150 steps (ImageNet weights, when loaded, replace these values).
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models.mnasnet import MNASNet, _InvertedResidual

__all__ = ["MnasNetBiRNN", "mnasnet_birnn", "BACKBONE_PREFIX", "backbone_state_from_torchvision"]

_FEATURES = 1280
_BN_MOMENTUM = 0.1
BACKBONE_PREFIX = "backbone."
"""Key prefix of the MnasNet weights inside :class:`MnasNetBiRNN`."""
_TORCHVISION_PREFIX = "layers."
_RNNS = {"gru": nn.GRU, "lstm": nn.LSTM}


class MnasNetBiRNN(nn.Module):
    """Maps clips ``[B, 3, T, H, W]`` to class logits ``[B, num_classes]`` (labelling frame ``T // 2``)."""

    def __init__(self, num_classes: int, *, width_mult: float = 0.5, rnn: str = "gru",
                 hidden_size: int = 128, dropout: float = 0.3):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be at least 1, got {num_classes}")
        if rnn not in _RNNS:
            raise ValueError(f"rnn must be one of {sorted(_RNNS)}, got {rnn!r}")
        self.backbone = MNASNet(alpha=width_mult).layers
        for m in self.backbone.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.momentum = _BN_MOMENTUM
            if isinstance(m, _InvertedResidual) and m.apply_residual:
                nn.init.zeros_(m.layers[-1].weight)  # the block's closing batch norm
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.rnn = _RNNS[rnn](_FEATURES, hidden_size, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * hidden_size, num_classes)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        batch, channels, time, height, width = clips.shape
        frames = clips.transpose(1, 2).reshape(batch * time, channels, height, width)
        features = self.pool(self.backbone(frames)).view(batch, time, _FEATURES)
        sequence, _ = self.rnn(features)
        return self.classifier(self.dropout(sequence[:, time // 2]))


def mnasnet_birnn(*, num_classes: int, width_mult: float = 0.5, rnn: str = "gru",
                  hidden_size: int = 128, dropout: float = 0.3) -> MnasNetBiRNN:
    """Build a freshly initialised :class:`MnasNetBiRNN` (random MnasNet weights; no download).

    :param width_mult: MnasNet width (torchvision has ImageNet weights for 0.5, 0.75, 1.0, 1.3).
    :param rnn: ``"gru"`` or ``"lstm"``, run in both directions.
    :param hidden_size: RNN units per direction.
    :param dropout: before the dense output layer.
    """
    return MnasNetBiRNN(num_classes, width_mult=width_mult, rnn=rnn, hidden_size=hidden_size,
                        dropout=dropout)


def backbone_state_from_torchvision(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """torchvision MnasNet weights → the :class:`MnasNetBiRNN` backbone's (its classifier dropped)."""
    return {BACKBONE_PREFIX + key.removeprefix(_TORCHVISION_PREFIX): value
            for key, value in state.items() if key.startswith(_TORCHVISION_PREFIX)}
