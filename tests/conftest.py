"""Fixtures shared by every room's tests.

``video_factory`` writes small real videos whose frame index is readable from
the pixels (see ``tests/videos.py``)::

    def test_something(video_factory):
        path = video_factory("clip.mkv", frames=50, gop=10, bframes=2)
        ...
        assert video_factory.decode_index(frame) == 7

Tests marked ``long`` (training past CI's 90-minute budget on a CPU) are
skipped, with the reason the mark gives, unless ``ACTDESK_LONG_TESTS=1``
(``make test-long`` runs just them).
"""

from __future__ import annotations

import os

import pytest

# Some test modules import actdesk.testing, others load it as a pytest plugin
# (`pytest_plugins`): registered first, its assertions are rewritten however it comes.
pytest.register_assert_rewrite("actdesk.testing")

from videos import VideoFactory  # noqa: E402


@pytest.fixture
def video_factory(tmp_path) -> VideoFactory:
    """A ``VideoFactory`` writing into this test's ``tmp_path``."""
    return VideoFactory(tmp_path)


LONG_TESTS_ENV = "ACTDESK_LONG_TESTS"


def pytest_collection_modifyitems(config, items):
    if os.environ.get(LONG_TESTS_ENV) == "1":
        return
    for item in items:
        long_mark = item.get_closest_marker("long")
        if long_mark is not None:
            why = long_mark.args[0] if long_mark.args else "runs too long for the default suite"
            item.add_marker(pytest.mark.skip(reason=f"{why}; set {LONG_TESTS_ENV}=1 (make test-long) to run it"))
