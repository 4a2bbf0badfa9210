"""The label palette (one button per label) and the label set editor.

Both only show the store's label set and turn clicks into commands
(AddLabel, RenameLabel, SetLabelColour, SetLabelShortcut, DeleteLabel), so
every change is undoable and renaming a label renames it on every segment.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QColorDialog,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from actdesk.core.commands import AddLabel, Command, DeleteLabel, RenameLabel, SetLabelColour, SetLabelShortcut
from actdesk.core.labels import Label
from actdesk.qt.document import ProjectDocument

RESERVED_KEYS = frozenset("AaRrSsMmIiOoFf[],.")
"""Single keys the window already uses; a label shortcut may not take them."""


def effective_shortcuts(labels: list[Label]) -> dict[str, str]:
    """Key → label name: each label's own shortcut, and 1…9, 0 for the first ten labels without one."""
    keys = {label.shortcut: label.name for label in labels if label.shortcut}
    digits = [str(d % 10) for d in range(1, 11)]
    for label in [label for label in labels if not label.shortcut]:
        while digits and digits[0] in keys:
            digits.pop(0)
        if not digits:
            break
        keys[digits.pop(0)] = label.name
    return keys


def swatch(colour: str, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


class LabelPalette(QWidget):
    """A row of label buttons showing their keys; a click relabels the selection
    (or, with nothing selected, picks the label new segments get)."""

    labelClicked = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(6, 2, 6, 2)
        self._layout.setSpacing(4)
        self.buttons: dict[str, QToolButton] = {}

    def set_labels(self, labels: list[Label], current: str | None) -> None:
        while self._layout.count():
            item = self._layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.buttons = {}
        keys = {name: key for key, name in effective_shortcuts(labels).items()}
        for label in labels:
            key = keys.get(label.name, "")
            button = QToolButton()
            button.setText(f"{key}  {label.name}" if key else label.name)
            button.setIcon(swatch(label.colour))
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setCheckable(True)
            button.setChecked(label.name == current)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setToolTip(f"Relabel the selection as {label.name}" + (f" (key {key})" if key else "")
                              + "; with nothing selected, new segments get this label")
            button.clicked.connect(lambda _=False, name=label.name: self.labelClicked.emit(name))
            self._layout.addWidget(button)
            self.buttons[label.name] = button
        self._layout.addStretch(1)


class LabelSetDialog(QDialog):
    """Name, colour and shortcut of every label; each change is one undoable command."""

    COLUMNS = ("colour", "name", "key", "segments")

    def __init__(self, document: ProjectDocument, execute: Callable[[Callable[[], Command]], bool], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Label set")
        self.setObjectName("labelSetDialog")
        self.document = document
        self._execute = execute
        self._loading = False
        self._names: list[str] = []

        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemChanged.connect(self._item_changed)
        self.table.cellDoubleClicked.connect(self._cell_double_clicked)

        self.new_name = QLineEdit()
        self.new_name.setPlaceholderText("new label name")
        self.new_name.returnPressed.connect(self._add)
        add = QPushButton("Add")
        add.clicked.connect(self._add)
        self.reassign = QComboBox()
        self.reassign.setToolTip("Where the segments of a deleted label go")
        delete = QPushButton("Delete selected")
        delete.clicked.connect(self._delete)
        close = QPushButton("Close")
        close.clicked.connect(self.close)

        row1 = QHBoxLayout()
        row1.addWidget(self.new_name, 1)
        row1.addWidget(add)
        row2 = QHBoxLayout()
        row2.addWidget(delete)
        row2.addWidget(QLabel("segments go to"))
        row2.addWidget(self.reassign, 1)
        row2.addWidget(close)
        hint = QLabel("Double-click a colour to change it; edit a name or key in place. "
                      "Keys 1–9, 0 go to the first labels without a key of their own.")
        hint.setWordWrap(True)
        hint.setObjectName("dimLabel")
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(hint)
        layout.addLayout(row1)
        layout.addLayout(row2)
        self.resize(460, 420)
        document.changed.connect(self._on_change)
        self.reload()

    def _on_change(self, change) -> None:
        if change.kind in ("labels", "segments"):
            self.reload()

    def reload(self) -> None:
        self._loading = True
        labels = self.document.labels()
        self._names = [label.name for label in labels]
        self.table.setRowCount(len(labels))
        for row, label in enumerate(labels):
            colour = QTableWidgetItem(swatch(label.colour, 16), label.colour)
            colour.setFlags(colour.flags() & ~Qt.ItemFlag.ItemIsEditable)
            usage = QTableWidgetItem(str(self.document.project.label_usage(label.name)))
            usage.setFlags(usage.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(row, 0, colour)
            self.table.setItem(row, 1, QTableWidgetItem(label.name))
            self.table.setItem(row, 2, QTableWidgetItem(label.shortcut))
            self.table.setItem(row, 3, usage)
        self.reassign.clear()
        self.reassign.addItems(self._names)
        self._loading = False

    # -- edits -------------------------------------------------------------------
    def add_label(self, name: str) -> bool:
        return self._run(lambda: AddLabel(name))

    def rename_label(self, name: str, new_name: str) -> bool:
        return self._run(lambda: RenameLabel(name, new_name))

    def set_colour(self, name: str, colour: str) -> bool:
        return self._run(lambda: SetLabelColour(name, colour))

    def set_shortcut(self, name: str, key: str) -> bool:
        if key and key in RESERVED_KEYS:
            from actdesk.qt.dialogs import show_error

            show_error(self, "Label key", f"key {key!r} is already an editing key of the window; choose another")
            self.reload()
            return False
        return self._run(lambda: SetLabelShortcut(name, key or None))

    def delete_label(self, name: str, reassign_to: str | None = None) -> bool:
        return self._run(lambda: DeleteLabel(name, reassign_to=reassign_to))

    def _run(self, make_command: Callable[[], Command]) -> bool:
        ok = self._execute(make_command)
        if not ok:
            self.reload()
        return ok

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._loading:
            return
        name = self._names[item.row()]
        text = item.text().strip()
        if item.column() == 1 and text != name:
            self.rename_label(name, text)
        elif item.column() == 2:
            self.set_shortcut(name, text)

    def _cell_double_clicked(self, row: int, column: int) -> None:
        if column != 0:
            return
        name = self._names[row]
        current = self.document.project.label_row(name).label.colour
        colour = QColorDialog.getColor(QColor(current), self, f"Colour of {name}")
        if colour.isValid():
            self.set_colour(name, colour.name())

    def _add(self) -> None:
        name = self.new_name.text().strip()
        if name and self.add_label(name):
            self.new_name.clear()

    def _delete(self) -> None:
        row = self.table.currentRow()
        if row < 0:
            return
        name = self._names[row]
        target = self.reassign.currentText()
        used = self.document.project.label_usage(name)
        self.delete_label(name, reassign_to=target if used and target != name else None)
