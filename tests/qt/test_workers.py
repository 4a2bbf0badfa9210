"""workers.Task: the long-work protocol turned into signals."""

from __future__ import annotations

import threading

import pytest

from actdesk.errors import Cancelled, MediaError
from actdesk.qt.workers import Task

pytestmark = pytest.mark.gui


def record(task: Task) -> dict[str, list]:
    seen: dict[str, list] = {"progress": [], "items": [], "ok": [], "cancelled": [], "failed": []}
    task.progressed.connect(lambda d, t, m: seen["progress"].append((d, t, m)))
    task.yielded.connect(seen["items"].append)
    task.succeeded.connect(seen["ok"].append)
    task.cancelled.connect(lambda: seen["cancelled"].append(True))
    task.failed.connect(lambda e, tb: seen["failed"].append((e, tb)))
    return seen


def test_a_generator_yields_items_then_its_return_value(qtbot):
    def work(n, *, progress, should_stop):
        for i in range(n):
            progress(i + 1, n, f"item {i}")
            yield i * i
        return "all done"

    task = Task(work, 5)
    seen = record(task)
    with qtbot.waitSignal(task.succeeded, timeout=5000):
        task.start()
    assert seen["items"] == [0, 1, 4, 9, 16]
    assert seen["ok"] == ["all done"]
    assert seen["progress"][-1] == (5, 5, "item 4")  # the last progress always goes out
    assert not seen["cancelled"] and not seen["failed"]


def test_cancel_stops_a_generator_and_a_function(qtbot):
    gate = threading.Event()

    def endless(*, progress, should_stop):
        i = 0
        while True:
            yield i
            i += 1
            gate.wait(0.01)

    task = Task(endless)
    seen = record(task)
    task.start()
    qtbot.waitUntil(lambda: len(seen["items"]) >= 3, timeout=5000)
    with qtbot.waitSignal(task.cancelled, timeout=5000):
        task.cancel()
    assert task.wait(5000) and not seen["ok"]

    def function(*, progress, should_stop):
        while not should_stop():
            gate.wait(0.01)
        raise Cancelled("counting")

    task = Task(function)
    seen = record(task)
    task.start()
    with qtbot.waitSignal(task.cancelled, timeout=5000):
        task.cancel()
    assert not seen["failed"]


def test_errors_arrive_as_a_signal_with_the_traceback(qtbot):
    def broken(*, progress, should_stop):
        raise MediaError("clip.mp4", "cannot decode frame 3")

    task = Task(broken)
    seen = record(task)
    with qtbot.waitSignal(task.failed, timeout=5000):
        task.start()
    error, details = seen["failed"][0]
    assert isinstance(error, MediaError) and "clip.mp4" in str(error)
    assert "Traceback" in details and "broken" in details
