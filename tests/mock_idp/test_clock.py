"""The clocks: real time, or controllable without sleeping."""

from __future__ import annotations

import time

from mock_idp.clock import Clock, ControllableClock, SystemClock


def test_system_clock_is_real_time() -> None:
    before = time.time()
    assert before <= SystemClock().now() <= time.time()
    assert isinstance(SystemClock(), Clock)


def test_controllable_clock_follows_real_time_until_frozen() -> None:
    clock = ControllableClock()
    frozen_at_first = clock.frozen  # read apart: mypy keeps it False past freeze()
    assert not frozen_at_first
    assert abs(clock.now() - time.time()) < 5
    clock.freeze(1_000.0)
    assert clock.frozen
    assert clock.now() == 1_000.0
    clock.advance(30)
    assert clock.now() == 1_030.0


def test_freeze_without_argument_freezes_the_current_reading() -> None:
    clock = ControllableClock()
    clock.advance(-100)
    clock.freeze()
    assert abs(clock.now() - (time.time() - 100)) < 5


def test_advance_while_running_adds_an_offset() -> None:
    clock = ControllableClock()
    clock.advance(3600)
    assert clock.now() - time.time() > 3590


def test_unfreeze_continues_from_the_frozen_reading() -> None:
    clock = ControllableClock(start=10.0)
    clock.unfreeze()
    assert not clock.frozen
    assert 10.0 <= clock.now() < 15.0
    clock.unfreeze()  # no-op when running
    assert not clock.frozen
