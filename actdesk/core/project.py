"""The project store: one SQLite file that the app edits live.

Every user edit is one SQLite transaction (``core.commands`` via
:meth:`Project.execute`), committed with ``synchronous=FULL`` in WAL mode, so a
killed process or a power cut loses nothing that was shown as applied; the file
is never rewritten as a whole. Reads are plain methods; every write a user can
undo goes through a command. The row-level write primitives below
(``_insert_segment_rows`` and friends) exist for ``core.commands`` only.

Opening is careful about foreign files: the SQLite header is read with a plain
``open()`` and checked for actdesk's ``application_id`` before SQLite is
involved, and the schema version is read over a read-only connection before a
lock or a write is taken, so a text file, another program's database or a file
from a newer actdesk is refused byte-for-byte untouched.

A project being edited is locked by ``P.actdesk.lock`` (pid, host, time, created
with ``O_EXCL``); a lock left by a dead process on the same host is taken over.
``Project.open(path, readonly=True)`` takes no lock.

Time: each video's per-frame presentation times (from the media index, PTS
order) are stored once as a compressed blob, so every boundary a command makes
gets exact seconds from its frame index, on variable-frame-rate video too,
without opening the video. The project is the authority: segments added from a
file or a model get their seconds recomputed from their frames.

A Project is used from one thread (the Qt side runs commands on the GUI thread).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sqlite3
import sys
import time
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from actdesk import __version__
from actdesk.core import schema
from actdesk.core.labels import Label
from actdesk.core.segments import Segment
from actdesk.errors import ActdeskError, LabelError, MediaError, ProjectError

if TYPE_CHECKING:
    from actdesk.core.commands import Command, UndoStack

SUFFIX = ".actdesk"
HUMAN_TRACK = "human"
STATUSES = ("pending", "accepted", "rejected")
HASH_CHUNK = 1 << 20
# An unreadable lock younger than this may be one another process is writing right now.
_LOCK_WRITE_GRACE_S = 10.0


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class VideoRecord:
    """A video of the project. ``path`` is as stored (relative to the project
    folder with ``/`` separators, or absolute when on another drive);
    ``abs_path`` is where it is expected now."""

    id: int
    path: str
    abs_path: Path
    content_hash: str
    size_bytes: int
    frame_count: int
    avg_fps: float
    is_vfr: bool
    end_time_s: float
    probe: dict
    added_at: str

    @property
    def name(self) -> str:
        """The file name, which segments files use in their ``video`` column."""
        return PurePosixPath(self.path.replace("\\", "/")).name


@dataclass(frozen=True, slots=True)
class Track:
    """One row of segments on the timeline: the video's human track or one model run."""

    id: int | None
    video_id: int
    name: str
    kind: str  # 'human' | 'model'
    model: str | None = None
    checkpoint: str | None = None
    created_at: str = ""
    params: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredSegment:
    """A segment as stored: its row id, track and review status plus the
    fields of :class:`actdesk.core.segments.Segment`. ``id`` is None only for
    a row a command is about to insert."""

    id: int | None
    track_id: int
    status: str
    start_frame: int
    end_frame: int
    label: str
    start_s: float
    end_s: float
    confidence: float | None
    source: str
    video: str = ""

    def to_segment(self) -> Segment:
        return Segment(self.start_frame, self.end_frame, self.label, self.start_s, self.end_s,
                       self.confidence, self.source, self.video)

    @property
    def length(self) -> int:
        return self.end_frame - self.start_frame


@dataclass(frozen=True, slots=True)
class Change:
    """What a committed transaction (an edit, an undo, a redo) changed.

    ``kind`` is ``segments`` (``track_id`` and the added/removed/updated
    ``segment_ids``), ``labels``, ``tracks`` or ``videos`` (with ``video_id``).
    """

    kind: str
    track_id: int | None = None
    segment_ids: tuple[int, ...] = ()
    video_id: int | None = None


