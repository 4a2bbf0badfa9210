"""Editing in the window with keys and mouse; every edit is a store command, undoable, and on disk."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from actdesk.core.commands import AddModelTrack
from actdesk.core.project import Project
from actdesk.core.segments import Segment

pytestmark = pytest.mark.gui


def add_model_track(window, rows: list[tuple[int, int, str, float]]) -> int:
    """A model track as a run would leave it (through the same command)."""
    segs = [Segment(a, b, label, confidence=c, source="qt-tiny") for a, b, label, c in rows]
    command = AddModelTrack(window.document.video.id, "qt-tiny", None, segs)
    assert window.run_command(command)
    window.flush()
    return command.track_id


def key(qtbot, window, k, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(window.timeline.tracks_plot, k, modifier)
    QApplication.processEvents()
    window.flush()


def seek(qtbot, window, frame: int) -> None:
    window.player.seek(frame)
    qtbot.waitUntil(lambda: window.player.current_frame == frame, timeout=5000)


def rows(project: Project, track_id: int) -> list[tuple]:
    return [(s.start_frame, s.end_frame, s.label, s.status) for s in project.segments(track_id)]


def assert_timeline_shows_the_store(window) -> None:
    """Every track row on the timeline holds exactly the store's segments (ids, frames, labels, status)."""
    window.flush()
    labels = window.timeline.labels
    for track in window.document.tracks():
        shown = window.timeline.track(track.id)
        stored = window.document.project.segments(track.id)
        assert [(int(i), int(a), int(b), labels[int(k)], int(st)) for i, a, b, k, st in zip(
            shown.ids, shown.start_frame, shown.end_frame, shown.label_index, shown.status)] == \
            [(s.id, s.start_frame, s.end_frame, s.label, ("pending", "accepted", "rejected").index(s.status))
             for s in stored]


@pytest.fixture
def editing(gui, qtbot, window, project_path):
    gui.open_project(window, project_path)
    window.activateWindow()
    window.timeline.tracks_plot.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=5000)
    return window


