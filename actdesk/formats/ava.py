"""``ava``: AVA-style action CSVs at 1 Hz keyframes, with the label map (export only).

One row per keyframe whose frame lies in a segment::

    video_id,timestamp,x1,y1,x2,y2,action_id,person_id
    clip,0003,0.000,0.000,1.000,1.000,2,0

Keyframes are the whole seconds of the video; the keyframe at second ``t``
is the frame shown at ``t`` (the last frame starting at or before it, from
the PTS index). The box is the whole frame (actdesk labels actions, not
people) and ``person_id`` is 0. ``action_id`` is the label's line in
``ava_action_list.pbtxt`` (``item { name: "walk" id: 1 }``, counting from 1,
as AVA's label maps do). Rows are written per split, ``ava_train.csv``,
``ava_val.csv``, ``ava_test.csv``, without a header, as AVA's files are.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np

from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.formats.data import ExportSet, ExportVideo
from actdesk.formats.registry import Format
from actdesk.formats.safety import OutputFolder
from actdesk.formats.splits import SPLITS

LABEL_MAP = "ava_action_list.pbtxt"
WHOLE_FRAME = ("0.000", "0.000", "1.000", "1.000")


def keyframes(video: ExportVideo) -> list[tuple[int, int]]:
    """``(second, frame shown at that second)`` for every whole second of the video."""
    seconds = range(math.ceil(video.end_time_s))
    frames = np.searchsorted(video.times_s, np.asarray(seconds, dtype=np.float64) + 1e-9, side="right") - 1
    return [(t, int(max(f, 0))) for t, f in zip(seconds, frames)]


def pbtxt_string(text: str) -> str:
    """``text`` as a quoted protocol-buffer text-format string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class AvaFormat(Format):
    name = "ava"
    title = "AVA-style CSV (1 Hz keyframes)"
    kind = "annotations"
    suffixes = (".csv", ".pbtxt")
    description = "video_id,timestamp,x1,y1,x2,y2,action_id,person_id per keyframe; label map pbtxt"

    def export(self, data: ExportSet, out: OutputFolder, *, progress: ProgressFn = no_progress,
               should_stop: StopFn = never_stop) -> None:
        track = data.single_track(self.name)
        data.ids_unique(self.name)
        out.write_text("".join(f"item {{\n  name: {pbtxt_string(label)}\n  id: {i}\n}}\n"
                               for i, label in enumerate(data.labels, start=1)), LABEL_MAP)
        for split in SPLITS:
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\n")
            for video in data.labelled(track):
                if video.split != split:
                    continue
                segments = sorted(video.segments(track), key=lambda s: s.start_frame)
                starts = [s.start_frame for s in segments]
                for second, frame in keyframes(video):
                    i = int(np.searchsorted(starts, frame, side="right")) - 1
                    if i >= 0 and frame < segments[i].end_frame:
                        writer.writerow([video.video_id, f"{second:04d}", *WHOLE_FRAME,
                                         data.label_index(segments[i].label) + 1, 0])
            if text.getvalue():
                out.write_text(text.getvalue(), f"ava_{split}.csv")
