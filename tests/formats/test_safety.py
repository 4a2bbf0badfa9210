"""Label names become safe file names, nothing is written outside the export folder, full folders are refused."""

from __future__ import annotations

import os

import numpy as np
import pytest

from actdesk.cli import main
from actdesk.core.segments import Segment
from actdesk.errors import ActdeskError, FormatError
from actdesk.formats.data import ExportSet, ExportVideo
from actdesk.formats.export import export_project
from actdesk.formats.safety import OutputFolder, safe_file_name, unique_file_names
from actdesk.formats.sources import listed_file


@pytest.mark.parametrize("name, safe", [
    ("walk", "walk"), ("sit down", "sit down"), ("../evil", "_evil"), ("a/b", "a_b"), ("a\\b", "a_b"),
    ("..", "_"), (".", "_"), ("", "_"), (" .hidden. ", "hidden"), ("CON", "_CON"), ("con.txt", "_con.txt"),
    ("Lpt9", "_Lpt9"), ("COM10", "COM10"), ("tab\there", "tab_here"), ("new\nline", "new_line"),
    ("a:b*c?d", "a_b_c_d"), ('say "hi" <x>|', "say _hi_ _x__"), ("zé\u200b", "zé_")])
def test_safe_file_name(name, safe):
    assert safe_file_name(name) == safe
    assert safe_file_name(safe) == safe  # safe names come back unchanged


def test_long_names_are_cut_on_a_character_boundary():
    name = safe_file_name("é" * 300)
    assert len(name.encode()) <= 200 and name == "é" * 100


def test_names_that_collide_get_distinct_folders():
    names = unique_file_names(["a/b", "a:b", "Walk", "walk", "CON", "_CON"])
    assert names == {"a/b": "a_b", "a:b": "a_b-2", "Walk": "Walk", "walk": "walk-2", "CON": "_CON", "_CON": "_CON-2"}


def hostile_export_set(tmp_path, source_videos) -> ExportSet:
    """Labels and a video name as a plugin or a foreign file might hand them over."""
    video = ExportVideo(name="../../escape.mp4", path=source_videos["cfr.mp4"],
                        times_s=np.arange(50) / 25, end_time_s=2.0, width=96, height=72, avg_fps=25.0,
                        tracks={"human": [Segment(0, 5, "../evil"), Segment(5, 10, "a/b"), Segment(10, 15, "CON"),
                                          Segment(15, 20, "/etc/passwd"), Segment(20, 25, "..")]},
                        split="train")
    return ExportSet([video], ["../evil", "a/b", "CON", "/etc/passwd", ".."], ["human"])


@pytest.mark.parametrize("fmt", ["clips", "elan", "csv", "boris", "ava", "kinetics-csv", "label-studio"])
def test_hostile_names_never_leave_the_export_folder(fmt, tmp_path, source_videos, registry):
    out = OutputFolder.prepare(tmp_path / "export" / "out")
    registry.get(fmt).export(hostile_export_set(tmp_path, source_videos), out)
    written = [p for p in (tmp_path / "export").rglob("*") if p.is_file()]
    assert written and all(p.resolve().is_relative_to(out.root) for p in written)
    assert sorted(out.written) == sorted(written)
    assert not list(tmp_path.glob("escape*")) and not (tmp_path / "evil").exists()
    if fmt == "clips":
        assert {p.relative_to(out.root).as_posix() for p in out.root.rglob("*.mp4")} == {
            "_evil/escape_000000-000005.mp4", "a_b/escape_000005-000010.mp4", "_CON/escape_000010-000015.mp4",
            "_etc_passwd/escape_000015-000020.mp4", "_/escape_000020-000025.mp4"}


def test_a_symbolic_link_out_of_the_folder_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    out = OutputFolder.prepare(tmp_path / "out")
    os.symlink(outside, out.root / "walk")
    with pytest.raises(ActdeskError, match="outside the export folder"):
        out.write_text("x", "walk", "clip.txt")
    assert not list(outside.iterdir())
    os.symlink(tmp_path / "elsewhere.txt", out.root / "labels.txt")
    with pytest.raises(ActdeskError, match="outside the export folder"):
        out.write_text("x", "labels.txt")
    assert not (tmp_path / "elsewhere.txt").exists()


def test_a_folder_with_files_is_refused_unless_overwriting(tmp_path, project, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    path = project.path
    project.close()
    assert main(["export", str(path), "--out", str(out), "--format", "csv"]) == 2
    assert "the folder is not empty" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert main(["export", str(path), "--out", str(out), "--format", "csv", "--overwrite"]) == 0
    assert (out / "notes.txt").read_text() == "mine"  # overwriting replaces our files, deletes nothing
    assert (out / "labels.txt").is_file()
    (out / "labels.txt").write_text("stale")
    assert main(["export", str(path), "--out", str(out), "--format", "csv", "--overwrite"]) == 0
    assert (out / "labels.txt").read_text() == "walk\nrun\nsit down\n"

    a_file = tmp_path / "file"
    a_file.write_text("")
    with pytest.raises(ActdeskError, match="not a folder"):
        OutputFolder.prepare(a_file)
    assert OutputFolder.prepare(tmp_path / "new" / "deeper").root.is_dir()


def test_empty_export_and_unknown_names_are_refused(tmp_path, project, registry):
    with pytest.raises(ActdeskError, match="unknown format 'nope'; known: csv, clips"):
        export_project(project, tmp_path / "a", "nope", registry=registry)
    with pytest.raises(ActdeskError, match="can only be imported"):
        export_project(project, tmp_path / "b", "ucf101", registry=registry)
    with pytest.raises(ActdeskError, match="no video has a track named 'nope'"):
        export_project(project, tmp_path / "c", "csv", tracks=["nope"], registry=registry)
    with pytest.raises(ActdeskError, match="holds one track per video"):
        export_project(project, tmp_path / "d", "csv", tracks=["human", "c3d"], registry=registry)
    assert not (tmp_path / "d").exists() or not any((tmp_path / "d").iterdir())


@pytest.mark.parametrize("relative", ["../outside.mp4", "/etc/passwd", "a/../../x.mp4"])
def test_listed_paths_may_not_leave_the_data_set(tmp_path, relative):
    with pytest.raises(FormatError, match=r"list\.txt:3: .* inside"):
        listed_file(tmp_path, relative, tmp_path / "list.txt", 3)
