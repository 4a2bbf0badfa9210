"""The Plugins dialog: every plugin with its models and status, load errors with their traceback,
install from a wheel or a package folder, uninstall.

It only shows what the plugin manager (``actdesk.plugins``) knows and calls
``actdesk.plugins.install``; installing and uninstalling run in a
:class:`~actdesk.qt.workers.Task` (building a wheel from a folder takes a while)
and end by reloading the process-wide manager, so new models appear at once.
``pluginsChanged`` tells the window to reload its model list too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from actdesk.errors import ActdeskError
from actdesk.plugins import PluginLoadError, PluginManager
from actdesk.plugins.install import InstalledPlugin, installed_plugins, normalize_name
from actdesk.qt.dialogs import ask, show_error
from actdesk.qt.workers import Task

COLUMNS = ("Plugin / model", "Version", "Distribution", "Source", "Status")
STATUS_COLOURS = {"ok": "#7bc96f", "error": "#ff6b6b", "disabled": "#9aa0aa"}
USER_FOLDER = "user folder"


@dataclass(frozen=True)
class PluginRow:
    """One top-level row: a plugin the manager tried to load, or a load error no plugin owns."""

    name: str
    version: str
    distribution: str
    source: str
    status: str
    models: tuple[str, ...]
    formats: tuple[str, ...]
    module: str
    errors: tuple[PluginLoadError, ...]


def plugin_rows(manager: PluginManager, user_distributions: set[str]) -> list[PluginRow]:
    """The manager's plugins with their load errors attached; errors of plugins not listed get rows of their own."""
    unclaimed = list(manager.load_errors)
    rows = []
    for info in manager.plugins():
        mine = tuple(e for e in unclaimed if e.plugin == info.name and e.distribution == info.distribution)
        unclaimed = [e for e in unclaimed if e not in mine]
        rows.append(PluginRow(info.name, info.version, info.distribution,
                              _source(info.distribution, user_distributions), info.status, info.models,
                              info.formats, info.module, mine))
    for error in unclaimed:
        rows.append(PluginRow(error.plugin, error.version, error.distribution,
                              _source(error.distribution, user_distributions), "error", (), (), "", (error,)))
    return rows


def _source(distribution: str, user_distributions: set[str]) -> str:
    if distribution == "built-in":
        return "built-in"
    if normalize_name(distribution) in user_distributions:
        return USER_FOLDER
    return "environment" if distribution else "registered"


def install_and_reload(source: Path, *, progress, should_stop) -> tuple[InstalledPlugin, PluginManager]:  # noqa: ARG001
    """Install a wheel or package folder into the per-user folder, then reload the process-wide manager."""
    from actdesk.plugins import get_plugin_manager, reset_plugin_manager
    from actdesk.plugins.install import install_plugin

    progress(0, 0, f"installing {source.name}")
    installed = install_plugin(source)
    progress(0, 0, "loading plugins")
    reset_plugin_manager()
    return installed, get_plugin_manager()


def uninstall_and_reload(distribution: str, *, progress, should_stop) -> tuple[InstalledPlugin, PluginManager]:  # noqa: ARG001
    """Remove a distribution from the per-user folder, then reload the process-wide manager."""
    from actdesk.plugins import get_plugin_manager, reset_plugin_manager
    from actdesk.plugins.install import uninstall_plugin

    progress(0, 0, f"removing {distribution}")
    removed = uninstall_plugin(distribution)
    reset_plugin_manager()
    return removed, get_plugin_manager()