def test_keyboard_and_mouse_edits_undo_redo_and_survive_reopening(gui, qtbot, editing, project_path):
    w = editing
    doc = w.document
    model = add_model_track(w, [(0, 40, "idle", 0.9), (40, 90, "walk", 0.4), (90, 150, "run", 0.7)])
    human = doc.human_track().id
    view = w.timeline.tracks_plot.viewport()
    fps = 25.0

    # Click a model segment (row 1), accept it with A.
    gui.click(view, gui.view_pos(w.timeline, 1.0, 1.5))
    assert doc.selected_track == model and len(doc.selected_ids) == 1
    key(qtbot, w, Qt.Key.Key_A)
    assert rows(doc.project, model)[0] == (0, 40, "idle", "accepted")

    # Select the walk segment and relabel it with the number key 3 (third label: run).
    gui.click(view, gui.view_pos(w.timeline, 2.5, 1.5))
    key(qtbot, w, Qt.Key.Key_3)
    assert rows(doc.project, model)[1][2] == gui.labels[2]
    key(qtbot, w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert rows(doc.project, model)[1][2] == "walk"
    key(qtbot, w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert rows(doc.project, model)[1][2] == gui.labels[2]

    # I/O marks then Enter: a human segment from frame 10 to frame 30 inclusive, with the chosen label.
    key(qtbot, w, Qt.Key.Key_Escape)
    key(qtbot, w, Qt.Key.Key_2)  # nothing selected: "walk" becomes the label for new segments
    seek(qtbot, w, 10)
    key(qtbot, w, Qt.Key.Key_I)
    seek(qtbot, w, 30)
    key(qtbot, w, Qt.Key.Key_O)
    key(qtbot, w, Qt.Key.Key_Return)
    assert rows(doc.project, human) == [(10, 31, "walk", "accepted")]

    # Split at the playhead with S, merge back with M.
    seek(qtbot, w, 20)
    key(qtbot, w, Qt.Key.Key_S)
    assert [r[:2] for r in rows(doc.project, human)] == [(10, 20), (20, 31)]
    assert_timeline_shows_the_store(w)
    gui.click(view, gui.view_pos(w.timeline, 12 / fps, 0.5))
    key(qtbot, w, Qt.Key.Key_M)
    assert [r[:2] for r in rows(doc.project, human)] == [(10, 31)]
    assert_timeline_shows_the_store(w)

    # Drag the human segment's end boundary from frame 31 to frame 40 (snaps to the model boundary at 40).
    gui.drag(view, gui.view_pos(w.timeline, 31 / fps, 0.5), gui.view_pos(w.timeline, 39.8 / fps, 0.5))
    w.flush()
    assert [r[:2] for r in rows(doc.project, human)] == [(10, 40)]

    # Draw a new human segment by dragging on the empty human row.
    gui.drag(view, gui.view_pos(w.timeline, 100 / fps, 0.5), gui.view_pos(w.timeline, 120 / fps, 0.5))
    w.flush()
    assert [r[:2] for r in rows(doc.project, human)] == [(10, 40), (100, 120)]

    # Reject the last model segment (R), delete the accepted first one (Delete).
    gui.click(view, gui.view_pos(w.timeline, 5.0, 1.5))
    key(qtbot, w, Qt.Key.Key_R)
    gui.click(view, gui.view_pos(w.timeline, 0.5, 1.5))
    key(qtbot, w, Qt.Key.Key_Delete)
    expected_model = [(40, 90, gui.labels[2], "pending"), (90, 150, "run", "rejected")]
    assert rows(doc.project, model) == expected_model
    expected_human = rows(doc.project, human)
    assert_timeline_shows_the_store(w)

    # Undo all the way back and redo all the way forward: the same rows again.
    while doc.project.undo_stack.can_undo():
        key(qtbot, w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert w.timeline.track(human) is not None and len(w.timeline.track(human)) == 0
    assert not any(t.kind == "model" for t in doc.tracks())
    assert_timeline_shows_the_store(w)
    while doc.project.undo_stack.can_redo():
        key(qtbot, w, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert rows(doc.project, model) == expected_model
    assert rows(doc.project, human) == expected_human
    assert_timeline_shows_the_store(w)
    # The timeline shows what the store holds.
    shown = w.timeline.track(human)
    assert list(zip(shown.start_frame, shown.end_frame)) == [(10, 40), (100, 120)]

    w.close_document()
    with Project.open(project_path, readonly=True) as reopened:
        video = reopened.videos()[0]
        tracks = {t.kind: t.id for t in reopened.tracks(video.id)}
        assert rows(reopened, tracks["model"]) == expected_model
        assert rows(reopened, tracks["human"]) == expected_human


def test_copy_model_track_to_human(qtbot, editing):
    w = editing
    model = add_model_track(w, [(0, 50, "idle", 0.9), (50, 150, "jump", 0.8)])
    w.document.select(model, [])
    w.act_copy.trigger()
    human = w.document.human_track().id
    assert [(s.start_frame, s.end_frame, s.label) for s in w.document.project.segments(human)] == \
        [(0, 50, "idle"), (50, 150, "jump")]
    w.undo()
    assert w.document.project.segments(human) == []


def test_review_queue_least_certain_first_enter_jumps_and_edits_move_on(qtbot, editing):
    w = editing
    model = add_model_track(w, [(0, 30, "idle", 0.9), (30, 60, "walk", 0.3), (60, 100, "run", 0.6),
                                (100, 150, "jump", 0.5)])
    queue = w.review
    queue.refresh()
    assert [seg.confidence for seg, _ in queue.model.rows] == [0.3, 0.5, 0.6, 0.9]
    w.side_tabs.setCurrentWidget(queue)
    queue.table.setFocus()
    queue.table.selectRow(0)
    qtbot.keyClick(queue.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.player.current_frame == 30, timeout=5000)
    assert w.document.selected_ids == [queue.model.rows[0][0].id]

    key(qtbot, w, Qt.Key.Key_A)  # accept: it leaves the "pending" list, the next (0.5) is selected
    qtbot.waitUntil(lambda: w.player.current_frame == 100, timeout=5000)
    statuses = {s.start_frame: s.status for s in w.document.project.segments(model)}
    assert statuses[30] == "accepted"
    assert queue.current_segment().start_frame == 100
    assert w.document.selected_ids == [queue.current_segment().id]

    key(qtbot, w, Qt.Key.Key_1)  # relabel as idle: stays pending, the queue moves on to 0.6
    qtbot.waitUntil(lambda: w.player.current_frame == 60, timeout=5000)
    assert {s.start_frame: s.label for s in w.document.project.segments(model)}[100] == "idle"

    # Filters: label "idle" shows the two idle segments still pending; a confidence range narrows it.
    queue.label_filter.setCurrentText("idle")
    queue.refresh()
    assert [seg.start_frame for seg, _ in queue.model.rows] == [100, 0]
    queue.min_conf.setValue(0.7)
    queue.refresh()
    assert [seg.start_frame for seg, _ in queue.model.rows] == [0]
    queue.label_filter.setCurrentIndex(0)
    queue.min_conf.setValue(0.0)

    # Accept all at or above 0.55: the 0.6 and 0.9 segments.
    queue.threshold.setValue(0.55)
    queue.accept_button.click()
    statuses = {s.start_frame: s.status for s in w.document.project.segments(model)}
    assert statuses == {0: "accepted", 30: "accepted", 60: "accepted", 100: "pending"}


def test_label_set_editor_rename_keys_colour_and_delete(gui, qtbot, editing):
    w = editing
    model = add_model_track(w, [(0, 75, "idle", 0.9), (75, 150, "walk", 0.8)])
    dialog = w.edit_labels()
    assert dialog.isVisible()
    assert dialog.rename_label("idle", "rest")
    assert [s.label for s in w.document.project.segments(model)] == ["rest", "walk"]
    # Editing the name cell in place does the same (and a bad name is refused, the cell restored).
    row = [dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())].index("wave")
    dialog.table.item(row, 1).setText("waving")
    assert "waving" in w.document.label_names() and "wave" not in w.document.label_names()
    dialog.table.item(row, 1).setText("bad/name")
    assert dialog.table.item(row, 1).text() == "waving"
    boxes = dialog.findChildren(QMessageBox) + w.findChildren(QMessageBox)
    assert any("bad/name" in b.text() for b in boxes)
    for box in boxes:
        box.close()
    assert w.palette_bar.buttons.keys() >= {"rest"}
    assert dialog.set_colour("walk", "#123456")
    assert w.document.project.label_row("walk").label.colour == "#123456"
    assert dialog.set_shortcut("jump", "q")
    dialog.close()
    w.activateWindow()
    w.flush()
    gui.click(w.timeline.tracks_plot.viewport(), gui.view_pos(w.timeline, 1.0, 1.5))
    key(qtbot, w, Qt.Key.Key_Q)
    assert [s.label for s in w.document.project.segments(model)][0] == "jump"
    # A key the window already uses is refused with a dialog.
    assert not dialog.set_shortcut("run", "a")
    assert any(isinstance(b, QMessageBox) and "already an editing key" in b.text()
               for b in QApplication.topLevelWidgets() + dialog.findChildren(QMessageBox))
    # A label in use cannot go without a new home for its segments.
    assert not dialog.delete_label("walk")
    assert dialog.delete_label("walk", reassign_to="run")
    assert [s.label for s in w.document.project.segments(model)] == ["jump", "run"]
    assert "walk" not in w.document.label_names()
    w.undo()
    assert "walk" in w.document.label_names()


def test_dropped_video_joins_the_project_and_recent_files_remember(qtbot, editing, code_video, project_path):
    from actdesk.qt.recent import recent_files

    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    w = editing
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(code_video))])
    point = QPointF(300, 300)
    enter = QDragEnterEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(w, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(w, QDropEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                         Qt.KeyboardModifier.NoModifier))
    videos = w.document.project.videos()
    assert [v.name for v in videos][-1] == code_video.name
    assert w.document.video.id == videos[-1].id
    qtbot.waitUntil(lambda: w.player.current_frame == 0, timeout=5000)
    assert np.isclose(w.timeline.duration_s, videos[-1].end_time_s)
    assert project_path.resolve() in recent_files()


