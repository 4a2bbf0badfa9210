"""Dialogs: errors shown to the user, the crash handler, relinking moved videos.

Every dialog here is opened non-blocking (``open()``/``show()``), so the event
loop keeps running (inference keeps streaming, tests can find the box) and an
offscreen run never waits for a click.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QtMsgType, Signal, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from actdesk import __version__
from actdesk.errors import ActdeskError, PluginError

log = logging.getLogger("actdesk")


def log_path() -> Path:
    """The log file in the per-user data folder (crashes, Qt warnings)."""
    from actdesk.paths import user_data_dir

    return user_data_dir() / "logs" / "actdesk.log"


def setup_logging() -> Path:
    """Log to :func:`log_path` (never to the terminal: a GUI run keeps stderr clean)."""
    path = log_path()
    if any(isinstance(h, logging.FileHandler) and Path(h.baseFilename) == path for h in log.handlers):
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    # Python warnings (from torch, pyqtgraph, ...) go to the log too, not to the terminal.
    logging.captureWarnings(True)
    warnings_log = logging.getLogger("py.warnings")
    warnings_log.addHandler(handler)
    warnings_log.propagate = False
    return path


def _qt_message(mode: QtMsgType, context, message: str) -> None:  # noqa: ARG001
    level = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
             QtMsgType.QtWarningMsg: logging.WARNING}.get(mode, logging.ERROR)
    log.log(level, "Qt: %s", message)


def describe(error: BaseException) -> str:
    """The message a user sees for ``error``: ours as they are, anything else as a bug."""
    if isinstance(error, ActdeskError):
        return str(error)
    return f"Unexpected error ({type(error).__name__}): {error}"


def show_error(parent: QWidget | None, title: str, error: BaseException | str, *,
               details: str = "") -> QMessageBox:
    """Show a non-blocking error box naming what happened; returns it (tests look for it)."""
    text = error if isinstance(error, str) else describe(error)
    if isinstance(error, PluginError) and error.plugin:
        title = f"{title} — plugin {error.plugin}"
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorDialog")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if details:
        box.setDetailedText(details)
    log.warning("%s: %s", title, text)
    box.open()
    return box


def ask(parent: QWidget | None, title: str, text: str, buttons: list[tuple[str, QMessageBox.ButtonRole]],
        on_choice) -> QMessageBox:
    """A non-blocking question; ``on_choice(button_text)`` runs when one is clicked."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName("questionDialog")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    for label, role in buttons:
        box.addButton(label, role)
    box.buttonClicked.connect(lambda button: on_choice(button.text()))
    box.open()
    return box


class CrashHandler(QObject):
    """``sys.excepthook`` and ``threading.excepthook``: log the traceback and show a dialog.

    The app keeps running: a bug in one action must not take the user's work
    with it (JABS users report silent crashes). Exceptions from other threads
    reach the dialog through a queued signal.
    """

    raised = Signal(str, str)

    def __init__(self) -> None:
        super().__init__()
        self.raised.connect(self._show)
        self._previous = (sys.excepthook, threading.excepthook)
        self.shown: list[QMessageBox] = []

    def install(self) -> None:
        sys.excepthook = self._excepthook
        threading.excepthook = self._thread_excepthook

    def uninstall(self) -> None:
        sys.excepthook, threading.excepthook = self._previous

    def _excepthook(self, kind, value, tb) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        self._report(value, "".join(traceback.format_exception(kind, value, tb)))

    def _thread_excepthook(self, args) -> None:
        self._report(args.exc_value, "".join(
            traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback)))

    def _report(self, error: BaseException | None, text: str) -> None:
        log.error("unhandled exception (actdesk %s)\n%s", __version__, text)
        if sys.__stderr__ is not None:  # a terminal user sees it too
            print(text, file=sys.__stderr__, flush=True)
        message = describe(error) if error is not None else "Unexpected error"
        self.raised.emit(message, text)

    def _show(self, message: str, text: str) -> None:
        parent = QApplication.activeWindow()
        if isinstance(message, str) and message.startswith("Unexpected"):
            message += f"\n\nThe app keeps running. Details were written to {log_path()}."
        self.shown = [b for b in self.shown if b.isVisible()]
        if len(self.shown) < 3:  # a bug in a timer must not bury the screen in boxes
            self.shown.append(show_error(parent, "Something went wrong", message, details=text))


def install_handlers() -> CrashHandler:
    """Logging to the user log file, Qt messages into it, and the crash dialog."""
    setup_logging()
    qInstallMessageHandler(_qt_message)
    handler = CrashHandler()
    handler.install()
    return handler
