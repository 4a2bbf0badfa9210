"""Exact frame access: frame N is the same image whatever the access order."""

from __future__ import annotations

import random

import av
import numpy as np
import pytest

from actdesk.media import VideoReader, default_decode_threads, frame_index

# name, make_video arguments: each case is a way real videos break naive seeking.
CASES = {
    "h264-bframes": ("v.mp4", dict(frames=60, gop=12, bframes=3)),
    "h264-long-gop": ("v.mp4", dict(frames=300, gop=250, bframes=2)),
    "h264-open-gop": ("v.mkv", dict(frames=50, gop=10, bframes=3, open_gop=True)),
    "h264-vfr-mkv": ("v.mkv", dict(frames=40, bframes=2, gop=15,
                                   vfr_pts=[int(i * 40 + (i % 3) * 13 + (i // 10) * 170) for i in range(40)])),
    "h264-vfr-mp4": ("v.mp4", dict(frames=40, bframes=2, gop=15,
                                   vfr_pts=[int(i * 33 + (i % 4) * 9 + (i // 7) * 100) for i in range(40)])),
    "mpeg4": ("v.mp4", dict(frames=40, codec="mpeg4", gop=10, bframes=2)),
    "vp9-webm": ("v.webm", dict(frames=40, gop=10)),
    "mjpeg": ("v.mkv", dict(frames=20, codec="mjpeg")),
    "ffv1": ("v.mkv", dict(frames=20, codec="ffv1", gop=6)),
    "rotated-90": ("v.mp4", dict(frames=30, gop=10, bframes=2, rotation=90)),
}


def reference_frames(path, rotation: int = 0) -> list[np.ndarray]:
    """Every frame by a plain sequential PyAV decode, in PTS order, rotated clockwise for display."""
    with av.open(str(path)) as container:
        frames = sorted(container.decode(video=0), key=lambda f: f.pts)
        return [np.rot90(f.to_ndarray(format="rgb24"), -(rotation // 90)) for f in frames]


def access_order(n: int, seed: int = 0) -> list[int]:
    """Random order, then backwards, then repeats and neighbours."""
    rng = random.Random(seed)
    picks = rng.sample(range(n), min(n, 40))
    return picks + list(range(n - 1, max(-1, n - 21), -1)) + [n // 2, n // 2, n // 2 + 1, 0, 0, n - 1]


@pytest.mark.parametrize("case", list(CASES))
def test_random_access_equals_sequential_decode(video_factory, case):
    name, kwargs = CASES[case]
    path = video_factory(name, **kwargs)
    rotation = kwargs.get("rotation", 0)
    expected = reference_frames(path, rotation)
    assert len(expected) == kwargs["frames"]
    with VideoReader(path, threads=2) as reader:
        assert reader.frame_count == kwargs["frames"]
        for n in access_order(reader.frame_count):
            frame = reader.read(n)
            assert frame.dtype == np.uint8 and frame.flags.c_contiguous
            assert np.array_equal(frame, expected[n]), f"{case}: frame {n} differs from the sequential decode"
            upright = np.rot90(frame, rotation // 90)
            assert video_factory.decode_index(upright) == n


@pytest.mark.parametrize("case", ["h264-bframes", "h264-vfr-mkv", "vp9-webm"])
def test_iter_frames_equals_sequential_decode(video_factory, case):
    name, kwargs = CASES[case]
    path = video_factory(name, **kwargs)
    expected = reference_frames(path)
    with VideoReader(path) as reader:
        got = list(reader.iter_frames())
        assert [n for n, _ in got] == list(range(len(expected)))
        assert all(np.array_equal(frame, expected[n]) for n, frame in got)
        middle = list(reader.iter_frames(7, 19))
        assert [n for n, _ in middle] == list(range(7, 19))
        assert all(np.array_equal(frame, expected[n]) for n, frame in middle)


def test_a_reader_gives_the_same_frames_as_a_fresh_one(video_factory):
    path = video_factory("v.mkv", frames=50, gop=9, bframes=3)
    with VideoReader(path) as a, VideoReader(path) as b:
        for n in [49, 3, 48, 4, 25, 26, 24, 0]:
            assert np.array_equal(a.read(n), b.read(n))


def test_sequential_reads_do_not_seek(video_factory):
    path = video_factory("v.mp4", frames=40, gop=8, bframes=2)
    with VideoReader(path) as reader:
        for n in range(reader.frame_count):
            reader.read(n)
        assert reader.seek_count == 0
        reader.read(10)
        assert reader.seek_count == 1
        reader.read(11)
        reader.read(11)
        reader.read(13)  # skipping ahead within a GOP decodes forward
        assert reader.seek_count == 1
        reader.read(35)  # a keyframe lies between: seeking is cheaper
        assert reader.seek_count == 2


def test_rotation_swaps_the_shape_and_turns_clockwise(video_factory):
    for rotation in (90, 180, 270):
        path = video_factory(f"r{rotation}.mp4", frames=5, rotation=rotation)
        with VideoReader(path) as reader:
            assert reader.info.rotation == rotation
            frame = reader.read(3)
            assert frame.shape == ((96, 72, 3) if rotation % 180 else (72, 96, 3))
            assert (reader.info.height, reader.info.width) == frame.shape[:2]
            # Turning the displayed frame back counterclockwise gives the stored picture.
            assert video_factory.decode_index(np.rot90(frame, rotation // 90)) == 3
            # Neither the stored orientation nor the opposite turn is what a player shows.
            for wrong_turns in [t for t in (0, -rotation // 90) if (t - rotation // 90) % 4]:
                with pytest.raises(ValueError):
                    video_factory.decode_index(np.rot90(frame, wrong_turns))


def test_size_resizes_the_displayed_frame(video_factory):
    path = video_factory("v.mp4", frames=10, rotation=90)
    with VideoReader(path) as reader:
        frame = reader.read(4, size=(40, 30))
        assert frame.shape == (40, 30, 3)
        assert video_factory.decode_index(np.rot90(frame, 1)) == 4
        assert [f.shape for _, f in reader.iter_frames(0, 3, size=(20, 16))] == [(20, 16, 3)] * 3


def test_out_of_range_frames_are_an_index_error(video_factory):
    with VideoReader(video_factory("v.mp4", frames=10)) as reader:
        for n in (-1, 10):
            with pytest.raises(IndexError, match="frames 0..9"):
                reader.read(n)


def test_vfr_times_come_from_the_timestamps(video_factory):
    pts_ms = [0, 40, 80, 95, 200, 210, 220, 400, 440, 480]
    path = video_factory("v.mkv", frames=len(pts_ms), vfr_pts=pts_ms, bframes=2)
    with VideoReader(path) as reader:
        assert reader.times_s.tolist() == pytest.approx([p / 1000 for p in pts_ms])
        index = reader.index
        assert index.frame_at_time(0.0) == 0
        assert index.frame_at_time(0.21) == 5
        assert index.frame_at_time(0.3999) == 6
        assert index.frame_at_time(0.4) == 7
        assert index.frame_at_time(-3) == 0 and index.frame_at_time(99) == 9
        assert index.end_time_s > 0.48
        for n in (7, 3, 9, 0):
            assert video_factory.decode_index(reader.read(n)) == n


def test_frame_zero_is_time_zero_whatever_the_container_start(video_factory):
    # B-frames make MP4 timestamps start before zero (DTS) or after it (PTS with an edit list).
    path = video_factory("v.mp4", frames=12, bframes=3)
    index = frame_index(path)
    assert index.times_s[0] == 0.0
    assert index.times_s.tolist() == pytest.approx([n / 25 for n in range(12)])
    assert index.end_time_s == pytest.approx(12 / 25)
    assert index.keyframes[0]


def test_index_is_cached_per_file_version(video_factory):
    path = video_factory("v.mkv", frames=10)
    first = frame_index(path)
    assert frame_index(path) is first
    assert not first.pts.flags.writeable
    video_factory("v.mkv", frames=14)  # rewrite the same path
    assert frame_index(path).frame_count == 14


def test_default_decode_threads_leaves_cores_for_torch():
    import os

    assert 1 <= default_decode_threads() <= max(1, (os.cpu_count() or 1) // 2)
