"""Streaming clip batches: centres, clamping, equality with direct reads, bounded memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from actdesk.media import ClipSampling, FrameRing, VideoReader, clip_centers, iter_clip_batches


def test_clip_centers_step_by_stride_and_end_on_the_last_frame():
    assert clip_centers(10, 3).tolist() == [0, 3, 6, 9]
    assert clip_centers(11, 3).tolist() == [0, 3, 6, 9, 10]
    assert clip_centers(5, 1).tolist() == [0, 1, 2, 3, 4]
    assert clip_centers(1, 4).tolist() == [0]
    assert clip_centers(0, 2).tolist() == []
    assert clip_centers(7, 2).dtype == np.int64


def test_clip_frames_are_clamped_to_the_video():
    sampling = ClipSampling(clip_len=4, frame_step=2, stride=1)
    assert sampling.span == 7
    assert sampling.frame_indices(np.array([0, 5, 9]), 10).tolist() == [
        [0, 0, 0, 2],
        [1, 3, 5, 7],
        [5, 7, 9, 9],
    ]
    assert ClipSampling(clip_len=3).frame_indices(np.array([0]), 1).tolist() == [[0, 0, 0]]


def test_sampling_rejects_nonsense():
    with pytest.raises(ValueError, match="frame_step"):
        ClipSampling(clip_len=4, frame_step=0)
    with pytest.raises(ValueError, match="clip_len"):
        ClipSampling(clip_len=0)


@pytest.mark.parametrize("clip_len, frame_step, stride, batch", [(5, 2, 3, 4), (4, 1, 1, 7), (1, 1, 5, 2)])
def test_batches_equal_reading_each_clip_frame_directly(video_factory, clip_len, frame_step, stride, batch):
    path = video_factory("v.mkv", frames=37, gop=8, bframes=2, rotation=None)
    sampling = ClipSampling(clip_len, frame_step, stride, size=(36, 48))
    reported = []
    with VideoReader(path) as reader, VideoReader(path) as direct:
        batches = list(iter_clip_batches(reader, sampling, batch,
                                         progress=lambda done, total, message="": reported.append((done, total))))
        centers = np.concatenate([b.centers for b in batches])
        assert centers.tolist() == clip_centers(37, stride).tolist()
        assert [len(b.centers) for b in batches[:-1]] == [batch] * (len(batches) - 1)
        assert 1 <= len(batches[-1].centers) <= batch
        for b in batches:
            assert b.centers.dtype == np.int64
            assert b.clips.dtype == np.uint8
            assert b.clips.shape == (len(b.centers), clip_len, 36, 48, 3)
            for center, clip in zip(b.centers, b.clips):
                frames = sampling.frame_indices(np.array([center]), 37)[0]
                for slot, n in enumerate(frames):
                    assert np.array_equal(clip[slot], direct.read(int(n), size=(36, 48)))
                    assert video_factory.decode_index(clip[slot]) == n
    assert reported[-1] == (len(centers), len(centers))
    assert [d for d, _ in reported] == sorted(d for d, _ in reported)


def test_clips_of_a_rotated_video_have_the_displayed_shape(video_factory):
    path = video_factory("phone.mp4", frames=9, rotation=90)
    with VideoReader(path) as reader:
        (only,) = list(iter_clip_batches(reader, ClipSampling(3, 1, 4), batch=8))
        assert only.clips.shape == (3, 3, 96, 72, 3)
        assert video_factory.decode_index(np.rot90(only.clips[1, 1], 1)) == 4


def test_should_stop_ends_the_stream(video_factory):
    path = video_factory("v.mp4", frames=40)
    polls = []

    def should_stop() -> bool:
        polls.append(1)
        return len(polls) > 12

    with VideoReader(path) as reader:
        batches = list(iter_clip_batches(reader, ClipSampling(3, 1, 1, size=(18, 24)), 4,
                                         should_stop=should_stop))
    assert 1 <= sum(len(b.centers) for b in batches) < 40


def test_ring_holds_one_span_and_refuses_what_it_dropped():
    ring = FrameRing(3, (2, 2, 3))
    nbytes = ring.nbytes
    for n in range(10):
        ring.put(n, np.full((2, 2, 3), n, np.uint8))
        assert len(ring.held()) == min(n + 1, 3)
    assert ring.held() == [7, 8, 9]
    assert ring.nbytes == nbytes == 3 * 2 * 2 * 3
    assert ring.get(8)[0, 0, 0] == 8
    with pytest.raises(KeyError, match="frame 6 is not held"):
        ring.get(6)
    out = np.empty((4, 2, 2, 3), np.uint8)
    ring.gather(np.array([7, 9, 9, 8]), out)
    assert out[:, 0, 0, 0].tolist() == [7, 9, 9, 8]


def _peak_bytes_of_clip_stream(path, sampling) -> int:
    with VideoReader(path) as reader:
        tracemalloc.start()
        try:
            for _ in iter_clip_batches(reader, sampling, batch=2):
                pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def test_memory_does_not_grow_with_video_length(video_factory):
    sampling = ClipSampling(clip_len=4, frame_step=2, stride=1)  # native size: 96x72 frames
    short = video_factory("short.mkv", frames=40)
    long = video_factory("long.mkv", frames=400)
    short_peak = _peak_bytes_of_clip_stream(short, sampling)
    long_peak = _peak_bytes_of_clip_stream(long, sampling)
    # Keeping every frame would cost 400 x 20 KiB; the stream keeps 7 frames and 2 clips.
    assert long_peak < 1.3 * short_peak, (short_peak, long_peak)
