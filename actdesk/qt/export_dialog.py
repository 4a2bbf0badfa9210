"""The Export dialog: a project's segments as a training set, another tool's annotations, or an overlay video.

It calls the same function as ``actdesk export``
(:func:`actdesk.formats.export.export_project`) in a
:class:`~actdesk.qt.workers.Task`, with the formats of the plugin manager's
registry (plugins' formats included). The project file is opened read-only in
the worker thread (an SQLite connection belongs to the thread that made it);
every edit is committed as it is made, so the file holds what the user sees.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from actdesk.core.project import HUMAN_TRACK, Project
from actdesk.errors import ActdeskError
from actdesk.formats.registry import FormatRegistry
from actdesk.formats.splits import DEFAULT_FRACTIONS, SPLITS, parse_fractions
from actdesk.qt.dialogs import ask, show_error
from actdesk.qt.timeline import format_time
from actdesk.qt.workers import Task

KIND_TITLES = {"dataset": "Training sets", "annotations": "Annotations for other tools", "video": "Videos"}


class EtaProgressBar(QProgressBar):
    """A Task's progress with the time left, estimated per phase (calls with the same ``total``)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setTextVisible(True)
        self.eta_s: float | None = None
        self._total = -1
        self._phase_start = 0.0
        self._phase_done = 0
        self.finish("idle")

    def start(self, text: str = "starting…") -> None:
        self._total, self.eta_s = -1, None
        self.setRange(0, 0)  # busy until the first progress call
        self.setFormat(text)

    def show_progress(self, done: int, total: int, message: str = "") -> None:
        """The ``progress(done, total, message)`` of the long-work protocol, as a Task's signal delivers it."""
        now = time.monotonic()
        if total != self._total:
            self._total, self._phase_start, self._phase_done = total, now, done
        if not total:
            self.setRange(0, 0)
            self.setFormat(message or "working…")
            return
        self.setRange(0, total)
        self.setValue(min(done, total))
        rate = (done - self._phase_done) / (now - self._phase_start) if now > self._phase_start else 0.0
        self.eta_s = (total - done) / rate if rate > 0 else None
        eta = f" · {format_time(self.eta_s)} left" if self.eta_s is not None and done < total else ""
        self.setFormat(f"{message} · %p%{eta}" if message else f"%p%{eta}")

    def finish(self, text: str, *, complete: bool = False) -> None:
        self.setRange(0, 1)
        self.setValue(1 if complete else 0)
        self.setFormat(text)


def export_project_file(project_path: Path, out: Path, format_name: str, *, progress, should_stop, **options):
    """:func:`~actdesk.formats.export.export_project` on the project file, opened read-only in this thread."""
    from actdesk.formats.export import export_project

    with Project.open(project_path, readonly=True) as project:
        return export_project(project, out, format_name, progress=progress, should_stop=should_stop, **options)


