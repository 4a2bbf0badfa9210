"""A test plugin adding formats: ``test-lines`` (works) and ``csv`` (a name actdesk's own format has)."""

from __future__ import annotations

from actdesk.formats.registry import Format
from actdesk.plugins import hookimpl


class LinesFormat(Format):
    """One label per line: the exported label set."""

    name = "test-lines"
    title = "Test: labels, one per line"
    kind = "dataset"
    suffixes = (".lines",)

    def export(self, data, out, **_):
        out.path("labels.lines").write_text("".join(f"{label}\n" for label in data.labels), encoding="utf-8")


class ClashingFormat(LinesFormat):
    name = "csv"


@hookimpl
def actdesk_register_formats(registry):
    registry.add(LinesFormat())
    registry.add(ClashingFormat())
