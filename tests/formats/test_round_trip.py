"""Export, then import into a fresh project: the same segments, frame for frame, on CFR and VFR video."""

from __future__ import annotations

import csv

import pytest

from actdesk.cli import main
from actdesk.core.project import Project
from actdesk.formats.export import export_project
from actdesk.formats.importing import import_into_project, read_source, recorded_splits
from actdesk.media import frame_index

# format -> what to import from its export folder ('.' = the folder itself)
ROUND_TRIP = {
    "csv": ["."],
    "kinetics-csv": ["."],
    "elan": ["cfr.eaf", "vfr.eaf"],
    "boris": ["events.tsv"],
    "label-studio": ["label_studio.json"],
    "activitynet": ["activitynet.json"],
}
RECORDS_SPLITS = {"csv", "kinetics-csv", "activitynet"}
LABELS = ["walk", "run", "sit down"]


def import_all(project: Project, sources, registry) -> list[str]:
    formats = []
    for source in sources:
        imported = read_source(source, registry=registry)  # the format is detected
        formats.append(imported.format)
        project.execute(import_into_project(project, imported).command)
    return formats


@pytest.mark.parametrize("fmt", ROUND_TRIP)
def test_export_then_import_gives_the_same_segments(fmt, tmp_path, project, new_project, segments_of, expected,
                                                   registry):
    result = export_project(project, tmp_path / "out", fmt, registry=registry)
    fresh = new_project()
    assert import_all(fresh, [result.folder / p for p in ROUND_TRIP[fmt]], registry) == [fmt] * len(ROUND_TRIP[fmt])
    assert segments_of(fresh) == expected()
    assert [label.name for label in fresh.labels()] == LABELS
    if fmt in RECORDS_SPLITS:
        assert {v.name: recorded_splits(fresh, v.id) for v in fresh.videos()} == \
            {name: {"1": split} for name, split in result.splits.items()}


@pytest.mark.parametrize("fmt, source", [("elan", ["cfr.eaf", "vfr.eaf"]), ("label-studio", ["label_studio.json"])])
def test_formats_with_several_tracks_bring_model_tracks_back(fmt, source, tmp_path, project, new_project, segments_of,
                                                            expected, registry):
    result = export_project(project, tmp_path / "out", fmt, tracks=["human", "c3d"], registry=registry)
    fresh = new_project()
    import_all(fresh, [result.folder / p for p in source], registry)
    assert segments_of(fresh) == expected()
    model = segments_of(fresh, "c3d")
    if fmt == "elan":  # EAF has no place for confidences
        assert [row[3] for row in model["cfr.mp4"]] == [None, None]
        model = {name: [row[:3] + (c,) for row, c in zip(rows, (0.9, 0.4))] for name, rows in model.items()}
    assert model == expected("c3d")
    assert fresh.track_named(fresh.video_named("cfr.mp4").id, "c3d").kind == "model"


def test_time_based_files_carry_pts_seconds_not_frame_over_fps(tmp_path, project, registry):
    result = export_project(project, tmp_path / "out", "boris", registry=registry)
    index = frame_index(project.video_named("vfr.mkv").abs_path)
    with open(result.folder / "events.tsv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if r["Observation id"] == "vfr"]
    assert [(r["Behavior"], r["Behavior type"], int(r["Image index"])) for r in rows][:3] == [
        ("run", "START", 2), ("run", "STOP", 10), ("walk", "START", 10)]
    boundaries = [*index.times_s, index.end_time_s]  # a STOP at the last frame's end has index frame_count
    for row in rows:
        assert float(row["Time"]) == pytest.approx(boundaries[int(row["Image index"])], abs=5e-4)
    # frame 10 at 25 fps would be 0.400 s; its presentation time is 0.347 s
    assert rows[1]["Time"] == "0.347"


def test_cli_export_and_import_round_trip(tmp_path, project, new_project, segments_of, expected, capsys):
    path = project.path
    project.close()
    out = tmp_path / "elan"
    assert main(["export", str(path), "--out", str(out), "--format", "elan", "--track", "human", "--track", "c3d"]) == 0
    assert "exported 8 segments of 2 video(s) as elan" in capsys.readouterr().out
    fresh_path = tmp_path / "fresh.actdesk"
    new_project().close()
    for eaf in ("cfr.eaf", "vfr.eaf"):
        assert main(["import", str(fresh_path), str(out / eaf)]) == 0
    assert "(elan)" in capsys.readouterr().out
    with Project.open(fresh_path, readonly=True) as fresh:
        assert segments_of(fresh) == expected()
        assert [s[:3] for s in segments_of(fresh, "c3d")["cfr.mp4"]] == [m[:3] for m in expected("c3d")["cfr.mp4"]]

    # --track puts everything on one track; the file's tiers are ignored
    other = tmp_path / "other.actdesk"
    new_project("other.actdesk").close()
    assert main(["import", str(other), str(out / "vfr.eaf"), "--track", "imported"]) == 0
    with Project.open(other, readonly=True) as p:
        assert segments_of(p, "imported") == {"vfr.mkv": expected()["vfr.mkv"]}
        assert segments_of(p) == {"cfr.mp4": [], "vfr.mkv": []}
