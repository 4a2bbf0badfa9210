"""The Export dialog: a real export to a folder, the non-empty-folder question, cancel, errors in a dialog."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from actdesk.core.commands import import_segments
from actdesk.core.project import Project
from actdesk.core.segments import Segment
from actdesk.formats.segments_csv import read_segments_csv

pytestmark = pytest.mark.gui

SEGMENTS = [Segment(0, 40, "walk"), Segment(40, 90, "wave"), Segment(100, 150, "idle")]


@pytest.fixture
def project(project_path):
    """The GUI tests' project (one 6 s synthetic video) with three human segments; open for editing."""
    with Project.open(project_path) as project:
        video = project.videos()[0]
        project.execute(import_segments(project, [s.with_(video=video.name) for s in SEGMENTS]))
        yield project


def boxes(name: str) -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.objectName() == name
            and w.isVisible()]


def make_dialog(qtbot, project):
    from actdesk.qt.export_dialog import ExportDialog

    dialog = ExportDialog(project)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_export_csv_to_a_folder(qtbot, project, tmp_path):
    dialog = make_dialog(qtbot, project)
    # Every exporting format of the registry is offered; the human track is checked, the split is for training sets.
    offered = {dialog.format_box.itemData(i) for i in range(dialog.format_box.count())} - {None}
    assert {"csv", "clips", "mmaction", "elan", "overlay"} <= offered
    assert dialog.tracks() == ["human"]
    assert dialog.videos() is None
    dialog.set_format("elan")
    assert not dialog.split_group.isEnabled()
    dialog.set_format("csv")
    assert dialog.split_group.isEnabled()

    out = tmp_path / "export"
    dialog.out_edit.setText(str(out))
    with qtbot.waitSignal(dialog.exported, timeout=60000) as done:
        assert dialog.start() is None  # a new folder needs no question
    result = done.args[0]
    qtbot.waitUntil(lambda: dialog.task is None)
    assert result.format == "csv" and result.segments == 3 and result.folder == out
    assert (out / "labels.txt").is_file()
    written = [p for p in result.files if p.suffix == ".csv"]
    assert written and [(s.start_frame, s.end_frame, s.label) for p in written for s in read_segments_csv(p)] == \
        [(s.start_frame, s.end_frame, s.label) for s in SEGMENTS]
    assert "Exported 3 segments of 1 video as csv" in dialog.status.text()
    assert dialog.progress.value() == dialog.progress.maximum() and dialog.export_button.isEnabled()
    assert dialog.open_button.isEnabled()
    dialog.grab().save("/tmp/actdesk-export-dialog.png")

    # Exporting into the same, now non-empty, folder asks first; "Export anyway" overwrites.
    dialog.set_format("elan")
    box = dialog.start()
    assert box is not None and "already holds" in box.text() and dialog.task is None
    with qtbot.waitSignal(dialog.exported, timeout=60000):
        next(b for b in box.buttons() if b.text() == "Export anyway").click()
    qtbot.waitUntil(lambda: dialog.task is None)
    assert list(out.glob("*.eaf"))


def test_cancel_a_clips_export(qtbot, project, tmp_path):
    dialog = make_dialog(qtbot, project)
    dialog.set_format("clips")
    out = tmp_path / "clips"
    dialog.out_edit.setText(str(out))
    exported = []
    dialog.exported.connect(exported.append)
    dialog.start()
    assert dialog.task is not None and dialog.cancel_button.isEnabled() and not dialog.export_button.isEnabled()
    task = dialog.task
    with qtbot.waitSignal(task.cancelled, timeout=60000):
        dialog.cancel_button.click()
    qtbot.waitUntil(lambda: dialog.task is None)
    assert exported == [] and dialog.result is None
    assert "cancelled" in dialog.status.text() and dialog.progress.format() == "cancelled"
    assert dialog.export_button.isEnabled() and not dialog.cancel_button.isEnabled()
    # Cutting 140 frames was stopped: not every clip was written.
    assert len(list(out.rglob("*.mp4"))) < len(SEGMENTS)


def test_engine_refusals_are_shown_in_a_dialog(qtbot, project, tmp_path):
    dialog = make_dialog(qtbot, project)
    dialog.start()  # no folder chosen
    qtbot.waitUntil(lambda: bool(boxes("errorDialog")), timeout=5000)
    assert "choose the folder" in boxes("errorDialog")[-1].text()
    boxes("errorDialog")[-1].close()

    dialog.out_edit.setText(str(tmp_path / "bad-split"))
    dialog.split_boxes[0].setValue(0.9)  # 0.9 + 0.15 + 0.15 does not add up to 1
    dialog.start()
    qtbot.waitUntil(lambda: bool(boxes("errorDialog")), timeout=5000)
    assert "must add up to 1" in boxes("errorDialog")[-1].text()
    boxes("errorDialog")[-1].close()

    # A refusal from inside the export (the video file is gone) arrives from the worker as a dialog.
    dialog.split_boxes[0].setValue(0.7)
    dialog.set_format("clips")
    Path(project.videos()[0].abs_path).unlink()
    dialog.start()
    qtbot.waitUntil(lambda: bool(boxes("errorDialog")), timeout=60000)
    box = boxes("errorDialog")[-1]
    assert box.windowTitle() == "Export failed" and "missing" in box.text() and "actions.mp4" in box.text()
    assert dialog.task is None and dialog.export_button.isEnabled() and dialog.progress.format() == "failed"