class ExportDialog(QDialog):
    """Choose a format, folder, tracks, videos and split; export with progress and cancel.

    :param project: the open project (read here for its tracks and videos; the
        export reads its file).
    :param registry: the formats to offer (default: the plugin manager's).
    """

    exported = Signal(object)
    """An export finished: its :class:`~actdesk.formats.export.ExportResult`."""

    def __init__(self, project: Project, parent: QWidget | None = None, *, registry: FormatRegistry | None = None):
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle(f"Export — {project.path.name}")
        if registry is None:
            from actdesk.plugins import get_plugin_manager

            registry = get_plugin_manager().formats()
        self.project_path = project.path
        self.registry = registry
        self.task: Task | None = None
        self.result = None

        self.format_box = QComboBox()
        self._fill_formats()
        self.format_box.currentIndexChanged.connect(self._format_changed)
        self.format_about = QLabel()
        self.format_about.setObjectName("dimLabel")
        self.format_about.setWordWrap(True)
        self.out_edit = QLineEdit()
        self.out_edit.setPlaceholderText("a new or empty folder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(browse)

        self.tracks_list = QListWidget()
        self.tracks_list.setObjectName("exportTracks")
        self.videos_list = QListWidget()
        self.videos_list.setObjectName("exportVideos")
        self._fill_tracks_and_videos(project)
        for widget in (self.tracks_list, self.videos_list):
            widget.setMaximumHeight(110)

        self.split_boxes = []
        split_row = QHBoxLayout()
        for name, value in zip(SPLITS, DEFAULT_FRACTIONS):
            box = QDoubleSpinBox()
            box.setRange(0.0, 1.0)
            box.setSingleStep(0.05)
            box.setDecimals(2)
            box.setValue(value)
            box.setToolTip(f"share of the labelled videos in the {name} split")
            split_row.addWidget(QLabel(name))
            split_row.addWidget(box)
            self.split_boxes.append(box)
        self.seed_box = QSpinBox()
        self.seed_box.setRange(0, 2**31 - 1)
        self.seed_box.setToolTip("the same seed gives the same split")
        self.seed_box.setMaximumWidth(110)
        split_row.addWidget(QLabel("seed"))
        split_row.addWidget(self.seed_box)
        split_row.addStretch(1)
        self.split_group = QGroupBox("Split by video (training sets)")
        self.split_group.setLayout(split_row)

        form = QFormLayout()
        form.addRow("Format", self.format_box)
        form.addRow("", self.format_about)
        form.addRow("Output folder", out_row)
        form.addRow("Tracks", self.tracks_list)
        form.addRow("Videos", self.videos_list)

        self.progress = EtaProgressBar()
        self.status = QLabel("")
        self.status.setObjectName("dimLabel")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_button = QPushButton("Export")
        self.export_button.setObjectName("primaryButton")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.open_button = QPushButton("Open folder")
        self.open_button.clicked.connect(self._open_folder)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.split_group)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.resize(640, 560)
        self._format_changed()
        self._set_running(False)
        self.open_button.setEnabled(False)

    # ------------------------------------------------------------------ choices
    def _fill_formats(self) -> None:
        model: QStandardItemModel = self.format_box.model()
        for kind, title in KIND_TITLES.items():
            formats = self.registry.exporters(kind)
            if not formats:
                continue
            self.format_box.addItem(title)
            header = model.item(self.format_box.count() - 1)
            header.setEnabled(False)
            font = header.font()
            font.setBold(True)
            header.setFont(font)
            for fmt in formats:
                self.format_box.addItem(f"{fmt.title} ({fmt.name})", fmt.name)
                self.format_box.setItemData(self.format_box.count() - 1, fmt.description, Qt.ItemDataRole.ToolTipRole)
        self.set_format(next((f.name for f in self.registry.exporters("dataset")), self.registry.exporters()[0].name))

    def _fill_tracks_and_videos(self, project: Project) -> None:
        counts: dict[str, list[int]] = {}
        for video in project.videos():
            item = QListWidgetItem(video.name)
            item.setData(Qt.ItemDataRole.UserRole, video.name)
            item.setCheckState(Qt.CheckState.Checked)
            self.videos_list.addItem(item)
            for track in project.tracks(video.id):
                n = sum(project.segment_counts(track.id).values())
                entry = counts.setdefault(track.name, [0, 0])
                entry[0] += n
                entry[1] += 1 if n else 0
        for name, (segments, videos) in counts.items():
            item = QListWidgetItem(f"{name} — {segments} segments in {videos} video{'s' if videos != 1 else ''}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setCheckState(Qt.CheckState.Checked if name == HUMAN_TRACK else Qt.CheckState.Unchecked)
            self.tracks_list.addItem(item)

    def set_format(self, name: str) -> None:
        index = self.format_box.findData(name)
        if index < 0:
            raise ActdeskError(f"unknown export format {name!r}")
        self.format_box.setCurrentIndex(index)

    def format_name(self) -> str:
        return self.format_box.currentData()

    def set_tracks(self, names: list[str]) -> None:
        for item in _items(self.tracks_list):
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in names
                               else Qt.CheckState.Unchecked)

    def tracks(self) -> list[str]:
        return [item.data(Qt.ItemDataRole.UserRole) for item in _items(self.tracks_list)
                if item.checkState() == Qt.CheckState.Checked]

    def videos(self) -> list[str] | None:
        """The checked videos' names; None when all are checked (new videos are then exported too)."""
        items = _items(self.videos_list)
        checked = [item.data(Qt.ItemDataRole.UserRole) for item in items if item.checkState() == Qt.CheckState.Checked]
        return None if len(checked) == len(items) else checked

    def _format_changed(self) -> None:
        name = self.format_name()
        if name is None:
            return
        fmt = self.registry.get(name)
        self.format_about.setText(fmt.description or fmt.title)
        self.split_group.setEnabled(fmt.kind == "dataset")

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Export into folder", self.out_edit.text())
        if path:
            self.out_edit.setText(path)

    # ------------------------------------------------------------------ running
    def start(self) -> QMessageBox | None:
        """Export with the current choices; a non-empty folder is confirmed first (the box is returned)."""
        if self.task is not None:
            return None
        try:
            options = self._options()
        except ActdeskError as e:
            show_error(self, "Cannot export", e)
            return None
        out = options.pop("out")
        held = sorted(out.iterdir()) if out.is_dir() else []
        if not held:
            self._start(out, overwrite=False, **options)
            return None
        shown = ", ".join(p.name for p in held[:5]) + (", …" if len(held) > 5 else "")
        return ask(self, "Export into a folder that is not empty",
                   f"{out} already holds {len(held)} item{'s' if len(held) != 1 else ''} ({shown}).\n\n"
                   "Export into it anyway? Files this export writes are replaced; nothing else is touched.",
                   [("Export anyway", QMessageBox.ButtonRole.AcceptRole), ("Cancel", QMessageBox.ButtonRole.RejectRole)],
                   lambda choice: self._start(out, overwrite=True, **options) if choice == "Export anyway" else None)

    def _options(self) -> dict:
        text = self.out_edit.text().strip()
        if not text:
            raise ActdeskError("choose the folder to export into")
        out = Path(text).expanduser()
        if out.exists() and not out.is_dir():
            raise ActdeskError(f"{out} is a file, not a folder")
        tracks = self.tracks()
        if not tracks:
            raise ActdeskError("choose at least one track to export")
        videos = self.videos()
        if videos == []:
            raise ActdeskError("choose at least one video to export")
        fractions = DEFAULT_FRACTIONS
        if self.split_group.isEnabled():
            fractions = parse_fractions(",".join(f"{box.value():g}" for box in self.split_boxes))
        return {"out": out, "format_name": self.format_name(), "tracks": tracks, "videos": videos,
                "fractions": fractions, "seed": self.seed_box.value()}

    def _start(self, out: Path, *, format_name: str, overwrite: bool, **options) -> Task:
        task = Task(export_project_file, self.project_path, out, format_name, registry=self.registry,
                    overwrite=overwrite, name=f"export {format_name}", **options)
        task.progressed.connect(self.progress.show_progress)
        task.succeeded.connect(self._succeeded)
        task.cancelled.connect(self._cancelled)
        task.failed.connect(self._failed)
        self.task, self.result = task, None
        self.status.setText(f"Exporting {format_name} to {out}…")
        self.progress.start()
        self._set_running(True)
        task.start()
        return task

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.status.setText("Cancelling…")

    def _end(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.wait()
        self._set_running(False)

    def _succeeded(self, result) -> None:
        self._end()
        self.result = result
        splits = ", ".join(f"{list(result.splits.values()).count(s)} {s}" for s in SPLITS
                           if s in result.splits.values())
        self.progress.finish("done", complete=True)
        self.status.setText(f"Exported {result.segments} segments of {result.videos} video"
                            f"{'s' if result.videos != 1 else ''} as {result.format} to {result.folder}: "
                            f"{len(result.files)} files" + (f" (videos per split: {splits})" if splits else "") + ".")
        self.open_button.setEnabled(True)
        self.exported.emit(result)

    def _cancelled(self) -> None:
        self._end()
        self.progress.finish("cancelled")
        self.status.setText("Export cancelled; files written so far are left in the folder.")

    def _failed(self, error: BaseException, details: str) -> None:
        self._end()
        self.progress.finish("failed")
        self.status.setText("")
        show_error(self, "Export failed", error, details="" if isinstance(error, ActdeskError) else details)

    def _set_running(self, running: bool) -> None:
        self.export_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        for widget in (self.format_box, self.out_edit, self.tracks_list, self.videos_list, self.split_group):
            widget.setEnabled(not running)
        if not running:
            self._format_changed()

    def _open_folder(self) -> None:
        if self.result is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.result.folder)))

    def closeEvent(self, event) -> None:
        if self.task is not None:
            self.task.cancel()
            self._end()
        super().closeEvent(event)


def _items(widget: QListWidget) -> list[QListWidgetItem]:
    return [widget.item(i) for i in range(widget.count())]
