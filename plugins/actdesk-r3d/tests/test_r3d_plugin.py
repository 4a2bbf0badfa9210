"""The r3d plugin: conformance, torchvision's r3d_18 layout, and importing its Kinetics weights."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest
import torch
from torchvision.models import video

import actdesk_r3d
from actdesk.errors import ActdeskError, CheckpointError
from actdesk.ml.checkpoints import load_model
from actdesk.plugins import PluginManager
from actdesk_r3d.r3d import r3d_18, r3d_34

pytest_plugins = ["actdesk.testing"]
ACTDESK_PLUGIN = "actdesk_r3d"

SPECS = {spec.name: spec for spec in actdesk_r3d.SPECS}
KINETICS = video.R3D_18_Weights.KINETICS400_V1


def test_conformance(actdesk_model_name, actdesk_conformance):
    actdesk_conformance(actdesk_model_name)


def test_specs_declare_the_seed_and_their_input():
    assert sorted(SPECS) == ["r3d-18", "r3d-34"]
    for spec in SPECS.values():
        assert spec.head == "fc" and "001" in spec.seed and "1711.09577" in spec.paper
        assert spec.mean == tuple(KINETICS.transforms().mean) and spec.std == tuple(KINETICS.transforms().std)
        assert (spec.clip_len, spec.frame_step, spec.size) == (8, 4, (64, 64))


def test_registration_imports_no_torch():
    code = ("import sys\nfrom actdesk.plugins import PluginManager\n"
            "m = PluginManager(disabled=()); m.register_module('actdesk_r3d')\n"
            "assert m.spec('r3d-34').clip_len == 8 and not m.load_errors\n"
            "print('torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _layout(model: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def test_r3d_18_has_torchvision_r3d_18_layout():
    with torch.device("meta"):
        assert _layout(r3d_18(num_classes=400)) == _layout(video.r3d_18(num_classes=400))


def test_r3d_34_has_basic_blocks_3_4_6_3():
    with torch.device("meta"):
        deep, shallow = r3d_34(num_classes=9), r3d_18(num_classes=9)
    assert [len(getattr(deep, f"layer{i}")) for i in range(1, 5)] == [3, 4, 6, 3]
    assert [len(getattr(shallow, f"layer{i}")) for i in range(1, 5)] == [2, 2, 2, 2]
    assert deep.fc.out_features == 9


def test_residual_blocks_start_as_the_identity():
    from torchvision.models.video.resnet import BasicBlock

    torch.manual_seed(0)
    model = r3d_18(num_classes=9).eval()
    blocks = [m for m in model.modules() if isinstance(m, BasicBlock)]
    assert len(blocks) == 8
    with torch.inference_mode():
        for block in blocks:
            channels = block.conv1[0].in_channels
            x = torch.rand(1, channels, 4, 6, 6)  # non-negative, as after the ReLU before each block
            if block.downsample is None:
                assert torch.equal(block(x), x)
            else:  # a block that changes width or stride passes its projection of x through
                assert torch.equal(block(x), torch.relu(block.downsample(x)))


# -- torchvision Kinetics-400 weights from a local file -----------------------------------------

@pytest.fixture(scope="module")
def r3d_18_file(tmp_path_factory):
    """A randomly initialised torchvision r3d_18 (400 classes) saved as its .pth would be."""
    torch.manual_seed(18)
    # Stored in float16 to halve the 130 MB file this test writes and hashes; the
    # reference keeps the same (rounded) values in float32.
    model = video.r3d_18(num_classes=400).half().float().eval()
    path = tmp_path_factory.mktemp("weights") / "r3d_18_kinetics.pth"
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}, path)
    return path, model


@pytest.fixture(scope="module")
def manager() -> PluginManager:
    manager = PluginManager(disabled=())
    manager.register_module("actdesk_r3d")
    assert not manager.load_errors
    return manager


def test_import_gives_kinetics_labels_input_and_torchvisions_logits(manager, r3d_18_file):
    path, reference = r3d_18_file
    result = manager.import_weights("r3d-18", path)
    assert result["labels"] == list(KINETICS.meta["categories"]) and result["labels"][0] == "abseiling"
    assert (result["clip_len"], result["frame_step"], result["size"]) == (16, 2, (112, 112))
    assert result["mean"] == pytest.approx((0.43216, 0.394666, 0.37645))
    assert result["std"] == pytest.approx((0.22803, 0.22145, 0.216989))
    model = manager.build_model("r3d-18", 400).eval()
    model.load_state_dict(result["state_dict"], strict=True)
    clip = torch.randn(1, 3, 4, 32, 32)
    with torch.inference_mode():
        torch.testing.assert_close(model(clip), reference(clip))


def test_load_model_imports_the_pth(manager, r3d_18_file):
    path, _ = r3d_18_file
    loaded = load_model(path, manager=manager, device="cpu", architecture="r3d-18")
    assert len(loaded.meta.labels) == 400 and loaded.meta.labels[-1] == KINETICS.meta["categories"][-1]
    # Labelling feeds the weights torchvision's input, not the spec's (which is for training from scratch).
    meta = loaded.meta
    assert (meta.clip_len, meta.frame_step, meta.size, meta.standardise_clips) == (16, 2, (112, 112), False)
    assert loaded.spec.standardise_clips and loaded.spec.size == (64, 64)
    assert meta.std == pytest.approx((0.22803, 0.22145, 0.216989))
    assert meta.provenance["source"]["weights"].endswith("KINETICS400_V1")


def test_hash_prefix_in_the_name_must_match(manager, r3d_18_file, tmp_path):
    path, _ = r3d_18_file
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    matching = tmp_path / f"r3d_18-{digest[:8]}.pth"
    matching.write_bytes(path.read_bytes())
    assert manager.import_weights("r3d-18", matching)["source"]["sha256_prefix"] == digest[:8]

    torchvision_name = KINETICS.url.rsplit("/", 1)[-1]
    assert torchvision_name == "r3d_18-b3b3357e.pth"
    mismatching = tmp_path / torchvision_name  # torchvision's name, other content
    mismatching.write_bytes(path.read_bytes())
    with pytest.raises(CheckpointError) as caught:
        actdesk_r3d.actdesk_import_weights(spec=SPECS["r3d-18"], path=mismatching)
    message = str(caught.value)
    assert message.startswith(str(mismatching)) and "b3b3357e" in message and digest in message
    with pytest.raises(ActdeskError, match="r3d_18-b3b3357e.pth"):
        manager.import_weights("r3d-18", mismatching)


def test_another_architectures_file_is_refused(tmp_path):
    path = tmp_path / "mc3_18.pth"
    torch.save(video.mc3_18(num_classes=400).state_dict(), path)  # 2D convs after the first block
    with pytest.raises(CheckpointError, match=r"mc3_18.pth: does not fit .*wrong shape: layer2\.0\.conv1\.0\.weight"):
        actdesk_r3d.actdesk_import_weights(spec=SPECS["r3d-18"], path=path)


def test_a_file_that_is_not_a_state_dict_is_refused(tmp_path):
    path = tmp_path / "r3d_18.pth"
    torch.save({"epoch": 3, "arch": "resnet-18"}, path)
    with pytest.raises(CheckpointError, match=r"r3d_18.pth: does not contain a state dict"):
        actdesk_r3d.actdesk_import_weights(spec=SPECS["r3d-18"], path=path)


def test_r3d_34_has_no_torchvision_weights(r3d_18_file):
    path, _ = r3d_18_file
    with pytest.raises(CheckpointError, match="r3d-34 has no torchvision weights"):
        actdesk_r3d.actdesk_import_weights(spec=SPECS["r3d-34"], path=path)
