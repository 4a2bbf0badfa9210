"""Bad input becomes a dialog that says what happened; the app keeps running."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox


pytestmark = pytest.mark.gui


def shown_boxes(window) -> list[QMessageBox]:
    QApplication.processEvents()
    return [b for b in window.findChildren(QMessageBox) if b.isVisible()]


def last_message(window) -> str:
    boxes = shown_boxes(window)
    assert boxes, "no dialog was shown"
    return boxes[-1].windowTitle() + "\n" + boxes[-1].text()


def test_a_bad_video_shows_a_dialog_naming_it(qtbot, window, tmp_path):
    bad = tmp_path / "holiday.mp4"
    bad.write_text("this is not a video\n")
    assert window.open_path(bad) is False
    message = last_message(window)
    assert "Cannot open the video" in message and "holiday.mp4" in message
    assert window.document is None
    assert window.open_path(tmp_path / "nowhere.mkv") is False
    assert "nowhere.mkv" in last_message(window) and "not found" in last_message(window)


def test_a_project_from_a_newer_actdesk_is_refused_untouched(qtbot, window, project_path):
    db = sqlite3.connect(project_path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    before = project_path.read_bytes()
    assert window.open_path(project_path) is False
    message = last_message(window)
    assert "schema 99" in message and "update actdesk" in message
    assert project_path.read_bytes() == before


def test_damaged_stored_curves_cost_only_the_curves(qtbot, window, project_path):
    import numpy as np

    from actdesk.core.commands import AddModelTrack
    from actdesk.core.project import Project, TrackScores
    from actdesk.core.segments import Segment

    with Project.open(project_path) as project:
        video = project.videos()[0]
        run = AddModelTrack(video.id, "qt-tiny", None, [Segment(0, 10, "walk", confidence=0.9)],
                            scores=TrackScores(("walk", "run"), np.arange(10), np.full((10, 2), 0.5)))
        project.execute(run)
        with project.transaction():
            project.db.execute("UPDATE track_scores SET frames = x'0102'")
    assert window.open_path(project_path)
    assert not shown_boxes(window)  # a passing note, not a dialog
    message = window.statusBar().currentMessage()
    assert f"stored scores of track #{run.track_id} are unreadable" in message and "test.actdesk" in message
    window.flush()
    assert len(window.timeline.track(run.track_id)) == 1 and window.timeline.curve_names() == []


def test_a_project_open_in_another_actdesk_is_refused(qtbot, window, project_path):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from actdesk.core.project import Project
        p = Project.open({str(project_path)!r})
        print("open", flush=True)
        sys.stdin.read()
        p.close()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        assert window.open_path(project_path) is False
        message = last_message(window)
        assert "open in another actdesk" in message and f"pid {holder.pid}" in message
    finally:
        holder.communicate("", timeout=30)
    assert window.open_path(project_path) is True  # once the other one has closed it


def test_a_moved_video_is_offered_for_relinking(qtbot, window, project_path, tmp_path, code_video):
    video = tmp_path / "actions.mp4"
    moved = tmp_path / "elsewhere" / "actions.mp4"
    moved.parent.mkdir()
    shutil.move(video, moved)
    assert window.open_path(project_path)
    assert len(shown_boxes(window)) == 1
    assert "actions.mp4" in last_message(window)
    assert "Relink…" in [b.text() for b in shown_boxes(window)[-1].buttons()]
    assert not window.relink(window.document.video.id, code_video)  # another video: refused
    assert "content differs" in last_message(window)
    assert window.relink(window.document.video.id, moved)
    qtbot.waitUntil(lambda: window.player.current_frame == 0, timeout=5000)
    assert window.document.project.missing_videos() == []


def test_a_broken_plugin_is_named_and_the_others_still_work(gui, qtbot, window, plugins, project_path):
    plugins.register_module("qt_broken_plugin")
    gui.open_project(window, project_path)
    gui.wait_for_catalogue(window)
    message = last_message(window)
    assert "qt_broken_plugin" in message and "failed to load" in message
    names = [window.model_panel.model_box.itemData(i) for i in range(window.model_panel.model_box.count())]
    assert "qt-tiny" in names
    assert not window.model_panel.plugin_errors.isHidden()
    assert "qt_broken_plugin" in window.model_panel.plugin_errors.text()


@pytest.mark.qt_no_exception_capture
def test_an_unexpected_error_is_logged_and_shown_and_the_app_keeps_running(qtbot, window, user_home):
    from actdesk.qt.dialogs import CrashHandler, log_path, setup_logging

    setup_logging()
    handler = CrashHandler()
    handler.install()
    try:
        def buggy_slot():
            raise RuntimeError("a bug in a slot")

        QTimer.singleShot(0, buggy_slot)
        qtbot.waitUntil(lambda: bool(handler.shown), timeout=5000)
    finally:
        handler.uninstall()
    box = handler.shown[-1]
    assert "a bug in a slot" in box.text() and str(log_path()) in box.text()
    assert log_path().is_relative_to(user_home)
    log = log_path().read_text()
    assert "Traceback" in log and "RuntimeError: a bug in a slot" in log
    assert window.isVisible()


def test_without_a_screen_the_app_says_so_instead_of_crashing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["ACTDESK_HOME"] = str(tmp_path)
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "actdesk"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "no display" in result.stderr and "Traceback" not in result.stderr
    assert time.monotonic() - started < 60
