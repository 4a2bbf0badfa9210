"""The c3d-attention plugin: actdesk conformance, and the seed's block structure."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from torch import nn

import actdesk_c3d_attention
from actdesk_c3d_attention.c3d_attention import AttentionGate, C3DAttention, c3d_attention

pytest_plugins = ["actdesk.testing"]
ACTDESK_PLUGIN = "actdesk_c3d_attention"


def test_conformance(actdesk_model_name, actdesk_conformance):
    actdesk_conformance(actdesk_model_name)


def test_spec_declares_the_seed_input():
    spec = actdesk_c3d_attention.SPEC
    assert spec.name == "c3d-attention" and spec.head == "head"
    assert spec.clip_len == 16  # the seed's 16-frame samples
    assert "000" in spec.seed and "1412.0767" in spec.paper


def test_registration_imports_no_torch():
    # The app registers plugins before its window paints: torch loads only when a model is built.
    code = (
        "import sys\n"
        "from actdesk.plugins import PluginManager\n"
        "m = PluginManager(disabled=())\n"
        "m.register_module('actdesk_c3d_attention')\n"
        "assert m.spec('c3d-attention').clip_len == 16 and not m.load_errors\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_block_structure_follows_the_seed():
    model = c3d_attention(num_classes=7)
    conv = model.conv[0]
    assert isinstance(conv, nn.Conv3d) and conv.in_channels == 3 and conv.out_channels == 64
    assert isinstance(model.conv[1], nn.ReLU)
    assert isinstance(model.attention, AttentionGate)
    assert isinstance(model.pool, nn.AdaptiveAvgPool3d)
    dropouts = [m for m in model.fc if isinstance(m, nn.Dropout)]
    assert dropouts and all(d.p == 0.25 for d in dropouts)
    assert sum(isinstance(m, nn.ReLU) for m in model.fc) == len(dropouts)
    assert isinstance(model.head, nn.Linear) and model.head.out_features == 7


def test_attention_gate_scales_features_by_a_sigmoid():
    gate = AttentionGate(4)
    x = torch.randn(2, 4, 3, 5, 5)
    with torch.no_grad():
        gate.gate.weight.zero_()
        gate.gate.bias.fill_(-2.0)
        expected = x * torch.sigmoid(torch.tensor(-2.0))
        assert torch.allclose(gate(x), expected)
        gate.gate.bias.fill_(50.0)  # fully open
        assert torch.allclose(gate(x), x)


def test_time_order_reaches_the_classifier():
    # sit-down and stand-up are the same frames reversed: reversing time must change the output.
    torch.manual_seed(0)
    model = c3d_attention(num_classes=2).eval()
    clip = torch.randn(1, 3, 16, 64, 64)
    with torch.no_grad():
        assert not torch.allclose(model(clip), model(clip.flip(2)), atol=1e-4)


def test_builder_options_and_bad_class_count():
    model = c3d_attention(num_classes=3, channels=8, fc_widths=(16,), pool_output=(2, 2, 2))
    assert isinstance(model, C3DAttention)
    assert model(torch.randn(2, 3, 8, 32, 32)).shape == (2, 3)
    with pytest.raises(ValueError, match="num_classes"):
        c3d_attention(num_classes=0)
