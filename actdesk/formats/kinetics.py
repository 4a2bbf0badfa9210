"""``kinetics-csv``: Kinetics-style annotation CSVs, one per split, plus labels.txt.

``train.csv``, ``val.csv``, ``test.csv`` with the header
``label,youtube_id,time_start,time_end,split``: one row per segment, the
video id being the file name without suffix and the times the presentation
times of the segment's first frame and of the frame after it, in seconds
(6 decimals). Importing reads one such CSV or a folder of them
(``validate.csv`` too, as Kinetics names it); a video must lie in one split.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.errors import FormatError
from actdesk.formats.data import SECONDS, ExportSet, Imported, Interval, checked_label, checked_seconds
from actdesk.formats.labels_txt import LABELS_FILE, read_labels_txt, write_labels_txt
from actdesk.formats.registry import Format
from actdesk.formats.safety import OutputFolder
from actdesk.formats.sources import csv_rows, first_line

COLUMNS = ("label", "youtube_id", "time_start", "time_end", "split")
SPLIT_NAMES = {"train": "train", "training": "train", "val": "val", "validate": "val", "validation": "val",
               "test": "test", "testing": "test"}
"""Split names Kinetics and ActivityNet files use -> ours."""
_SPLIT_FILES = ("train.csv", "val.csv", "validate.csv", "test.csv")


def _is_kinetics_header(line: str) -> bool:
    cells = {c.strip().lower() for c in line.split(",")}
    return {"label", "youtube_id", "time_start", "time_end"} <= cells


class KineticsFormat(Format):
    name = "kinetics-csv"
    title = "Kinetics CSV"
    kind = "dataset"
    suffixes = (".csv",)
    reads_folders = True
    description = "train/val/test.csv with label,youtube_id,time_start,time_end,split; labels.txt"

    def export(self, data: ExportSet, out: OutputFolder, *, progress: ProgressFn = no_progress,
               should_stop: StopFn = never_stop) -> None:
        track = data.single_track(self.name)
        data.ids_unique(self.name)
        write_labels_txt(out, data.labels)
        for split in ("train", "val", "test"):
            videos = [v for v in data.labelled(track) if v.split == split]
            if not videos:
                continue
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(COLUMNS)
            for video in videos:
                for seg in video.segments(track):
                    writer.writerow([seg.label, video.video_id, f"{video.time_of(seg.start_frame):.6f}",
                                     f"{video.time_of(seg.end_frame):.6f}", split])
            out.write_text(text.getvalue(), f"{split}.csv")

    def detect(self, path: Path) -> bool:
        if path.is_dir():
            return any((path / name).is_file() and _is_kinetics_header(first_line(path / name))
                       for name in _SPLIT_FILES)
        return path.suffix.lower() == ".csv" and _is_kinetics_header(first_line(path))

    def import_(self, path: Path) -> Imported:
        files = [path / n for n in _SPLIT_FILES if (path / n).is_file()] if path.is_dir() else [path]
        if not files:
            raise FormatError(path, f"no {', '.join(_SPLIT_FILES)} in the folder")
        folder = path if path.is_dir() else path.parent
        labels = read_labels_txt(folder / LABELS_FILE) if (folder / LABELS_FILE).is_file() else []
        imported = Imported(self.name, path, labels=list(labels))
        split_line: dict[str, tuple[str, Path, int]] = {}
        for file in files:
            rows = csv_rows(file)
            header_line, header = next(rows, (1, []))
            header = [h.lower() for h in header]
            missing = [c for c in COLUMNS[:4] if c not in header]
            if missing:
                raise FormatError(file, f"header lacks column(s) {', '.join(missing)}; expected "
                                        f"{','.join(COLUMNS)}", header_line)
            col = {c: header.index(c) for c in COLUMNS if c in header}
            for line, row in rows:
                if len(row) < len(header):
                    raise FormatError(file, f"expected {len(header)} fields, found {len(row)}", line)
                video = row[col["youtube_id"]]
                if not video:
                    raise FormatError(file, "youtube_id is empty", line)
                label = checked_label(row[col["label"]], file, line)
                start = checked_seconds(row[col["time_start"]], "time_start", file, line)
                end = checked_seconds(row[col["time_end"]], "time_end", file, line)
                if end <= start:
                    raise FormatError(file, f"time_end {end:g} must be after time_start {start:g}", line)
                imported.intervals.append(Interval(video, label, start, end, SECONDS, file, line))
                imported.add_label(label)
                if "split" in col and row[col["split"]]:
                    self._record_split(imported, split_line, video, row[col["split"]], file, line)
        return imported

    @staticmethod
    def _record_split(imported: Imported, seen: dict[str, tuple[str, Path, int]], video: str, text: str,
                      file: Path, line: int) -> None:
        split = SPLIT_NAMES.get(text.lower())
        if split is None:
            raise FormatError(file, f"split {text!r} is not one of {', '.join(SPLIT_NAMES)}", line)
        earlier = seen.setdefault(video, (split, file, line))
        if earlier[0] != split:
            raise FormatError(file, f"video {video!r} is in split {split!r} here but in {earlier[0]!r} at "
                                    f"{earlier[1].name}:{earlier[2]}; a video must lie in one split", line)
        imported.splits[video] = {"1": split}
