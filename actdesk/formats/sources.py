"""Reading import files so that every problem names the file and the line.

Text, CSV, JSON and XML readers here turn every failure into a
:class:`~actdesk.errors.FormatError` with the line: JSON objects come back as
:class:`JsonObject` (a dict that knows the line it starts on) and XML
elements' lines are kept by :class:`XmlDocument`, so a reader can point at
the object or element that lacks what it expected, not just at syntax errors.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import json.decoder
import json.scanner
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from xml.parsers import expat

from actdesk.errors import FormatError


def read_text(path: Path) -> str:
    """The whole file as text (UTF-8, a BOM dropped); FormatError when missing, a folder, or not UTF-8."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FormatError(path, "file not found") from None
    except IsADirectoryError:
        raise FormatError(path, "is a folder, expected a file") from None
    except OSError as e:
        raise FormatError(path, f"cannot read: {e.strerror or e}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FormatError(path, "not UTF-8 text", data[:e.start].count(b"\n") + 1) from None


def text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` for each non-blank line, stripped (CRLF files too)."""
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if line.strip():
            yield number, line.strip()


def first_line(path: Path) -> str:
    """The first non-blank line, for format detection; '' when the file cannot be read as text."""
    try:
        with open(path, encoding="utf-8-sig", errors="strict") as f:
            for _ in range(50):
                line = f.readline(4096)
                if not line:
                    return ""
                if line.strip():
                    return line.strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return ""


def csv_rows(path: Path, *, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """``(line number, cells)`` for each non-blank row (cells stripped); malformed CSV raises FormatError."""
    reader = csv.reader(io.StringIO(read_text(path), newline=""), delimiter=delimiter)
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                yield reader.line_num, [cell.strip() for cell in row]
    except csv.Error as e:
        raise FormatError(path, f"malformed CSV: {e}", reader.line_num) from None


def sniff_delimiter(path: Path) -> str:
    """Tab for ``.tsv`` files and for text whose first line has tabs; comma otherwise."""
    return "\t" if path.suffix.lower() == ".tsv" or "\t" in first_line(path) else ","


def listed_file(root: Path, relative: str, list_file: Path, line: int) -> Path:
    """The file a list names relative to ``root``; FormatError when it leaves ``root`` or is missing."""
    rel = Path(relative.replace("\\", "/"))
    if rel.is_absolute() or ".." in rel.parts:
        raise FormatError(list_file, f"{relative!r} must be a path inside {root} (no '..', not absolute)", line)
    path = root / rel
    if not path.resolve().is_relative_to(root.resolve()):
        raise FormatError(list_file, f"{relative!r} leads outside {root}", line)
    if not path.is_file():
        raise FormatError(list_file, f"{relative!r}: no such video file in {root}", line)
    return path


# --------------------------------------------------------------------------- JSON


class JsonObject(dict):
    """A JSON object (a plain dict) that knows the line of its opening brace."""

    __slots__ = ("line",)

    def __init__(self, pairs: list, line: int):
        super().__init__(pairs)
        self.line = line


def load_json(path: Path) -> object:
    """Parse a JSON file; every object in it is a :class:`JsonObject` with its line."""
    text = read_text(path)
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    decoder = json.JSONDecoder()

    def parse_object(s_and_end, strict, scan_once, object_hook, object_pairs_hook, memo=None):
        opened_at = s_and_end[1] - 1
        pairs, end = json.decoder.JSONObject(s_and_end, strict, scan_once, None, list, memo)
        return JsonObject(pairs, bisect.bisect_right(line_starts, opened_at)), end

    decoder.parse_object = parse_object
    # The pure-Python scanner calls parse_object; the C one would bypass it.
    decoder.scan_once = json.scanner.py_make_scanner(decoder)
    try:
        return decoder.decode(text)
    except json.JSONDecodeError as e:
        raise FormatError(path, f"not valid JSON: {e.msg} (column {e.colno})", e.lineno) from None
    except RecursionError:
        raise FormatError(path, "JSON nested too deeply") from None


def json_field(obj: object, key: str, kind: type | tuple[type, ...], path: Path, what: str) -> object:
    """``obj[key]`` checked to be of ``kind``; FormatError naming the line of ``obj`` otherwise."""
    line = getattr(obj, "line", None)
    if not isinstance(obj, dict):
        raise FormatError(path, f"{what}: expected a JSON object, found {json_kind(obj)}", line)
    if key not in obj:
        raise FormatError(path, f"{what}: missing {key!r}", line)
    value = obj[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or isinstance(value, bool) and bool not in kinds:
        expected = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
        raise FormatError(path, f"{what}: {key!r} must be {expected}, found {json_kind(value)}", line)
    return value


_TYPE_NAMES = {dict: "an object", list: "a list", str: "text", int: "a number", float: "a number"}


def json_kind(value: object) -> str:
    """What a JSON value is, for messages."""
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    return next((name for t, name in _TYPE_NAMES.items() if isinstance(value, t)), type(value).__name__)


# --------------------------------------------------------------------------- XML


class XmlDocument:
    """A parsed XML file: :attr:`root` and the line each element starts on."""

    def __init__(self, path: Path):
        self.path = path
        self._lines: dict[int, int] = {}
        builder = ET.TreeBuilder()
        parser = expat.ParserCreate()

        def start(tag: str, attrs: dict) -> None:
            self._lines[id(builder.start(tag, attrs))] = parser.CurrentLineNumber

        def refuse_doctype(*_args) -> None:
            # Entity definitions are how XML files exhaust memory; no format we read needs them.
            raise FormatError(path, "document type declarations (DTDs) are not accepted", parser.CurrentLineNumber)

        parser.StartElementHandler = start
        parser.EndElementHandler = builder.end
        parser.CharacterDataHandler = builder.data
        parser.StartDoctypeDeclHandler = refuse_doctype
        data = read_text(path)
        try:
            parser.Parse(data, True)
        except expat.ExpatError as e:
            raise FormatError(path, f"not well-formed XML: {expat.ErrorString(e.code)} (column {e.offset + 1})",
                              e.lineno) from None
        self.root: ET.Element = builder.close()

    def line(self, element: ET.Element) -> int | None:
        return self._lines.get(id(element))

    def error(self, element: ET.Element, problem: str) -> FormatError:
        """A FormatError at ``element``'s line."""
        return FormatError(self.path, problem, self.line(element))

    def attribute(self, element: ET.Element, name: str) -> str:
        """``element``'s attribute ``name``; FormatError at its line when missing."""
        value = element.get(name)
        if value is None:
            raise self.error(element, f"<{element.tag}> lacks the attribute {name}")
        return value
