"""What every part of the bench measures with: a timer, the median, and progress on stderr."""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable


def median(values: list[float]) -> float:
    """The median, as every figure of the report is."""
    return statistics.median(values)


def timed(fn: Callable[[], None]) -> float:
    """Seconds ``fn`` took, started after a collection so no earlier garbage is charged to it."""
    gc.collect()
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def status(message: str) -> None:
    """Progress on stderr; the report alone goes to stdout."""
    print(f"... {message}", file=sys.stderr, flush=True)
