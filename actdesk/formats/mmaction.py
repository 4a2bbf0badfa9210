"""``mmaction``: MMAction2 video lists: the clips of ``clips`` plus ``<split>_list_videos.txt``.

Each list line is ``<clip path> <class index>`` (relative to the folder, the
index into labels.txt from 0), as MMAction2's ``VideoDataset`` reads it; it
splits lines on blanks, so blanks in folder names become ``_``. Importing
reads a folder of such lists (or one list file): every listed video becomes
one whole-video segment, its split from the list's name
(``train``/``val``/``test``), its label from ``labels.txt`` beside the list
when there is one, else the index itself.
"""

from __future__ import annotations

import re
from pathlib import Path

from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.errors import FormatError
from actdesk.formats.clips import split_members, write_clips
from actdesk.formats.data import ExportSet, Imported, checked_label
from actdesk.formats.labels_txt import LABELS_FILE, read_labels_txt, write_labels_txt
from actdesk.formats.registry import Format
from actdesk.formats.safety import OutputFolder
from actdesk.formats.sources import first_line, listed_file, text_lines

LIST_SUFFIX = "_list_videos.txt"
_LINE = re.compile(r"(?P<path>\S+)\s+(?P<index>-?\d+)")
_VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg")


def list_split(list_file: Path) -> str:
    """The split a list file's name says (``train``/``val``/``test``), '' when it says none."""
    name = list_file.name.lower()
    for split, words in (("train", ("train",)), ("val", ("val", "valid")), ("test", ("test",))):
        if any(re.search(rf"(^|[_\-.]){w}", name) for w in words):
            return split
    return ""


class MMActionFormat(Format):
    name = "mmaction"
    title = "MMAction2 video lists"
    kind = "dataset"
    suffixes = (".txt",)
    reads_folders = True
    needs_video_files = True
    description = "clips per class plus <split>_list_videos.txt lines 'path class-index'; labels.txt"

    def export(self, data: ExportSet, out: OutputFolder, *, progress: ProgressFn = no_progress,
               should_stop: StopFn = never_stop) -> None:
        clips = write_clips(data, out, self.name, spaces="_", progress=progress, should_stop=should_stop)
        write_labels_txt(out, data.labels)
        for split, members in split_members(clips).items():
            out.write_text("".join(f"{out.relative(c.path)} {data.label_index(c.label)}\n" for c in members),
                           f"{split}{LIST_SUFFIX}")

    def detect(self, path: Path) -> bool:
        if path.is_dir():
            return any(path.glob(f"*{LIST_SUFFIX}"))
        match = _LINE.fullmatch(first_line(path)) if path.suffix.lower() == ".txt" else None
        return bool(match) and match["path"].lower().endswith(_VIDEO_SUFFIXES)

    def import_(self, path: Path) -> Imported:
        lists = sorted(path.glob(f"*{LIST_SUFFIX}")) if path.is_dir() else [path]
        if not lists:
            raise FormatError(path, f"no *{LIST_SUFFIX} list in the folder")
        folder = path if path.is_dir() else path.parent
        labels = read_labels_txt(folder / LABELS_FILE) if (folder / LABELS_FILE).is_file() else None
        imported = Imported(self.name, path, labels=list(labels or []))
        for list_file in lists:
            split = list_split(list_file)
            for line, text in text_lines(list_file):
                match = _LINE.fullmatch(text)
                if match is None:
                    raise FormatError(list_file, f"expected '<video path> <class index>', got {text!r}", line)
                index = int(match["index"])
                if index < 0:
                    raise FormatError(list_file, f"class index {index} is negative", line)
                if labels is not None and index >= len(labels):
                    raise FormatError(list_file, f"class index {index} is not a line of {folder / LABELS_FILE} "
                                                 f"(0..{len(labels) - 1})", line)
                label = labels[index] if labels is not None else checked_label(str(index), list_file, line)
                file = listed_file(folder, match["path"], list_file, line)
                imported.add_video_item(match["path"], file, label, {"1": split} if split else {},
                                        listed_in=list_file, line=line)
        return imported
