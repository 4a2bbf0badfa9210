"""Project file: round trips, videos, frame times, versions, foreign files."""

from __future__ import annotations

import os
import shutil
import sqlite3

import pytest

from actdesk.core import schema
from actdesk.core.commands import AddLabel, CreateSegment, SetStatus
from actdesk.core.labels import Label
from actdesk.core.project import Change, Project, decode_times, encode_times, video_fingerprint
from actdesk.core.segments import Segment
from actdesk.errors import LabelError, MediaError, ProjectError
from actdesk.media import frame_index


def test_round_trip_survives_reopen(project, human, tmp_path, clip):
    project.execute(CreateSegment(human, 5, 20, "walk"))
    project.execute(CreateSegment(human, 20, 60, "run"))
    before = project.segments(human)
    project.close()
    with Project.open(tmp_path / "p.actdesk") as again:
        (video,) = again.videos()
        assert video.path == "clip.mp4" and video.abs_path == clip
        assert video.frame_count == 60 and video.avg_fps == pytest.approx(25.0) and not video.is_vfr
        assert video.probe["codec"] == "h264" and video.probe["width"] == 96
        assert [label.name for label in again.labels()] == ["walk", "run", "jump"]
        assert again.segments(human) == before
        assert [s.to_segment() for s in before] == [
            Segment(5, 20, "walk", 0.2, 0.8, None, "human", "clip.mp4"),
            Segment(20, 60, "run", 0.8, 2.4, None, "human", "clip.mp4"),
        ]
        assert again.meta()["application"] == "actdesk"
        assert again.meta()["schema_version"] == str(schema.schema_version())


def test_file_is_wal_sqlite_with_application_id(project, tmp_path, raw_rows):
    path = tmp_path / "p.actdesk"
    assert raw_rows(path, "PRAGMA application_id") == [(schema.APPLICATION_ID,)]
    assert raw_rows(path, "PRAGMA user_version") == [(schema.schema_version(),)]
    assert raw_rows(path, "PRAGMA journal_mode") == [("wal",)]
    assert project.db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    assert project.db.execute("PRAGMA foreign_keys").fetchone() == (1,)


def test_video_path_is_relative_to_the_project_folder(tmp_path, video_factory):
    (tmp_path / "videos").mkdir()
    video = video_factory("videos/a.mkv", frames=10)
    (tmp_path / "projects").mkdir()
    with Project.create(tmp_path / "projects" / "p.actdesk") as p:
        record = p.add_video(video)
        assert record.path == "../videos/a.mkv"
        assert record.name == "a.mkv"
        assert record.abs_path == video


def test_adding_the_same_video_twice_returns_the_first(project, clip, tmp_path):
    copy = tmp_path / "copy.mp4"
    shutil.copyfile(clip, copy)
    assert project.add_video(copy) == project.videos()[0]
    assert len(project.videos()) == 1


def test_adding_a_bad_video_raises_media_error_and_adds_nothing(project, video_factory):
    text = video_factory.file("notes.mp4", b"not a video at all" * 100)
    with pytest.raises(MediaError, match="notes.mp4"):
        project.add_video(text)
    with pytest.raises(MediaError, match="missing.mp4"):
        project.add_video(text.parent / "missing.mp4")
    assert len(project.videos()) == 1


def test_every_video_gets_one_human_track(project, video_factory):
    second = project.add_video(video_factory("b.mp4", frames=12))
    tracks = project.tracks(second.id)
    assert [(t.name, t.kind) for t in tracks] == [("human", "human")]
    assert project.human_track(second.id) == tracks[0]
    with pytest.raises(sqlite3.IntegrityError):  # the schema allows no second one
        with project.transaction():
            project.db.execute("INSERT INTO tracks(video_id, name, kind, created_at) VALUES (?, 'h2', 'human', '')",
                               (second.id,))


def test_moved_video_is_reported_missing_and_relinked_by_content(project, clip, tmp_path, video_factory):
    (tmp_path / "moved").mkdir()
    moved = tmp_path / "moved" / "renamed.mp4"
    clip.rename(moved)
    (missing,) = project.missing_videos()
    other = video_factory("other.mp4", frames=61)
    with pytest.raises(ProjectError, match="content differs"):
        project.relink_video(missing.id, other)
    relinked = project.relink_video(missing.id, moved)
    assert relinked.path == "moved/renamed.mp4" and relinked.abs_path == moved
    assert project.missing_videos() == []


