"""``label-studio``: Label Studio JSON tasks with video ``TimelineLabels`` results.

An export writes ``label_studio.json`` (a list of tasks, one per video,
``data.video`` = the video's file name) and ``label_config.xml``, a labelling
configuration with a ``<Video>`` and a ``<TimelineLabels>`` of the labels.
The human track becomes each task's annotation; any other track a
prediction (``model_version`` = the track, ``score`` = the confidence).
Label Studio counts video frames from 1 and its ranges include both ends,
so segment frames ``[s, e)`` are written as ``{"start": s + 1, "end": e}``.

Importing reads a list of tasks (or one task). Each task's annotations that
were not cancelled give ``timelinelabels`` results (other result types are
skipped): the first annotation goes to the chosen track, later ones to
tracks ``annotation <id>``; predictions go to tracks named after their
``model_version``, with their scores as confidences.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, unquote, urlparse

from actdesk.core.project import HUMAN_TRACK
from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.errors import FormatError
from actdesk.formats.data import FRAMES, ExportSet, ExportVideo, Imported, Interval, checked_label
from actdesk.formats.registry import Format
from actdesk.formats.safety import OutputFolder
from actdesk.formats.sources import json_field, json_kind, load_json

TASKS_FILE = "label_studio.json"
CONFIG_FILE = "label_config.xml"
CONTROL, OBJECT = "label", "video"
"""``from_name`` and ``to_name`` of the results: the names in label_config.xml."""


def _results(video: ExportVideo, track: str, origin: str) -> list[dict]:
    out = []
    for n, seg in enumerate(video.segments(track), start=1):
        result = {"id": f"{video.video_id}-{track}-{n}", "type": "timelinelabels", "from_name": CONTROL,
                  "to_name": OBJECT, "origin": origin,
                  "value": {"ranges": [{"start": seg.start_frame + 1, "end": seg.end_frame}],
                            "timelinelabels": [seg.label]}}
        if seg.confidence is not None:
            result["score"] = seg.confidence
        out.append(result)
    return out


def label_config(data: ExportSet) -> str:
    """A Label Studio labelling configuration for the exported labels."""
    view = ET.Element("View")
    rate = data.videos[0].avg_fps if data.videos else 25.0
    ET.SubElement(view, "Video", {"name": OBJECT, "value": "$video", "framerate": f"{rate:.6g}"})
    control = ET.SubElement(view, "TimelineLabels", {"name": CONTROL, "toName": OBJECT})
    for label in data.labels:
        ET.SubElement(control, "Label", {"value": label, "background": data.colours.get(label, "#1f77b4")})
    ET.indent(view)
    return ET.tostring(view, encoding="unicode") + "\n"


def _video_name(task: dict, path: Path) -> str:
    """The file name in a task's ``data.video`` (a path, URL or ``/data/local-files/?d=...``)."""
    data = json_field(task, "data", dict, path, "task")
    value = data.get("video")
    if not isinstance(value, str):
        value = next((v for v in data.values() if isinstance(v, str)), "")
    parsed = urlparse(value)
    local = parse_qs(parsed.query).get("d")
    name = PurePosixPath(unquote(local[0] if local else parsed.path).replace("\\", "/")).name
    if not name:
        raise FormatError(path, "task: data has no video file name (expected data.video)", getattr(data, "line", None))
    return name


class LabelStudioFormat(Format):
    name = "label-studio"
    title = "Label Studio JSON (video timeline labels)"
    kind = "annotations"
    suffixes = (".json",)
    description = "tasks with TimelineLabels results (frames from 1, ends included); label_config.xml"

    def export(self, data: ExportSet, out: OutputFolder, *, progress: ProgressFn = no_progress,
               should_stop: StopFn = never_stop) -> None:
        tasks = []
        for n, video in enumerate(data.videos, start=1):
            task: dict = {"id": n, "data": {"video": video.name}, "annotations": [], "predictions": []}
            for track in data.tracks:
                if track == HUMAN_TRACK:
                    task["annotations"].append({"id": n, "result": _results(video, track, "manual"),
                                                "was_cancelled": False, "ground_truth": False})
                elif video.segments(track):
                    results = _results(video, track, "prediction")
                    scores = [r["score"] for r in results if "score" in r]
                    task["predictions"].append({"model_version": track, "result": results,
                                                "score": sum(scores) / len(scores) if scores else None})
            tasks.append(task)
        out.write_text(json.dumps(tasks, indent=1, ensure_ascii=False) + "\n", TASKS_FILE)
        out.write_text(label_config(data), CONFIG_FILE)

    def detect(self, path: Path) -> bool:
        if not (path.is_file() and path.suffix.lower() == ".json"):
            return False
        with open(path, "rb") as f:
            head = f.read(65536).decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
        return head.startswith("[") or '"annotations"' in head and '"data"' in head and '"database"' not in head

    def import_(self, path: Path) -> Imported:
        document = load_json(path)
        tasks = document if isinstance(document, list) else [document]
        imported = Imported(self.name, path)
        for task in tasks:
            if not isinstance(task, dict):
                raise FormatError(path, f"expected a list of task objects, found {json_kind(task)} in it")
            video = _video_name(task, path)
            annotations = [a for a in self._list(task, "annotations", path) if not self._cancelled(a, path)]
            groups = [("" if i == 0 else f"annotation {a.get('id', i + 1)}", "human", None, a)
                      for i, a in enumerate(annotations)]
            for prediction in self._list(task, "predictions", path):
                model = str(prediction.get("model_version") or "predictions") if isinstance(prediction, dict) else ""
                groups.append((model, model, prediction.get("score") if model else None, prediction))
            for track, source, score, group in groups:
                for result in json_field(group, "result", list, path, "annotation"):
                    self._read_result(imported, result, video, track, source, score, path)
        return imported

    @staticmethod
    def _list(task: dict, key: str, path: Path) -> list:
        return json_field(task, key, list, path, "task") if key in task else []

    @staticmethod
    def _cancelled(annotation: object, path: Path) -> bool:
        if not isinstance(annotation, dict):
            raise FormatError(path, f"task: an annotation must be an object, found {json_kind(annotation)}")
        return bool(annotation.get("was_cancelled"))

    @staticmethod
    def _read_result(imported: Imported, result: object, video: str, track: str, source: str,
                     group_score: object, path: Path) -> None:
        if not isinstance(result, dict) or result.get("type") != "timelinelabels":
            return
        line = result.line
        value = json_field(result, "value", dict, path, "timelinelabels result")
        labels = json_field(value, "timelinelabels", list, path, "timelinelabels result")
        score = result.get("score", group_score)
        confidence = float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) \
            and 0 <= score <= 1 else None
        for frame_range in json_field(value, "ranges", list, path, "timelinelabels result"):
            start = json_field(frame_range, "start", int, path, "range")
            end = json_field(frame_range, "end", int, path, "range")
            if not 1 <= start <= end:
                raise FormatError(path, f"range {start}..{end}: frames count from 1 and the end may not come "
                                        "before the start", getattr(frame_range, "line", line))
            for text in labels:
                label = checked_label(text, path, line)
                imported.intervals.append(Interval(video, label, start - 1, end, FRAMES, path, line, track=track,
                                                   confidence=confidence, source=source))
                imported.add_label(label)
