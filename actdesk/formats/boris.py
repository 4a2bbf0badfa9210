"""``boris``: BORIS tabular events (TSV or CSV), the table BORIS exports per observation.

A segment is a state event: a ``START`` row at the time of its first frame
and a ``STOP`` row at the time of the frame after it. An export writes one
``events.tsv`` with the columns of BORIS 8 (one observation per video, named
by the video id); BORIS 8 calls the START/STOP column ``Behavior type`` and
writes the media frame index in ``Image index``. Times have 3 decimals, as
BORIS writes them.

Import reads BORIS 8 tables and the older layout (a few ``key<TAB>value``
lines, then a header with ``Time``, ``Media file path``, ... ``Status``).
Events pair up per observation, subject and behaviour; ``POINT`` events
become one-frame segments. The video is the ``Media file name``/``Media
file path`` cell's file name, else the observation id; a subject's events
go to a track named after the subject. Times, not ``Image index``, are used:
BORIS derives its frame index from the time and a nominal frame rate.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path, PurePosixPath

from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.errors import FormatError
from actdesk.formats.data import SECONDS, ExportSet, Imported, Interval, checked_label, checked_seconds
from actdesk.formats.registry import Format
from actdesk.formats.safety import OutputFolder
from actdesk.formats.sources import csv_rows, first_line, sniff_delimiter

COLUMNS = ("Observation id", "Observation date", "Description", "Observation duration", "Observation type",
           "Source", "Time offset (s)", "Media duration (s)", "FPS", "Subject", "Behavior", "Behavioral category",
           "Behavior type", "Time", "Media file name", "Image index", "Image file path", "Comment")
"""BORIS 8's tabular-events columns for a media observation with one media file and no modifiers."""
STATUS_COLUMNS = ("Behavior type", "Status")
"""BORIS 8, BORIS 7 and earlier."""
MEDIA_COLUMNS = ("Media file name", "Media file path", "Media file")
EVENTS_FILE = "events.tsv"


def _media_file_name(cell: str) -> str:
    """``player #1:/data/clip.mp4;...`` or a path -> ``clip.mp4``."""
    first = cell.split(";")[0].split("|")[0]
    if first.lower().startswith("player #") and ":" in first:
        first = first.split(":", 1)[1]
    return PurePosixPath(first.strip().replace("\\", "/")).name


class BorisFormat(Format):
    name = "boris"
    title = "BORIS tabular events"
    kind = "annotations"
    suffixes = (".tsv", ".csv")
    description = "events.tsv with START/STOP state events in BORIS 8's columns"

    def export(self, data: ExportSet, out: OutputFolder, *, progress: ProgressFn = no_progress,
               should_stop: StopFn = never_stop) -> None:
        track = data.single_track(self.name)
        data.ids_unique(self.name)
        date = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        text = io.StringIO()
        writer = csv.writer(text, delimiter="\t", lineterminator="\n")
        writer.writerow(COLUMNS)
        for video in data.videos:
            events = []
            for seg in video.segments(track):
                events.append((seg.start_frame, 1, seg.label, "START"))
                events.append((seg.end_frame, 0, seg.label, "STOP"))  # a STOP sorts before a START at one time
            duration = f"{video.end_time_s:.3f}"
            for frame, _order, label, status in sorted(events):
                writer.writerow([video.video_id, date, "", duration, "Media file(s)", f"player #1:{video.name}",
                                 "0.000", duration, f"{video.avg_fps:.3f}", "", label, "", status,
                                 f"{video.time_of(frame):.3f}", video.name, frame, "NA", ""])
        out.write_text(text.getvalue(), EVENTS_FILE)

    def detect(self, path: Path) -> bool:
        return path.is_file() and path.suffix.lower() in self.suffixes and \
            first_line(path).replace('"', "").startswith("Observation id")

    def import_(self, path: Path) -> Imported:
        rows = csv_rows(path, delimiter=sniff_delimiter(path))
        preamble: dict[str, str] = {}
        header: list[str] | None = None
        for line, row in rows:
            if "Behavior" in row and "Time" in row:
                header, header_line = row, line
                break
            preamble.setdefault(row[0], row[1] if len(row) > 1 else "")
        if header is None:
            raise FormatError(path, "no header line with the columns Behavior and Time (expected a BORIS "
                                    "tabular events export)", 1)
        status_col = next((header.index(c) for c in STATUS_COLUMNS if c in header), None)
        if status_col is None:
            raise FormatError(path, f"header lacks the START/STOP column ({' or '.join(STATUS_COLUMNS)})",
                              header_line)
        col = {name: header.index(name) for name in header}
        media_col = next((col[c] for c in MEDIA_COLUMNS if c in col), None)
        preamble_media = next((_media_file_name(v) for k, v in preamble.items()
                               if k.lower().startswith(("player #", "media file")) and v), "")
        default_observation = preamble.get("Observation id", "")

        imported = Imported(self.name, path)
        open_events: dict[tuple[str, str, str], tuple[float, int]] = {}
        for line, row in rows:
            if len(row) < len(header):
                raise FormatError(path, f"expected {len(header)} fields, found {len(row)}", line)
            observation = row[col["Observation id"]] if "Observation id" in col else default_observation
            media = _media_file_name(row[media_col]) if media_col is not None else ""
            video = media if media not in ("", "NA", "Not found") else (preamble_media or observation)
            subject = row[col["Subject"]] if "Subject" in col else ""
            label = checked_label(row[col["Behavior"]], path, line)
            time = checked_seconds(row[col["Time"]], "Time", path, line)
            status = row[status_col].upper()
            key = (video, subject, label)
            if status == "START":
                if key in open_events:
                    raise FormatError(path, f"START of {label!r} while the START at line {open_events[key][1]} "
                                            "has no STOP yet", line)
                open_events[key] = (time, line)
            elif status in ("STOP", "POINT"):
                if status == "POINT":
                    start, start_line = time, line
                elif key in open_events:
                    start, start_line = open_events.pop(key)
                else:
                    raise FormatError(path, f"STOP of {label!r} without a START before it", line)
                if time < start:
                    raise FormatError(path, f"STOP of {label!r} at {time:.3f} s is before its START at "
                                            f"{start:.3f} s (line {start_line})", line)
                imported.intervals.append(Interval(video, label, start, time, SECONDS, path, start_line,
                                                   track=subject))
                imported.add_label(label)
            else:
                raise FormatError(path, f"expected START, STOP or POINT in column {header[status_col]!r}, "
                                        f"got {row[status_col]!r}", line)
        if open_events:
            (_video, _subject, label), (_time, line) = next(iter(open_events.items()))
            raise FormatError(path, f"START of {label!r} has no STOP", line)
        return imported
