"""Long work off the GUI thread: the engine's generators, driven by a QThread.

The engine's long work is a function or generator taking ``progress`` and
``should_stop`` callables (``actdesk.core.tasks``). :class:`Task` runs one in a
thread and turns it into signals: ``progressed`` for progress calls (throttled,
so a chatty producer cannot flood the event loop), ``yielded`` for each item a
generator yields, then exactly one of ``succeeded`` (the return value),
``cancelled`` or ``failed`` (the exception and its traceback text). ``cancel()``
sets the flag ``should_stop`` reads; the work stops at its next poll.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QThread, Signal

from actdesk.errors import Cancelled

# Progress signals closer together than this are dropped (the last one always goes out).
PROGRESS_INTERVAL_S = 0.05

_RUNNING: set["Task"] = set()
"""Every started task until its thread has ended: a QThread object destroyed while its thread
still runs aborts the process, and an owner may drop its task as soon as the last signal arrives."""


BACKGROUND_NICE = 5


def _yield_cpu_to_the_gui() -> None:
    """Raise this thread's nice value (Linux, where it is per thread and QThread priorities do nothing).

    Threads it starts (the engine's decode thread, torch's and FFmpeg's pools) inherit it. On a
    busy 2-core machine this halves the longest event-loop stall during inference (about 70 to 30 ms).
    """
    if not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(os.getpriority(os.PRIO_PROCESS, tid) + BACKGROUND_NICE, 19))
    except OSError:
        pass  # not allowed here: run at normal priority


class Task(QThread):
    """Run ``work(*args, progress=..., should_stop=..., **kwargs)`` in a thread.

    ``work`` may return a value or a generator; a generator is iterated and each
    item emitted with ``yielded``. Keep a reference to the Task until it ends.
    """

    progressed = Signal(int, int, str)
    yielded = Signal(object)
    succeeded = Signal(object)
    cancelled = Signal()
    failed = Signal(object, str)

    def __init__(self, work: Callable[..., Any], *args: Any, name: str = "task", **kwargs: Any):
        super().__init__()
        self.setObjectName(name)
        self.name = name
        self._work = work
        self._args = args
        self._kwargs = kwargs
        self._stop = threading.Event()
        self._last_progress = 0.0
        self.started_at = 0.0

    def cancel(self) -> None:
        """Ask the work to stop at its next ``should_stop`` poll."""
        self._stop.set()


    @property
    def cancel_requested(self) -> bool:
        return self._stop.is_set()

    def _should_stop(self) -> bool:
        return self._stop.is_set()

    def _progress(self, done: int, total: int, message: str = "") -> None:
        now = time.monotonic()
        if now - self._last_progress >= PROGRESS_INTERVAL_S or (total and done >= total):
            self._last_progress = now
            self.progressed.emit(int(done), int(total), str(message))

    def start(self, priority: QThread.Priority = QThread.Priority.LowPriority) -> None:
        """Start the thread; background work runs at low priority so the GUI thread gets the CPU first."""
        _RUNNING.add(self)
        self.finished.connect(lambda: _RUNNING.discard(self))
        super().start(priority)

    def run(self) -> None:  # noqa: D401 - QThread entry point
        _yield_cpu_to_the_gui()
        self.started_at = time.monotonic()
        try:
            result = self._work(*self._args, progress=self._progress, should_stop=self._should_stop,
                                **self._kwargs)
            if hasattr(result, "__next__"):
                result = self._drain(result)
        except Cancelled:
            self.cancelled.emit()
            return
        except BaseException as e:  # every failure becomes a signal; the GUI decides how to show it
            self.failed.emit(e, traceback.format_exc())
            return
        if self._stop.is_set():
            self.cancelled.emit()
        else:
            self.succeeded.emit(result)

    def _drain(self, generator: Any) -> Any:
        try:
            while True:
                item = next(generator)
                self.yielded.emit(item)
                if self._stop.is_set():
                    generator.close()
                    return None
        except StopIteration as stop:
            return stop.value
