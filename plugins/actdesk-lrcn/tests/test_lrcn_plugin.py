"""The lrcn plugin: actdesk conformance, and the seed's structure (time-distributed CNN → LSTM)."""

from __future__ import annotations

import subprocess
import sys

import torch
from torch import nn

import actdesk_lrcn
from actdesk_lrcn.lrcn import LRCN, lrcn

pytest_plugins = ["actdesk.testing"]
ACTDESK_PLUGIN = "actdesk_lrcn"


def test_conformance(actdesk_model_name, actdesk_conformance):
    actdesk_conformance(actdesk_model_name)


def test_spec_declares_the_seed_and_its_input():
    spec = actdesk_lrcn.SPEC
    assert spec.name == "lrcn" and spec.head == "classifier"
    assert (spec.clip_len, spec.frame_step, spec.size) == (16, 2, (64, 64))
    assert "003" in spec.seed and "1411.4389" in spec.paper


def test_registration_imports_no_torch():
    code = ("import sys\nfrom actdesk.plugins import PluginManager\n"
            "m = PluginManager(disabled=()); m.register_module('actdesk_lrcn')\n"
            "assert m.spec('lrcn').clip_len == 16 and not m.load_errors\n"
            "print('torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _model(**kwargs) -> LRCN:
    torch.manual_seed(0)
    return lrcn(num_classes=6, **kwargs).eval()


def test_builder_shapes_and_keyword_arguments():
    model = _model(widths=(8, 16), feature_size=24, hidden_size=12)
    assert isinstance(model.lstm, nn.LSTM)
    assert (model.lstm.input_size, model.lstm.hidden_size) == (24, 12)
    assert model.classifier.in_features == 12 and model.classifier.out_features == 6
    with torch.inference_mode():
        assert model(torch.randn(3, 3, 5, 40, 48)).shape == (3, 6)


def test_the_same_cnn_runs_on_every_frame():
    model = _model()
    clip = torch.randn(1, 3, 6, 64, 64)
    with torch.inference_mode():
        folded = model.frame_cnn(clip[0].transpose(0, 1))  # the 6 frames as a batch
        one_by_one = torch.cat([model.frame_cnn(clip[:, :, t]) for t in range(6)])
    torch.testing.assert_close(folded, one_by_one)


def test_frame_order_matters_and_the_last_step_decides():
    # sit-down and stand-up are the same frames in opposite order; the
    # output comes from the last LSTM step, which has read the whole clip.
    model = _model()
    clip = torch.randn(2, 3, 8, 64, 64)
    changed_last = clip.clone()
    changed_last[:, :, -1] = torch.randn(2, 3, 64, 64)
    with torch.inference_mode():
        out = model(clip)
        assert not torch.allclose(out, model(clip.flip(2)))
        assert not torch.allclose(out, model(changed_last))


def test_training_reaches_the_cnn():
    model = _model().train()
    nn.functional.cross_entropy(model(torch.randn(2, 3, 4, 32, 32)), torch.tensor([0, 1])).backward()
    first_conv = model.frame_cnn[0]
    assert first_conv.weight.grad is not None and first_conv.weight.grad.abs().sum() > 0