def test_export_train_and_plugins_dialogs_open_from_the_window(qtbot, editing, plugins):
    w = editing
    for open_dialog, name in ((w.open_export, "exportDialog"), (w.open_train, "trainDialog"),
                              (w.open_plugins, "pluginsDialog")):
        dialog = open_dialog()
        assert dialog.isVisible() and dialog.objectName() == name
        dialog.close()


def test_a_bare_video_gets_a_temporary_project_that_save_keeps(qtbot, window, synth_video, tmp_path):
    import shutil

    from actdesk.core.commands import AddLabel, CreateSegment

    video = tmp_path / "videos" / "walk.mp4"
    video.parent.mkdir()
    shutil.copyfile(synth_video, video)
    assert window.open_path(video)
    doc = window.document
    temporary_folder = doc.path.parent
    assert doc.temporary and "temporary" in window.save_status.text()
    assert window.run_command(AddLabel("walk"))
    assert window.run_command(CreateSegment(doc.human_track().id, 5, 40, "walk"))

    kept = tmp_path / "projects" / "walk.actdesk"
    kept.parent.mkdir()
    assert window.save_as(kept)
    assert not window.document.temporary and window.document.path == kept
    assert not temporary_folder.exists()
    qtbot.waitUntil(lambda: window.player.current_frame >= 0 and window.player.source is not None, timeout=5000)
    assert window.document.project.missing_videos() == []  # the link was re-pointed from the new place

    window.close_document()
    with Project.open(kept, readonly=True) as reopened:
        human = reopened.human_track(reopened.videos()[0].id)
        assert [(s.start_frame, s.end_frame, s.label) for s in reopened.segments(human.id)] == [(5, 40, "walk")]

    # A temporary project that is not kept goes away with it.
    assert window.open_path(video)
    folder = window.document.path.parent
    window.close_document()
    assert not folder.exists()