def test_fingerprint_covers_size_and_the_middle(tmp_path):
    data = bytearray(os.urandom(5 << 20))
    a = tmp_path / "a.bin"
    a.write_bytes(data)
    data[len(data) // 2] ^= 0xFF
    b = tmp_path / "b.bin"
    b.write_bytes(data)
    c = tmp_path / "c.bin"
    c.write_bytes(data + b"\0")
    hashes = {video_fingerprint(p)[0] for p in (a, b, c)}
    assert len(hashes) == 3
    assert video_fingerprint(a)[1] == 5 << 20


def test_vfr_frame_times_are_the_exact_pts_times(tmp_path, video_factory):
    pts = [0, 40, 80, 100, 120, 200, 240, 250, 260, 400, 440, 480]  # milliseconds
    video = video_factory("vfr.mkv", frames=len(pts), vfr_pts=pts)
    index = frame_index(video)
    with Project.create(tmp_path / "v.actdesk") as p:
        record = p.add_video(video)
        assert record.is_vfr
        times = p.frame_times(record.id)
        assert len(times) == len(pts)
        assert [times.time_of(i) for i in range(len(pts))] == [float(t) for t in index.times_s]
        assert list(times.times_s) == [float(t) for t in index.times_s]
        assert times.time_of(len(pts)) == index.end_time_s
        track = p.human_track(record.id).id
        p.execute(AddLabel("walk"))
        p.execute(CreateSegment(track, 3, 9, "walk"))
        (seg,) = p.segments(track)
        assert (seg.start_s, seg.end_s) == (float(index.times_s[3]), float(index.times_s[9]))
        assert (seg.start_s, seg.end_s) == pytest.approx((0.1, 0.4))


def test_times_blob_round_trips_exactly_and_small():
    times = [i * 1001 / 30000 for i in range(100_000)]
    blob = encode_times(times)
    assert list(decode_times(blob)) == times
    assert len(blob) < len(times) * 8 / 10


def test_reads_and_subscribers(project, human):
    heard: list[Change] = []
    unsubscribe = project.subscribe(heard.append)
    project.execute(CreateSegment(human, 0, 10, "walk"))
    (seg,) = project.segments(human)
    assert heard == [Change("segments", human, (seg.id,))]
    project.undo()
    assert heard[-1] == Change("segments", human, (seg.id,))
    unsubscribe()
    project.redo()
    assert len(heard) == 2
    project.execute(CreateSegment(human, 10, 20, "run"))
    project.execute(CreateSegment(human, 30, 40, "jump"))
    assert [s.label for s in project.segments_in_range(human, 9, 31)] == ["walk", "run", "jump"]
    assert [s.label for s in project.segments_in_range(human, 10, 30)] == ["run"]
    before, after = project.neighbours(project.segments_in_range(human, 10, 11)[0].id)
    assert (before.label, after.label) == ("walk", "jump")
    project.execute(SetStatus([before.id], "rejected"))
    assert project.segment_counts(human) == {"pending": 0, "accepted": 2, "rejected": 1}
    assert project.label_usage("walk") == 1
    with pytest.raises(ProjectError, match="no segment #999"):
        project.segments_by_id([999])
    with pytest.raises(ProjectError, match="no track #999"):
        project.segments(999)


def test_failed_transaction_rolls_back_and_notifies_nobody(project, human):
    heard = []
    project.subscribe(heard.append)
    with pytest.raises(LabelError):
        with project.transaction():
            CreateSegment(human, 0, 10, "walk").do(project)
            CreateSegment(human, 10, 20, "nonexistent").do(project)
    assert project.segments(human) == [] and heard == []


def test_readonly_open_reads_but_refuses_writes(project, human, tmp_path):
    project.execute(CreateSegment(human, 0, 10, "walk"))
    with Project.open(tmp_path / "p.actdesk", readonly=True) as ro:  # no lock: the editor still has it
        assert [s.label for s in ro.segments(human)] == ["walk"]
        with pytest.raises(ProjectError, match="read-only"):
            ro.execute(CreateSegment(human, 20, 30, "run"))
        with pytest.raises(ProjectError, match="read-only"):
            ro.relink_video(1, tmp_path / "clip.mp4")
    assert [s.label for s in project.segments(human)] == ["walk"]


def test_closed_project_says_so(tmp_path):
    p = Project.create(tmp_path / "p.actdesk")
    p.close()
    p.close()
    with pytest.raises(ProjectError, match="closed"):
        p.videos()


def test_create_refuses_an_existing_file_unless_overwriting(tmp_path, clip):
    path = tmp_path / "p.actdesk"
    with Project.create(path) as p:
        p.add_video(clip)
    with pytest.raises(ProjectError, match="already exists"):
        Project.create(path)
    with Project.create(path, overwrite=True) as p:
        assert p.videos() == []
    assert not list(tmp_path.glob(".p.actdesk.*"))  # no temporary file left


def test_bad_label_names_are_refused_with_the_reason(project):
    for name, reason in [("", "empty"), (" walk", "space"), ("a/b", "forbidden"), ("x" * 65, "longer"),
                         ("..", "not allowed"), ("tab\there", "forbidden")]:
        with pytest.raises(LabelError, match=reason):
            AddLabel(name)
    with pytest.raises(LabelError, match="'walk' already exists"):
        project.execute(AddLabel("walk"))
    with pytest.raises(LabelError, match="#rrggbb"):
        AddLabel("sit", colour="red")
    with pytest.raises(LabelError, match="shortcut"):
        AddLabel("sit", shortcut="a b")
    assert [label.name for label in project.labels()] == ["walk", "run", "jump"]
    assert not project.undo_stack.can_undo()


# --------------------------------------------------------------------------- versions and foreign files


def _bytes_and_neighbours(path):
    return path.read_bytes(), sorted(p.name for p in path.parent.iterdir())


def test_newer_project_is_refused_untouched(tmp_path, clip):
    path = tmp_path / "p.actdesk"
    with Project.create(path) as p:
        p.add_video(clip)
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 7")
    db.execute("UPDATE actdesk_meta SET value = '9.0' WHERE key = 'app_version'")
    db.commit()
    db.close()
    before = _bytes_and_neighbours(path)
    this = schema.schema_version()
    with pytest.raises(ProjectError, match=rf"made by actdesk 9\.0 \(schema 7, this is {this}\); update actdesk"):
        Project.open(path)
    with pytest.raises(ProjectError, match="schema 7"):
        Project.open(path, readonly=True)
    assert _bytes_and_neighbours(path) == before


@pytest.mark.parametrize("kind", ["text", "other sqlite", "empty", "short", "folder"])
def test_non_project_files_are_refused_untouched(tmp_path, kind):
    path = tmp_path / "thing.actdesk"
    if kind == "text":
        path.write_text("video,start_frame\nclip.mp4,0\n" * 50)
    elif kind == "other sqlite":
        db = sqlite3.connect(path)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("CREATE TABLE notes(x)")
        db.execute("INSERT INTO notes VALUES ('keep me')")
        db.commit()
        db.close()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "short":
        path.write_bytes(schema.SQLITE_MAGIC)
    else:
        path.mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    content = None if kind == "folder" else path.read_bytes()
    expected = {"text": "not an SQLite database", "other sqlite": "another program", "empty": "empty file",
                "short": "not an SQLite database", "folder": "folder"}[kind]
    for readonly in (False, True):
        with pytest.raises(ProjectError, match=expected):
            Project.open(path, readonly=readonly)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    if content is not None:
        assert path.read_bytes() == content


def test_missing_project_file_is_named(tmp_path):
    with pytest.raises(ProjectError, match="nope.actdesk: no such project file"):
        Project.open(tmp_path / "nope.actdesk")


def _add_notes_v2(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")


def _broken_v2(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    db.execute("INSERT INTO no_such_table VALUES (1)")


def test_older_project_is_migrated_in_one_transaction(tmp_path, clip, monkeypatch, raw_rows):
    path = tmp_path / "p.actdesk"
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])
    with Project.create(path) as p:  # a schema-1 file
        p.add_video(clip)
        p.execute(AddLabel("walk"))
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, _broken_v2])
    with pytest.raises(ProjectError, match="cannot upgrade from schema 1"):
        Project.open(path)
    assert raw_rows(path, "PRAGMA user_version") == [(1,)]
    assert raw_rows(path, "SELECT name FROM sqlite_master WHERE name = 'notes'") == []
    monkeypatch.setattr(schema, "READABLE_FROM", 2)  # as if schema 2 changed what schema 1's tables mean
    with pytest.raises(ProjectError, match="older actdesk"):
        Project.open(path, readonly=True)
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS[:1], _add_notes_v2])
    with Project.open(path) as p:
        assert p.meta()["schema_version"] == "2"
        assert [label.name for label in p.labels()] == ["walk"]
        p.db.execute("INSERT INTO notes(text) VALUES ('fine')")
    assert raw_rows(path, "PRAGMA user_version") == [(2,)]


def test_label_rows_keep_colour_shortcut_and_order(project):
    project.execute(AddLabel("sit", colour="#00AA11", shortcut="s"))
    assert project.labels()[-1] == Label("sit", "#00aa11", "s")
    assert [row.position for row in project.label_rows()] == [0, 1, 2, 3]
