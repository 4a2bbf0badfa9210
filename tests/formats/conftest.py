"""Fixtures for the format tests: a labelled project with a CFR and a VFR video whose frames carry their index.

``cfr.mp4``: 50 frames at 25 fps, H.264 with B-frames and a keyframe every
10 frames. ``vfr.mkv``: 40 frames whose gaps cycle through 33.4, 40, 20, 50
and 30 ms (:func:`vfr_pts`), so seconds are not ``frame / fps``. Human
segments on both (:data:`HUMAN`), and a model track ``c3d`` with
confidences on the CFR video (:data:`MODEL`). Helpers reach the tests as
fixtures (``new_project``, ``segments_of``, ``expected``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import pytest
from videos import make_video

from actdesk.core.commands import AddLabel, AddModelTrack, AddSegments, Batch
from actdesk.core.project import Project
from actdesk.core.segments import Segment
from actdesk.formats.registry import builtin_formats

LABELS = ("walk", "run", "sit down")
HUMAN = {
    "cfr.mp4": [(0, 12, "walk"), (12, 30, "run"), (35, 50, "sit down")],
    "vfr.mkv": [(2, 10, "run"), (10, 25, "walk"), (30, 40, "sit down")],
}
MODEL = [(0, 20, "walk", 0.9), (20, 50, "run", 0.4)]
VFR_STEPS = (3003, 3600, 1800, 4500, 2700)  # 1/90000 s


def vfr_pts(frames: int) -> list[int]:
    pts = [0]
    for i in range(frames - 1):
        pts.append(pts[-1] + VFR_STEPS[i % len(VFR_STEPS)])
    return pts


def _segments_of(project: Project, track: str = "human") -> dict[str, list[tuple]]:
    """Video name -> ``(start, end, label, confidence)`` of a track's segments."""
    out = {}
    for video in project.videos():
        found = project.track_named(video.id, track)
        if found is not None:
            out[video.name] = [(s.start_frame, s.end_frame, s.label, s.confidence) for s in project.segments(found.id)]
    return out


def _expected(track: str = "human") -> dict[str, list[tuple]]:
    """What ``segments_of`` gives for the labelled project."""
    if track == "human":
        return {name: [(a, b, label, None) for a, b, label in rows] for name, rows in HUMAN.items()}
    return {"cfr.mp4": list(MODEL)}


@pytest.fixture
def segments_of() -> Callable[..., dict[str, list[tuple]]]:
    return _segments_of


@pytest.fixture
def expected() -> Callable[..., dict[str, list[tuple]]]:
    return _expected


@pytest.fixture(scope="session")
def source_videos(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("format-videos")
    return {
        "cfr.mp4": make_video(folder / "cfr.mp4", frames=50, gop=10, bframes=2),
        "vfr.mkv": make_video(folder / "vfr.mkv", frames=40, vfr_pts=vfr_pts(40), time_base=Fraction(1, 90000)),
    }


@pytest.fixture
def videos(tmp_path, source_videos) -> dict[str, Path]:
    """This test's copies of the two videos, in ``tmp_path/videos``."""
    folder = tmp_path / "videos"
    folder.mkdir()
    return {name: Path(shutil.copy(path, folder / name)) for name, path in source_videos.items()}


@pytest.fixture
def new_project(tmp_path, videos):
    """``new_project(name)``: a project in ``tmp_path`` holding the two videos, no labels; closed at the end."""
    opened: list[Project] = []

    def make(name: str = "fresh.actdesk", files: dict[str, Path] | None = None) -> Project:
        project = Project.create(tmp_path / name)
        opened.append(project)
        for file in (videos if files is None else files).values():
            project.add_video(file)
        return project

    yield make
    for project in opened:
        project.close()


@pytest.fixture
def project(new_project):
    """The labelled project (open for editing)."""
    p = new_project("p.actdesk")
    p.execute(Batch("labels", [AddLabel(name) for name in LABELS]))
    for video in p.videos():
        p.execute(AddSegments(p.human_track(video.id).id, [Segment(a, b, label) for a, b, label in HUMAN[video.name]]))
    cfr = p.video_named("cfr.mp4")
    p.execute(AddModelTrack(cfr.id, "c3d", None, [Segment(a, b, label, confidence=c, source="c3d")
                                                  for a, b, label, c in MODEL]))
    return p


@pytest.fixture
def registry():
    return builtin_formats()
