"""One dark theme for the whole app: Fusion style, a dark palette, a few style rules.

The timeline and the frame view paint their own backgrounds in matching
colours (``qt.timeline``), so the window reads as one surface.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

COLOURS = {
    QPalette.ColorRole.Window: "#23262d",
    QPalette.ColorRole.WindowText: "#d7dae0",
    QPalette.ColorRole.Base: "#1b1d22",
    QPalette.ColorRole.AlternateBase: "#22252b",
    QPalette.ColorRole.ToolTipBase: "#2c313a",
    QPalette.ColorRole.ToolTipText: "#e6e6e6",
    QPalette.ColorRole.Text: "#d7dae0",
    QPalette.ColorRole.Button: "#2c3038",
    QPalette.ColorRole.ButtonText: "#d7dae0",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Highlight: "#3d6fb6",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#6ea8fe",
    QPalette.ColorRole.PlaceholderText: "#7b808a",
}
DISABLED_TEXT = "#6b707a"

STYLE = """
QToolTip { border: 1px solid #3a3f48; padding: 4px; }
QTabWidget::pane { border-top: 1px solid #343842; }
QTabBar::tab { padding: 6px 14px; }
QLabel#dimLabel { color: #9aa0aa; }
QLabel#positionLabel { font-family: "DejaVu Sans Mono", monospace; }
QPushButton#primaryButton { background: #3d6fb6; color: white; border: 1px solid #4b7fc8;
                            border-radius: 3px; padding: 5px 12px; }
QPushButton#primaryButton:disabled { background: #2c3038; color: #6b707a; border-color: #343842; }
QPushButton#warningButton { color: #ffcc66; text-align: left; }
QStatusBar QLabel { padding: 0 8px; }
QSplitter::handle { background: #1a1c21; }
QToolButton:checked { background: #3a4150; border: 1px solid #5a6475; border-radius: 3px; }
QProgressBar { border: 1px solid #3a3f48; border-radius: 3px; text-align: center; height: 18px; }
QProgressBar::chunk { background: #3d6fb6; }
"""


def apply_theme(app: QApplication) -> None:
    """Fusion with the dark palette and the style rules above."""
    app.setStyle("Fusion")
    palette = QPalette()
    for role, colour in COLOURS.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(DISABLED_TEXT))
    app.setPalette(palette)
    app.setStyleSheet(STYLE)
