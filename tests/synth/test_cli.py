"""``actdesk synth``: video + truth CSV round trip, and clear errors for bad arguments."""

from __future__ import annotations

import argparse

import pytest

from actdesk.cli import synth_cmd
from actdesk.errors import ActdeskError
from actdesk.formats.segments_csv import read_segments_csv
from actdesk.media import probe
from actdesk.synth import synth_truth


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="actdesk")
    synth_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["synth", *argv])
    return args.func(args)


def test_round_trip_writes_video_and_truth(tmp_path, capsys):
    video, truth = tmp_path / "demo.mp4", tmp_path / "demo.csv"
    rc = _run([str(video), "--seconds", "3", "--seed", "10007", "--size", "96x72", "--fps", "20",
               "--actions", "walk, kick,punch", "--truth", str(truth), "--quiet"])
    assert rc == 0
    segments = read_segments_csv(truth)
    assert segments == synth_truth(seconds=3, seed=10007, fps=20, actions=("walk", "kick", "punch"),
                                   video="demo.mp4")
    info = probe(video)
    assert (info.width, info.height, info.frame_count) == (96, 72, 60)
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("argv, needle", [
    (["--size", "320"], "WIDTHxHEIGHT"),
    (["--size", "axb"], "WIDTHxHEIGHT"),
    (["--size", "0x0"], "32..4096"),
    (["--actions", "walk,,run"], "comma-separated"),
    (["--actions", "walk,fly"], "unknown action 'fly'"),
    (["--actions", "sit-down"], "together"),
    (["--fps", "0"], "fps"),
    (["--seconds", "-1"], "positive"),
    (["--truth", "nowhere/t.csv"], "does not exist"),
])
def test_bad_arguments_give_actdesk_errors(tmp_path, argv, needle):
    base = {"--seconds": "1", "--seed": "1", "--size": "96x72", "--truth": str(tmp_path / "t.csv")}
    for flag, value in zip(argv[::2], argv[1::2]):
        base[flag] = value
    flat = [item for pair in base.items() for item in pair]
    with pytest.raises(ActdeskError, match=needle):
        _run([str(tmp_path / "v.mp4"), *flat, "--quiet"])
    assert not (tmp_path / "v.mp4").exists()
