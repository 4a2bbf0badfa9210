"""Checkpoints: round trip, and a clear CheckpointError for every way a file can be bad."""

from __future__ import annotations

import json
import pickle
import struct

import pytest
import torch
from safetensors.torch import save_file

from actdesk.errors import CheckpointError, PluginError
from actdesk.ml.checkpoints import (
    CheckpointMeta,
    load_checkpoint,
    load_model,
    read_meta,
    save_checkpoint,
)

LABELS = ("idle", "walk", "wave")


def test_round_trip_keeps_weights_and_metadata(tmp_path, test_plugins):
    spec = test_plugins.spec("test-good")
    torch.manual_seed(3)
    net = test_plugins.build_model("test-good", len(LABELS))
    meta = CheckpointMeta.for_spec(spec, LABELS, provenance={"data": "synthetic", "seeds": [1, 2],
                                                                  "epochs": 3},
                                   metrics={"frame_accuracy": 0.97})
    path = tmp_path / "model.safetensors"
    save_checkpoint(path, net.state_dict(), meta)

    state_dict, loaded_meta = load_checkpoint(path)
    assert loaded_meta == meta
    assert read_meta(path) == meta
    assert (loaded_meta.architecture, loaded_meta.clip_len, loaded_meta.size) == ("test-good", 4, (16, 16))
    assert loaded_meta.provenance["seeds"] == [1, 2] and loaded_meta.metrics == {"frame_accuracy": 0.97}
    assert state_dict.keys() == net.state_dict().keys()
    for key, tensor in net.state_dict().items():
        assert torch.equal(state_dict[key], tensor), key
    assert not list(tmp_path.glob("*.tmp"))  # the temporary file was renamed away


def test_load_model_gives_the_saved_network_in_eval_mode(tmp_path, test_plugins):
    torch.manual_seed(4)
    net = test_plugins.build_model("test-good", 2).eval()
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, net.state_dict(), CheckpointMeta.for_spec(test_plugins.spec("test-good"), ["a", "b"]))

    loaded = load_model(path, manager=test_plugins, device="cpu")
    assert not loaded.model.training
    assert loaded.spec.name == "test-good" and loaded.plugin == "actdesk_testplugin_good"
    assert loaded.meta.labels == ("a", "b") and loaded.path == path
    clips = torch.rand(2, 3, 4, 16, 16)
    with torch.no_grad():
        assert torch.equal(loaded.model(clips), net(clips))


def test_metadata_json_round_trip_and_validation():
    meta = CheckpointMeta("m", ("a", "b"), clip_len=8, size=(32, 48), frame_step=2,
                          provenance={"data": "x"}, metrics={"f1@50": 0.9})
    assert CheckpointMeta.from_json(meta.to_json()) == meta
    standardised = CheckpointMeta("m", ("a",), clip_len=8, size=(32, 48), standardise_clips=True)
    assert CheckpointMeta.from_json(standardised.to_json()).standardise_clips is True
    # Files written before the setting existed load as not standardised.
    older = json.loads(standardised.to_json())
    del older["standardise_clips"]
    assert CheckpointMeta.from_json(json.dumps(older)).standardise_clips is False
    with pytest.raises(ValueError, match="standardise_clips must be true or false"):
        CheckpointMeta("m", ("a",), clip_len=8, size=(32, 48), standardise_clips=1)
    with pytest.raises(ValueError, match="twice"):
        CheckpointMeta("m", ("a", "a"), clip_len=8, size=(32, 48))
    with pytest.raises(ValueError, match="clip_len"):
        CheckpointMeta("m", ("a",), clip_len=0, size=(32, 48))
    with pytest.raises(ValueError, match="forbidden character"):
        CheckpointMeta("m", ("a/b",), clip_len=8, size=(32, 48))


def test_missing_file(tmp_path, test_plugins):
    path = tmp_path / "nope.safetensors"
    with pytest.raises(CheckpointError, match="not found") as e:
        load_model(path, manager=test_plugins)
    assert str(path) in str(e.value)


def test_folder_and_empty_file(tmp_path, test_plugins):
    with pytest.raises(CheckpointError, match="folder"):
        load_model(tmp_path, manager=test_plugins)
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load_checkpoint(empty)


