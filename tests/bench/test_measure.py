"""The bench's timer, median and progress lines."""

from __future__ import annotations

import gc

import pytest

from bench import measure


def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two() -> None:
    assert measure.median([4.0, 1.0, 3.0, 2.0]) == 2.5


def test_the_median_of_an_odd_count_is_its_middle_value_not_the_mean() -> None:
    assert measure.median([100.0, 1.0, 5.0]) == 5.0  # mean 35.3, min 1


def test_timed_runs_the_function_once_after_a_collection(monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    monkeypatch.setattr(gc, "collect", lambda: events.append("collect"))
    seconds = measure.timed(lambda: events.append("run"))
    assert events == ["collect", "run"]
    assert seconds >= 0


def test_progress_goes_to_stderr_not_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    measure.status("minting")
    out, err = capsys.readouterr()
    assert (out, err) == ("", "... minting\n")
