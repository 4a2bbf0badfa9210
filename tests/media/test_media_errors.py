"""Files that are not readable videos: a MediaError naming the file and the problem, never a hang."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from actdesk.errors import MediaError
from actdesk.media import VideoReader, probe


def _folder(video_factory):
    return video_factory.folder


def _text(video_factory):
    return video_factory.file("notes.txt", b"just some words\n" * 40)


def _text_named_mp4(video_factory):
    return video_factory.file("notes.mp4", b"just some words\n" * 40)


def _image(video_factory):
    path = video_factory.folder / "still.png"
    Image.fromarray(np.zeros((24, 32, 3), np.uint8)).save(path)
    return path


def _mp4_cut_before_its_index(video_factory):
    return video_factory.truncate(video_factory("cut.mp4", frames=40), 0.5)


def _mkv_cut_in_its_header(video_factory):
    return video_factory.truncate(video_factory("cut.mkv", frames=40), 0.01)


BAD_FILES = {
    "missing": (lambda vf: vf.folder / "nowhere.mp4", "file not found"),
    "folder": (_folder, "is a folder, not a video file"),
    "empty": (lambda vf: vf.file("empty.mp4"), "file is empty"),
    "text": (_text, "a text file, not a video"),
    "text named .mp4": (_text_named_mp4, "not a video file (unrecognised format)"),
    "image": (_image, "an image (png), not a video"),
    "audio only m4a": (lambda vf: vf.audio_only("tone.m4a"), "no video stream (audio only)"),
    "audio only wav": (lambda vf: vf.audio_only("tone.wav"), "no video stream (audio only)"),
    "undecodable": (lambda vf: vf.undecodable("noise.avi"), "cannot decode frame 0: "),
    "mp4 cut before its index": (_mp4_cut_before_its_index, "damaged MP4/MOV file: its index is missing"),
    "mkv cut in its header": (_mkv_cut_in_its_header, "damaged or truncated file"),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_gives_a_media_error(video_factory, case):
    make, problem = BAD_FILES[case]
    path = make(video_factory)
    for open_it in (probe, VideoReader):
        with pytest.raises(MediaError) as caught:
            open_it(path)
        error = caught.value
        assert error.path == str(path)
        assert problem in error.problem
        assert str(error).startswith(f"{path}: ")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name, kwargs", [("cut.mkv", dict(gop=10)), ("cut.mp4", dict(faststart=True, bframes=2))])
def test_truncated_video_reads_what_exists_and_names_the_frame_that_does_not(video_factory, name, kwargs):
    path = video_factory.truncate(video_factory(name, frames=60, **kwargs), 0.5)
    with VideoReader(path) as reader:
        count = reader.frame_count
        assert 10 < count < 60  # only packets present in the file are counted
        for n in list(range(count)) + [count - 1, 0]:
            try:
                shown = video_factory.decode_index(reader.read(n))
            except MediaError as e:
                assert e.path == str(path) and e.problem.startswith(f"cannot decode frame {n}: ")
                assert n >= count - _REORDER_MARGIN, "a frame before the cut failed to decode"
                continue
            # B-frames cut off behind a later frame leave holes in the last few frames only.
            assert shown == n or (n >= count - _REORDER_MARGIN and shown > n)
        assert video_factory.decode_index(reader.read(5)) == 5


_REORDER_MARGIN = 8
"""Frames near a cut that may be missing or undecodable: the encoder's reorder depth and then some."""
