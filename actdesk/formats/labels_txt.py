"""``labels.txt``: the class names of a training set, one per line, line n = class index n - 1."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from actdesk.errors import FormatError
from actdesk.formats.data import checked_label
from actdesk.formats.safety import OutputFolder
from actdesk.formats.sources import text_lines

LABELS_FILE = "labels.txt"


def write_labels_txt(out: OutputFolder, labels: Sequence[str]) -> Path:
    """Write ``labels`` in class-index order to ``labels.txt`` in ``out``."""
    return out.write_text("".join(f"{label}\n" for label in labels), LABELS_FILE)


def read_labels_txt(path: Path) -> list[str]:
    """The labels of a ``labels.txt``, in order; a bad or repeated name raises FormatError at its line."""
    first_seen: dict[str, int] = {}
    for line, text in text_lines(path):
        label = checked_label(text, path, line)
        if label in first_seen:
            raise FormatError(path, f"label {label!r} is listed twice (first on line {first_seen[label]})", line)
        first_seen[label] = line
    return list(first_seen)
