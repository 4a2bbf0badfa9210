"""HMDB51 folder layout (import only): class folders of videos and the official split files.

Split files ``<class>_test_split<N>.txt`` (in the folder given or a
sub-folder, usually ``testTrainMulti_7030_splits/``) list each video of the
class with 1 (train), 2 (test) or 0 (not used) for split set N. Videos are
``<class>/<video>`` under the folder given or one of its sub-folders. Every
listed video becomes one segment covering it, labelled with its class; its
split in each set is recorded (``unused`` for 0).
"""

from __future__ import annotations

import re
from pathlib import Path

from actdesk.errors import FormatError
from actdesk.formats.data import Imported, checked_label
from actdesk.formats.registry import Format
from actdesk.formats.sources import listed_file, text_lines
from actdesk.formats.ucf import video_root

SPLIT_FILE = re.compile(r"(?P<cls>.+)_test_split(?P<set>\d+)\.txt")
_LINE = re.compile(r"(?P<video>\S+)\s+(?P<code>\S+)")
SPLIT_CODES = {"0": "unused", "1": "train", "2": "test"}


def split_files(root: Path) -> list[Path]:
    """The ``*_test_splitN.txt`` files in ``root`` or its sub-folders."""
    if not root.is_dir():
        return []
    found = [*root.glob("*_test_split*.txt"), *root.glob("*/*_test_split*.txt")]
    return sorted(p for p in found if SPLIT_FILE.fullmatch(p.name))


class Hmdb51Format(Format):
    name = "hmdb51"
    title = "HMDB51 folder with official split files"
    kind = "dataset"
    reads_folders = True
    description = "class folders of videos and <class>_test_splitN.txt (1 train, 2 test, 0 unused)"

    def detect(self, path: Path) -> bool:
        return bool(split_files(path))

    def import_(self, path: Path) -> Imported:
        files = split_files(path)
        if not files:
            raise FormatError(path, "expected an HMDB51 folder with <class>_test_splitN.txt split files")
        imported = Imported(self.name, path)
        root: Path | None = None
        for split_file in files:
            match = SPLIT_FILE.fullmatch(split_file.name)
            label = checked_label(match["cls"], split_file, None)
            split_set = match["set"].lstrip("0") or "0"
            for line, text in text_lines(split_file):
                entry = _LINE.fullmatch(text)
                if entry is None or entry["code"] not in SPLIT_CODES:
                    raise FormatError(split_file, f"expected '<video file> <0|1|2>' (0 unused, 1 train, 2 test), "
                                                  f"got {text!r}", line)
                relative = f"{match['cls']}/{entry['video']}"
                split = SPLIT_CODES[entry["code"]]
                if relative in imported.video_files:
                    imported.splits[relative][split_set] = split
                    continue
                if root is None:
                    root = video_root([path, split_file.parent.parent], relative, split_file, line)
                file = listed_file(root, relative, split_file, line)
                imported.add_video_item(relative, file, label, {split_set: split}, listed_in=split_file, line=line)
        imported.labels.sort()
        return imported
