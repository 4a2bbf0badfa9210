"""``clips`` and ``mmaction``: every clip holds exactly its segment's frames, and the folder imports back."""

from __future__ import annotations

import numpy as np
import pytest
from videos import decode_index

from actdesk.errors import Cancelled
from actdesk.formats.export import export_project
from actdesk.formats.importing import import_into_project, read_source, recorded_splits
from actdesk.media import VideoReader, frame_index


def read_clip(path):
    with VideoReader(path) as reader:
        return [decode_index(frame) for _, frame in reader.iter_frames()], np.array(reader.times_s)


def test_clips_hold_exactly_the_frames_of_their_segments(tmp_path, project, expected, registry):
    result = export_project(project, tmp_path / "out", "clips", registry=registry)
    out = result.folder
    assert (out / "labels.txt").read_text() == "walk\nrun\nsit down\n"
    listed = {split: (out / f"{split}.txt").read_text().split("\n")[:-1]
              for split in ("train", "val", "test") if (out / f"{split}.txt").exists()}
    assert sorted(c for clips in listed.values() for c in clips) == sorted(
        p.relative_to(out).as_posix() for p in out.rglob("*.mp4"))
    assert not list(out.rglob("*.partial"))

    indexes = {name: frame_index(project.video_named(name).abs_path) for name in ("cfr.mp4", "vfr.mkv")}
    for name, rows in expected().items():
        stem = name.split(".")[0]
        split = result.splits[name]
        for start, end, label, _ in rows:
            relative = f"{label}/{stem}_{start:06d}-{end:06d}.mp4"
            assert relative in listed[split]
            frames, times = read_clip(out / relative)
            # exact frames, across GOP boundaries and B-frames, on CFR and VFR video
            assert frames == list(range(start, end))
            source = indexes[name].times_s
            np.testing.assert_allclose(times, source[start:end] - source[start], atol=1e-6)


def test_clips_folder_imports_as_one_segment_per_clip_with_its_split(tmp_path, project, new_project, registry):
    result = export_project(project, tmp_path / "out", "clips", registry=registry)
    imported = read_source(result.folder, registry=registry)
    assert imported.format == "clips" and imported.labels == ["walk", "run", "sit down"]
    fresh = new_project(files={})
    plan = import_into_project(fresh, imported)
    fresh.execute(plan.command)
    assert len(plan.videos_added) == 6
    source_of = {name.split(".")[0]: name for name in result.splits}
    for video in fresh.videos():
        (segment,) = fresh.segments(fresh.human_track(video.id).id)
        stem, frames = video.name[:-4].split("_")
        start, end = map(int, frames.split("-"))
        assert (segment.start_frame, segment.end_frame) == (0, end - start) == (0, video.frame_count)
        assert video.path.startswith(f"out/{segment.label}/")
        assert recorded_splits(fresh, video.id) == {"1": result.splits[source_of[stem]]}


def test_mmaction_lists_name_clips_and_class_indices(tmp_path, project, registry):
    result = export_project(project, tmp_path / "out", "mmaction", fractions=(0.5, 0.5, 0.0), registry=registry)
    out = result.folder
    labels = (out / "labels.txt").read_text().split("\n")[:-1]
    lines = {split: (out / f"{split}_list_videos.txt").read_text().split("\n")[:-1] for split in ("train", "val")}
    entries = [line.split(" ") for split_lines in lines.values() for line in split_lines]
    assert len(entries) == 6 and all(len(e) == 2 for e in entries)  # MMAction2 splits lines on blanks
    for path, index in entries:
        assert (out / path).is_file()
        assert path.split("/")[0] == labels[int(index)].replace(" ", "_")
        start, end = map(int, path.rsplit("_", 1)[1][:-4].split("-"))
        assert read_clip(out / path)[0] == list(range(start, end))

    imported = read_source(out, registry=registry)
    assert imported.format == "mmaction"
    assert sorted((name, i.label, imported.splits[name]["1"]) for name, i in
                  zip(imported.video_files, imported.intervals)) == sorted(
        (path, labels[int(index)], split) for split, split_lines in lines.items()
        for path, index in (line.split(" ") for line in split_lines))


def test_cancelled_export_leaves_no_partial_clip(tmp_path, project, registry):
    asked = []

    def stop_after_some_frames() -> bool:
        asked.append(1)
        return len(asked) > 15

    with pytest.raises(Cancelled):
        export_project(project, tmp_path / "out", "clips", registry=registry, should_stop=stop_after_some_frames)
    assert list((tmp_path / "out").rglob("*.mp4"))  # the clip that was complete stays
    assert not list((tmp_path / "out").rglob("*.partial"))