def test_typing_in_fields_does_not_trigger_editing_keys(qtbot, editing):
    w = editing
    model = add_model_track(w, [(0, 60, "idle", 0.9), (60, 150, "walk", 0.4)])
    before = rows(w.document.project, model)
    w.document.set_marks(5, 20)  # Enter would create a segment from these marks
    w.focus_goto()
    qtbot.keyClicks(w.player.goto_edit, "0:02.4")  # "." is "next segment", "2" relabels, ...
    qtbot.keyClick(w.player.goto_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.player.current_frame == 60, timeout=5000)
    w.side_tabs.setCurrentWidget(w.review)
    spin = w.review.min_conf
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "0.5")
    assert spin.value() == pytest.approx(0.5)
    assert rows(w.document.project, model) == before
    assert w.document.project.segments(w.document.human_track().id) == []
    assert w.player.current_frame == 60


def test_a_multi_selection_edit_updates_only_what_changed_on_the_timeline(qtbot, gui, editing):
    w = editing
    model = add_model_track(w, [(0, 40, "idle", 0.9), (40, 90, "walk", 0.4), (90, 150, "run", 0.7)])
    view = w.timeline.tracks_plot.viewport()
    gui.click(view, gui.view_pos(w.timeline, 0.5, 1.5))
    gui.click(view, gui.view_pos(w.timeline, 5.0, 1.5), Qt.KeyboardModifier.ControlModifier)
    assert len(w.document.selected_ids) == 2
    key(qtbot, w, Qt.Key.Key_A)  # the first and the last: the one between them is unchanged
    assert [r[3] for r in rows(w.document.project, model)] == ["accepted", "pending", "accepted"]
    assert_timeline_shows_the_store(w)
    key(qtbot, w, Qt.Key.Key_Delete)
    assert [r[:2] for r in rows(w.document.project, model)] == [(40, 90)]
    assert_timeline_shows_the_store(w)
    key(qtbot, w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(rows(w.document.project, model)) == 3
    assert_timeline_shows_the_store(w)
