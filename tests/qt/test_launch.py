"""The launch forms end to end in fresh processes: ``--smoke-test``, ``demo --screenshot``, ``actdesk VIDEO``.

The default model here is a c3d-attention checkpoint with untrained weights put
where the bundled one lives ($ACTDESK_RESOURCES): these tests check the GUI
paths, not the model's accuracy (the training tests do that).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def resources(tmp_path_factory) -> Path:
    import torch

    from actdesk.ml.checkpoints import CheckpointMeta, save_checkpoint
    from actdesk.plugins import PluginManager
    from actdesk.synth import ACTIONS

    folder = tmp_path_factory.mktemp("resources")
    (folder / "models").mkdir()
    manager = PluginManager()
    manager.load_plugins()
    torch.manual_seed(0)
    model = manager.build_model("c3d-attention", len(ACTIONS))
    save_checkpoint(folder / "models" / "c3d-attention-synthetic.safetensors", model.state_dict(),
                    CheckpointMeta.for_spec(manager.spec("c3d-attention"), ACTIONS))
    return folder


def run_actdesk(args: list[str], home: Path, resources: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(ACTDESK_HOME=str(home), ACTDESK_RESOURCES=str(resources), OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "actdesk", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_smoke_test_exits_0_with_nothing_on_stderr(tmp_path, resources):
    result = run_actdesk(["--smoke-test"], tmp_path / "home", resources)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_smoke_test_fails_loudly_without_a_default_model(tmp_path):
    empty = tmp_path / "no-resources"
    empty.mkdir()
    result = run_actdesk(["--smoke-test"], tmp_path / "home", empty)
    assert result.returncode == 1
    assert "smoke test failed" in result.stderr and "bundled checkpoint is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_headless_writes_a_screenshot_and_reports_accuracy(tmp_path, resources):
    shot = tmp_path / "shots" / "demo.png"
    result = run_actdesk(["demo", "--screenshot", str(shot), "--seconds", "4", "--dir", str(tmp_path / "demo")],
                         tmp_path / "home", resources)
    assert result.returncode == 0, result.stderr
    assert "frame accuracy against the truth" in result.stdout
    from PySide6.QtGui import QImage

    image = QImage(str(shot))
    assert image.width() >= 1200 and image.height() >= 700
    # The demo project holds the run: the model track covers the whole video.
    from actdesk.core.project import Project

    with Project.open(tmp_path / "demo" / "demo.actdesk", readonly=True) as project:
        video = project.videos()[0]
        (track,) = [t for t in project.tracks(video.id) if t.kind == "model"]
        assert project.segments(track.id)[-1].end_frame == video.frame_count
