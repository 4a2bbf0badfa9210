"""``activitynet``: ActivityNet-style JSON (``database`` -> video id -> ``annotations``).

An export writes ``activitynet.json``::

    {"version": "VERSION 1.3", "taxonomy": [...],
     "database": {"clip": {"subset": "training", "duration": 12.48, "resolution": "320x240", "url": "clip.mp4",
                           "annotations": [{"segment": [0.0, 4.48], "label": "walk"}]}}}

with the video id being the file name without suffix, ``segment`` the times
of a segment's first frame and of the frame after it, and ``subset`` the
video's split (``training``/``validation``/``testing``). Videos without
segments are left out. Importing reads any such file; ``subset`` is kept as
the video's split.
"""

from __future__ import annotations

import json
from pathlib import Path

from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.errors import FormatError
from actdesk.formats.data import SECONDS, ExportSet, Imported, Interval, checked_label, checked_seconds
from actdesk.formats.kinetics import SPLIT_NAMES
from actdesk.formats.registry import Format
from actdesk.formats.safety import OutputFolder
from actdesk.formats.sources import json_field, load_json

FILE = "activitynet.json"
SUBSETS = {"train": "training", "val": "validation", "test": "testing"}


class ActivityNetFormat(Format):
    name = "activitynet"
    title = "ActivityNet-style JSON"
    kind = "annotations"
    suffixes = (".json",)
    description = "database -> video id -> annotations [{segment: [start, end] s, label}], subset = split"

    def export(self, data: ExportSet, out: OutputFolder, *, progress: ProgressFn = no_progress,
               should_stop: StopFn = never_stop) -> None:
        track = data.single_track(self.name)
        data.ids_unique(self.name)
        database = {}
        for video in data.labelled(track):
            database[video.video_id] = {
                "subset": SUBSETS[video.split], "duration": round(video.end_time_s, 6),
                "resolution": f"{video.width}x{video.height}", "url": video.name,
                "annotations": [{"segment": [round(video.time_of(s.start_frame), 6),
                                             round(video.time_of(s.end_frame), 6)], "label": s.label}
                                for s in video.segments(track)]}
        taxonomy = [{"nodeId": 0, "nodeName": "Root", "parentId": None, "parentName": None}] + [
            {"nodeId": i, "nodeName": label, "parentId": 0, "parentName": "Root"}
            for i, label in enumerate(data.labels, start=1)]
        document = {"version": "VERSION 1.3", "taxonomy": taxonomy, "database": database}
        out.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", FILE)

    def detect(self, path: Path) -> bool:
        if not (path.is_file() and path.suffix.lower() == ".json"):
            return False
        with open(path, "rb") as f:
            return b'"database"' in f.read(65536)

    def import_(self, path: Path) -> Imported:
        document = load_json(path)
        database = json_field(document, "database", dict, path, "ActivityNet file")
        imported = Imported(self.name, path)
        for video_id, entry in database.items():
            what = f"video {video_id!r}"
            annotations = json_field(entry, "annotations", list, path, what)
            subset = entry.get("subset")
            if isinstance(subset, str) and subset:
                split = SPLIT_NAMES.get(subset.lower())
                if split is None:
                    raise FormatError(path, f"{what}: subset {subset!r} is not one of training, validation, "
                                            "testing", entry.line)
                imported.splits[video_id] = {"1": split}
            for annotation in annotations:
                segment = json_field(annotation, "segment", list, path, f"{what}: annotation")
                line = annotation.line
                if len(segment) != 2:
                    raise FormatError(path, f"{what}: segment must be [start, end] in seconds, got {segment}", line)
                start = checked_seconds(segment[0], "segment start", path, line)
                end = checked_seconds(segment[1], "segment end", path, line)
                if end <= start:
                    raise FormatError(path, f"{what}: segment [{start:g}, {end:g}] ends before it starts", line)
                label = checked_label(json_field(annotation, "label", str, path, f"{what}: annotation"), path, line)
                imported.intervals.append(Interval(video_id, label, start, end, SECONDS, path, line))
                imported.add_label(label)
        return imported
