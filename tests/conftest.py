"""Fixtures shared by every room's tests.

``video_factory`` writes small real videos whose frame index is readable from
the pixels (see ``tests/videos.py``)::

    def test_something(video_factory):
        path = video_factory("clip.mkv", frames=50, gop=10, bframes=2)
        ...
        assert video_factory.decode_index(frame) == 7
"""

from __future__ import annotations

import pytest

from videos import VideoFactory


@pytest.fixture
def video_factory(tmp_path) -> VideoFactory:
    """A ``VideoFactory`` writing into this test's ``tmp_path``."""
    return VideoFactory(tmp_path)
