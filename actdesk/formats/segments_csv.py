"""actdesk's own segments CSV (docs/formats.md).

Header ``video,start_frame,end_frame,start_s,end_s,label,confidence,source``;
``end_frame`` exclusive; ``confidence`` empty for human labels.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

from actdesk.core.labels import validate_label_name
from actdesk.core.segments import Segment
from actdesk.errors import FormatError, LabelError

COLUMNS = ["video", "start_frame", "end_frame", "start_s", "end_s", "label", "confidence", "source"]


def write_segments_csv(path: str | os.PathLike, segments: list[Segment]) -> None:
    """Write ``segments`` atomically (temp file + rename: a crash never leaves half a file)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for s in segments:
            w.writerow([
                s.video, s.start_frame, s.end_frame, f"{s.start_s:.6f}", f"{s.end_s:.6f}", s.label,
                "" if s.confidence is None else f"{s.confidence:.6f}", s.source,
            ])
    os.replace(tmp, path)


def read_segments_csv(path: str | os.PathLike) -> list[Segment]:
    """Read a segments CSV; any malformed row raises FormatError naming file and line."""
    path = Path(path)
    try:
        f = open(path, newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise FormatError(path, "file not found") from None
    except OSError as e:
        raise FormatError(path, f"cannot read: {e.strerror}") from None
    with f:
        try:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                raise FormatError(path, "empty file, expected a header line", 1)
            header = [h.strip() for h in header]
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                raise FormatError(path, f"header lacks column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}", 1)
            col = {name: header.index(name) for name in COLUMNS}
            out = []
            for row in reader:
                line = reader.line_num
                if not row or all(not c.strip() for c in row):
                    continue
                if len(row) < len(header):
                    raise FormatError(path, f"expected {len(header)} fields, found {len(row)}", line)
                out.append(_parse_row(path, line, row, col))
            return out
        except UnicodeDecodeError:
            raise FormatError(path, "not UTF-8 text") from None
        except csv.Error as e:
            raise FormatError(path, f"malformed CSV: {e}") from None


def _parse_row(path: Path, line: int, row: list[str], col: dict[str, int]) -> Segment:
    def get(name: str) -> str:
        return row[col[name]].strip()

    try:
        start, end = int(get("start_frame")), int(get("end_frame"))
    except ValueError:
        raise FormatError(path, f"start_frame/end_frame must be integers, got {get('start_frame')!r}, {get('end_frame')!r}", line) from None
    if start < 0 or end <= start:
        raise FormatError(path, f"need 0 <= start_frame < end_frame, got {start}, {end}", line)
    try:
        start_s = float(get("start_s")) if get("start_s") else 0.0
        end_s = float(get("end_s")) if get("end_s") else 0.0
    except ValueError:
        raise FormatError(path, f"start_s/end_s must be numbers, got {get('start_s')!r}, {get('end_s')!r}", line) from None
    conf_text = get("confidence")
    confidence = None
    if conf_text:
        try:
            confidence = float(conf_text)
        except ValueError:
            raise FormatError(path, f"confidence must be a number or empty, got {conf_text!r}", line) from None
        if not (0.0 <= confidence <= 1.0) or math.isnan(confidence):
            raise FormatError(path, f"confidence must lie in [0, 1], got {conf_text}", line)
    try:
        label = validate_label_name(get("label"))
    except LabelError as e:
        raise FormatError(path, str(e), line) from None
    return Segment(start, end, label, start_s, end_s, confidence, get("source") or "human", get("video"))
