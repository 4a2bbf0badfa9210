"""Label names and label sets.

A label name is what a user types and what ends up in file names, CSV cells and
XML attributes, so it is checked once, here: printable, no path separators, no
leading/trailing space, not ``.``/``..``, at most 64 characters.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from actdesk.errors import LabelError

MAX_LABEL_LENGTH = 64
_FORBIDDEN = set('/\\\0')

# A fixed palette of distinguishable colours (Glasbey-style), cycled for new labels.
PALETTE = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896",
    "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5", "#393b79",
]


def validate_label_name(name: object) -> str:
    """Return ``name`` normalised (NFC) or raise :class:`LabelError` saying why."""
    if not isinstance(name, str):
        raise LabelError(f"label name must be text, got {type(name).__name__}")
    norm = unicodedata.normalize("NFC", name)
    if not norm:
        raise LabelError("label name is empty")
    if norm != norm.strip():
        raise LabelError(f"label name {name!r} starts or ends with a space")
    if len(norm) > MAX_LABEL_LENGTH:
        raise LabelError(f"label name {name[:20]!r}... is longer than {MAX_LABEL_LENGTH} characters")
    if norm in {".", ".."}:
        raise LabelError(f"label name {name!r} is not allowed")
    bad = [c for c in norm if c in _FORBIDDEN or unicodedata.category(c).startswith("C")]
    if bad:
        raise LabelError(f"label name {name!r} contains a forbidden character {bad[0]!r}")
    return norm


@dataclass(frozen=True, slots=True)
class Label:
    """A label of a project's label set: name, display colour, one-key shortcut."""

    name: str
    colour: str
    shortcut: str = ""


def default_colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]
