"""The mnasnet-birnn plugin: conformance, the seed's structure, and importing ImageNet MnasNet weights."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest
import torch
from torch import nn
from torchvision.models import MNASNet0_5_Weights, mnasnet0_5, mnasnet0_75

import actdesk_mnasnet_birnn
from actdesk.errors import ActdeskError, CheckpointError
from actdesk.plugins import PluginManager
from actdesk_mnasnet_birnn.mnasnet_birnn import MnasNetBiRNN, mnasnet_birnn

pytest_plugins = ["actdesk.testing"]
ACTDESK_PLUGIN = "actdesk_mnasnet_birnn"


def test_conformance(actdesk_model_name, actdesk_conformance):
    actdesk_conformance(actdesk_model_name)


def test_spec_declares_the_seed_and_its_input():
    spec = actdesk_mnasnet_birnn.SPEC
    assert spec.name == "mnasnet-birnn" and spec.head == "classifier"
    assert (spec.clip_len, spec.frame_step, spec.size) == (8, 4, (64, 64))
    assert spec.mean == tuple(MNASNet0_5_Weights.IMAGENET1K_V1.transforms().mean)
    assert "004" in spec.seed and "1807.11626" in spec.paper


def test_registration_imports_no_torch():
    code = ("import sys\nfrom actdesk.plugins import PluginManager\n"
            "m = PluginManager(disabled=()); m.register_module('actdesk_mnasnet_birnn')\n"
            "assert m.spec('mnasnet-birnn').clip_len == 8 and not m.load_errors\n"
            "print('torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _model(**kwargs) -> MnasNetBiRNN:
    torch.manual_seed(0)
    return mnasnet_birnn(num_classes=4, **kwargs).eval()


def test_builder_shapes_and_keyword_arguments():
    model = _model(rnn="lstm", hidden_size=16)
    assert isinstance(model.rnn, nn.LSTM) and model.rnn.bidirectional
    assert model.classifier.in_features == 32 and model.classifier.out_features == 4
    with torch.inference_mode():
        assert model(torch.randn(2, 3, 5, 64, 48)).shape == (2, 4)
    gru = _model()
    assert isinstance(gru.rnn, nn.GRU) and gru.rnn.bidirectional and gru.rnn.input_size == 1280
    # the backbone is torchvision's MnasNet 0.5 without its classifier
    assert [k for k in mnasnet0_5().state_dict() if k.startswith("layers.")] == \
        [k.replace("backbone.", "layers.", 1) for k in gru.state_dict() if k.startswith("backbone.")]
    with pytest.raises(ValueError, match="rnn must be one of"):
        mnasnet_birnn(num_classes=3, rnn="transformer")


def test_batch_norm_follows_a_short_training():
    model = _model()
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and all(m.momentum == 0.1 for m in norms)


def test_residual_blocks_start_as_the_identity():
    from torchvision.models.mnasnet import _InvertedResidual

    blocks = [m for m in _model().modules() if isinstance(m, _InvertedResidual)]
    residual = [b for b in blocks if b.apply_residual]
    assert residual and len(residual) < len(blocks)
    with torch.inference_mode():
        for block in blocks:
            x = torch.randn(2, block.layers[0].in_channels, 12, 12)
            if block.apply_residual:
                assert torch.equal(block(x), x)
            else:  # a block that changes width or stride has no skip to fall back on
                assert block(x).abs().sum() > 0


def test_classifies_from_the_centre_step_of_the_bidirectional_rnn():
    model = _model()
    seen = {}
    model.rnn.register_forward_hook(lambda m, i, o: seen.update(rnn=o[0]))
    model.classifier.register_forward_hook(lambda m, i, o: seen.update(classifier=i[0]))
    with torch.inference_mode():
        model(torch.randn(2, 3, 8, 64, 64))
    sequence = seen["rnn"]
    assert sequence.shape == (2, 8, 2 * model.rnn.hidden_size)  # both directions, every frame
    # step 4 = clip_len // 2, the labelled frame: forward half read frames 0-4, backward half 7-4
    assert torch.equal(seen["classifier"], sequence[:, 4])


# -- importing torchvision ImageNet weights into the backbone -----------------------------------

@pytest.fixture(scope="module")
def imagenet_file(tmp_path_factory):
    """A randomly initialised torchvision mnasnet0_5 saved as its .pth would be."""
    torch.manual_seed(5)
    state = mnasnet0_5().state_dict()
    path = tmp_path_factory.mktemp("weights") / "mnasnet0_5_imagenet.pth"
    torch.save(state, path)
    return path, state


@pytest.fixture(scope="module")
def manager() -> PluginManager:
    manager = PluginManager(disabled=())
    manager.register_module("actdesk_mnasnet_birnn")
    return manager


def test_import_initialises_the_backbone(manager, imagenet_file):
    path, state = imagenet_file
    result = manager.import_weights("mnasnet-birnn", path)
    assert result["labels"] == []  # ImageNet classes are not actions
    model = _model()
    missing, unexpected = model.load_state_dict(result["state_dict"], strict=False)
    assert not unexpected
    assert missing and all(k.startswith(("rnn.", "classifier.")) for k in missing)
    for key, value in state.items():
        if key.startswith("layers."):
            assert torch.equal(model.state_dict()["backbone." + key[len("layers."):]], value)


def test_import_checks_the_hash_in_the_file_name(imagenet_file, tmp_path):
    path, _ = imagenet_file
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    good = tmp_path / f"mnasnet0_5-{digest[:10]}.pth"
    good.write_bytes(path.read_bytes())
    assert actdesk_mnasnet_birnn.import_backbone_weights(good)["source"]["sha256_prefix"] == digest[:10]
    recorded = MNASNet0_5_Weights.IMAGENET1K_V1.url.rsplit("/", 1)[-1]  # ...-3ffadce67e.pth
    bad = tmp_path / recorded
    bad.write_bytes(path.read_bytes())
    with pytest.raises(CheckpointError) as caught:
        actdesk_mnasnet_birnn.import_backbone_weights(bad)
    assert str(bad) in str(caught.value) and "3ffadce67e" in str(caught.value) and digest in str(caught.value)


def test_import_refuses_another_width(tmp_path):
    path = tmp_path / "mnasnet0_75.pth"
    torch.save(mnasnet0_75().state_dict(), path)
    with pytest.raises(CheckpointError, match=r"does not fit torchvision mnasnet0_5.*wrong shape"):
        actdesk_mnasnet_birnn.import_backbone_weights(path)


def test_import_refuses_a_file_that_is_not_a_state_dict(manager, tmp_path):
    path = tmp_path / "notes.pth"
    path.write_text("not weights")
    with pytest.raises(CheckpointError, match="not a readable torch weight file"):
        actdesk_mnasnet_birnn.import_backbone_weights(path)
    with pytest.raises(ActdeskError, match="notes.pth"):
        manager.import_weights("mnasnet-birnn", path)
