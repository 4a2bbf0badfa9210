"""Writing an export safely: file names made from labels, and nothing outside the export folder.

Label and video names end up as folder and file names of training sets, and
an annotation file from anywhere may carry any text. Every name written goes
through :func:`safe_file_name`, and every path through :meth:`OutputFolder.path`,
which resolves it (symbolic links included) and refuses one that leaves the
folder. A folder that already holds files is refused unless the caller
allows overwriting; overwriting replaces the files an export writes and
deletes nothing else.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from actdesk.errors import ActdeskError

WINDOWS_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                              *(f"LPT{i}" for i in range(1, 10))})
"""Device names Windows refuses as file names, with any extension (``CON.txt``), in any case."""
_NOT_IN_NAMES = frozenset('/\\:*?"<>|')
MAX_NAME_BYTES = 200
"""Well under the 255-byte limit of common file systems, leaving room for suffixes."""


def safe_file_name(name: str) -> str:
    """``name`` as one file or folder name that is valid and harmless on Linux, macOS and Windows.

    Path separators, characters Windows forbids and control characters become
    ``_``; leading and trailing dots and spaces are dropped (``..`` cannot
    climb, nothing is hidden, Windows would drop them anyway); a Windows device
    name gets a leading ``_``; the result is at most :data:`MAX_NAME_BYTES`
    bytes of UTF-8 and never empty. Safe names come back unchanged.
    """
    text = unicodedata.normalize("NFC", str(name))
    text = "".join("_" if c in _NOT_IN_NAMES or unicodedata.category(c).startswith("C") else c for c in text)
    text = text.strip(" .")
    if text.split(".")[0].rstrip(" ").upper() in WINDOWS_RESERVED:
        text = "_" + text
    encoded = text.encode("utf-8")
    if len(encoded) > MAX_NAME_BYTES:
        text = encoded[:MAX_NAME_BYTES].decode("utf-8", errors="ignore").rstrip(" .")
    return text or "_"


def unique_file_names(names: Iterable[str]) -> dict[str, str]:
    """A safe, distinct file name for each name: ``-2``, ``-3`` ... where two would collide.

    Names are compared case-insensitively, as on macOS and Windows file systems,
    so ``Walk`` and ``walk`` get two folders there too.
    """
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in dict.fromkeys(names):
        base = safe_file_name(name)
        candidate, n = base, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{base}-{n}"
        taken.add(candidate.casefold())
        out[name] = candidate
    return out


class OutputFolder:
    """The folder an export writes into; every path it hands out lies inside it.

    Make one with :meth:`prepare`. :attr:`written` lists the files handed out
    by :meth:`path`, in order.
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()
        self.written: list[Path] = []

    @classmethod
    def prepare(cls, folder: str | os.PathLike, *, overwrite: bool = False) -> "OutputFolder":
        """Create ``folder`` (and its parents) or accept an empty one; a non-empty one only when ``overwrite``."""
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise ActdeskError(f"{folder}: exists and is not a folder")
        try:
            if folder.is_dir() and next(folder.iterdir(), None) is not None and not overwrite:
                raise ActdeskError(f"{folder}: the folder is not empty; choose an empty or new folder, "
                                   "or allow overwriting (--overwrite)")
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ActdeskError(f"{folder}: cannot create or read the folder: {e.strerror or e}") from None
        return cls(folder)

    def path(self, *parts: str) -> Path:
        """The file ``root/part/part/...`` with every part made safe, its folders created.

        :raises ActdeskError: when the path, resolved, lies outside the folder
            (a symbolic link inside it pointing elsewhere).
        """
        if not parts:
            raise ValueError("a path inside the export folder needs at least one part")
        target = self.root.joinpath(*(safe_file_name(p) for p in parts))
        resolved = target.resolve()
        if not resolved.is_relative_to(self.root):
            raise ActdeskError(f"refusing to write {target}: it leads outside the export folder {self.root} "
                               f"(to {resolved})")
        try:
            resolved.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ActdeskError(f"{resolved.parent}: cannot create the folder: {e.strerror or e}") from None
        if not resolved.parent.resolve().is_relative_to(self.root):
            raise ActdeskError(f"refusing to write {target}: its folder leads outside {self.root}")
        self.written.append(resolved)
        return resolved

    def relative(self, path: Path) -> str:
        """``path`` relative to the folder, with ``/`` separators (as list files write paths)."""
        return path.relative_to(self.root).as_posix()

    def write_text(self, text: str, *parts: str) -> Path:
        """Write a UTF-8 text file atomically (temporary file, then rename) and return its path."""
        path = self.path(*parts)
        tmp = path.with_name(path.name + ".partial")
        try:
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            os.replace(tmp, path)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise ActdeskError(f"{path}: cannot write: {e.strerror or e}") from None
        return path
