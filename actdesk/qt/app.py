"""Starting the desktop app: ``actdesk [PATH]`` and ``actdesk --smoke-test``.

The window is shown before anything heavy is imported: plugins and torch load
in a background task once the event loop runs, and the file named on the
command line opens right after the first paint.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from actdesk import __version__


def has_screen() -> bool:
    """False on Linux with neither DISPLAY nor WAYLAND_DISPLAY and no explicit QT_QPA_PLATFORM."""
    if not sys.platform.startswith("linux"):
        return True
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def create_application(*, offscreen: bool = False, qt_args: list[str] | None = None):
    """The QApplication (reused when one exists) with the theme and the crash handler installed."""
    if offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    from actdesk.qt.dialogs import install_handlers
    from actdesk.qt.theme import apply_theme

    app = QApplication.instance()
    if app is None:
        app = QApplication(["actdesk", *(qt_args or [])])
        app.setApplicationName("actdesk")
        app.setApplicationVersion(__version__)
        app.setOrganizationName("actdesk")
        apply_theme(app)
        app.crash_handler = install_handlers()  # kept alive with the app
    return app


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="actdesk", description="Open the actdesk desktop app.")
    parser.add_argument("path", nargs="?", type=Path, help="a project (.actdesk) or a video to open")
    parser.add_argument("--smoke-test", action="store_true",
                        help="offscreen self-check: label a generated clip, edit, undo, save, reopen; exit 0")
    return parser


def run_app(argv: list[str]) -> int:
    """Run the desktop app (or the smoke test); returns the exit code."""
    args, qt_args = build_parser().parse_known_args(argv)
    if args.smoke_test:
        from actdesk.qt.demo import run_smoke_test

        return run_smoke_test()
    if not has_screen():
        print("actdesk: error: no display (DISPLAY/WAYLAND_DISPLAY unset); set QT_QPA_PLATFORM=offscreen to run "
              "without one, or try `actdesk demo`", file=sys.stderr)
        return 2
    app = create_application(qt_args=qt_args)
    from PySide6.QtCore import QTimer

    from actdesk.qt.main_window import MainWindow

    window = MainWindow()
    window.show()

    def after_first_paint() -> None:
        window.load_plugins_in_background()
        if args.path is not None:
            window.open_path(args.path)

    QTimer.singleShot(0, after_first_paint)
    return app.exec()
