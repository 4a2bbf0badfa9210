"""Terminal progress for long work: a tqdm bar behind the ``progress`` callable protocol."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from actdesk.core.tasks import ProgressFn


@contextlib.contextmanager
def progress_bar(description: str, *, unit: str = "it", quiet: bool = False) -> Iterator[ProgressFn]:
    """Yield a ``progress(done, total, message)`` callable drawing a bar on stderr.

    The bar appears at the first progress report, so work that fails before it
    starts (a missing file, a bad checkpoint) prints its error without an empty bar.
    """
    from tqdm import tqdm

    bar: tqdm | None = None

    def progress(done: int, total: int, message: str = "") -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(desc=description, unit=unit, file=sys.stderr, disable=quiet, mininterval=0.5,
                       dynamic_ncols=True, leave=True)
        if total and bar.total != total:
            bar.total = total
        bar.n = done
        if message:
            bar.set_postfix_str(message, refresh=False)
        bar.refresh()

    try:
        yield progress
    finally:
        if bar is not None:
            bar.close()
