"""The protocol shared by every piece of long work (decode, label, export, train).

Long work is a plain function or generator taking two keyword callables:

``progress(done, total, message="")``
    called as work advances; ``total`` may be 0 when unknown.
``should_stop() -> bool``
    polled between units of work; when it returns True the work raises
    :class:`actdesk.errors.Cancelled` (functions) or returns (generators)
    promptly, leaving no thread behind.

The CLI passes a progress bar, ``actdesk.qt.workers`` passes callables that
emit Qt signals, tests pass lists or lambdas. One implementation, three callers.
"""

from __future__ import annotations

from typing import Protocol


class ProgressFn(Protocol):
    def __call__(self, done: int, total: int, message: str = "") -> None: ...


class StopFn(Protocol):
    def __call__(self) -> bool: ...


def no_progress(done: int, total: int, message: str = "") -> None:
    """Default ``progress``: report nothing."""


def never_stop() -> bool:
    """Default ``should_stop``: run to completion."""
    return False
