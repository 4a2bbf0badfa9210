"""probe() and `actdesk info`: what a video is, with an exact frame count."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

import actdesk.cli as cli
from actdesk.media import probe


@pytest.fixture
def info_command(monkeypatch):
    """``actdesk.cli.main`` with only this room's command registered (the others are built elsewhere)."""
    monkeypatch.setattr(cli, "COMMANDS", {"info": "info_cmd"})
    return cli.main


def test_probe_describes_a_constant_rate_mp4(video_factory):
    path = video_factory("clip.mp4", frames=30, bframes=2)
    info = probe(path)
    assert info.path == str(path)
    assert (info.container, info.codec) == ("mp4", "h264")
    assert (info.width, info.height, info.rotation) == (96, 72, 0)
    assert info.avg_fps == pytest.approx(25.0)
    assert not info.is_vfr
    assert info.duration_s == pytest.approx(30 / 25)
    assert (info.frame_count, info.header_frame_count) == (30, 30)


@pytest.mark.parametrize("name, codec", [("clip.mkv", "h264"), ("clip.webm", "vp9")])
def test_frame_count_is_exact_where_the_header_has_none(video_factory, name, codec):
    info = probe(video_factory(name, frames=23))
    assert info.codec == codec
    assert info.header_frame_count == 0
    assert info.frame_count == 23


def test_frame_count_is_exact_where_the_header_lies(video_factory):
    # An MP4 with its index in front, cut short: the header still promises every frame.
    path = video_factory("cut.mp4", frames=60, faststart=True)
    video_factory.truncate(path, 0.5)
    info = probe(path)
    assert info.header_frame_count == 60
    assert 10 < info.frame_count < 60


def test_variable_frame_rate_is_detected(video_factory):
    pts_ms = [0, 40, 80, 100, 200, 210, 220, 300, 340, 350]
    info = probe(video_factory("vfr.mkv", frames=10, vfr_pts=pts_ms))
    assert info.is_vfr
    assert info.frame_count == 10
    assert info.avg_fps == pytest.approx(10 / info.duration_s)


def test_ntsc_rate_in_millisecond_timestamps_is_constant(video_factory):
    # 29.97 fps stored with 1 ms ticks alternates 33 and 34 ms steps: rounding, not VFR.
    info = probe(video_factory("ntsc.mkv", frames=40, fps=Fraction(30000, 1001)))
    assert not info.is_vfr
    assert info.avg_fps == pytest.approx(29.97, abs=0.05)


def test_rotation_from_the_display_matrix(video_factory):
    info = probe(video_factory("phone.mp4", frames=5, rotation=90))
    assert info.rotation == 90
    assert (info.width, info.height) == (72, 96)


def test_info_prints_a_table(video_factory, info_command, capsys):
    path = video_factory("clip.mkv", frames=17, rotation=None)
    assert info_command(["info", str(path)]) == 0
    out = capsys.readouterr().out
    lines = dict(line.split(None, 1) for line in out.splitlines() if not line.startswith("frame rate"))
    assert lines["file"].strip() == str(path)
    assert lines["codec"].strip() == "h264"
    assert lines["size"].strip() == "96x72"
    assert lines["frames"].strip() == "17 (the header gives no count)"
    assert "25.000 fps average, constant" in out


def test_info_json_is_the_probe(video_factory, info_command, capsys):
    path = video_factory("phone.mp4", frames=8, rotation=270)
    assert info_command(["info", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == probe(path).to_dict()
    assert (data["rotation"], data["width"], data["height"], data["frame_count"]) == (270, 72, 96, 8)


def test_info_reports_a_bad_file_as_an_error(tmp_path, info_command, capsys):
    missing = tmp_path / "nothing.mp4"
    assert info_command(["info", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"actdesk: error: {missing}: file not found"
