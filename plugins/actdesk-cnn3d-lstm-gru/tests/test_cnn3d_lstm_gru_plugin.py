"""The cnn3d-lstm-gru plugin: actdesk conformance, and the seed's structure (3D CNN → LSTM → GRU → dense)."""

from __future__ import annotations

import subprocess
import sys

import torch
from torch import nn

import actdesk_cnn3d_lstm_gru
from actdesk_cnn3d_lstm_gru.cnn3d_lstm_gru import CNN3DLSTMGRU, cnn3d_lstm_gru

pytest_plugins = ["actdesk.testing"]
ACTDESK_PLUGIN = "actdesk_cnn3d_lstm_gru"


def test_conformance(actdesk_model_name, actdesk_conformance):
    actdesk_conformance(actdesk_model_name)


def test_spec_declares_the_seed_and_its_input():
    spec = actdesk_cnn3d_lstm_gru.SPEC
    assert spec.name == "cnn3d-lstm-gru" and spec.head == "classifier"
    assert (spec.clip_len, spec.frame_step, spec.size) == (8, 4, (64, 64))
    assert "002" in spec.seed


def test_registration_imports_no_torch():
    code = ("import sys\nfrom actdesk.plugins import PluginManager\n"
            "m = PluginManager(disabled=()); m.register_module('actdesk_cnn3d_lstm_gru')\n"
            "assert m.spec('cnn3d-lstm-gru').clip_len == 8 and not m.load_errors\n"
            "print('torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _model(**kwargs) -> CNN3DLSTMGRU:
    torch.manual_seed(0)
    return cnn3d_lstm_gru(num_classes=5, **kwargs).eval()


def test_builder_shapes_and_keyword_arguments():
    model = _model(widths=(8, 16, 24), hidden_size=20)
    assert isinstance(model.lstm, nn.LSTM) and isinstance(model.gru, nn.GRU)
    assert (model.lstm.input_size, model.lstm.hidden_size) == (24, 20)
    assert (model.gru.input_size, model.gru.hidden_size) == (20, 20)
    assert model.classifier.in_features == 20 and model.classifier.out_features == 5
    with torch.inference_mode():
        assert model(torch.randn(3, 3, 7, 48, 40)).shape == (3, 5)


def test_convolutions_keep_the_time_axis():
    model = _model()
    with torch.inference_mode():
        features = model.spatial_pool(model.features(torch.randn(2, 3, 8, 64, 64)))
    assert features.shape == (2, 128, 8, 1, 1)  # one feature vector per frame for the LSTM


def test_lstm_feeds_gru_and_the_last_step_decides():
    model = _model()
    calls = []
    for name in ("lstm", "gru"):
        getattr(model, name).register_forward_hook(lambda m, i, o, name=name: calls.append(name))
    # 16 frames: the last one reaches only the last few conv outputs (receptive
    # field of 9 frames), none that a centre-step classifier would read.
    clip = torch.randn(2, 3, 16, 64, 64)
    changed_last = clip.clone()
    changed_last[:, :, -1] = torch.randn(2, 3, 64, 64)
    with torch.inference_mode():
        out = model(clip)
        assert calls == ["lstm", "gru"]
        assert not torch.allclose(out, model(changed_last))
        assert not torch.allclose(out, model(clip.flip(2)))
