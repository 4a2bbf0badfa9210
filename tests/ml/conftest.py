"""Fixtures for the ml tests: the test plugins, tiny real checkpoints, a tiny video.

Shared by the inference and training tests: add fixtures, do not rewrite others'.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

TEST_PLUGINS_DIR = Path(__file__).resolve().parent.parent / "plugins" / "broken"
TINY_LABELS = ("idle", "walk", "wave")


@pytest.fixture
def test_plugins(monkeypatch) -> "PluginManager":  # noqa: F821
    """A plugin manager holding only the test plugins: ``test-good`` and the faulty models."""
    from actdesk.plugins import PluginManager

    monkeypatch.syspath_prepend(str(TEST_PLUGINS_DIR))
    manager = PluginManager(disabled=())
    for module in ("actdesk_testplugin_good", "actdesk_testplugin_faulty_models"):
        manager.register_module(module)
    assert not manager.load_errors, manager.load_errors
    return manager


def save_tiny_checkpoint(path: Path, manager, *, model: str = "test-good", labels=TINY_LABELS,
                         seed: int = 0) -> Path:
    """Build ``model`` with seeded random weights and save it as an actdesk checkpoint."""
    import torch

    from actdesk.ml.checkpoints import CheckpointMeta, save_checkpoint

    torch.manual_seed(seed)
    net = manager.build_model(model, len(labels))
    with torch.no_grad():  # BatchNorm statistics away from identity, so they matter
        for name, buffer in net.named_buffers():
            if buffer.is_floating_point():
                buffer.uniform_(0.5, 1.5) if "var" in name else buffer.uniform_(-0.2, 0.2)
    meta = CheckpointMeta.for_spec(manager.spec(model), labels, provenance={"seed": seed, "data": "test"})
    save_checkpoint(path, net.state_dict(), meta)
    return path


@pytest.fixture
def make_checkpoint(tmp_path, test_plugins):
    """``make_checkpoint(model="test-good", labels=TINY_LABELS, seed=0) -> Path`` of a fresh checkpoint."""
    def make(model: str = "test-good", labels=TINY_LABELS, seed: int = 0) -> Path:
        path = tmp_path / f"{model}-{seed}.safetensors"
        return save_tiny_checkpoint(path, test_plugins, model=model, labels=labels, seed=seed)

    return make


@pytest.fixture
def tiny_checkpoint(make_checkpoint) -> Path:
    """A ``test-good`` checkpoint with labels :data:`TINY_LABELS`."""
    return make_checkpoint()


@pytest.fixture(scope="session")
def tiny_video(tmp_path_factory) -> Path:
    """60 code frames (2.4 s, each frame different) at 96x72, 25 fps, B-frames and a GOP of 12."""
    from videos import make_video

    return make_video(tmp_path_factory.mktemp("video") / "tiny.mp4", frames=60, gop=12, bframes=2)


@pytest.fixture
def hang_release(test_plugins) -> threading.Event:
    """Arms the ``test-hang`` model; at teardown lets every hung forward return."""
    import testplugin_models

    testplugin_models.HANG_RELEASE.clear()
    yield testplugin_models.HANG_RELEASE
    testplugin_models.HANG_RELEASE.set()
