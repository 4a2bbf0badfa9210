"""The main window: player, timeline, review queue and model panel around one project.

The window holds no labelling logic of its own: it opens projects through
``actdesk.core.project``, turns every user action into one store command
(:meth:`MainWindow.run_command`), shows what the store says changed, and runs
long work through ``qt.workers``. Refusals (ActdeskError) become dialogs.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from actdesk import __version__
from actdesk.core.commands import (
    AcceptAboveThreshold,
    Batch,
    Command,
    CopyTrackToHuman,
    CreateSegment,
    DeleteSegments,
    MergeSegments,
    MoveBoundary,
    Relabel,
    SetStatus,
    SplitSegment,
)
from actdesk.core.project import SUFFIX, Change, Project
from actdesk.errors import ActdeskError, MediaError
from actdesk.qt.dialogs import ask, log, log_path, show_error
from actdesk.qt.document import ProjectDocument
from actdesk.qt.label_editor import LabelPalette, LabelSetDialog, effective_shortcuts
from actdesk.qt.model_panel import Catalogue, ModelPanel, ModelRunner, load_catalogue
from actdesk.qt.player import PlayerWidget
from actdesk.qt.recent import add_recent, recent_files
from actdesk.qt.review_queue import ReviewQueue
from actdesk.qt.timeline import TimelineWidget, TrackData, format_time
from actdesk.qt.workers import Task

VIDEO_FILTER = "Videos (*.mp4 *.mkv *.mov *.avi *.webm *.m4v *.mpg *.mpeg *.wmv);;All files (*)"
KEYMAP = [
    ("Playback", [("Space", "play / pause"), ("← / →", "previous / next frame"),
                  ("Shift+← / Shift+→", "one second back / forward"), ("[ / ]", "slower / faster (0.25×–4×)"),
                  (", / .", "previous / next segment"), ("Home / End", "first / last frame"),
                  ("Ctrl+G", "go to frame or time")]),
    ("Editing", [("1…9, 0 or a label's key", "relabel the selection (nothing selected: label for new segments)"),
                 ("A / R", "accept / reject the selection"), ("S", "split at the playhead"),
                 ("M", "merge with the next segment (or the two selected)"), ("Delete", "delete the selection"),
                 ("I / O", "mark in / out at the playhead"), ("Enter", "create a segment from the marks"),
                 ("Esc", "clear selection and marks"), ("Ctrl+Z / Ctrl+Shift+Z", "undo / redo")]),
    ("Timeline", [("click", "seek; click a segment to select it (Ctrl+click adds)"),
                  ("drag a segment edge", "move the boundary (snaps to frames and nearby boundaries)"),
                  ("drag on empty human track", "draw a new segment"), ("drag elsewhere", "pan"),
                  ("Ctrl+wheel", "zoom"), ("wheel", "scroll in time"), ("F", "fit the whole video")]),
]


class MainWindow(QMainWindow):
    """The app window. ``open_path`` opens a project or a bare video."""

    projectOpened = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("actdesk")
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self.document: ProjectDocument | None = None
        self.catalogue: Catalogue | None = None
        self._catalogue_task: Task | None = None
        self._label_dialog: LabelSetDialog | None = None
        self._label_shortcuts: list[QShortcut] = []
        self._dirty_segments: dict[int, set[int]] = {}  # track id -> segment ids changed since the last flush
        self._reload_all = False
        self._curve_track: int | None = None
        self._device = "not loaded yet"

        self.player = PlayerWidget()
        self.timeline = TimelineWidget()
        self.review = ReviewQueue()
        self.model_panel = ModelPanel()
        self.palette_bar = LabelPalette()
        self.runner = ModelRunner(self.run_command)
        self.videos_list = QListWidget()
        self._build_layout()
        self._build_actions()
        self._build_status_bar()
        self._connect()

        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(30)
        self._reload_timer.timeout.connect(self.flush)
        self.resize(1400, 900)
        self._update_actions()

    # ------------------------------------------------------------------ layout
    def _build_layout(self) -> None:
        videos_tab = QWidget()
        add_video = QPushButton("Add video…")
        add_video.clicked.connect(self._add_video_dialog)
        relink = QPushButton("Relink…")
        relink.setToolTip("Point the project at the selected video's new place")
        relink.clicked.connect(self._relink_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(add_video)
        buttons.addWidget(relink)
        vl = QVBoxLayout(videos_tab)
        vl.setContentsMargins(6, 6, 6, 6)
        vl.addWidget(self.videos_list, 1)
        vl.addLayout(buttons)
        self.side_tabs = QTabWidget()
        self.side_tabs.addTab(self.review, "Review")
        self.side_tabs.addTab(self.model_panel, "Model")
        self.side_tabs.addTab(videos_tab, "Videos")
        self.side_tabs.setMinimumWidth(330)

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.player)
        top.addWidget(self.side_tabs)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 1)
        top.setSizes([1000, 400])
        bottom = QWidget()
        bl = QVBoxLayout(bottom)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.setSpacing(0)
        bl.addWidget(self.palette_bar)
        bl.addWidget(self.timeline, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([560, 340])
        self.setCentralWidget(split)

    def _action(self, text: str, slot: Callable, shortcut: str | QKeySequence | list | None = None,
                tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda _=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        a = self._action
        self.act_open = a("&Open…", self.open_dialog, QKeySequence.StandardKey.Open)
        self.act_save = a("&Save", self.save, QKeySequence.StandardKey.Save)
        self.act_save_as = a("Save &As…", self.save_as_dialog, "Ctrl+Shift+S")
        self.act_quit = a("&Quit", self.close, "Ctrl+Q")
        self.act_undo = a("&Undo", self.undo, ["Ctrl+Z"])
        self.act_redo = a("&Redo", self.redo, ["Ctrl+Shift+Z", "Ctrl+Y"])
        self.act_split = a("&Split at playhead", self.split, "S")
        self.act_merge = a("&Merge with next", self.merge, "M")
        self.act_delete = a("&Delete", self.delete, [QKeySequence.StandardKey.Delete, "Backspace"])
        self.act_accept = a("&Accept", lambda: self.set_status("accepted"), "A")
        self.act_reject = a("&Reject", lambda: self.set_status("rejected"), "R")
        self.act_copy = a("&Copy model track to human", self.copy_to_human, "Ctrl+Shift+C")
        self.act_mark_in = a("Mark &in", lambda: self.mark("in"), "I")
        self.act_mark_out = a("Mark &out", lambda: self.mark("out"), "O")
        self.act_create = a("Create from &marks", self.create_from_marks, ["Return", "Enter"])
        self.act_escape = a("Clear selection", self.clear_selection, "Esc")
        self.act_labels = a("&Label set…", self.edit_labels, "Ctrl+L")
        self.act_play = a("&Play / pause", self.player.toggle_play, "Space")
        self.act_prev_frame = a("Previous frame", lambda: self.player.step(-1), "Left")
        self.act_next_frame = a("Next frame", lambda: self.player.step(1), "Right")
        self.act_back_1s = a("Back one second", lambda: self.player.step_seconds(-1.0), "Shift+Left")
        self.act_fwd_1s = a("Forward one second", lambda: self.player.step_seconds(1.0), "Shift+Right")
        self.act_prev_seg = a("Previous segment", lambda: self.jump_segment(-1), ",")
        self.act_next_seg = a("Next segment", lambda: self.jump_segment(1), ".")
        self.act_first = a("First frame", lambda: self.player.seek(0), "Home")
        self.act_last = a("Last frame", lambda: self.player.seek(self.player.frame_count - 1), "End")
        self.act_slower = a("Slower", self.player.slower, "[")
        self.act_faster = a("Faster", self.player.faster, "]")
        self.act_goto = a("&Go to frame or time…", self.focus_goto, "Ctrl+G")
        self.act_fit = a("&Fit timeline", self.timeline.fit, "F")
        self.act_zoom_in = a("Zoom &in", lambda: self.timeline.zoom(0.5), QKeySequence.StandardKey.ZoomIn)
        self.act_zoom_out = a("Zoom &out", lambda: self.timeline.zoom(2.0), QKeySequence.StandardKey.ZoomOut)
        self.act_run = a("&Run model", lambda: self.run_model(all_videos=False), "Ctrl+R",
                         "Label the current video with the model chosen in the Model panel")
        self.act_run_all = a("Run on &all videos", lambda: self.run_model(all_videos=True))
        self.act_cancel = a("&Cancel run", self.runner.cancel, "Ctrl+.")
        self.act_export = a("&Export…", self.open_export, "Ctrl+E",
                            "Export segments as a training set, another tool's annotations, or an overlay video")
        self.act_train = a("&Train…", self.open_train, "Ctrl+T", "Fine-tune a model on this project's segments")
        self.act_plugins = a("&Plugins…", self.open_plugins, tip="Installed plugins, their models and errors")
        self.act_keys = a("&Keys", self.show_keymap, "F1", "The keyboard map")
        self.act_about = a("&About actdesk", self.show_about)

        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.act_open)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addAction(a("Add &video to project…", self._add_video_dialog))
        file_menu.addSeparator()
        for act in (self.act_save, self.act_save_as, self.act_export):
            file_menu.addAction(act)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        edit = bar.addMenu("&Edit")
        for act in (self.act_undo, self.act_redo, None, self.act_accept, self.act_reject, self.act_split,
                    self.act_merge, self.act_delete, None, self.act_mark_in, self.act_mark_out, self.act_create,
                    self.act_escape, None, self.act_copy, self.act_labels):
            edit.addSeparator() if act is None else edit.addAction(act)
        play = bar.addMenu("&Playback")
        for act in (self.act_play, self.act_prev_frame, self.act_next_frame, self.act_back_1s, self.act_fwd_1s,
                    self.act_prev_seg, self.act_next_seg, self.act_first, self.act_last, None, self.act_slower,
                    self.act_faster, None, self.act_goto):
            play.addSeparator() if act is None else play.addAction(act)
        self.act_follow = a("Follow the &playhead", self._toggle_follow)
        self.act_follow.setCheckable(True)
        self.act_follow.setChecked(self.timeline.follow_playhead)
        view = bar.addMenu("&View")
        for act in (self.act_fit, self.act_zoom_in, self.act_zoom_out, self.act_follow):
            view.addAction(act)
        model = bar.addMenu("&Model")
        for act in (self.act_run, self.act_run_all, self.act_cancel, None, self.act_train, self.act_plugins):
            model.addSeparator() if act is None else model.addAction(act)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.act_keys)
        help_menu.addAction(self.act_about)

        tools = self.addToolBar("Main")
        tools.setObjectName("mainToolBar")
        tools.setMovable(False)
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        style = self.style()
        for act, icon in ((self.act_open, "SP_DialogOpenButton"), (self.act_save, "SP_DialogSaveButton"),
                          (self.act_undo, "SP_ArrowBack"), (self.act_redo, "SP_ArrowForward"),
                          (self.act_run, "SP_MediaPlay"), (self.act_cancel, "SP_MediaStop"),
                          (self.act_keys, "SP_MessageBoxQuestion")):
            act.setIcon(style.standardIcon(getattr(QStyle.StandardPixmap, icon)))
            tools.addAction(act)

    def _build_status_bar(self) -> None:
        self.position_status = QLabel("no video")
        self.fps_status = QLabel("")
        self.device_status = QLabel("device: –")
        self.save_status = QLabel("")
        self.save_status.setObjectName("dimLabel")
        bar = self.statusBar()
        bar.addPermanentWidget(self.save_status)
        bar.addPermanentWidget(self.position_status)
        bar.addPermanentWidget(self.fps_status)
        bar.addPermanentWidget(self.device_status)

    def _connect(self) -> None:
        p, t = self.player, self.timeline
        p.frameChanged.connect(self._frame_changed)
        p.errorOccurred.connect(lambda e: show_error(self, "Cannot show this frame", e))
        t.seekRequested.connect(p.seek)
        t.selectionRequested.connect(self._timeline_select)
        t.boundaryMoved.connect(lambda sid, side, f: self.run_command(lambda: MoveBoundary(sid, side, f)))
        t.segmentDrawn.connect(self._segment_drawn)
        t.contextMenuRequested.connect(self._context_menu)
        self.palette_bar.labelClicked.connect(self.relabel)
        self.review.jumpRequested.connect(self.jump_to_segment)
        self.review.acceptAboveRequested.connect(self.accept_above)
        self.model_panel.runRequested.connect(lambda all_videos: self.run_model(all_videos=all_videos))
        self.model_panel.cancelRequested.connect(self.runner.cancel)
        self.model_panel.showPluginErrors.connect(self.show_plugin_errors)
        self.runner.runStarted.connect(self._run_started)
        self.runner.progressed.connect(self.model_panel.show_progress)
        self.runner.deviceKnown.connect(self._set_device)
        self.runner.trackCreated.connect(self._run_track_created)
        self.runner.runFinished.connect(self._run_finished)
        self.runner.failed.connect(lambda e, tb: show_error(self, "The model run failed", e, details=tb))
        self.videos_list.itemClicked.connect(self._video_clicked)

    # ------------------------------------------------------------------ start-up
    def load_plugins_in_background(self) -> Task:
        """Load plugins, torch and the checkpoint list off the GUI thread (after the first paint)."""
        task = Task(load_catalogue, name="load plugins")
        task.succeeded.connect(self._catalogue_loaded)
        task.failed.connect(lambda e, tb: show_error(self, "Loading the model plugins failed", e, details=tb))
        self._catalogue_task = task
        task.start()
        return task

    def _catalogue_loaded(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.model_panel.set_catalogue(catalogue)
        if self.runner.task is None:
            self._set_device(catalogue.device)
        if catalogue.load_errors:
            self.show_plugin_errors()

    def show_plugin_errors(self) -> QMessageBox | None:
        if self.catalogue is None or not self.catalogue.load_errors:
            return None
        errors = self.catalogue.load_errors
        text = "\n".join(f"plugin {e.plugin!r}{_origin(e)}: {e.error}" for e in errors)
        details = "\n\n".join(f"{e.plugin}:\n{e.traceback}" for e in errors)
        return show_error(self, "Some plugins failed to load",
                          f"{text}\n\nTheir models are not available; everything else works.", details=details)

    # ------------------------------------------------------------------ opening
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a project or video", "",
                                              f"Projects and videos (*{SUFFIX} *.mp4 *.mkv *.mov *.avi *.webm "
                                              f"*.m4v *.mpg *.mpeg *.wmv);;All files (*)")
        if path:
            self.open_path(Path(path))

    def open_path(self, path: str | Path) -> bool:
        """Open a project (``.actdesk``) or a bare video; problems become dialogs. True on success."""
        path = Path(path)
        if path.suffix.lower() == SUFFIX:
            return self.open_project(path)
        return self.open_video(path)

    def open_project(self, path: Path) -> bool:
        try:
            project = Project.open(path)
        except ActdeskError as e:
            show_error(self, "Cannot open the project", e)
            return False
        self._set_document(ProjectDocument(project))
        add_recent(path)
        missing = project.missing_videos()
        if missing:
            self._offer_relink(missing)
        return True

    def open_video(self, path: Path) -> bool:
        """A bare video: a project in a temporary folder; Save asks where to keep it."""
        if not path.is_file():
            show_error(self, "Cannot open the video", MediaError(path, "file not found"))
            return False
        folder = Path(tempfile.mkdtemp(prefix="actdesk-"))
        project = None
        try:
            project = Project.create(folder / f"{path.stem}{SUFFIX}")
            project.add_video(path)
        except ActdeskError as e:
            if project is not None:
                project.close()
            shutil.rmtree(folder, ignore_errors=True)
            show_error(self, "Cannot open the video", e)
            return False
        self._set_document(ProjectDocument(project, temporary=True))
        add_recent(path)
        return True

    def add_video(self, path: Path) -> bool:
        """Add a video to the open project and show it."""
        if self.document is None:
            return self.open_video(path)
        try:
            video = self.document.project.add_video(path)
        except ActdeskError as e:
            show_error(self, "Cannot add the video", e)
            return False
        self._fill_videos()
        self.show_video(video.id)
        return True

    def _add_video_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a video", "", VIDEO_FILTER)
        if path:
            self.add_video(Path(path))

    def _set_document(self, document: ProjectDocument) -> None:
        self.close_document()
        self.document = document
        document.changed.connect(self._on_change)
        document.selectionChanged.connect(self._selection_changed)
        document.marksChanged.connect(lambda: self.timeline.set_marks(document.mark_in, document.mark_out))
        document.undoStateChanged.connect(self._update_actions)
        document.curvesChanged.connect(self._curves_changed)
        self.review.set_document(document)
        self._fill_videos()
        self._labels_changed()
        videos = document.project.videos()
        if videos:
            self.show_video(videos[0].id)
        self._update_title()
        self._update_actions()
        self.projectOpened.emit()

    def close_document(self, *, discard_temporary: bool = True) -> None:
        """Stop runs, close the video and the project (releases its lock).

        A temporary project (made for a bare video) is deleted unless ``discard_temporary`` is False.
        """
        doc = self.document
        if doc is None:
            return
        self.runner.stop()
        self.player.close_video()
        self.review.set_document(None)
        doc.close()
        if doc.temporary and discard_temporary:
            shutil.rmtree(doc.path.parent, ignore_errors=True)
        self.document = None
        self.timeline.set_tracks([])
        self.timeline.set_curves([], None)
        self.videos_list.clear()
        self._update_title()
        self._update_actions()

    def _fill_videos(self) -> None:
        self.videos_list.clear()
        if self.document is None:
            return
        missing = {v.id for v in self.document.project.missing_videos()}
        for video in self.document.project.videos():
            text = f"{video.name}   {video.frame_count} frames · {format_time(video.end_time_s)}"
            if video.id in missing:
                text += "   (missing)"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, video.id)
            self.videos_list.addItem(item)

    def show_video(self, video_id: int) -> bool:
        """Make ``video_id`` the current video: player, timeline and review queue follow."""
        doc = self.document
        if doc is None:
            return False
        self.player.close_video()
        video = doc.set_video(video_id)
        if doc.curve_errors:  # their segments are fine: say so in passing, not in a dialog
            log.warning("; ".join(doc.curve_errors))
            self.statusBar().showMessage("; ".join(doc.curve_errors), 10000)
        self.timeline.set_video(doc.times_s, doc.end_time_s)
        runs = [t.id for t in doc.tracks() if t.id in doc.curves]
        self._curve_track = runs[-1] if runs else None
        self._reload_tracks()
        if not video.abs_path.is_file():
            # Opening the project has offered to relink it; the Videos tab can do it later.
            self.player.view.message = (f"{video.name} is not at {video.abs_path}\n"
                                        "Relink it in the Videos tab to watch it; its labels are all here.")
            self._update_status()
            return False
        try:
            self.player.open(video.abs_path, doc.times_s, doc.end_time_s)
        except ActdeskError as e:
            show_error(self, "Cannot play the video", e)
            self._update_status()
            return False
        self.fps_status.setText(f"{video.avg_fps:.3g} fps" + (" (variable)" if video.is_vfr else ""))
        self._update_status()
        return True

    def _video_clicked(self, item: QListWidgetItem) -> None:
        video_id = item.data(Qt.ItemDataRole.UserRole)
        if self.document is not None and (self.document.video is None or self.document.video.id != video_id):
            self.show_video(video_id)

    def _offer_relink(self, missing) -> None:
        names = "\n".join(f"  {v.path}" for v in missing)

        def choose(button: str) -> None:
            if button.startswith("Relink"):
                for video in missing:
                    self._relink_dialog(video)

        ask(self, "Videos not found",
            f"These videos of the project are not where they were:\n{names}\n\n"
            "Point the project at their new place? (Their content is checked.)",
            [("Relink…", QMessageBox.ButtonRole.AcceptRole), ("Later", QMessageBox.ButtonRole.RejectRole)], choose)

    def _relink_dialog(self, video) -> None:
        path, _ = QFileDialog.getOpenFileName(self, f"Where is {video.name} now?",
                                              str(self.document.project.folder), VIDEO_FILTER)
        if path:
            self.relink(video.id, Path(path))

    def _relink_selected(self) -> None:
        item = self.videos_list.currentItem()
        if self.document is not None and item is not None:
            self._relink_dialog(self.document.project.video(item.data(Qt.ItemDataRole.UserRole)))

    def relink(self, video_id: int, path: Path) -> bool:
        try:
            self.document.project.relink_video(video_id, path)
        except ActdeskError as e:
            show_error(self, "Cannot relink the video", e)
            return False
        self._fill_videos()
        if self.document.video is None or self.document.video.id == video_id:
            self.show_video(video_id)
        return True

    # ------------------------------------------------------------------ saving
    def save(self) -> None:
        """Edits are committed as they happen; a temporary project asks where to keep it."""
        if self.document is None:
            return
        if self.document.temporary:
            self.save_as_dialog()
        else:
            self.statusBar().showMessage("Every edit is already saved in " + str(self.document.path), 4000)

    def save_as_dialog(self) -> None:
        if self.document is None:
            return
        video = self.document.video
        default = (video.abs_path.with_suffix(SUFFIX) if video is not None else self.document.path)
        path, _ = QFileDialog.getSaveFileName(self, "Keep the project as", str(default), f"Projects (*{SUFFIX})")
        if path:
            self.save_as(Path(path))

    def save_as(self, path: Path) -> bool:
        """Copy the project to ``path`` and continue there (video links are re-pointed, history restarts)."""
        doc = self.document
        if doc is None:
            return False
        path = Path(path)
        if path.suffix.lower() != SUFFIX:
            path = path.with_name(path.name + SUFFIX)
        if path.resolve() == doc.path.resolve():
            return True
        videos = {v.id: v.abs_path for v in doc.project.videos()}
        current = doc.video.id if doc.video is not None else None
        frame = self.player.current_frame
        old_path, was_temporary = doc.path, doc.temporary
        self.close_document(discard_temporary=False)
        try:
            shutil.copyfile(old_path, path)
            project = Project.open(path)
        except (OSError, ActdeskError) as e:
            show_error(self, "Cannot save the project", e if isinstance(e, ActdeskError)
                       else ActdeskError(f"{path}: {e.strerror or e}"))
            self.open_project(old_path)
            return False
        for video in project.videos():
            if video.abs_path != videos.get(video.id) and videos.get(video.id, Path()).is_file():
                project.relink_video(video.id, videos[video.id])
        if was_temporary:
            shutil.rmtree(old_path.parent, ignore_errors=True)
        self._set_document(ProjectDocument(project))
        add_recent(path)
        if current is not None:
            self.show_video(current)
            self.player.seek(frame)
        self.statusBar().showMessage(f"Saved as {path}", 4000)
        return True

    # ------------------------------------------------------------------ store changes → views
    def _on_change(self, change: Change) -> None:
        if change.kind in ("labels", "tracks", "videos"):
            self._reload_all = True
            if change.kind == "labels":
                self._labels_changed()
            if change.kind == "videos":
                self._fill_videos()
        elif change.track_id is not None:
            self._dirty_segments.setdefault(change.track_id, set()).update(change.segment_ids)
        self._reload_timer.start()
        self._update_status()

    def flush(self) -> None:
        """Bring the timeline up to date with the store now (normally done by a short timer)."""
        self._reload_timer.stop()
        dirty, self._dirty_segments = self._dirty_segments, {}
        if self.document is None or self.document.video is None:
            return
        if self._reload_all:
            self._reload_all = False
            self._reload_tracks()
            return
        for track_id, segment_ids in dirty.items():
            shown = self.timeline.track(track_id)
            if shown is not None:
                self.timeline.update_track(self._updated_track(shown, segment_ids))

    def _updated_track(self, shown: TrackData, segment_ids: set[int]) -> TrackData:
        """``shown`` with the changed segments re-read: cost follows the change, not the track
        (a full re-read of 10,000 segments takes over 100 ms)."""
        project = self.document.project
        index = {name: i for i, name in enumerate(self.timeline.labels)}
        known = np.isin(shown.ids, list(segment_ids))
        try:
            rows = project.segments_by_id(segment_ids - set(shown.ids[known].tolist()))
            if known.any():  # where changed segments were: read what is there now
                start, end = int(shown.start_frame[known].min()), int(shown.end_frame[known].max())
                rows += project.segments_in_range(shown.track_id, start, end)
                known |= (shown.start_frame < end) & (shown.end_frame > start)
        except ActdeskError:  # a segment made and removed again since the last flush
            return self._track_data(project.track(shown.track_id))
        return shown.replaced(~known, list({row.id: row for row in rows}.values()), index)

    def _track_data(self, track) -> TrackData:
        index = {name: i for i, name in enumerate(self.timeline.labels)}
        return TrackData.from_segments(track.id, track.name, track.kind,
                                       self.document.project.segments(track.id), index)

    def _reload_tracks(self) -> None:
        if self.document is None or self.document.video is None:
            self.timeline.set_tracks([])
            return
        self.timeline.set_tracks([self._track_data(t) for t in self.document.tracks()])
        self._selection_changed()
        if self._curve_track is not None and self.timeline.track(self._curve_track) is None:
            self._curve_track = None  # its track is gone (undone)
        self._show_curves()

    def _labels_changed(self) -> None:
        doc = self.document
        labels = doc.labels() if doc is not None else []
        if doc is not None and doc.current_label not in {label.name for label in labels}:
            doc.current_label = labels[0].name if labels else None
        self.timeline.set_labels([label.name for label in labels], [label.colour for label in labels])
        self.palette_bar.set_labels(labels, doc.current_label if doc else None)
        for shortcut in self._label_shortcuts:
            shortcut.setEnabled(False)
            shortcut.deleteLater()
        self._label_shortcuts = []
        for key, name in effective_shortcuts(labels).items():
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.activated.connect(lambda name=name: self.relabel(name))
            self._label_shortcuts.append(shortcut)
        self._show_curves()

    def _curves_changed(self, track_id: int) -> None:
        """New curves for ``track_id``: show them if that run is the one on display (or the running one)."""
        doc = self.document
        if doc is None or doc.video is None or self.timeline.track(track_id) is None or track_id not in doc.curves:
            return  # a run on another video (its curves show with it), or a track not on screen yet
        if self._curve_track is None or track_id in (self._curve_track, self.runner.track_id):
            self._curve_track = track_id
            self._show_curves()

    def _show_curves(self) -> None:
        doc = self.document
        curves = doc.curves.get(self._curve_track) if doc is not None and self._curve_track is not None else None
        if curves is None:
            self.timeline.set_curves([], None)
            return
        self.timeline.set_curves(list(curves.labels), curves.probs, doc.curve_times(curves),
                                 source=doc.project.track(self._curve_track).name)

    # ------------------------------------------------------------------ commands
    def run_command(self, command: Command | Callable[[], Command]) -> bool:
        """Build and execute one store command; a refusal becomes a dialog. True if it changed something."""
        if self.document is None:
            return False
        try:
            made = command() if callable(command) and not isinstance(command, Command) else command
            return self.document.execute(made)
        except ActdeskError as e:
            show_error(self, "Not done", e)
            return False

    def undo(self) -> None:
        if self.document is not None:
            try:
                self.document.undo()
            except ActdeskError as e:
                show_error(self, "Cannot undo", e)

    def redo(self) -> None:
        if self.document is not None:
            try:
                self.document.redo()
            except ActdeskError as e:
                show_error(self, "Cannot redo", e)

    def _update_actions(self) -> None:
        doc = self.document
        stack = doc.project.undo_stack if doc is not None else None
        self.act_undo.setEnabled(bool(stack and stack.can_undo()))
        self.act_redo.setEnabled(bool(stack and stack.can_redo()))
        self.act_undo.setText(f"&Undo {stack.undo_text()}" if stack and stack.can_undo() else "&Undo")
        self.act_redo.setText(f"&Redo {stack.redo_text()}" if stack and stack.can_redo() else "&Redo")
        for act, word in ((self.act_undo, "Undo"), (self.act_redo, "Redo")):
            act.setIconText(word)  # the toolbar stays short; the menu and tooltip say what
            act.setToolTip(act.text().replace("&", ""))
        running = self.runner.running
        has_video = doc is not None and doc.video is not None
        self.act_export.setEnabled(doc is not None)
        self.act_run.setEnabled(has_video and not running)
        self.act_run_all.setEnabled(has_video and not running)
        self.act_cancel.setEnabled(running)
        self.model_panel.set_running(running)
        if doc is None:
            self.save_status.setText("")
        elif doc.temporary:
            self.save_status.setText("temporary project: Ctrl+S to keep it")
        else:
            self.save_status.setText("all edits saved")

    # ------------------------------------------------------------------ selection and navigation
    def _timeline_select(self, track_id: int, ids: list, additive: bool) -> None:
        if self.document is None:
            return
        self.document.select(track_id if track_id >= 0 else None, [int(i) for i in ids], additive=additive)
        if track_id >= 0 and track_id in self.document.curves:
            self._curve_track = track_id
            self._show_curves()

    def _selection_changed(self) -> None:
        doc = self.document
        if doc is None:
            return
        self.timeline.set_selection(doc.selected_track, doc.selected_ids)
        self._update_status()

    def clear_selection(self) -> None:
        if self.document is not None:
            self.document.select(None, [])
            self.document.set_marks(None, None)

    def jump_to_segment(self, track_id: int, segment_id: int) -> None:
        """Seek to a segment's start, show it on the timeline and select it."""
        doc = self.document
        if doc is None:
            return
        try:
            (seg,) = doc.project.segments_by_id([segment_id])
        except ActdeskError:
            return
        self.player.pause()
        self.player.seek(seg.start_frame)
        self.timeline.show_range(seg.start_s, seg.end_s)
        doc.select(track_id, [segment_id])

    def active_track_id(self) -> int | None:
        """The track edits and navigation apply to: the selected one, else the human track."""
        doc = self.document
        if doc is None or doc.video is None:
            return None
        if doc.selected_track is not None:
            return doc.selected_track
        return doc.human_track().id

    def jump_segment(self, direction: int) -> None:
        """`,`/`.`: select the previous/next segment of the active track and seek to its start."""
        track = self.timeline.track(self.active_track_id()) if self.active_track_id() is not None else None
        if track is None or not len(track):
            return
        frame = self.player.current_frame
        if direction > 0:
            i = int(np.searchsorted(track.start_frame, frame, "right"))
        else:
            i = int(np.searchsorted(track.start_frame, frame, "left")) - 1
        if 0 <= i < len(track):
            self.jump_to_segment(track.track_id, int(track.ids[i]))

    def _toggle_follow(self) -> None:
        self.timeline.follow_playhead = self.act_follow.isChecked()

    def focus_goto(self) -> None:
        self.player.goto_edit.setFocus()
        self.player.goto_edit.selectAll()

    def _frame_changed(self, frame: int) -> None:
        self.timeline.set_playhead(frame)
        self._update_status()

    def _update_status(self) -> None:
        doc = self.document
        if doc is None or doc.video is None or not self.player.frame_count:
            self.position_status.setText("no video")
            return
        frame = self.player.current_frame
        t = float(doc.times_s[max(frame, 0)])
        text = f"frame {frame} · {format_time(t, 3)}"
        if doc.selected_ids:
            text = f"{len(doc.selected_ids)} selected · " + text
        self.position_status.setText(text)

    def _set_device(self, device: str) -> None:
        self._device = device
        self.device_status.setText(f"device: {device}")

    # ------------------------------------------------------------------ editing
    def relabel(self, name: str) -> None:
        """Relabel the selection as ``name``; with nothing selected, new segments get ``name``."""
        doc = self.document
        if doc is None:
            return
        if not doc.selected_ids:
            doc.current_label = name
            self.palette_bar.set_labels(doc.labels(), name)
            self.statusBar().showMessage(f"New segments get the label {name}", 3000)
            return
        reviewing = self._reviewing()
        if self.run_command(lambda: Relabel(doc.selected_ids, name)) and reviewing:
            self.review.advance()

    def set_status(self, status: str) -> None:
        doc = self.document
        if doc is None or not doc.selected_ids:
            return
        reviewing = self._reviewing()
        if self.run_command(lambda: SetStatus(doc.selected_ids, status)) and reviewing:
            self.review.advance()

    def _reviewing(self) -> bool:
        """Whether the selection is the review queue's current segment (then edits move on to the next)."""
        doc = self.document
        return len(doc.selected_ids) == 1 and self.review.holds(doc.selected_ids[0])

    def accept_above(self, track_ids: list, threshold: float) -> None:
        commands = [AcceptAboveThreshold(t, threshold) for t in track_ids]
        self.run_command(lambda: commands[0] if len(commands) == 1
                         else Batch(f"Accept segments with confidence ≥ {threshold:.2f}", commands))

    def delete(self) -> None:
        doc = self.document
        if doc is not None and doc.selected_ids:
            self.run_command(lambda: DeleteSegments(doc.selected_ids))

    def split(self) -> None:
        """Split the selected segment (or the active track's segment under the playhead) at the playhead."""
        doc = self.document
        if doc is None or doc.video is None:
            return
        frame = self.player.current_frame
        target = None
        for seg in doc.selected_segments():
            if seg.start_frame < frame < seg.end_frame:
                target = seg.id
        if target is None and self.active_track_id() is not None:
            under = [s for s in doc.project.segments_in_range(self.active_track_id(), frame, frame + 1)
                     if s.start_frame < frame]
            target = under[0].id if under else None
        if target is None:
            self.statusBar().showMessage("Nothing to split here: put the playhead inside a segment", 3000)
            return
        self.run_command(lambda: SplitSegment(target, frame))

    def merge(self) -> None:
        """Merge the two selected segments, or the selected one with the next on its track."""
        doc = self.document
        if doc is None or not doc.selected_ids:
            return
        if len(doc.selected_ids) >= 2:
            keep, other = doc.selected_ids[0], doc.selected_ids[1]
        else:
            keep = doc.selected_ids[0]
            _, after = doc.project.neighbours(keep)
            if after is None:
                self.statusBar().showMessage("No segment after this one to merge with", 3000)
                return
            other = after.id
        self.run_command(lambda: MergeSegments(keep, other))

    def copy_to_human(self) -> None:
        """Copy the selected model track (else the newest one) to the human track."""
        doc = self.document
        if doc is None or doc.video is None:
            return
        models = [t for t in doc.tracks() if t.kind == "model"]
        chosen = [t for t in models if t.id == doc.selected_track] or models[-1:]
        if not chosen:
            self.statusBar().showMessage("No model track to copy: run a model first", 3000)
            return
        self.run_command(lambda: CopyTrackToHuman(chosen[0].id))

    def mark(self, which: str) -> None:
        doc = self.document
        if doc is None or doc.video is None:
            return
        frame = self.player.current_frame
        if which == "in":
            doc.set_marks(frame, doc.mark_out)
        else:
            doc.set_marks(doc.mark_in, frame)

    def create_from_marks(self) -> None:
        """Enter: a segment on the human track from the I mark to the O mark (both frames included)."""
        doc = self.document
        if doc is None or doc.video is None or doc.mark_in is None or doc.mark_out is None:
            self.statusBar().showMessage("Set both marks first: I at the start, O at the end", 3000)
            return
        start, last = sorted((doc.mark_in, doc.mark_out))
        if self._create(doc.human_track().id, start, last + 1):
            doc.set_marks(None, None)

    def _segment_drawn(self, track_id: int, start: int, end: int) -> None:
        self._create(track_id, start, end)

    def _create(self, track_id: int, start: int, end: int) -> bool:
        doc = self.document
        if doc.current_label is None:
            show_error(self, "No labels yet", "Add a label first (Edit → Label set…, Ctrl+L).")
            self.edit_labels()
            return False
        label = doc.current_label
        command = CreateSegment(track_id, start, end, label)
        if self.run_command(lambda: command):
            added = command.added
            if added:
                doc.select(track_id, [added[0].id])
            return True
        return False

    def edit_labels(self) -> LabelSetDialog | None:
        if self.document is None:
            return None
        if self._label_dialog is None or self._label_dialog.document is not self.document:
            self._label_dialog = LabelSetDialog(self.document, self.run_command, self)
        self._label_dialog.show()
        self._label_dialog.raise_()
        return self._label_dialog

    def _context_menu(self, track_id: int, segment_id: int, pos) -> None:
        menu = QMenu(self)
        if segment_id >= 0:
            for act in (self.act_accept, self.act_reject, self.act_split, self.act_merge, self.act_delete):
                menu.addAction(act)
            relabel = menu.addMenu("Relabel as")
            for label in self.document.labels():
                relabel.addAction(label.name, lambda name=label.name: self.relabel(name))
        menu.addAction(self.act_copy)
        menu.popup(pos)

    # ------------------------------------------------------------------ model runs
    def run_model(self, *, all_videos: bool) -> bool:
        doc = self.document
        if doc is None or doc.video is None or self.runner.running:
            return False
        checkpoint, arch = self.model_panel.checkpoint(), self.model_panel.architecture()
        if checkpoint is None or arch is None:
            show_error(self, "No model chosen", "Choose a model and a checkpoint in the Model panel first.")
            self.side_tabs.setCurrentWidget(self.model_panel)
            return False
        ids = [v.id for v in doc.project.videos()] if all_videos else [doc.video.id]
        try:
            self.runner.run(doc, ids, checkpoint=checkpoint, architecture=arch,
                            device=self.model_panel.device_box.currentText(),
                            stride=self.model_panel.stride_box.value())
        except ActdeskError as e:
            show_error(self, "Cannot run the model", e)
            return False
        self._update_actions()
        return True

    # ------------------------------------------------------------------ other rooms' dialogs
    def open_export(self):
        """The Export dialog (actdesk.qt.export_dialog) on the open project."""
        if self.document is None:
            return None
        from actdesk.qt.export_dialog import ExportDialog

        dialog = ExportDialog(self.document.project, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def open_train(self):
        """The Train dialog; a checkpoint it saves is offered in the Model panel at once."""
        from actdesk.plugins import get_plugin_manager
        from actdesk.qt.train_dialog import TrainDialog

        dialog = TrainDialog(get_plugin_manager(), self.document.path if self.document else None, self)
        dialog.checkpointSaved.connect(lambda path: self.model_panel.refresh_checkpoints())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def open_plugins(self):
        """The Plugins dialog; installing or removing one reloads the model list."""
        from actdesk.qt.plugins_dialog import PluginsDialog

        dialog = PluginsDialog(parent=self)
        dialog.pluginsChanged.connect(self.load_plugins_in_background)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def _run_started(self, video_id: int) -> None:  # noqa: ARG002 - runs on other videos fill in unseen
        self._update_actions()

    def _run_track_created(self, track_id: int) -> None:
        doc = self.document
        if doc is not None and doc.video is not None and doc.project.track(track_id).video_id == doc.video.id:
            self._curve_track = track_id  # the running model's curves replace the ones shown

    def _run_finished(self, outcome: str) -> None:
        self._update_actions()
        self.model_panel.show_outcome({"done": "finished", "cancelled": "cancelled", "failed": "failed"}[outcome])
        self.flush()
        self.review.refresh()

    # ------------------------------------------------------------------ misc
    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = recent_files()
        for path in files:
            self.recent_menu.addAction(str(path), lambda p=path: self.open_path(p))
        if not files:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def _update_title(self) -> None:
        doc = self.document
        if doc is None:
            self.setWindowTitle("actdesk")
        else:
            name = "untitled (temporary)" if doc.temporary else doc.path.name
            self.setWindowTitle(f"{name} — actdesk")

    def show_keymap(self) -> QMessageBox:
        rows = []
        for section, keys in KEYMAP:
            rows.append(f"<tr><td colspan=2><b>{section}</b></td></tr>")
            rows += [f"<tr><td style='padding-right:16px'><code>{k}</code></td><td>{v}</td></tr>" for k, v in keys]
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard map", f"<table>{''.join(rows)}</table>",
                          QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def show_about(self) -> None:
        QMessageBox.about(self, "About actdesk",
                          f"actdesk {__version__}\nLabel human actions in video with model help.\n\n"
                          f"Log file: {log_path()}")

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        event.acceptProposedAction()
        self.open_dropped(paths)

    def open_dropped(self, paths: list[Path]) -> None:
        """A project opens; videos join the open project (or open as a new one)."""
        projects = [p for p in paths if p.suffix.lower() == SUFFIX]
        if projects:
            self.open_project(projects[0])
            return
        for path in paths:
            self.add_video(path) if self.document is not None else self.open_video(path)

    def closeEvent(self, event) -> None:
        doc = self.document
        if doc is not None and doc.temporary and doc.project.undo_stack.can_undo() \
                and QApplication.platformName() != "offscreen":
            choice = QMessageBox.question(
                self, "Keep the project?", "This video's labels live in a temporary project. Keep them?",
                QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel)
            if choice == QMessageBox.StandardButton.Cancel:
                event.ignore()
                return
            if choice == QMessageBox.StandardButton.Save:
                self.save_as_dialog()
                if self.document is not None and self.document.temporary:
                    event.ignore()
                    return
        self.close_document()
        if self._catalogue_task is not None:
            self._catalogue_task.wait()
        event.accept()


def _origin(error) -> str:
    """`` (distribution version)`` of a plugin load error, when known."""
    origin = " ".join(part for part in (error.distribution, error.version) if part)
    return f" ({origin})" if origin else ""
