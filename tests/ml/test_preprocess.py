"""Model input normalisation, the one definition inference, training and benchmarks share."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from actdesk.ml.preprocess import normalise_clips, standardise_clips, to_unit_range

MEAN, STD = (0.4, 0.5, 0.6), (0.2, 0.25, 0.3)


def random_clips(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(2, 4, 6, 5, 3), dtype=np.uint8)


def test_to_unit_range_puts_channels_second_and_scales_to_one():
    clips = random_clips()
    x = to_unit_range(clips)
    assert x.shape == (2, 3, 4, 6, 5) and x.dtype == torch.float32
    assert float(x[1, 2, 3, 4, 0]) == pytest.approx(clips[1, 3, 4, 0, 2] / 255)


def test_normalise_without_standardising_is_mean_and_std():
    x = to_unit_range(random_clips())
    out = normalise_clips(x, MEAN, STD)
    torch.testing.assert_close(out[:, 1], (x[:, 1] - 0.5) / 0.25)


def test_standardised_clips_have_zero_mean_and_unit_variance_per_channel():
    out = normalise_clips(to_unit_range(random_clips()), MEAN, STD, standardise=True)
    flat = out.reshape(2, 3, -1)
    torch.testing.assert_close(flat.mean(-1), torch.zeros(2, 3), atol=1e-5, rtol=0)
    torch.testing.assert_close(flat.std(-1), torch.ones(2, 3), atol=2e-2, rtol=0)


def test_standardising_removes_each_clips_brightness_and_contrast():
    """Why models trained from scratch use it: a video's colours no longer matter, its motion does."""
    x = to_unit_range(random_clips()) * 0.5 + 0.1
    changed = x.clone()
    changed[0, 0] = changed[0, 0] * 0.6 + 0.3  # clip 0's red channel: other contrast and brightness
    changed[1] = changed[1] * 1.5 - 0.05  # clip 1: every channel
    # Equal up to the small epsilon added to each standard deviation.
    torch.testing.assert_close(standardise_clips(changed), standardise_clips(x), atol=3e-2, rtol=0)
    assert not torch.allclose(normalise_clips(changed, MEAN, STD), normalise_clips(x, MEAN, STD))


def test_a_flat_clip_stays_finite():
    flat = torch.full((1, 3, 4, 6, 5), 0.3)
    assert torch.isfinite(standardise_clips(flat)).all()