@dataclass(frozen=True, eq=False)
class TrackScores:
    """A model track's per-class confidence over its video, as the timeline's curves draw it.

    ``probs[i, c]`` is the confidence in ``labels[c]`` at frame ``frames[i]``
    (frames increasing). Stored with the track (schema 2), quantised to 1/255:
    display data, where a curve needs no more and an hour of 8 classes at 30 fps
    stays under a megabyte.
    """

    labels: tuple[str, ...]
    frames: np.ndarray  # int64 [n]
    probs: np.ndarray  # float32 [n, len(labels)], 0..1

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "frames", np.asarray(self.frames, np.int64).reshape(-1))
        object.__setattr__(self, "probs", np.asarray(self.probs, np.float32))

    def problem(self, frame_count: int) -> str | None:
        """Why these scores cannot belong to a video of ``frame_count`` frames (None if they can)."""
        n, classes = len(self.frames), len(self.labels)
        if classes == 0 or len(set(self.labels)) != classes:
            return f"the class names must be distinct and at least one, got {list(self.labels)}"
        if self.probs.shape != (n, classes):
            return f"probabilities of shape {self.probs.shape} for {n} frames and {classes} classes"
        if n and (self.frames[0] < 0 or self.frames[-1] >= frame_count or np.any(np.diff(self.frames) <= 0)):
            return f"frame numbers must increase within the video's 0..{frame_count - 1}"
        # Smoothing may stray past 0 or 1 by float rounding; NaN fails the test too.
        if not np.all((self.probs >= -1e-3) & (self.probs <= 1 + 1e-3)):
            return "probabilities must lie in 0..1"
        return None

    def encode(self) -> tuple[str, bytes, bytes]:
        """The ``track_scores`` columns: labels JSON, delta-coded frames, quantised levels."""
        steps = np.diff(self.frames, prepend=0).astype("<i8")
        levels = np.rint(np.clip(self.probs, 0, 1) * 255).astype(np.uint8)
        return json.dumps(list(self.labels)), zlib.compress(steps.tobytes(), 6), zlib.compress(levels.tobytes(), 6)

    @classmethod
    def decode(cls, labels: str, frames: bytes, levels: bytes) -> "TrackScores":
        names = tuple(json.loads(labels))
        frame_numbers = np.cumsum(np.frombuffer(zlib.decompress(frames), "<i8")).astype(np.int64)
        probs = np.frombuffer(zlib.decompress(levels), np.uint8).reshape(len(frame_numbers), len(names))
        return cls(names, frame_numbers, probs.astype(np.float32) / 255)


class LabelRow(NamedTuple):
    """A label with its place in the label set, as the commands restore it."""

    label: Label
    position: int


class FrameTimes:
    """Presentation time of every frame of one video (seconds from the stream start)."""

    __slots__ = ("_times", "end_time_s")

    def __init__(self, times: array, end_time_s: float):
        self._times = times
        self.end_time_s = end_time_s

    def __len__(self) -> int:
        return len(self._times)

    @property
    def times_s(self) -> memoryview:
        """Every frame's time, read-only float64 (``numpy.asarray`` wraps it without a copy)."""
        return memoryview(self._times).toreadonly()

    def time_of(self, frame: int) -> float:
        """Time of ``frame``; ``frame == len(self)`` (an exclusive end) gives the video's end time."""
        if frame == len(self._times):
            return self.end_time_s
        if not 0 <= frame < len(self._times):
            raise ActdeskError(f"frame {frame} is outside the video (0..{len(self._times)})")
        return self._times[frame]


def encode_times(times: Iterable[float]) -> bytes:
    """float64 little-endian, byte-shuffled (all first bytes, then all second bytes, ...), zlib.

    Shuffling puts the slowly varying exponent bytes together: a 3-hour 30 fps
    index shrinks from 2.6 MB to about 14 kB (68 kB at 29.97 fps).
    """
    values = array("d", times)
    if sys.byteorder == "big":
        values.byteswap()
    raw = values.tobytes()
    return zlib.compress(b"".join(raw[i::8] for i in range(8)), 6)


def decode_times(blob: bytes) -> array:
    """Inverse of :func:`encode_times`."""
    shuffled = zlib.decompress(blob)
    n = len(shuffled) // 8
    raw = bytearray(len(shuffled))
    for i in range(8):
        raw[i::8] = shuffled[i * n:(i + 1) * n]
    values = array("d")
    values.frombytes(bytes(raw))
    if sys.byteorder == "big":
        values.byteswap()
    return values


