"""Clocks: where tokens get their ``iat``/``exp`` and hits their timestamps.

``SystemClock`` follows real time. ``ControllableClock`` follows real time until a test
freezes or advances it, so expiry and leeway can be tested without sleeping.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Anything with ``now() -> float`` (seconds since the epoch)."""

    def now(self) -> float: ...


class SystemClock:
    """Real time, ``time.time()``."""

    def now(self) -> float:
        return time.time()


class ControllableClock:
    """Real time plus an offset, until frozen; ``advance`` moves it either way.

    >>> clock = ControllableClock()
    >>> clock.freeze(1_700_000_000)
    >>> clock.advance(30)
    >>> clock.now()
    1700000030.0
    """

    def __init__(self, start: float | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen: float | None = None
        if start is not None:
            self.freeze(start)

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def now(self) -> float:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return time.time() + self._offset

    def freeze(self, at: float | None = None) -> None:
        """Stop the clock, at ``at`` or at the current reading."""
        current = self.now() if at is None else float(at)
        with self._lock:
            self._frozen = current

    def unfreeze(self) -> None:
        """Follow real time again, continuing from the frozen reading."""
        with self._lock:
            if self._frozen is not None:
                self._offset = self._frozen - time.time()
                self._frozen = None

    def advance(self, seconds: float) -> None:
        """Move the clock by ``seconds`` (negative goes back), frozen or not."""
        with self._lock:
            if self._frozen is not None:
                self._frozen += seconds
            else:
                self._offset += seconds
