"""Clips as models take them: uint8 frames → float ``[B, 3, T, H, W]``, normalised.

One definition shared by inference, training, fine-tuning and the benchmarks,
so a model is always fed during training exactly what it sees when labelling.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

STANDARDISE_EPS = 1e-3
"""Added to each clip's standard deviation, so a flat clip (a black frame run) stays finite."""


def to_unit_range(clips: np.ndarray | torch.Tensor, device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 clips ``[B, T, H, W, 3]`` → float ``[B, 3, T, H, W]`` in [0, 1] on ``device``."""
    x = torch.as_tensor(clips).to(device, non_blocking=True)
    return x.permute(0, 4, 1, 2, 3).float().div_(255.0)


def normalise_clips(
    clips: torch.Tensor,
    mean: Sequence[float],
    std: Sequence[float],
    standardise: bool = False,
) -> torch.Tensor:
    """Model input from clips in [0, 1] ``[B, 3, T, H, W]``: ``(x - mean) / std``, then, with
    ``standardise``, each clip scaled to zero mean and unit variance per colour channel."""
    m = torch.tensor(mean, dtype=clips.dtype, device=clips.device).view(1, 3, 1, 1, 1)
    s = torch.tensor(std, dtype=clips.dtype, device=clips.device).view(1, 3, 1, 1, 1)
    x = (clips - m) / s
    return standardise_clips(x) if standardise else x


def standardise_clips(x: torch.Tensor) -> torch.Tensor:
    """Each clip of ``[B, 3, T, H, W]`` to zero mean and unit variance per colour channel."""
    std, mean = torch.std_mean(x, dim=(2, 3, 4), keepdim=True)
    return (x - mean) / (std + STANDARDISE_EPS)
