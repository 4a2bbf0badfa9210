"""The project file's SQLite schema, its version, and the migrations between versions.

A project file is recognised by the SQLite header's ``application_id`` (bytes
68..71, :data:`APPLICATION_ID`), which is written once when the file is created
and never changes, so it can be read from the main file with a plain ``open()``
before SQLite touches anything. ``PRAGMA user_version`` is the schema version.

Migrations are an ordered list: ``MIGRATIONS[i]`` takes a file from schema ``i``
to ``i + 1`` (``MIGRATIONS[0]`` builds an empty file). A new schema version is
one function appended to the list; :data:`SCHEMA_VERSION` follows from its length.
Every migration runs inside the caller's transaction, so a failed migration
leaves the file as it was.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

APPLICATION_ID = 0x41435444  # "ACTD"
SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_APPLICATION_ID_OFFSET = 68
META_TABLE = "actdesk_meta"


def _create_v1(db: sqlite3.Connection) -> None:
    """Schema 1: videos, labels, tracks, segments, and the meta table."""
    # One execute() per statement: executescript() would COMMIT the caller's transaction.
    for statement in f"""
        CREATE TABLE {META_TABLE} (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE videos (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            path         TEXT NOT NULL,     -- relative to the project folder, '/' separators
            content_hash TEXT NOT NULL,     -- sha256 of size + first/middle/last MiB
            size_bytes   INTEGER NOT NULL,
            probe        TEXT NOT NULL,     -- JSON of actdesk.media VideoInfo.to_dict()
            frame_count  INTEGER NOT NULL,
            avg_fps      REAL NOT NULL,
            is_vfr       INTEGER NOT NULL,
            times_s      BLOB NOT NULL,     -- per-frame PTS seconds: float64 LE, byte-shuffled, zlib
            end_time_s   REAL NOT NULL,     -- time just after the last frame
            added_at     TEXT NOT NULL
        );
        CREATE TABLE labels (
            name     TEXT PRIMARY KEY,
            colour   TEXT NOT NULL,
            shortcut TEXT UNIQUE,           -- NULL when unset
            position INTEGER NOT NULL
        );
        CREATE TABLE tracks (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            video_id   INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
            name       TEXT NOT NULL,
            kind       TEXT NOT NULL CHECK (kind IN ('human', 'model')),
            model      TEXT,
            checkpoint TEXT,
            created_at TEXT NOT NULL,
            params     TEXT NOT NULL DEFAULT '{{}}',
            UNIQUE (video_id, name)
        );
        CREATE UNIQUE INDEX one_human_track_per_video ON tracks(video_id) WHERE kind = 'human';
        CREATE TABLE segments (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            track_id    INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
            start_frame INTEGER NOT NULL CHECK (start_frame >= 0),
            end_frame   INTEGER NOT NULL CHECK (end_frame > start_frame),
            start_s     REAL NOT NULL,
            end_s       REAL NOT NULL,
            label       TEXT NOT NULL REFERENCES labels(name) ON UPDATE CASCADE,
            confidence  REAL CHECK (confidence IS NULL OR (confidence >= 0 AND confidence <= 1)),
            source      TEXT NOT NULL,
            status      TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected'))
        );
        CREATE INDEX segments_by_track ON segments(track_id, start_frame);
        CREATE INDEX segments_by_label ON segments(label);
        """.split(";"):
        if statement.strip():
            db.execute(statement)


def _add_track_scores_v2(db: sqlite3.Connection) -> None:
    """Schema 2: ``track_scores``, a model track's per-class confidence over time (the timeline's curves)."""
    db.execute("""
        CREATE TABLE track_scores (
            track_id INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
            labels   TEXT NOT NULL,     -- JSON list of class names: the column order of levels
            frames   BLOB NOT NULL,     -- int64 LE frame numbers, delta-coded (first, then steps), zlib
            levels   BLOB NOT NULL      -- uint8 [frames, labels] row-major: round(confidence * 255), zlib
        )""")


# MIGRATIONS[i] takes a file from schema i to i + 1; append, never edit a released one.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_create_v1, _add_track_scores_v2]
READABLE_FROM = 1
"""The oldest schema read as it is (read-only, no migration): the migrations since only add
tables, which readers of an older file treat as empty. Raise it with a migration that changes
what existing tables mean."""


def schema_version() -> int:
    """The schema version this actdesk writes (the number of migrations)."""
    return len(MIGRATIONS)


def migrate(db: sqlite3.Connection, from_version: int) -> None:
    """Run the migrations from ``from_version`` up to :func:`schema_version` in the open transaction."""
    for step in MIGRATIONS[from_version:]:
        step(db)
    db.execute(f"PRAGMA user_version = {schema_version()}")
