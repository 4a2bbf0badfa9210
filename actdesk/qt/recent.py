"""The recent-files list, kept as JSON in the per-user data folder ($ACTDESK_HOME in tests)."""

from __future__ import annotations

import json
import os
from pathlib import Path

MAX_RECENT = 10


def _recent_file() -> Path:
    from actdesk.paths import user_data_dir

    return user_data_dir() / "recent.json"


def recent_files() -> list[Path]:
    """Recently opened projects and videos, newest first (those that still exist)."""
    try:
        entries = json.loads(_recent_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(entries, list):
        return []
    return [Path(p) for p in entries if isinstance(p, str) and Path(p).exists()][:MAX_RECENT]


def add_recent(path: str | os.PathLike) -> list[Path]:
    """Put ``path`` first in the list and save it (best effort: a read-only home is not an error)."""
    path = Path(path).resolve()
    entries = [path] + [p for p in recent_files() if p != path]
    target = _recent_file()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(json.dumps([str(p) for p in entries[:MAX_RECENT]], indent=1), encoding="utf-8")
        os.replace(tmp, target)
    except OSError:
        pass
    return entries[:MAX_RECENT]
