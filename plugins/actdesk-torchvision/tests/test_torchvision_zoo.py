"""The torchvision zoo plugin: specs against torchvision's metadata, conformance, weight import."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

import pytest
import torch
from torch import nn
from torchvision.models import video

import actdesk_torchvision
from actdesk.errors import ActdeskError, CheckpointError
from actdesk.ml.checkpoints import load_model
from actdesk.plugins import PluginManager, hookimpl
from actdesk.testing import check_model_conformance
from actdesk_torchvision.zoo import ZOO

SPECS = {spec.name: spec for spec in actdesk_torchvision.SPECS}
# Documented in torchvision's weights docs (meta["_docs"]): frames per second the
# weights were evaluated at, and clip length (S3D: 128, shortened on purpose, see README).
DOCUMENTED_FPS = {"tv-r2plus1d-18": 15, "tv-mc3-18": 15, "tv-s3d": 15, "tv-mvit-v2-s": 7.5, "tv-swin3d-t": 15}
SOURCE_FPS = 30


@pytest.fixture(scope="module")
def manager() -> PluginManager:
    manager = PluginManager(disabled=())
    manager.register_module("actdesk_torchvision")
    assert not manager.load_errors
    return manager


class ReducedInputZoo:
    """The zoo's own hooks, registered with clips small enough for a CPU test.

    The architectures accept any clip size except MViT (exactly 16x224x224,
    left as is) and S3D (224x224, 13 frames at least).
    """

    @hookimpl
    def actdesk_register_models(self, registry):
        for spec in actdesk_torchvision.SPECS:
            if spec.name == "tv-s3d":
                spec = dataclasses.replace(spec, clip_len=13)
            elif spec.name != "tv-mvit-v2-s":
                spec = dataclasses.replace(spec, clip_len=8, size=(64, 64))
            registry.add(spec)

    @hookimpl
    def actdesk_build_model(self, spec, num_classes):
        return actdesk_torchvision.actdesk_build_model(spec=spec, num_classes=num_classes)


@pytest.fixture(scope="module")
def reduced_manager() -> PluginManager:
    manager = PluginManager(disabled=())
    manager.register_module(ReducedInputZoo(), name="actdesk_torchvision")
    assert not manager.load_errors
    return manager


def test_registers_the_five_models(manager):
    assert sorted(e.name for e in manager.models()) == sorted(ZOO) == sorted(SPECS)
    assert {e.plugin for e in manager.models()} == {"actdesk_torchvision"}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_spec_follows_torchvision_metadata(name):
    spec = SPECS[name]
    weights = ZOO[name].weights
    preset = weights.transforms()
    assert spec.size == tuple(preset.crop_size)
    assert spec.mean == pytest.approx(tuple(preset.mean))
    assert spec.std == pytest.approx(tuple(preset.std))
    assert spec.clip_len >= weights.meta.get("min_temporal_size", 1)
    documented_clip = int(re.search(r"clip_len=(\d+)", weights.meta["_docs"]).group(1))
    assert spec.clip_len == (32 if name == "tv-s3d" else documented_clip)
    assert f"frame_rate={DOCUMENTED_FPS[name]}" in weights.meta["_docs"]
    assert spec.frame_step == round(SOURCE_FPS / DOCUMENTED_FPS[name])


@pytest.mark.parametrize("name", sorted(SPECS))
def test_builds_with_head_and_torchvision_layout(manager, name):
    spec = manager.spec(name)
    with torch.device("meta"):
        model = manager.build_model(name, 7)
        reference = ZOO[name].torchvision_builder(num_classes=7)
    head = model.get_submodule(spec.head)
    assert isinstance(head, nn.Linear) and head.out_features == 7
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    if name == "tv-s3d":  # the 1x1x1 classifier convolution becomes a matrix
        theirs["classifier.1.weight"] = theirs["classifier.1.weight"][:2]
    assert ours == theirs


@pytest.mark.parametrize("name", ["tv-mc3-18", "tv-r2plus1d-18", "tv-s3d", "tv-swin3d-t"])
def test_conformance_on_reduced_clips(reduced_manager, name):
    check_model_conformance(name, manager=reduced_manager)


@pytest.mark.slow
def test_mvit_conformance_at_its_only_size(reduced_manager):
    # about a minute and 5 GB on one CPU core: MViT accepts nothing smaller than 16x224x224
    check_model_conformance("tv-mvit-v2-s", manager=reduced_manager)


def test_mvit_forward_at_full_size(manager):
    spec = manager.spec("tv-mvit-v2-s")
    model = manager.build_model(spec.name, 4).eval()
    with torch.inference_mode():
        logits = model(torch.randn(1, 3, spec.clip_len, *spec.size))
    assert logits.shape == (1, 4) and torch.isfinite(logits).all()


# -- weight import (tv-s3d: the smallest file, and the one whose keys are converted) ----------

def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def s3d_state(tmp_path_factory) -> tuple[Path, nn.Module]:
    """A randomly initialised torchvision S3D (400 classes) saved as a torchvision-style .pth."""
    torch.manual_seed(3)
    model = video.s3d(num_classes=400).eval()
    path = tmp_path_factory.mktemp("weights") / "s3d_kinetics.pth"
    torch.save(model.state_dict(), path)
    return path, model


def test_import_gives_kinetics_labels_and_same_logits(manager, s3d_state):
    path, reference = s3d_state
    result = manager.import_weights("tv-s3d", path)
    assert result["labels"] == list(video.S3D_Weights.KINETICS400_V1.meta["categories"])
    assert len(result["labels"]) == 400 and result["labels"][0] == "abseiling"
    assert result["size"] == (224, 224) and result["clip_len"] == 32 and result["frame_step"] == 2
    assert result["mean"] == pytest.approx((0.43216, 0.394666, 0.37645))
    assert result["source"]["sha256_prefix"] is None  # no hash in the name: not checked
    model = manager.build_model("tv-s3d", len(result["labels"])).eval()
    model.load_state_dict(result["state_dict"], strict=True)
    # 24 frames pool to two time steps, so the head really averages before its linear map.
    clip = torch.randn(1, 3, 24, 224, 224)
    with torch.inference_mode():
        torch.testing.assert_close(model(clip), reference(clip), rtol=1e-4, atol=1e-5)


def test_load_model_imports_a_pth_through_the_plugin(manager, s3d_state):
    path, _ = s3d_state
    loaded = load_model(path, manager=manager, device="cpu", architecture="tv-s3d")
    assert loaded.meta.labels[:2] == ("abseiling", "air drumming") and len(loaded.meta.labels) == 400
    assert loaded.model.get_submodule("classifier.1").out_features == 400


def test_hash_in_file_name_is_checked(manager, s3d_state, tmp_path):
    source, _ = s3d_state
    digest = _sha256(source)
    good = tmp_path / f"s3d-{digest[:8]}.pth"
    good.write_bytes(source.read_bytes())
    assert manager.import_weights("tv-s3d", good)["source"]["sha256_prefix"] == digest[:8]

    recorded = video.S3D_Weights.KINETICS400_V1.url.rsplit("/", 1)[-1]  # s3d-d76dad2f.pth
    assert not digest.startswith("d76dad2f")
    bad = tmp_path / recorded
    bad.write_bytes(source.read_bytes())
    with pytest.raises(ActdeskError) as caught:
        manager.import_weights("tv-s3d", bad)
    message = str(caught.value)
    assert str(bad) in message and "d76dad2f" in message and digest in message


def test_hash_mismatch_is_a_checkpoint_error_from_the_hook(s3d_state, tmp_path):
    source, _ = s3d_state
    bad = tmp_path / "s3d-0123abcd.pth"
    bad.write_bytes(source.read_bytes())
    with pytest.raises(CheckpointError, match=r"SHA-256 mismatch.*0123abcd"):
        actdesk_torchvision.actdesk_import_weights(spec=SPECS["tv-s3d"], path=bad)


def test_another_architectures_file_is_refused(s3d_state):
    path, _ = s3d_state
    with pytest.raises(CheckpointError) as caught:
        actdesk_torchvision.actdesk_import_weights(spec=SPECS["tv-mc3-18"], path=path)
    message = str(caught.value)
    assert message.startswith(str(path)) and "does not fit" in message and "stem.0.weight" in message


def test_other_class_count_is_refused(tmp_path):
    path = tmp_path / "mc3_10_classes.pth"
    torch.save(video.mc3_18(num_classes=10).state_dict(), path)
    with pytest.raises(CheckpointError, match=r"wrong shape: fc\.weight \(10, 512\) \(expected \(400, 512\)\)"):
        actdesk_torchvision.actdesk_import_weights(spec=SPECS["tv-mc3-18"], path=path)


@pytest.mark.parametrize("content", ["text", "list", "pickled-module", "empty-dict", "missing"])
def test_not_a_state_dict_is_refused(tmp_path, content):
    path = tmp_path / "weights.pth"
    if content == "text":
        path.write_text("this is not a weight file\n")
    elif content == "list":
        torch.save([torch.zeros(2)], path)
    elif content == "pickled-module":
        torch.save(nn.Linear(2, 2), path)  # the whole model object, not its state dict
    elif content == "empty-dict":
        torch.save({}, path)
    with pytest.raises(CheckpointError) as caught:
        actdesk_torchvision.actdesk_import_weights(spec=SPECS["tv-mc3-18"], path=path)
    assert str(caught.value).startswith(str(path))
    if content == "pickled-module":
        assert "torch.nn.modules.linear.Linear" in str(caught.value)


def test_other_models_are_not_handled(tmp_path):
    spec = dataclasses.replace(SPECS["tv-mc3-18"], name="someone-elses")
    assert actdesk_torchvision.actdesk_build_model(spec=spec, num_classes=3) is None
    assert actdesk_torchvision.actdesk_import_weights(spec=spec, path=tmp_path / "x.pth") is None
