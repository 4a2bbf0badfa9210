"""`actdesk project new` → `import` → `segments --out` round trips, `project show`, CLI errors."""

from __future__ import annotations

import json

import pytest

from actdesk.cli import main
from actdesk.core.commands import SetStatus
from actdesk.core.project import Project
from actdesk.core.segments import Segment
from actdesk.formats.segments_csv import read_segments_csv, write_segments_csv
from actdesk.media import frame_index


def _timed(video, rows, source, confidence=None):
    """Segments of ``video`` with seconds from its PTS index, as a CSV written by another tool would have."""
    index = frame_index(video)

    def t(frame):
        return float(index.times_s[frame]) if frame < index.frame_count else float(index.end_time_s)

    return [Segment(a, b, label, round(t(a), 6), round(t(b), 6), conf if confidence else None, source, video.name)
            for a, b, label, conf in rows]


@pytest.fixture
def videos(video_factory):
    return video_factory("clip.mp4", frames=60), video_factory("vfr.mkv", frames=8, vfr_pts=[0, 40, 80, 90,
                                                                                              100, 200, 240, 300])


def test_new_import_export_round_trip(tmp_path, videos, capsys):
    clip, vfr = videos
    truth = _timed(clip, [(0, 12, "walk", 0), (12, 40, "run", 0), (45, 60, "jump", 0)], "truth") \
        + _timed(vfr, [(1, 5, "wave", 0), (5, 8, "walk", 0)], "truth")
    csv_in, csv_out, project = tmp_path / "truth.csv", tmp_path / "out.csv", tmp_path / "p.actdesk"
    write_segments_csv(csv_in, truth)

    assert main(["project", "new", str(project), str(clip), str(vfr), "--labels", "walk,run"]) == 0
    assert main(["import", str(project), str(csv_in), "--track", "human"]) == 0
    assert main(["segments", str(project), "--out", str(csv_out)]) == 0
    assert read_segments_csv(csv_out) == truth
    assert "wrote 5 segments" in capsys.readouterr().out

    with Project.open(project, readonly=True) as p:
        assert [label.name for label in p.labels()] == ["walk", "run", "jump", "wave"]

    assert main(["segments", str(project), "--video", "vfr.mkv", "--out", str(csv_out)]) == 0
    assert read_segments_csv(csv_out) == truth[3:]


def test_model_track_import_keeps_confidence_and_review_state(tmp_path, videos, capsys):
    clip, _ = videos
    predictions = _timed(clip, [(0, 30, "walk", 0.812345), (30, 60, "run", 0.25)], "c3d-attention", confidence=True)
    csv_in, csv_out, project = tmp_path / "pred.csv", tmp_path / "out.csv", tmp_path / "p.actdesk"
    write_segments_csv(csv_in, predictions)
    assert main(["project", "new", str(project), str(clip)]) == 0
    assert main(["import", str(project), str(csv_in), "--video", "clip.mp4", "--track", "c3d"]) == 0
    assert main(["segments", str(project), "--track", "c3d", "--out", str(csv_out)]) == 0
    assert read_segments_csv(csv_out) == predictions

    with Project.open(project) as p:
        track = p.track_named(1, "c3d")
        p.execute(SetStatus([p.segments(track.id)[1].id], "rejected"))
    assert main(["segments", str(project), "--track", "c3d", "--out", str(csv_out)]) == 0
    assert read_segments_csv(csv_out) == predictions[:1]
    assert main(["segments", str(project), "--track", "c3d", "--include-rejected", "--out", str(csv_out)]) == 0
    assert read_segments_csv(csv_out) == predictions

    capsys.readouterr()
    assert main(["project", "show", str(project)]) == 0
    out = capsys.readouterr().out
    assert "video #1 clip.mp4: 60 frames, 25.000 fps" in out
    assert "track 'human' (human): 0 segments" in out
    assert "track 'c3d' (model c3d-attention): 2 segments (0 accepted, 1 pending, 1 rejected)" in out
    assert main(["project", "show", str(project), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [t["name"] for t in summary["videos"][0]["tracks"]] == ["human", "c3d"]
    assert summary["videos"][0]["tracks"][1]["segments"] == {"pending": 1, "accepted": 0, "rejected": 1}
    assert [label["name"] for label in summary["labels"]] == ["walk", "run"]


def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("actdesk: error: ") and "Traceback" not in err
    return err


def test_cli_errors_name_what_and_where(tmp_path, videos, capsys):
    clip, _ = videos
    project = tmp_path / "p.actdesk"
    assert main(["project", "new", str(project), str(clip), "--labels", "walk,a/b"]) == 2
    assert "'a/b' contains a forbidden character" in _error(capsys)
    assert not project.exists()

    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\0" * 1000)
    assert main(["project", "new", str(project), str(clip), str(broken)]) == 2
    assert "broken.mp4" in _error(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.mp4", "clip.mp4", "vfr.mkv"]

    assert main(["project", "new", str(project), str(clip)]) == 0
    assert main(["project", "new", str(project), str(clip)]) == 2
    assert "already exists" in _error(capsys)

    csv_in = tmp_path / "rows.csv"
    write_segments_csv(csv_in, [Segment(0, 10, "walk", video="elsewhere.mp4")])
    assert main(["import", str(project), str(csv_in)]) == 2
    assert "no video named 'elsewhere.mp4'" in _error(capsys)

    write_segments_csv(csv_in, [Segment(0, 100, "walk", video="clip.mp4")])
    assert main(["import", str(project), str(csv_in)]) == 2
    assert "ends after the video's last frame (60 frames)" in _error(capsys)

    assert main(["import", str(project), str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv" in _error(capsys)

    assert main(["segments", str(project), "--track", "nope", "--out", str(tmp_path / "o.csv")]) == 2
    assert "has no track named 'nope'" in _error(capsys)

    assert main(["project", "show", str(csv_in)]) == 2
    assert "not an actdesk project" in _error(capsys)
