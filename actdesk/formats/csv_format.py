"""``csv``: actdesk's own segments CSV (docs/formats.md) as a training set and as an import.

An export writes ``train.csv``, ``val.csv`` and ``test.csv`` (the segments of
the videos of each split, in the segments CSV format) and ``labels.txt``.
Import reads one segments CSV, or such a folder (recording each video's
split). Frames are the authority in this format, so rows need no
conversion and keep their confidence and source.
"""

from __future__ import annotations

from pathlib import Path

from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.errors import FormatError
from actdesk.formats.data import FRAMES, ExportSet, Imported, Interval
from actdesk.formats.labels_txt import LABELS_FILE, read_labels_txt, write_labels_txt
from actdesk.formats.registry import Format
from actdesk.formats.safety import OutputFolder
from actdesk.formats.segments_csv import COLUMNS, read_segments_csv, write_segments_csv
from actdesk.formats.sources import first_line
from actdesk.formats.splits import SPLITS


def _is_segments_header(line: str) -> bool:
    return set(COLUMNS) <= {c.strip() for c in line.split(",")}


class CsvFormat(Format):
    name = "csv"
    title = "actdesk segments CSV"
    kind = "dataset"
    suffixes = (".csv",)
    reads_folders = True
    description = "video,start_frame,end_frame,start_s,end_s,label,confidence,source; train/val/test.csv"

    def export(self, data: ExportSet, out: OutputFolder, *, progress: ProgressFn = no_progress,
               should_stop: StopFn = never_stop) -> None:
        track = data.single_track(self.name)
        write_labels_txt(out, data.labels)
        for split in SPLITS:
            segments = [s for v in data.labelled(track) if v.split == split for s in v.segments(track)]
            if segments:
                write_segments_csv(out.path(f"{split}.csv"), segments)

    def detect(self, path: Path) -> bool:
        if path.is_dir():
            return any(_is_segments_header(first_line(path / f"{split}.csv")) for split in SPLITS)
        return path.suffix.lower() == ".csv" and _is_segments_header(first_line(path))

    def import_(self, path: Path) -> Imported:
        if not path.is_dir():
            imported = Imported(self.name, path)
            self._read(imported, path, "")
            return imported
        files = [(split, path / f"{split}.csv") for split in SPLITS if (path / f"{split}.csv").is_file()]
        if not files:
            raise FormatError(path, "no train.csv, val.csv or test.csv in the folder")
        labels = read_labels_txt(path / LABELS_FILE) if (path / LABELS_FILE).is_file() else []
        imported = Imported(self.name, path, labels=list(labels))
        for split, file in files:
            self._read(imported, file, split)
        return imported

    @staticmethod
    def _read(imported: Imported, file: Path, split: str) -> None:
        for seg in read_segments_csv(file):
            imported.intervals.append(Interval(seg.video, seg.label, seg.start_frame, seg.end_frame, FRAMES, file,
                                               confidence=seg.confidence, source=seg.source))
            imported.add_label(seg.label)
            if split:
                earlier = imported.splits.setdefault(seg.video, {"1": split})["1"]
                if earlier != split:
                    raise FormatError(file, f"video {seg.video!r} is also in {earlier}.csv; a video must lie in "
                                            "one split")
