"""Fixtures for the GUI tests (offscreen Qt, a per-test user folder, small real videos and models)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

HERE = Path(__file__).resolve().parent
LABELS = ("idle", "walk", "run", "jump", "wave")


class Gui:
    """What the GUI tests do again and again: open, choose a model, click and drag for real."""

    labels = LABELS

    def __init__(self, qtbot):
        self.qtbot = qtbot

    @staticmethod
    def save_checkpoint(manager, model: str, path: Path, labels=LABELS, seed: int = 0) -> Path:
        """Seeded random weights of ``model`` saved as an actdesk checkpoint."""
        import torch

        from actdesk.ml.checkpoints import CheckpointMeta, save_checkpoint

        torch.manual_seed(seed)
        net = manager.build_model(model, len(labels))
        save_checkpoint(path, net.state_dict(), CheckpointMeta.for_spec(manager.spec(model), labels))
        return path

    def open_project(self, window, path: Path) -> None:
        assert window.open_project(path)
        self.qtbot.waitUntil(lambda: window.player.current_frame == 0, timeout=10000)
        window.flush()

    def wait_for_catalogue(self, window) -> None:
        window.load_plugins_in_background()
        self.qtbot.waitUntil(lambda: window.catalogue is not None, timeout=120000)

    def choose_model(self, window, model: str, checkpoint: Path) -> None:
        self.wait_for_catalogue(window)
        panel = window.model_panel
        panel.model_box.setCurrentIndex(panel.model_box.findData(model))
        panel.set_checkpoint(checkpoint)
        assert panel.checkpoint() == checkpoint

    @staticmethod
    def view_pos(timeline, seconds: float, row: float):
        """Pixel position in the timeline's rows view of (time, row)."""
        from PySide6.QtCore import QPointF

        scene = timeline.tracks_view.mapViewToScene(QPointF(seconds, row))
        return timeline.tracks_plot.mapFromScene(scene)

    def click(self, widget, pos, modifier=None) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QApplication

        self.qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, modifier or Qt.KeyboardModifier.NoModifier, pos)
        QApplication.processEvents()

    def drag(self, widget, start, end, steps: int = 6) -> None:
        """A left-button drag with real press/move/release events (QTest moves carry no buttons)."""
        from PySide6.QtCore import QEvent, QPointF, Qt
        from PySide6.QtGui import QMouseEvent
        from PySide6.QtWidgets import QApplication

        # A press soon after the last release is part of a double click for pyqtgraph, not a drag.
        self.qtbot.wait(QApplication.doubleClickInterval() + 50)
        left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton

        def send(kind, pos, button, buttons):
            p = QPointF(pos)
            QApplication.sendEvent(widget, QMouseEvent(kind, p, widget.mapToGlobal(p), button, buttons,
                                                       Qt.KeyboardModifier.NoModifier))

        send(QEvent.Type.MouseButtonPress, start, left, left)
        for i in range(1, steps + 1):
            t = i / steps
            send(QEvent.Type.MouseMove, QPointF(start.x() + (end.x() - start.x()) * t,
                                                start.y() + (end.y() - start.y()) * t), none, left)
            QApplication.processEvents()
        send(QEvent.Type.MouseButtonRelease, end, left, none)
        QApplication.processEvents()


@pytest.fixture
def gui(qtbot) -> Gui:
    return Gui(qtbot)


@pytest.fixture(autouse=True)
def user_home(tmp_path, monkeypatch) -> Path:
    """Recent files, logs and user checkpoints go to a fresh folder per test."""
    home = tmp_path / "home"
    monkeypatch.setenv("ACTDESK_HOME", str(home))
    return home


@pytest.fixture
def plugins(monkeypatch):
    """The app's plugin manager with the GUI test plugin registered; reset afterwards."""
    from actdesk.plugins import get_plugin_manager, reset_plugin_manager

    monkeypatch.syspath_prepend(str(HERE))
    reset_plugin_manager()
    manager = get_plugin_manager()
    manager.register_module("qt_test_plugin")
    yield manager
    reset_plugin_manager()


@pytest.fixture
def tiny_checkpoint(plugins, tmp_path) -> Path:
    return Gui.save_checkpoint(plugins, "qt-tiny", tmp_path / "qt-tiny.safetensors")


@pytest.fixture
def slow_checkpoint(plugins, tmp_path) -> Path:
    return Gui.save_checkpoint(plugins, "qt-slow", tmp_path / "qt-slow.safetensors")


@pytest.fixture(scope="session")
def synth_video(tmp_path_factory) -> Path:
    """6 s of synthetic actions at 160x120 (an evaluation seed)."""
    from actdesk.synth import generate_video

    path = tmp_path_factory.mktemp("synth") / "actions.mp4"
    generate_video(path, seconds=6, seed=10011, size=(160, 120))
    return path


@pytest.fixture(scope="session")
def code_video(tmp_path_factory) -> Path:
    """120 frames whose index is readable from the pixels (tests/videos.py), B-frames, GOP 25."""
    from videos import make_video

    return make_video(tmp_path_factory.mktemp("code") / "code.mp4", frames=120, gop=25, bframes=2)


@pytest.fixture
def project_path(tmp_path, synth_video) -> Path:
    """A project beside a copy of the synthetic video, with the label set :data:`LABELS`."""
    import shutil

    from actdesk.core.commands import AddLabel, Batch
    from actdesk.core.project import Project

    video = tmp_path / "actions.mp4"
    shutil.copyfile(synth_video, video)
    path = tmp_path / "test.actdesk"
    with Project.create(path) as project:
        project.add_video(video)
        project.execute(Batch("labels", [AddLabel(name) for name in LABELS]))
    return path


@pytest.fixture
def window(qtbot):
    """The main window, shown offscreen; closed (releasing its project) at the end."""
    from actdesk.qt.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
