"""The player shows exactly frame N, steps by frames and seconds, and plays."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtGui import QImage

from actdesk.media import VideoReader
from actdesk.qt.player import FrameSource, PlayerWidget, parse_position
from videos import decode_index

pytestmark = pytest.mark.gui


def shown_index(player: PlayerWidget) -> int:
    """The frame number encoded in the pixels the player shows."""
    image = player.view.image.convertToFormat(QImage.Format.Format_RGB888)
    h, w = image.height(), image.width()
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())
    return decode_index(rows[:, : w * 3].reshape(h, w, 3))


@pytest.fixture
def player(qtbot, code_video):
    widget = PlayerWidget()
    qtbot.addWidget(widget)
    widget.resize(400, 320)
    widget.show()
    with VideoReader(code_video) as reader:
        times, end = np.asarray(reader.times_s), float(reader.index.end_time_s)
    widget.open(code_video, times, end)
    qtbot.waitUntil(lambda: widget.current_frame == 0, timeout=5000)
    yield widget
    widget.close_video()


def test_the_frame_shown_for_n_is_frame_n_in_any_order(qtbot, player):
    seen = []
    player.frameChanged.connect(seen.append)
    for n in [57, 3, 119, 58, 24, 25, 0, 99, 57]:
        player.seek(n)
        qtbot.waitUntil(lambda n=n: player.current_frame == n, timeout=5000)
        assert shown_index(player) == n
    assert seen[-1] == 57


def test_steps_by_frame_and_by_second(qtbot, player):
    player.seek(40)
    qtbot.waitUntil(lambda: player.current_frame == 40, timeout=5000)
    player.step(1)
    qtbot.waitUntil(lambda: player.current_frame == 41, timeout=5000)
    player.step(-2)
    qtbot.waitUntil(lambda: player.current_frame == 39, timeout=5000)
    player.step_seconds(1.0)  # 25 fps
    qtbot.waitUntil(lambda: player.current_frame == 64, timeout=5000)
    player.step_seconds(-10.0)
    qtbot.waitUntil(lambda: player.current_frame == 0, timeout=5000)
    assert shown_index(player) == 0


def test_play_advances_in_order_and_pause_stops(qtbot, player):
    seen = []
    player.frameChanged.connect(seen.append)
    player.set_speed(4.0)
    player.play()
    assert player.is_playing
    qtbot.waitUntil(lambda: player.current_frame >= 30, timeout=10000)
    player.pause()
    stopped_at = player.current_frame
    qtbot.wait(200)
    assert player.current_frame == stopped_at
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert shown_index(player) == stopped_at


def test_speeds_are_clamped_to_the_offered_steps(player):
    player.set_speed(10)
    assert player.speed == 4.0
    player.slower()
    assert player.speed == 2.0
    player.set_speed(0.1)
    assert player.speed == 0.25


def test_go_to_frame_or_time(qtbot, player):
    times = np.arange(120) / 25
    assert parse_position("17", times) == 17
    assert parse_position("2.5s", times) == 62
    assert parse_position("0:03.2", times) == 80
    assert parse_position("9999", times) == 119
    assert parse_position("soon", times) is None
    assert player.goto("1:00") is True  # past the end: the last frame
    qtbot.waitUntil(lambda: player.current_frame == 119, timeout=5000)


def test_decode_ahead_stays_within_a_bounded_cache(qtbot, code_video):
    frame_bytes = QImage(96, 72, QImage.Format.Format_RGB888).sizeInBytes()
    source = FrameSource(code_video, cache_bytes=frame_bytes * 10, ahead=30)
    try:
        ready = []
        source.frameReady.connect(lambda n, image: ready.append(n))
        assert source.request(0) is None
        qtbot.waitUntil(lambda: len(ready) >= 10, timeout=10000)
        qtbot.wait(300)
        assert ready == list(range(10))  # ahead in order, as far as the cache holds, then it rests
        assert source.request(5) is not None
        assert source.request(60) is None
        qtbot.waitUntil(lambda: ready[-1] == 69, timeout=10000)
        qtbot.wait(300)
        assert ready[10:] == list(range(60, 70))
        cached = [n for n in range(120) if source.cached(n) is not None]
        assert len(cached) <= 10 and set(range(60, 69)) <= set(cached)
    finally:
        source.close()


def test_frames_of_the_previous_video_never_show_after_a_switch(qtbot, player, code_video, synth_video):
    with VideoReader(synth_video) as reader:
        synth_times, synth_end = np.asarray(reader.times_s), float(reader.index.end_time_s)
    with VideoReader(code_video) as reader:
        code_times, code_end = np.asarray(reader.times_s), float(reader.index.end_time_s)
    player.open(synth_video, synth_times, synth_end)  # asks for frame 0
    deadline = time.monotonic() + 10
    while player.source.cached(0) is None and time.monotonic() < deadline:
        time.sleep(0.01)  # decoded and signalled, but the event loop has not delivered it yet
    player.open(code_video, code_times, code_end)  # asks for frame 0 too
    qtbot.waitUntil(lambda: player.current_frame == 0, timeout=5000)
    qtbot.wait(100)
    assert shown_index(player) == 0