class _Boom:
    """Unpickling this would create a file: proof that nothing unpickled it."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickled_pth_is_refused_without_being_unpickled(tmp_path, test_plugins):
    marker = tmp_path / "unpickled"
    legacy = tmp_path / "legacy.pth"
    legacy.write_bytes(pickle.dumps(_Boom(str(marker)), protocol=2))
    modern = tmp_path / "modern.pth"
    torch.save({"weight": torch.zeros(2), "evil": _Boom(str(marker))}, modern)

    with pytest.raises(CheckpointError, match="not an actdesk checkpoint.*pickle") as e:
        load_model(legacy, manager=test_plugins)
    assert str(legacy) in str(e.value)
    with pytest.raises(CheckpointError, match=r"not an actdesk checkpoint.*PyTorch \.pth"):
        load_checkpoint(modern)
    # Asked for by name, the file goes to the model's plugin, which does not take .pth files.
    with pytest.raises(CheckpointError, match="test-good.*cannot import") as e:
        load_model(modern, manager=test_plugins, architecture="test-good")
    assert str(modern) in str(e.value)
    assert not marker.exists()


def test_foreign_weights_are_imported_through_the_plugin(tmp_path, test_plugins):
    torch.manual_seed(5)
    net = test_plugins.build_model("test-good", 2)
    path = tmp_path / "other.testweights"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path), metadata={"labels": "x,y"})

    with pytest.raises(CheckpointError, match="without actdesk metadata"):
        load_model(path, manager=test_plugins)
    loaded = load_model(path, manager=test_plugins, architecture="test-good")
    assert loaded.meta.labels == ("x", "y")
    assert loaded.meta.provenance == {"imported_from": "other.testweights"}
    assert torch.equal(loaded.model.classifier.weight, net.classifier.weight)


def test_input_settings_of_imported_weights_are_kept(tmp_path, test_plugins):
    net = test_plugins.build_model("test-good", 2)
    path = tmp_path / "other.testweights"
    settings = {"clip_len": 6, "frame_step": 3, "size": [20, 24], "standardise_clips": True}
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path),
              metadata={"labels": "x,y", "input": json.dumps(settings)})
    meta = load_model(path, manager=test_plugins, architecture="test-good").meta
    assert (meta.clip_len, meta.frame_step, meta.size, meta.standardise_clips) == (6, 3, (20, 24), True)


@pytest.mark.parametrize("settings, problem", [
    ({"clip_len": -3}, "clip_len must be a positive integer, got -3"),
    ({"frame_step": "2"}, "frame_step must be a positive integer, got '2'"),
    ({"size": [0, 8]}, "size must be (height, width) in pixels"),
    ({"std": [0.2, 0.0, 0.2]}, "std positive"),
    ({"standardise_clips": "yes"}, "standardise_clips must be true or false, got 'yes'"),
    ({"labels": ["x", "x"]}, "labels contains a name twice"),
])
def test_unusable_metadata_from_a_plugins_import_names_the_plugin_and_the_field(tmp_path, test_plugins,
                                                                                 settings, problem):
    net = test_plugins.build_model("test-good", 2)
    path = tmp_path / "odd.testweights"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path),
              metadata={"labels": "x,y", "input": json.dumps(settings)})
    with pytest.raises(PluginError) as e:
        load_model(path, manager=test_plugins, architecture="test-good")
    message = str(e.value)
    assert "actdesk_testplugin_good" in message and "odd.testweights" in message
    assert problem in message


def test_truncated_file(tiny_checkpoint):
    data = tiny_checkpoint.read_bytes()
    tiny_checkpoint.write_bytes(data[: len(data) - 100])
    with pytest.raises(CheckpointError, match="truncated") as e:
        load_checkpoint(tiny_checkpoint)
    assert str(tiny_checkpoint) in str(e.value)
    tiny_checkpoint.write_bytes(data[:5])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(tiny_checkpoint)


def test_not_a_safetensors_file(tmp_path):
    text = tmp_path / "notes.safetensors"
    text.write_text("this is a text file, not weights\n")
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_checkpoint(text)


def test_corrupt_tensor_description(tiny_checkpoint):
    data = tiny_checkpoint.read_bytes()
    assert b'"F32"' in data
    tiny_checkpoint.write_bytes(data.replace(b'"F32"', b'"Q32"', 1))  # an unknown dtype, same length
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(tiny_checkpoint)


def _rewrite_metadata(path, actdesk_json: str | None) -> None:
    """Replace the actdesk metadata of a checkpoint (None: drop it), keeping the weights."""
    state_dict, _ = load_checkpoint(path)
    save_file(state_dict, str(path), metadata=None if actdesk_json is None else {"actdesk": actdesk_json})


def test_metadata_missing(tiny_checkpoint):
    _rewrite_metadata(tiny_checkpoint, None)
    with pytest.raises(CheckpointError, match="without actdesk metadata"):
        load_checkpoint(tiny_checkpoint)


@pytest.mark.parametrize("change, problem", [
    (lambda d: "{not json", "not valid JSON"),
    (lambda d: json.dumps({k: v for k, v in d.items() if k != "labels"}), "lacks labels"),
    (lambda d: json.dumps({**d, "labels": ["a", "a"]}), "twice"),
    (lambda d: json.dumps({**d, "clip_len": -1}), "clip_len"),
    (lambda d: json.dumps({**d, "format": 99}), "newer"),
    (lambda d: json.dumps({**d, "colour": "red"}), "unknown field"),
])
def test_metadata_invalid(tiny_checkpoint, change, problem):
    original = json.loads(read_meta(tiny_checkpoint).to_json())
    _rewrite_metadata(tiny_checkpoint, change(original))
    with pytest.raises(CheckpointError, match=f"invalid actdesk metadata.*{problem}") as e:
        load_checkpoint(tiny_checkpoint)
    assert str(tiny_checkpoint) in str(e.value)


def test_unknown_architecture_names_it_and_the_installed_ones(tiny_checkpoint, test_plugins):
    original = json.loads(read_meta(tiny_checkpoint).to_json())
    _rewrite_metadata(tiny_checkpoint, json.dumps({**original, "architecture": "no-such-net"}))
    with pytest.raises(CheckpointError, match="'no-such-net'.*available:.*test-good") as e:
        load_model(tiny_checkpoint, manager=test_plugins)
    assert str(tiny_checkpoint) in str(e.value)


def test_architecture_asked_for_must_match(tiny_checkpoint, test_plugins):
    with pytest.raises(CheckpointError, match="for model 'test-good', not 'test-hang'"):
        load_model(tiny_checkpoint, manager=test_plugins, architecture="test-hang")


def test_weights_that_do_not_fit_list_the_keys_and_shapes(tiny_checkpoint, test_plugins):
    state_dict, meta = load_checkpoint(tiny_checkpoint)
    del state_dict["features.1.running_mean"]
    state_dict["classifier.weight"] = torch.zeros(len(meta.labels), 7)
    state_dict["extra.bias"] = torch.zeros(1)
    save_checkpoint(tiny_checkpoint, state_dict, meta)
    with pytest.raises(CheckpointError) as e:
        load_model(tiny_checkpoint, manager=test_plugins)
    message = str(e.value)
    assert str(tiny_checkpoint) in message and "do not fit model 'test-good'" in message
    assert "missing: features.1.running_mean" in message
    assert "unexpected: extra.bias" in message
    assert "classifier.weight: checkpoint [3, 7] vs model [3, 4]" in message


def test_header_length_beyond_the_file(tmp_path):
    path = tmp_path / "liar.safetensors"
    path.write_bytes(struct.pack("<Q", 10_000) + b"{}")
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_checkpoint(path)


def test_cuda_asked_for_without_cuda_is_a_clear_error(tiny_checkpoint, test_plugins):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the error path needs a machine without")
    from actdesk.errors import ActdeskError

    with pytest.raises(ActdeskError, match="no CUDA device"):
        load_model(tiny_checkpoint, manager=test_plugins, device="cuda")


def test_find_checkpoint_prefers_the_bundled_model_then_the_newest_user_one(tmp_path, monkeypatch,
                                                                         make_checkpoint):
    import os

    from actdesk.ml.checkpoints import find_checkpoint

    monkeypatch.setenv("ACTDESK_RESOURCES", str(tmp_path / "resources"))
    monkeypatch.setenv("ACTDESK_HOME", str(tmp_path / "home"))
    with pytest.raises(CheckpointError, match="bundled checkpoint is missing"):
        find_checkpoint()
    with pytest.raises(CheckpointError, match="no checkpoint for model 'test-good'"):
        find_checkpoint("test-good")

    models = tmp_path / "home" / "models"
    models.mkdir(parents=True)
    older, newer = models / "older.safetensors", models / "newer.safetensors"
    make_checkpoint(seed=1).rename(older)
    make_checkpoint(seed=2).rename(newer)
    (models / "broken.safetensors").write_bytes(b"junk")
    os.utime(older, (1_000_000, 1_000_000))
    assert find_checkpoint("test-good") == newer
    with pytest.raises(CheckpointError, match="no checkpoint for model 'test-hang'"):
        find_checkpoint("test-hang")

    bundled = tmp_path / "resources" / "models" / "c3d-attention-synthetic.safetensors"
    bundled.parent.mkdir(parents=True)
    make_checkpoint(seed=3).rename(bundled)
    assert find_checkpoint() == bundled
    assert find_checkpoint("test-good") == bundled  # the bundled one is of that architecture here
