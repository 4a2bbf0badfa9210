"""The shared test-video factory: the frame index survives encoding and can be read back."""

from __future__ import annotations

import av
import numpy as np
import pytest

from videos import MAX_FRAMES, code_frame, decode_index


def test_code_round_trips_every_index_at_any_size():
    for index in [0, 1, 2, 7, 100, 1234, MAX_FRAMES - 1]:
        assert decode_index(code_frame(index)) == index
        assert decode_index(code_frame(index, size=(33, 25))) == index
    with pytest.raises(ValueError):
        code_frame(MAX_FRAMES)


def test_a_turned_or_mirrored_code_is_refused():
    frame = code_frame(1000)
    for changed in (np.rot90(frame), np.rot90(frame, 2), np.rot90(frame, 3), frame[:, ::-1], frame[::-1]):
        with pytest.raises(ValueError):
            decode_index(changed)
    with pytest.raises(ValueError):
        decode_index(np.zeros((72, 96, 3), np.uint8))


@pytest.mark.parametrize("name, codec", [("a.mp4", "libx264"), ("b.mp4", "mpeg4"), ("c.webm", "libvpx-vp9"),
                                         ("d.mkv", "mjpeg"), ("e.mkv", "ffv1"), ("f.avi", None)])
def test_every_codec_keeps_the_code(video_factory, name, codec):
    path = video_factory(name, frames=12, codec=codec, bframes=2 if codec == "libx264" else None)
    with av.open(str(path)) as container:
        frames = sorted(container.decode(video=0), key=lambda f: f.pts)
    assert [decode_index(f.to_ndarray(format="rgb24")) for f in frames] == list(range(12))


def test_vfr_pts_are_written_as_given(video_factory):
    pts_ms = [0, 30, 90, 100, 250]
    path = video_factory("v.mkv", frames=5, vfr_pts=pts_ms)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times = sorted(float(p.pts * stream.time_base) for p in container.demux(stream) if p.size)
    assert times == pytest.approx([p / 1000 for p in pts_ms])
    with pytest.raises(ValueError, match="increasing"):
        video_factory("w.mkv", frames=3, vfr_pts=[0, 40, 40])
