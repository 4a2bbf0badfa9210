"""The format registry takes a third party's format; AVA export (export only) writes 1 Hz keyframes."""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET

import pytest

from actdesk.core.commands import AddSegments
from actdesk.core.segments import Segment
from actdesk.errors import FormatError, PluginError
from actdesk.formats.data import FRAMES, Imported, Interval
from actdesk.formats.export import export_project
from actdesk.formats.importing import import_into_project, read_source
from actdesk.formats.registry import KINDS, Format, FormatRegistry
from actdesk.media import frame_index


class FrameLines(Format):
    """A third party's format: ``video start end label`` per line."""

    name = "frame-lines"
    title = "Frame lines"
    kind = "annotations"
    suffixes = (".lines",)

    def export(self, data, out, **_):
        track = data.single_track(self.name)
        out.write_text("".join(f"{v.name} {s.start_frame} {s.end_frame} {s.label}\n"
                               for v in data.videos for s in v.segments(track)), "segments.lines")

    def import_(self, path):
        imported = Imported(self.name, path)
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            video, start, end, label = line.split(" ", 3)
            imported.intervals.append(Interval(video, label, int(start), int(end), FRAMES, path, n))
            imported.add_label(label)
        return imported


def test_a_third_party_format_exports_and_imports_like_a_builtin(tmp_path, project, new_project, segments_of,
                                                                 expected, registry):
    registry.for_plugin("my-plugin").add(FrameLines())
    assert registry.plugin_of("frame-lines") == "my-plugin" and registry.plugin_of("elan") == "actdesk"
    result = export_project(project, tmp_path / "out", "frame-lines", registry=registry)
    assert [p.name for p in result.files] == ["segments.lines"]
    imported = read_source(result.folder / "segments.lines", registry=registry)
    assert imported.format == "frame-lines"
    fresh = new_project()
    fresh.execute(import_into_project(fresh, imported).command)
    assert segments_of(fresh) == expected()

    registry.remove_plugin("my-plugin")
    assert "frame-lines" not in registry


def test_incomplete_or_taken_formats_are_refused_naming_the_plugin():
    registry = FormatRegistry().for_plugin("my-plugin")

    class Nameless(FrameLines):
        name = "Frame Lines"

    class Inert(Format):
        name, title = "inert", "Does nothing"

    class Odd(FrameLines):
        kind = "spreadsheet"
        suffixes = ("LINES",)

    for fmt, problem in [(Nameless(), "not lower-case words"), (Inert(), "neither exports nor imports"),
                         (Odd(), f"not one of {', '.join(KINDS)}"), (Odd(), "suffixes"),
                         (object(), "expected an actdesk.formats.registry.Format")]:
        with pytest.raises(PluginError, match=re.escape(problem)) as error:
            registry.add(fmt)
        assert error.value.plugin == "my-plugin"
    registry.add(FrameLines())
    with pytest.raises(PluginError, match="'frame-lines' is already registered by plugin 'my-plugin'"):
        FormatRegistry.for_plugin(registry, "other").add(FrameLines())


def test_detection_refuses_to_guess_between_formats(tmp_path):
    class Greedy(FrameLines):
        name = "greedy-lines"

    registry = FormatRegistry()
    registry.add(FrameLines())
    registry.add(Greedy())
    path = tmp_path / "a.lines"
    path.write_text("a.mp4 0 5 walk\n")
    with pytest.raises(FormatError, match="could be any of frame-lines, greedy-lines; choose one with --format"):
        registry.for_import(path)
    assert registry.for_import(path, "greedy-lines").name == "greedy-lines"


def test_exports_parse_as_their_formats(tmp_path, project, registry):
    elan = export_project(project, tmp_path / "elan", "elan", tracks=["human", "c3d"], registry=registry)
    root = ET.parse(elan.folder / "cfr.eaf").getroot()
    assert [t.get("TIER_ID") for t in root.iter("TIER")] == ["human", "c3d"]
    slots = {s.get("TIME_SLOT_ID"): int(s.get("TIME_VALUE")) for s in root.iter("TIME_SLOT")}
    first = next(root.iter("ALIGNABLE_ANNOTATION"))
    assert (slots[first.get("TIME_SLOT_REF1")], slots[first.get("TIME_SLOT_REF2")]) == (0, 480)
    assert [e.text for e in root.iter("CVE_VALUE")] == ["walk", "run", "sit down"]

    studio = export_project(project, tmp_path / "ls", "label-studio", tracks=["human", "c3d"], registry=registry)
    tasks = json.loads((studio.folder / "label_studio.json").read_text())
    (task,) = [t for t in tasks if t["data"]["video"] == "cfr.mp4"]
    assert task["annotations"][0]["result"][0]["value"] == {"ranges": [{"start": 1, "end": 12}],
                                                           "timelinelabels": ["walk"]}
    assert task["predictions"][0]["model_version"] == "c3d" and task["predictions"][0]["result"][1]["score"] == 0.4
    config = ET.parse(studio.folder / "label_config.xml").getroot()
    assert [label.get("value") for label in config.iter("Label")] == ["walk", "run", "sit down"]

    anet = json.loads((export_project(project, tmp_path / "an", "activitynet", registry=registry).folder
                       / "activitynet.json").read_text())
    assert anet["database"]["cfr"]["annotations"][0] == {"segment": [0.0, 0.48], "label": "walk"}
    assert anet["database"]["cfr"]["subset"] in ("training", "validation", "testing")


def test_ava_rows_are_the_labels_of_the_frames_shown_at_whole_seconds(tmp_path, project, registry):
    vfr_video = project.video_named("vfr.mkv")
    # frames 27..29 of vfr.mkv: at 1 s frame 28 is shown (frame / fps would say frame 25, unlabelled)
    project.execute(AddSegments(project.human_track(vfr_video.id).id, [Segment(27, 30, "run")]))
    result = export_project(project, tmp_path / "ava", "ava", fractions=(1.0, 0.0, 0.0), registry=registry)
    label_map = (result.folder / "ava_action_list.pbtxt").read_text()
    assert re.findall(r'name: "(.*)"\n  id: (\d+)', label_map) == [("walk", "1"), ("run", "2"), ("sit down", "3")]
    with open(result.folder / "ava_train.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert all(len(r) == 8 and r[2:6] == ["0.000", "0.000", "1.000", "1.000"] and r[7] == "0" for r in rows)
    vfr = frame_index(vfr_video.abs_path)
    assert int((vfr.times_s <= 1.0).sum()) - 1 == 28
    # 0 s shows frame 0 (unlabelled): no row; 1 s shows frame 28 ('run', id 2)
    assert [(r[1], r[6]) for r in rows if r[0] == "vfr"] == [("0001", "2")]
    # cfr.mp4 (2 s at 25 fps): 0 s shows frame 0 ('walk', id 1), 1 s frame 25 ('run', id 2)
    assert [(r[1], r[6]) for r in rows if r[0] == "cfr"] == [("0000", "1"), ("0001", "2")]
