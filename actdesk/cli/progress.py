"""Terminal progress for long work: a tqdm bar behind the ``progress`` callable protocol."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from actdesk.core.tasks import ProgressFn


@contextlib.contextmanager
def progress_bar(description: str, *, unit: str = "it", quiet: bool = False) -> Iterator[ProgressFn]:
    """Yield a ``progress(done, total, message)`` callable drawing a bar on stderr."""
    from tqdm import tqdm

    bar = tqdm(desc=description, unit=unit, file=sys.stderr, disable=quiet, mininterval=0.5,
               dynamic_ncols=True, leave=True)

    def progress(done: int, total: int, message: str = "") -> None:
        if total and bar.total != total:
            bar.total = total
        bar.n = done
        if message:
            bar.set_postfix_str(message, refresh=False)
        bar.refresh()

    try:
        yield progress
    finally:
        bar.close()
