"""Fixtures for the project store tests: a real project file with a real tiny video."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from videos import make_video

from actdesk.core.commands import AddLabel, Batch
from actdesk.core.project import Project

LABELS = ("walk", "run", "jump")


@pytest.fixture(scope="session")
def encoded_clip(tmp_path_factory) -> Path:
    """A 60-frame 25 fps H.264 video, 96x72, encoded once for the session."""
    return make_video(tmp_path_factory.mktemp("encoded") / "clip.mp4", frames=60)


@pytest.fixture
def clip(tmp_path, encoded_clip) -> Path:
    """This test's own copy of ``encoded_clip``: ``tmp_path / 'clip.mp4'``."""
    return Path(shutil.copy(encoded_clip, tmp_path / "clip.mp4"))


@pytest.fixture
def project(tmp_path, clip):
    """A project (open for editing) with ``clip`` and the labels walk, run, jump."""
    p = Project.create(tmp_path / "p.actdesk")
    p.add_video(clip)
    p.execute(Batch("labels", [AddLabel(name) for name in LABELS]))
    p.undo_stack.clear()
    yield p
    p.close()


@pytest.fixture
def human(project):
    """The id of the clip's human track."""
    return project.human_track(project.videos()[0].id).id


def _snapshot(project: Project) -> dict[str, list[tuple]]:
    db = project.db
    return {table: db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("labels", "tracks", "segments")}


def _raw_rows(path: Path, sql: str) -> list[tuple]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


@pytest.fixture
def snapshot() -> Callable[[Project], dict[str, list[tuple]]]:
    """``snapshot(project)``: every row of the editable tables, for exact before/after comparisons."""
    return _snapshot


@pytest.fixture
def raw_rows() -> Callable[[Path, str], list[tuple]]:
    """``raw_rows(path, sql)``: read a project file with plain sqlite3, as any other tool would."""
    return _raw_rows
