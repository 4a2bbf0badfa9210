"""UCF101 and UCF50 folder layouts (import only): one action per video, with official splits.

UCF101: ``classInd.txt`` (``1 ApplyEyeMakeup``), ``trainlist0N.txt``
(``ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1``) and ``testlist0N.txt``
(``ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi``), in the folder given or a
sub-folder of it (``ucfTrainTestlist/``); the videos under the folder given,
its list folder or one of their sub-folders (``UCF-101/``). Split set N is
trainlist0N/testlist0N.

UCF50: class folders of ``v_<Class>_g<group>_c<clip>.<ext>`` videos, no
split files: its protocol is leave-one-group-out, so split set g (1..25)
tests on group g and trains on the others.

Every video becomes one segment covering it, labelled with its class.
"""

from __future__ import annotations

import re
from pathlib import Path

from actdesk.errors import FormatError
from actdesk.formats.data import Imported, checked_label
from actdesk.formats.registry import Format
from actdesk.formats.sources import listed_file, text_lines

VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg")
_CLASS_LINE = re.compile(r"(?P<index>\d+)\s+(?P<name>\S.*)")
_TRAIN_LINE = re.compile(r"(?P<path>\S+)(?:\s+(?P<index>\d+))?")
_LIST_NAME = re.compile(r"(?P<kind>train|test)list(?P<set>\d+)\.txt", re.IGNORECASE)
UCF50_NAME = re.compile(r"v_(?P<cls>.+)_g(?P<group>\d+)_c(?P<clip>\d+)", re.IGNORECASE)


def find_file(root: Path, name: str) -> Path | None:
    """``root/name`` or ``root/<sub-folder>/name``."""
    if (root / name).is_file():
        return root / name
    return next((sub / name for sub in sorted(p for p in root.iterdir() if p.is_dir()) if (sub / name).is_file()),
                None) if root.is_dir() else None


def video_root(candidates: list[Path], first_entry: str, list_file: Path, line: int) -> Path:
    """The first of ``candidates`` (or a sub-folder of one) under which ``first_entry`` exists."""
    folders = []
    for folder in candidates:
        folders += [folder, *sorted(p for p in folder.iterdir() if p.is_dir())] if folder.is_dir() else []
    for folder in dict.fromkeys(folders):
        if (folder / first_entry).is_file():
            return folder
    raise FormatError(list_file, f"{first_entry!r}: no such video under {', '.join(map(str, candidates))} "
                                 "or their sub-folders", line)


class Ucf101Format(Format):
    name = "ucf101"
    title = "UCF101 folder with official split lists"
    kind = "dataset"
    reads_folders = True
    description = "classInd.txt, trainlist0N.txt, testlist0N.txt and the class folders of videos"

    def detect(self, path: Path) -> bool:
        return path.is_dir() and find_file(path, "classInd.txt") is not None

    def import_(self, path: Path) -> Imported:
        class_file = find_file(path, "classInd.txt") if path.is_dir() else None
        if class_file is None:
            raise FormatError(path, "expected a UCF101 folder with classInd.txt (in it or a sub-folder)")
        lists_folder = class_file.parent
        classes = self._classes(class_file)
        imported = Imported(self.name, path, labels=list(classes.values()))
        lists = sorted((m["set"].lstrip("0") or "0", m["kind"].lower(), p) for p in lists_folder.iterdir()
                       if (m := _LIST_NAME.fullmatch(p.name)))
        if not lists:
            raise FormatError(lists_folder, "no trainlist0N.txt / testlist0N.txt split lists beside classInd.txt")
        root: Path | None = None
        for split_set, kind, list_file in lists:
            for line, text in text_lines(list_file):
                match = _TRAIN_LINE.fullmatch(text)
                if match is None:
                    expected = "'<Class>/<video> <class index>'" if kind == "train" else "'<Class>/<video>'"
                    raise FormatError(list_file, f"expected {expected}, got {text!r}", line)
                relative = match["path"]
                folder = relative.replace("\\", "/").split("/")[0]
                label = next((name for name in classes.values() if name.lower() == folder.lower()), None)
                if label is None or "/" not in relative.replace("\\", "/"):
                    raise FormatError(list_file, f"{relative!r} is not in the folder of a class of "
                                                 f"{class_file.name}", line)
                if match["index"] is not None and classes.get(int(match["index"])) != label:
                    raise FormatError(list_file, f"class index {match['index']} is not {label!r} in "
                                                 f"{class_file.name}", line)
                if root is None:
                    root = video_root([path, lists_folder, lists_folder.parent], relative, list_file, line)
                if relative in imported.video_files:
                    imported.splits[relative][split_set] = "train" if kind == "train" else "test"
                    continue
                file = listed_file(root, relative, list_file, line)
                imported.add_video_item(relative, file, label, {split_set: "train" if kind == "train" else "test"},
                                        listed_in=list_file, line=line)
        return imported

    @staticmethod
    def _classes(class_file: Path) -> dict[int, str]:
        classes: dict[int, str] = {}
        for line, text in text_lines(class_file):
            match = _CLASS_LINE.fullmatch(text)
            if match is None:
                raise FormatError(class_file, f"expected '<class index> <class name>', got {text!r}", line)
            index = int(match["index"])
            if index in classes:
                raise FormatError(class_file, f"class index {index} is given twice", line)
            classes[index] = checked_label(match["name"], class_file, line)
        return dict(sorted(classes.items()))


class Ucf50Format(Format):
    name = "ucf50"
    title = "UCF50 folder (leave-one-group-out splits)"
    kind = "dataset"
    reads_folders = True
    description = "class folders of v_<Class>_g<group>_c<clip> videos; split set g tests on group g"

    def detect(self, path: Path) -> bool:
        if not path.is_dir() or find_file(path, "classInd.txt") is not None:
            return False
        for folder in sorted(p for p in path.iterdir() if p.is_dir())[:3]:
            videos = [f for f in folder.iterdir() if f.suffix.lower() in VIDEO_SUFFIXES]
            if videos and UCF50_NAME.fullmatch(videos[0].stem):
                return True
        return False

    def import_(self, path: Path) -> Imported:
        if not path.is_dir():
            raise FormatError(path, "expected the UCF50 folder (class folders of v_<Class>_gXX_cYY videos)")
        items: list[tuple[str, Path, str, int]] = []
        for folder in sorted(p for p in path.iterdir() if p.is_dir()):
            label = checked_label(folder.name, folder, None)
            for file in sorted(f for f in folder.iterdir() if f.suffix.lower() in VIDEO_SUFFIXES):
                match = UCF50_NAME.fullmatch(file.stem)
                if match is None:
                    raise FormatError(file, "expected a UCF50 video name v_<Class>_g<group>_c<clip>")
                items.append((f"{folder.name}/{file.name}", file, label, int(match["group"])))
        if not items:
            raise FormatError(path, "no class folders with v_<Class>_gXX_cYY videos")
        groups = sorted({group for *_, group in items})
        imported = Imported(self.name, path, labels=sorted({label for _, _, label, _ in items}))
        for name, file, label, group in items:
            splits = {str(g): "test" if g == group else "train" for g in groups}
            imported.add_video_item(name, file, label, splits, listed_in=file, line=None)
        return imported