class PluginsDialog(QDialog):
    """Plugins, their models and load errors; install from a file or folder; uninstall.

    :param manager: the plugin manager to show (default: the process-wide one).
    """

    pluginsChanged = Signal()
    """A plugin was installed or removed; the process-wide manager was reloaded."""

    def __init__(self, manager: PluginManager | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("pluginsDialog")
        self.setWindowTitle("Plugins")
        if manager is None:
            from actdesk.plugins import get_plugin_manager

            manager = get_plugin_manager()
        self.manager = manager
        self.task: Task | None = None
        self.rows: list[PluginRow] = []

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.tree.currentItemChanged.connect(self._show_details)

        self.details = QPlainTextEdit()
        self.details.setObjectName("pluginDetails")
        self.details.setReadOnly(True)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        mono = QFont("DejaVu Sans Mono")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.details.setFont(mono)
        self.details.setPlaceholderText("Select a plugin or model to see its details and any error.")

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.tree)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        self.summary = QLabel()
        self.summary.setObjectName("dimLabel")
        self.summary.setWordWrap(True)
        self.install_file_button = QPushButton("Install from file…")
        self.install_file_button.setObjectName("primaryButton")
        self.install_file_button.setToolTip("Install a plugin wheel (.whl) for this user")
        self.install_file_button.clicked.connect(self._choose_wheel)
        self.install_folder_button = QPushButton("Install from folder…")
        self.install_folder_button.setToolTip("Build a plugin package folder (with pyproject.toml) into a wheel "
                                              "with pip and install it; needs pip, so not in the packaged app")
        self.install_folder_button.clicked.connect(self._choose_folder)
        self.uninstall_button = QPushButton("Uninstall")
        self.uninstall_button.setToolTip("Remove the selected plugin from the per-user plugin folder")
        self.uninstall_button.clicked.connect(self.uninstall_selected)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        for button in (self.install_file_button, self.install_folder_button, self.uninstall_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)
        self.resize(900, 620)
        self.refresh()

    # ------------------------------------------------------------------ listing
    def refresh(self) -> None:
        """Fill the tree from the manager (keeping the selected plugin selected)."""
        selected = self.selected_row()
        user = {normalize_name(p.distribution) for p in installed_plugins()}
        self.rows = plugin_rows(self.manager, user)
        models = {entry.name: entry for entry in self.manager.models()}
        self.tree.clear()
        for row in self.rows:
            item = QTreeWidgetItem([row.name, row.version or "–", row.distribution or "–", row.source, row.status])
            item.setData(0, Qt.ItemDataRole.UserRole, row)
            self._colour_status(item, row.status)
            if row.errors:
                item.setToolTip(4, row.errors[0].error)
            for name in row.models:
                entry = models.get(name)
                title = entry.spec.title if entry is not None else ""
                status = entry.status if entry is not None else "?"
                child = QTreeWidgetItem([f"{name} — {title}" if title else name, "", "", "model", status])
                child.setData(0, Qt.ItemDataRole.UserRole, entry)
                self._colour_status(child, status)
                item.addChild(child)
            for fmt in row.formats:
                child = QTreeWidgetItem([f"{fmt}", "", "", "format", "ok"])
                item.addChild(child)
            self.tree.addTopLevelItem(item)
            item.setExpanded(True)
        failed = sum(1 for row in self.rows if row.status == "error")
        text = f"{len(self.rows)} plugins, {len(models)} models"
        if failed:
            text += f"; {failed} failed to load (select one for the error and its traceback)"
        from actdesk.paths import user_plugins_dir

        self.summary.setText(f"{text}. Per-user plugin folder: {user_plugins_dir()}")
        if selected is not None:
            self.select_plugin(selected.name)
        elif failed:
            self.select_plugin(next(row.name for row in self.rows if row.status == "error"))
        self._update_buttons()

    @staticmethod
    def _colour_status(item: QTreeWidgetItem, status: str) -> None:
        colour = STATUS_COLOURS.get(status)
        if colour:
            item.setForeground(4, QBrush(QColor(colour)))

    def plugin_item(self, name: str) -> QTreeWidgetItem | None:
        """The top-level row of plugin ``name``."""
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole).name == name:
                return item
        return None

    def select_plugin(self, name: str) -> bool:
        item = self.plugin_item(name)
        if item is not None:
            self.tree.setCurrentItem(item)
        return item is not None

    def selected_row(self) -> PluginRow | None:
        item = self.tree.currentItem()
        while item is not None and item.parent() is not None:
            item = item.parent()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def _show_details(self, *_args) -> None:
        item = self.tree.currentItem()
        data = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        if isinstance(data, PluginRow):
            self.details.setPlainText(_plugin_details(data))
        elif data is not None:  # a ModelEntry
            self.details.setPlainText(_model_details(data))
        else:
            self.details.clear()
        self._update_buttons()

    def _update_buttons(self) -> None:
        busy = self.task is not None
        row = self.selected_row()
        for button in (self.install_file_button, self.install_folder_button):
            button.setEnabled(not busy)
        self.uninstall_button.setEnabled(not busy and row is not None and row.source == USER_FOLDER)

    # ------------------------------------------------------------------ install / uninstall
    def _choose_wheel(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Install a plugin wheel", "", "Python wheels (*.whl);;All files (*)")
        if path:
            self.install(Path(path))

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Install a plugin package folder")
        if path:
            self.install(Path(path))

    def install(self, source: Path) -> Task:
        """Install ``source`` (a wheel or package folder) in the background; refusals become dialogs."""
        return self._run(Task(install_and_reload, Path(source), name="install plugin"),
                         f"Installing {Path(source).name}…", "Cannot install the plugin", self._installed)

    def uninstall_selected(self) -> QMessageBox | None:
        """Ask, then remove the selected plugin's distribution from the per-user folder."""
        row = self.selected_row()
        if row is None or row.source != USER_FOLDER:
            return None
        return ask(self, "Uninstall plugin",
                   f"Remove {row.distribution} {row.version} from the per-user plugin folder? Its models "
                   f"({', '.join(row.models) or 'none'}) will no longer be available.",
                   [("Uninstall", QMessageBox.ButtonRole.DestructiveRole),
                    ("Keep", QMessageBox.ButtonRole.RejectRole)],
                   lambda choice: self.uninstall(row.distribution) if choice == "Uninstall" else None)

    def uninstall(self, distribution: str) -> Task:
        """Remove ``distribution`` from the per-user folder in the background."""
        return self._run(Task(uninstall_and_reload, distribution, name="uninstall plugin"),
                         f"Removing {distribution}…", "Cannot uninstall the plugin", self._removed)

    def _run(self, task: Task, busy_text: str, error_title: str, on_success) -> Task:
        if self.task is not None:
            raise ActdeskError("a plugin is being installed or removed; wait for it to finish")
        self.summary.setText(busy_text)
        task.succeeded.connect(on_success)
        task.failed.connect(lambda error, tb: self._failed(error_title, error, tb))
        self.task = task
        self._update_buttons()
        task.start()
        return task

    def _finish_task(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.wait()

    def _reloaded(self, manager: PluginManager) -> None:
        self._finish_task()
        self.manager = manager
        self.refresh()
        self.pluginsChanged.emit()

    def _removed(self, result: tuple[InstalledPlugin, PluginManager]) -> None:
        removed, manager = result
        self._reloaded(manager)
        self.summary.setText(f"Removed {removed.distribution} {removed.version}.")

    def _installed(self, result: tuple[InstalledPlugin, PluginManager]) -> None:
        installed, manager = result
        self._reloaded(manager)
        mine = [row for row in self.rows if normalize_name(row.distribution) == normalize_name(installed.distribution)]
        if mine:
            self.select_plugin(mine[0].name)
        broken = [row for row in mine if row.status == "error"]
        if broken:
            error = broken[0].errors[0] if broken[0].errors else None
            show_error(self, "The plugin was installed but does not load",
                       f"{installed.distribution} {installed.version} was installed into {installed.path}, but "
                       f"plugin {broken[0].name!r} fails to load: {error.error if error else broken[0].status}",
                       details=error.traceback if error else "")
            return
        models = [m for row in mine for m in row.models]
        self.summary.setText(f"Installed {installed.distribution} {installed.version}: "
                             f"models {', '.join(models) or '(none)'}.")

    def _failed(self, title: str, error: BaseException, details: str) -> None:
        self._finish_task()
        self.refresh()
        show_error(self, title, error, details="" if isinstance(error, ActdeskError) else details)

    def closeEvent(self, event) -> None:
        # Installing cannot be stopped half-way; the thread must end before the dialog may be deleted.
        self._finish_task()
        super().closeEvent(event)


def _plugin_details(row: PluginRow) -> str:
    lines = [f"Plugin:        {row.name}",
             f"Status:        {row.status}",
             f"Distribution:  {' '.join(v for v in (row.distribution, row.version) if v) or '–'}",
             f"Source:        {row.source}"]
    if row.module:
        lines.append(f"Module:        {row.module}")
    lines.append(f"Models:        {', '.join(row.models) or '(none)'}")
    if row.formats:
        lines.append(f"Formats:       {', '.join(row.formats)}")
    for error in row.errors:
        lines += ["", f"Error: {error.error}"]
        if error.traceback:
            lines += ["", error.traceback.rstrip()]
    return "\n".join(lines)


def _model_details(entry) -> str:
    spec = entry.spec
    lines = [f"Model:         {spec.name}",
             f"Title:         {spec.title}",
             f"Plugin:        {entry.plugin}" + (f" ({' '.join(v for v in (entry.distribution, entry.version) if v)})"
                                                   if entry.distribution or entry.version else ""),
             f"Status:        {entry.status}",
             f"Input:         {spec.clip_len} frames every {spec.frame_step}, {spec.size[0]}x{spec.size[1]} (HxW)"]
    for label, value in (("Paper", spec.paper), ("Seed", spec.seed), ("Description", spec.description)):
        if value:
            lines.append(f"{label + ':':<15}{value}")
    if entry.error:
        lines += ["", f"Error: {entry.error}"]
    return "\n".join(lines)