def video_fingerprint(path: str | os.PathLike) -> tuple[str, int]:
    """``(sha256 hex, size)``: sha256 over ``b"<size>\\n"``, then the first, the
    middle and the last MiB of the file (they overlap for files under 3 MiB).
    Cheap for any length and changes when the video's content does."""
    size = os.path.getsize(path)
    digest = hashlib.sha256(f"{size}\n".encode())
    with open(path, "rb") as f:
        for offset in (0, max(0, size // 2 - HASH_CHUNK // 2), max(0, size - HASH_CHUNK)):
            f.seek(offset)
            digest.update(f.read(HASH_CHUNK))
    return digest.hexdigest(), size


# --------------------------------------------------------------------------- lock


def _pid_alive(pid: int) -> bool:
    if sys.platform == "win32":  # os.kill would terminate the process on Windows
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        ctypes.windll.kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        ctypes.windll.kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ProjectLock:
    """``P.actdesk.lock``: who is editing the project (JSON pid, host, time)."""

    def __init__(self, path: Path, owner: dict):
        self.path = path
        self.owner = owner

    @staticmethod
    def path_for(project_path: Path) -> Path:
        return project_path.with_name(project_path.name + ".lock")

    @staticmethod
    def read(lock_path: Path) -> dict | None:
        """The lock's owner, or None when the file is gone or unreadable."""
        try:
            owner = json.loads(lock_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(owner, dict) or not isinstance(owner.get("pid"), int) or owner["pid"] <= 0:
            return None
        return owner

    @classmethod
    def acquire(cls, project_path: Path) -> "ProjectLock":
        """Create the lock with ``O_EXCL``; take over a stale one; refuse a live one."""
        lock_path = cls.path_for(project_path)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "time": _now()}
        for _ in range(3):
            try:
                fd = os.open(lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                cls._remove_if_stale(project_path, lock_path, me)
                continue
            except OSError as e:
                raise ProjectError(f"{project_path}: cannot create lock file {lock_path}: {e.strerror}") from None
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(me, f)
                f.flush()
                os.fsync(f.fileno())
            return cls(lock_path, me)
        raise ProjectError(f"{project_path}: could not take the lock {lock_path}; another program keeps creating it")

    @staticmethod
    def _remove_if_stale(project_path: Path, lock_path: Path, me: dict) -> None:
        owner = ProjectLock.read(lock_path)
        if owner is None:
            try:
                age = time.time() - lock_path.stat().st_mtime
            except FileNotFoundError:
                return
            if age < _LOCK_WRITE_GRACE_S:
                raise ProjectError(f"{project_path} is being opened by another actdesk right now")
        elif owner.get("host") != me["host"]:
            raise ProjectError(
                f"{project_path} is open in another actdesk (pid {owner['pid']} on {owner.get('host')}, "
                f"since {owner.get('time')}); if no actdesk runs there any more, delete {lock_path}")
        elif owner["pid"] == me["pid"]:
            raise ProjectError(f"{project_path} is already open in this actdesk")
        elif _pid_alive(owner["pid"]):
            raise ProjectError(f"{project_path} is open in another actdesk (pid {owner['pid']} on {owner['host']})")
        # Stale: its owner is dead. Re-read first so a lock just re-created by a third process survives.
        if ProjectLock.read(lock_path) == owner:
            with contextlib.suppress(FileNotFoundError):
                os.remove(lock_path)

    def release(self) -> None:
        """Remove the lock if it is still ours."""
        if self.read(self.path) == self.owner:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path)


# --------------------------------------------------------------------------- opening checks


def _check_header(path: Path) -> None:
    """Refuse anything that is not an actdesk project, reading only the first 100 bytes."""
    try:
        with open(path, "rb") as f:
            header = f.read(100)
    except FileNotFoundError:
        raise ProjectError(f"{path}: no such project file") from None
    except IsADirectoryError:
        raise ProjectError(f"{path}: is a folder, not an actdesk project file") from None
    except OSError as e:
        raise ProjectError(f"{path}: cannot read: {e.strerror}") from None
    if not header:
        raise ProjectError(f"{path}: empty file, not an actdesk project")
    if len(header) < 100 or not header.startswith(schema.SQLITE_MAGIC):
        raise ProjectError(f"{path}: not an actdesk project (not an SQLite database)")
    offset = schema.HEADER_APPLICATION_ID_OFFSET
    if int.from_bytes(header[offset:offset + 4], "big") != schema.APPLICATION_ID:
        raise ProjectError(f"{path}: an SQLite database of another program, not an actdesk project")


def _connect(path: Path, *, readonly: bool, immutable: bool = False) -> sqlite3.Connection:
    uri = f"{path.absolute().as_uri()}?mode={'ro' if readonly else 'rw'}{'&immutable=1' if immutable else ''}"
    try:
        db = sqlite3.connect(uri, uri=True, isolation_level=None)  # transactions are explicit
    except sqlite3.Error as e:
        raise ProjectError(f"{path}: cannot open: {e}") from None
    db.execute("PRAGMA busy_timeout = 5000")
    return db


def _read_version(path: Path, db: sqlite3.Connection) -> tuple[int, dict[str, str]]:
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        meta = dict(db.execute(f"SELECT key, value FROM {schema.META_TABLE}")) if version else {}
    except sqlite3.Error as e:
        raise ProjectError(f"{path}: damaged project file ({e})") from None
    return version, meta


def _refuse_newer(path: Path, version: int, meta: dict[str, str]) -> None:
    current = schema.schema_version()
    if version > current:
        made_by = f"actdesk {meta['app_version']}" if "app_version" in meta else "a newer actdesk"
        raise ProjectError(f"{path}: made by {made_by} (schema {version}, this is {current}); update actdesk")


# --------------------------------------------------------------------------- the project


class Project:
    """An open project file. Use :meth:`create` or :meth:`open`; close it (or use ``with``)."""

    def __init__(self, path: Path, db: sqlite3.Connection, *, readonly: bool, lock: ProjectLock | None,
                 schema_version: int | None = None):
        self.path = path
        self.schema_version = schema.schema_version() if schema_version is None else schema_version
        """The file's schema: this actdesk's, except for an older file opened read-only."""
        self.folder = Path(os.path.normpath(path.absolute().parent))
        self.readonly = readonly
        self._db: sqlite3.Connection | None = db
        self._lock = lock
        self._pending: list[Change] | None = None  # changes of the open transaction
        self._subscribers: list[Callable[[Change], None]] = []
        self._frame_times: dict[int, FrameTimes] = {}
        self._undo_stack: UndoStack | None = None

    # ------------------------------------------------------------ lifecycle

    @classmethod
    def create(cls, path: str | os.PathLike, *, overwrite: bool = False) -> "Project":
        """Create an empty project at ``path`` and open it for editing.

        The file is built under a temporary name and renamed into place, so it
        either appears complete or not at all.
        """
        path = Path(path)
        if path.exists() and not overwrite:
            raise ProjectError(f"{path}: already exists (choose another name or overwrite it)")
        if path.is_dir():
            raise ProjectError(f"{path}: is a folder")
        if not path.parent.is_dir():
            raise ProjectError(f"{path}: folder {path.parent} does not exist")
        lock = ProjectLock.acquire(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            for leftover in (tmp, Path(f"{tmp}-journal")):
                leftover.unlink(missing_ok=True)
            db = sqlite3.connect(tmp, isolation_level=None)
            try:
                db.execute("BEGIN")
                db.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
                schema.migrate(db, 0)
                db.executemany(f"INSERT INTO {schema.META_TABLE}(key, value) VALUES (?, ?)", [
                    ("application", "actdesk"), ("app_version", __version__), ("created_at", _now())])
                db.execute("COMMIT")
                db.execute("PRAGMA journal_mode = WAL")  # persistent in the file header
            finally:
                db.close()
            # A WAL left by an earlier file of this name must never be replayed onto the new one.
            for side in ("-wal", "-shm"):
                Path(f"{path}{side}").unlink(missing_ok=True)
            os.replace(tmp, path)
            _fsync_folder(path.parent)
            return cls._open_locked(path, lock)
        except BaseException:
            tmp.unlink(missing_ok=True)
            lock.release()
            raise

    @classmethod
    def open(cls, path: str | os.PathLike, *, readonly: bool = False) -> "Project":
        """Open an existing project; ``readonly`` takes no lock and allows no edits."""
        path = Path(path)
        _check_header(path)
        # Without a WAL beside it the main file is the whole database: read it as immutable, which
        # creates no -wal/-shm files next to a file we may refuse.
        probe_db = _connect(path, readonly=True, immutable=not Path(f"{path}-wal").exists())
        try:
            version, meta = _read_version(path, probe_db)
        finally:
            probe_db.close()
        _refuse_newer(path, version, meta)
        if readonly:
            if version < schema.READABLE_FROM:
                raise ProjectError(f"{path}: made by an older actdesk (schema {version}); "
                                   "open it for editing once to upgrade it")
            db = _connect(path, readonly=True)
            db.execute("PRAGMA query_only = ON")
            return cls(path, db, readonly=True, lock=None, schema_version=version)
        lock = ProjectLock.acquire(path)
        try:
            return cls._open_locked(path, lock)
        except BaseException:
            lock.release()
            raise

    @classmethod
    def _open_locked(cls, path: Path, lock: ProjectLock) -> "Project":
        db = _connect(path, readonly=False)
        try:
            version, meta = _read_version(path, db)  # again, now that we hold the lock
            _refuse_newer(path, version, meta)
            # FULL: the WAL is synced at every commit, so an edit shown as applied survives a
            # power cut too; edits come at human speed, so the fsync per edit costs nothing felt.
            db.execute("PRAGMA synchronous = FULL")
            db.execute("PRAGMA foreign_keys = ON")
            if db.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
                raise ProjectError(f"{path}: the file system does not support SQLite's WAL mode")
            if version < schema.schema_version():
                db.execute("BEGIN IMMEDIATE")
                try:
                    schema.migrate(db, version)
                    db.execute(f"INSERT OR REPLACE INTO {schema.META_TABLE}(key, value) VALUES ('app_version', ?)",
                               (__version__,))
                    db.execute("COMMIT")
                except BaseException as e:
                    db.execute("ROLLBACK")
                    if isinstance(e, sqlite3.Error):
                        raise ProjectError(f"{path}: cannot upgrade from schema {version}: {e}") from None
                    raise
        except BaseException:
            db.close()
            raise
        return cls(path, db, readonly=False, lock=lock)

    def close(self) -> None:
        """Close the file and release the lock; closing twice is harmless."""
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> "Project":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._db is None else ("read-only" if self.readonly else "open")
        return f"<Project {self.path} {state}>"

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise ProjectError(f"{self.path}: the project is closed")
        return self._db

    def meta(self) -> dict[str, str]:
        """The meta table plus ``schema_version``."""
        out = dict(self.db.execute(f"SELECT key, value FROM {schema.META_TABLE}"))
        out["schema_version"] = str(self.db.execute("PRAGMA user_version").fetchone()[0])
        return out

    # ------------------------------------------------------------ undo and notification

    @property
    def undo_stack(self) -> "UndoStack":
        if self._undo_stack is None:
            from actdesk.core.commands import UndoStack  # commands imports this module

            self._undo_stack = UndoStack(self)
        return self._undo_stack

    def execute(self, command: "Command") -> bool:
        """Apply ``command`` in one transaction and push it on the undo stack (see UndoStack.execute)."""
        return self.undo_stack.execute(command)

    def undo(self) -> bool:
        return self.undo_stack.undo()

    def redo(self) -> bool:
        return self.undo_stack.redo()

    def subscribe(self, callback: Callable[[Change], None]) -> Callable[[], None]:
        """Call ``callback(change)`` after every committed change; returns an unsubscribe function."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction: committed at the end, rolled back on any error.

        Subscribers hear about the changes after the commit, never about a rollback.
        """
        if self.readonly:
            raise ProjectError(f"{self.path}: opened read-only, cannot be changed")
        if self._pending is not None:
            raise RuntimeError("transactions do not nest")
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        self._pending = []
        try:
            yield
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            self._pending = None
            raise
        changes, self._pending = _coalesce(self._pending), None
        for change in changes:
            for callback in list(self._subscribers):
                callback(change)

    def _record(self, change: Change) -> None:
        if self._pending is None:
            raise RuntimeError("project writes must run inside Project.transaction()")
        self._pending.append(change)

    # ------------------------------------------------------------ videos

    def add_video(self, path: str | os.PathLike) -> VideoRecord:
        """Add a video (probed and indexed once, its human track created);
        a video already in the project (same content hash) is returned as it is."""
        from actdesk.media import frame_index, probe

        file = Path(os.path.normpath(Path(path).absolute()))
        if not file.is_file():
            raise MediaError(file, "file not found")
        content_hash, size = video_fingerprint(file)
        row = self.db.execute(f"SELECT {self._VIDEO_COLUMNS} FROM videos WHERE content_hash = ? ORDER BY id LIMIT 1",
                              (content_hash,)).fetchone()
        if row is not None:
            return self._video_from_row(row)
        info = probe(file)
        index = frame_index(file)  # cached: probe built it
        # The file's location lives in `path` (it changes on relink), not in the probe data.
        probe_data = {key: value for key, value in info.to_dict().items() if key != "path"}
        with self.transaction():
            cur = self.db.execute(
                "INSERT INTO videos(path, content_hash, size_bytes, probe, frame_count, avg_fps, is_vfr,"
                " times_s, end_time_s, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (self._stored_path(file), content_hash, size, json.dumps(probe_data, default=str), info.frame_count,
                 float(info.avg_fps), bool(info.is_vfr), encode_times(index.times_s), float(index.end_time_s), _now()))
            video_id = cur.lastrowid
            self.db.execute("INSERT INTO tracks(video_id, name, kind, created_at) VALUES (?, ?, 'human', ?)",
                            (video_id, HUMAN_TRACK, _now()))
            self._record(Change("videos", video_id=video_id))
            self._record(Change("tracks", video_id=video_id))
        return self.video(video_id)

    def _stored_path(self, file: Path) -> str:
        try:
            return Path(os.path.relpath(file, self.folder)).as_posix()
        except ValueError:  # another drive (Windows): no relative path exists
            return file.as_posix()

    def _video_from_row(self, row: tuple) -> VideoRecord:
        vid, path, content_hash, size, probe, frames, fps, vfr, end, added = row
        abs_path = Path(os.path.normpath(self.folder / path))
        return VideoRecord(vid, path, abs_path, content_hash, size, frames, fps, bool(vfr), end,
                           json.loads(probe), added)

    _VIDEO_COLUMNS = ("id, path, content_hash, size_bytes, probe, frame_count, avg_fps, is_vfr, "
                      "end_time_s, added_at")

    def videos(self) -> list[VideoRecord]:
        """Every video, in the order added."""
        rows = self.db.execute(f"SELECT {self._VIDEO_COLUMNS} FROM videos ORDER BY id")
        return [self._video_from_row(r) for r in rows]

    def video(self, video_id: int) -> VideoRecord:
        row = self.db.execute(f"SELECT {self._VIDEO_COLUMNS} FROM videos WHERE id = ?", (video_id,)).fetchone()
        if row is None:
            raise ProjectError(f"{self.path}: no video #{video_id}")
        return self._video_from_row(row)

    def video_named(self, name: str) -> VideoRecord:
        """The video whose file name (or stored path) is ``name``; refuses none or several."""
        # Looked up in SQL: data-set imports call this once per video, so a scan would be quadratic.
        rows = self.db.execute(
            f"SELECT {self._VIDEO_COLUMNS} FROM videos WHERE path = ? OR substr(path, -(length(?) + 1)) = '/' || ?"
            " ORDER BY id", (name, name, name)).fetchall()
        found = [self._video_from_row(r) for r in rows]
        if len(found) == 1:
            return found[0]
        names = ", ".join(v.path for v in self.videos()) or "none"
        if not found:
            raise ProjectError(f"{self.path}: no video named {name!r} (videos: {names})")
        raise ProjectError(f"{self.path}: several videos are named {name!r}; use the stored path ({names})")

    def missing_videos(self) -> list[VideoRecord]:
        """Videos whose file is not where the project expects it (moved or deleted)."""
        return [v for v in self.videos() if not v.abs_path.is_file()]

    def relink_video(self, video_id: int, new_path: str | os.PathLike) -> VideoRecord:
        """Point a moved video at ``new_path`` after checking it is the same content."""
        video = self.video(video_id)
        file = Path(os.path.normpath(Path(new_path).absolute()))
        if not file.is_file():
            raise MediaError(file, "file not found")
        if video_fingerprint(file)[0] != video.content_hash:
            raise ProjectError(f"{file}: not the video {video.name!r} of this project (its content differs)")
        with self.transaction():
            self.db.execute("UPDATE videos SET path = ? WHERE id = ?", (self._stored_path(file), video_id))
            self._record(Change("videos", video_id=video_id))
        return self.video(video_id)

    def frame_times(self, video_id: int) -> FrameTimes:
        """The stored presentation time of every frame of a video (cached)."""
        times = self._frame_times.get(video_id)
        if times is None:
            row = self.db.execute("SELECT times_s, end_time_s FROM videos WHERE id = ?", (video_id,)).fetchone()
            if row is None:
                raise ProjectError(f"{self.path}: no video #{video_id}")
            times = self._frame_times[video_id] = FrameTimes(decode_times(row[0]), row[1])
        return times

    # ------------------------------------------------------------ labels

    def labels(self) -> list[Label]:
        """The label set in display order."""
        return [row.label for row in self.label_rows()]

    def label_rows(self) -> list[LabelRow]:
        rows = self.db.execute("SELECT name, colour, shortcut, position FROM labels ORDER BY position, name")
        return [LabelRow(Label(n, c, s or ""), p) for n, c, s, p in rows]

    def label_row(self, name: str) -> LabelRow:
        row = self.db.execute("SELECT name, colour, shortcut, position FROM labels WHERE name = ?",
                              (name,)).fetchone()
        if row is None:
            raise LabelError(f"no label {name!r} in {self.path.name}")
        n, c, s, p = row
        return LabelRow(Label(n, c, s or ""), p)

    def label_usage(self, name: str) -> int:
        """How many segments (all tracks) carry label ``name``."""
        return self.db.execute("SELECT count(*) FROM segments WHERE label = ?", (name,)).fetchone()[0]

    # ------------------------------------------------------------ tracks

    _TRACK_COLUMNS = "id, video_id, name, kind, model, checkpoint, created_at, params"

    @staticmethod
    def _track_from_row(row: tuple) -> Track:
        tid, vid, name, kind, model, ckpt, created, params = row
        return Track(tid, vid, name, kind, model, ckpt, created, json.loads(params))

    def tracks(self, video_id: int) -> list[Track]:
        """A video's tracks: the human track first, then model runs in the order made."""
        rows = self.db.execute(f"SELECT {self._TRACK_COLUMNS} FROM tracks WHERE video_id = ? "
                               "ORDER BY kind != 'human', id", (video_id,))
        return [self._track_from_row(r) for r in rows]

    def track(self, track_id: int) -> Track:
        row = self.db.execute(f"SELECT {self._TRACK_COLUMNS} FROM tracks WHERE id = ?", (track_id,)).fetchone()
        if row is None:
            raise ProjectError(f"{self.path}: no track #{track_id}")
        return self._track_from_row(row)

    def human_track(self, video_id: int) -> Track:
        """The video's human track (made with the video)."""
        row = self.db.execute(f"SELECT {self._TRACK_COLUMNS} FROM tracks WHERE video_id = ? AND kind = 'human'",
                              (video_id,)).fetchone()
        if row is None:
            self.video(video_id)  # names the missing video
            raise ProjectError(f"{self.path}: video #{video_id} has no human track")
        return self._track_from_row(row)

    def track_named(self, video_id: int, name: str) -> Track | None:
        row = self.db.execute(f"SELECT {self._TRACK_COLUMNS} FROM tracks WHERE video_id = ? AND name = ?",
                              (video_id, name)).fetchone()
        return None if row is None else self._track_from_row(row)

    # ------------------------------------------------------------ model scores

    def track_scores(self, track_id: int) -> TrackScores | None:
        """The confidence curves stored with a model track, or None (none stored, or an older file)."""
        if self.schema_version < 2:
            return None
        row = self.db.execute("SELECT labels, frames, levels FROM track_scores WHERE track_id = ?",
                              (track_id,)).fetchone()
        if row is None:
            return None
        try:
            return TrackScores.decode(*row)
        except (ValueError, TypeError, zlib.error) as e:  # a damaged row costs its curves, nothing else
            raise ProjectError(f"{self.path}: the stored scores of track #{track_id} are unreadable ({e})") from None

    def set_track_scores(self, track_id: int, scores: TrackScores) -> None:
        """Store (or replace) a model track's confidence curves in one transaction.

        Not an edit: scores are what the model said, shown beside its segments, so
        they are not on the undo stack and notify no one. They go with their track:
        deleting it (undoing the run) deletes them, and redoing it restores them.
        """
        track = self.track(track_id)
        with self.transaction():
            self._write_track_scores(track, scores)

    def _write_track_scores(self, track: Track, scores: TrackScores) -> None:
        """Check that ``scores`` fit ``track`` (ProjectError if not) and store them, in the open transaction."""
        if track.kind != "model":
            raise ProjectError(f"{self.path}: track {track.name!r} is not a model track; only model runs have scores")
        problem = scores.problem(len(self.frame_times(track.video_id)))
        if problem:
            raise ProjectError(f"{self.path}: scores for track {track.name!r} refused: {problem}")
        self.db.execute("INSERT OR REPLACE INTO track_scores(track_id, labels, frames, levels) VALUES (?, ?, ?, ?)",
                        (track.id, *scores.encode()))

    # ------------------------------------------------------------ segments

    _SEGMENT_SELECT = ("SELECT s.id, s.track_id, s.status, s.start_frame, s.end_frame, s.label, s.start_s, s.end_s,"
                       " s.confidence, s.source, v.path FROM segments s JOIN tracks t ON t.id = s.track_id"
                       " JOIN videos v ON v.id = t.video_id")

    def _segments_where(self, where: str, params: Sequence, *, order: str = "s.start_frame, s.id",
                        limit: int = -1) -> list[StoredSegment]:
        rows = self.db.execute(f"{self._SEGMENT_SELECT} WHERE {where} ORDER BY {order} LIMIT {int(limit)}", params)
        return [StoredSegment(*r[:10], video=PurePosixPath(r[10].replace("\\", "/")).name) for r in rows]

    def segments(self, track_id: int) -> list[StoredSegment]:
        """A track's segments ordered by start frame."""
        self.track(track_id)
        return self._segments_where("s.track_id = ?", (track_id,))

    def segments_in_range(self, track_id: int, start_frame: int, end_frame: int) -> list[StoredSegment]:
        """A track's segments that overlap frames ``[start_frame, end_frame)``."""
        return self._segments_where("s.track_id = ? AND s.start_frame < ? AND s.end_frame > ?",
                                    (track_id, end_frame, start_frame))

    def segments_labelled(self, label: str) -> list[StoredSegment]:
        """Every segment (all tracks) that carries ``label``."""
        return self._segments_where("s.label = ?", (label,), order="s.track_id, s.start_frame, s.id")

    def segments_by_id(self, segment_ids: Iterable[int]) -> list[StoredSegment]:
        """The segments with these ids, in the order given; an unknown id raises ProjectError."""
        ids = list(dict.fromkeys(segment_ids))
        found: dict[int, StoredSegment] = {}
        for i in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
            chunk = ids[i:i + 500]
            for seg in self._segments_where(f"s.id IN ({','.join('?' * len(chunk))})", chunk):
                found[seg.id] = seg
        missing = [i for i in ids if i not in found]
        if missing:
            raise ProjectError(f"{self.path}: no segment #{missing[0]}")
        return [found[i] for i in ids]

    def neighbours(self, segment_id: int) -> tuple[StoredSegment | None, StoredSegment | None]:
        """The segments just before and just after a segment on its track."""
        (seg,) = self.segments_by_id([segment_id])
        before = self._segments_where("s.track_id = ? AND s.end_frame <= ?", (seg.track_id, seg.start_frame),
                                      order="s.end_frame DESC", limit=1)
        after = self._segments_where("s.track_id = ? AND s.start_frame >= ?", (seg.track_id, seg.end_frame),
                                     limit=1)
        return (before[0] if before else None), (after[0] if after else None)

    def segment_counts(self, track_id: int) -> dict[str, int]:
        """Number of segments of a track per status."""
        counts = dict.fromkeys(STATUSES, 0)
        counts.update(self.db.execute("SELECT status, count(*) FROM segments WHERE track_id = ? GROUP BY status",
                                      (track_id,)))
        return counts

    # ------------------------------------------------------------ write primitives (core.commands only)

    def _insert_segment_rows(self, rows: Sequence[StoredSegment]) -> list[StoredSegment]:
        """Insert rows (keeping their ids, or assigning new ones where id is None); returns them with ids."""
        out = []
        for row in rows:
            cur = self.db.execute(
                "INSERT INTO segments(id, track_id, start_frame, end_frame, start_s, end_s, label, confidence,"
                " source, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (row.id, row.track_id, row.start_frame, row.end_frame, row.start_s, row.end_s, row.label,
                 row.confidence, row.source, row.status))
            out.append(row if row.id is not None else replace(row, id=cur.lastrowid))
        self._record_segments(out)
        return out

    def _delete_segment_rows(self, rows: Sequence[StoredSegment]) -> None:
        self.db.executemany("DELETE FROM segments WHERE id = ?", [(r.id,) for r in rows])
        self._record_segments(rows)

    def _record_segments(self, rows: Sequence[StoredSegment]) -> None:
        by_track: dict[int, list[int]] = {}
        for row in rows:
            by_track.setdefault(row.track_id, []).append(row.id)
        for track_id, ids in by_track.items():
            self._record(Change("segments", track_id, tuple(ids)))

    def _insert_label_row(self, row: LabelRow) -> None:
        label = row.label
        self.db.execute("INSERT INTO labels(name, colour, shortcut, position) VALUES (?, ?, ?, ?)",
                        (label.name, label.colour, label.shortcut or None, row.position))
        self._record(Change("labels"))

    def _delete_label_row(self, name: str) -> None:
        self.db.execute("DELETE FROM labels WHERE name = ?", (name,))
        self._record(Change("labels"))

    def _update_label_row(self, name: str, label: Label) -> None:
        """Replace a label's name, colour and shortcut; a new name cascades to every segment."""
        users = self.db.execute("SELECT id, track_id FROM segments WHERE label = ?", (name,)).fetchall() \
            if label.name != name else []
        self.db.execute("UPDATE labels SET name = ?, colour = ?, shortcut = ? WHERE name = ?",
                        (label.name, label.colour, label.shortcut or None, name))
        self._record(Change("labels"))
        by_track: dict[int, list[int]] = {}
        for seg_id, track_id in users:
            by_track.setdefault(track_id, []).append(seg_id)
        for track_id, ids in by_track.items():
            self._record(Change("segments", track_id, tuple(ids)))

    def _insert_track_row(self, track: Track) -> Track:
        """Insert a track (a new id and creation time unless given); returns it as stored."""
        cur = self.db.execute(
            "INSERT INTO tracks(id, video_id, name, kind, model, checkpoint, created_at, params)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (track.id, track.video_id, track.name, track.kind, track.model, track.checkpoint,
             track.created_at or _now(), json.dumps(track.params, default=str)))
        self._record(Change("tracks", video_id=track.video_id))
        return self.track(cur.lastrowid if track.id is None else track.id)

    def _delete_track_row(self, track: Track) -> None:
        self.db.execute("DELETE FROM tracks WHERE id = ?", (track.id,))
        self._record(Change("tracks", video_id=track.video_id))


def _coalesce(changes: list[Change]) -> list[Change]:
    """One Change per (kind, track, video), segment ids merged, in first-seen order."""
    merged: dict[tuple, set[int]] = {}
    for change in changes:
        merged.setdefault((change.kind, change.track_id, change.video_id), set()).update(change.segment_ids)
    return [Change(kind, track_id, tuple(sorted(ids)), video_id) for (kind, track_id, video_id), ids in merged.items()]


def _fsync_folder(folder: Path) -> None:
    """Make a rename durable (POSIX; Windows has no directory fsync)."""
    if sys.platform == "win32":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
