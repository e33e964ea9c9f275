"""Timing the test suite: the command's last line is the summary; a hung suite is cut off."""

from __future__ import annotations

import sys

from bench.suite_time import COMMAND, time_test_suite


def test_it_runs_make_test_as_the_readme_says() -> None:
    assert COMMAND == ("make", "--no-print-directory", "test")


def test_the_summary_is_the_last_line_without_its_rule() -> None:
    script = "print('collected 3 items'); print('==== 3 passed in 0.01s ====')"
    lines, seconds = time_test_suite({}, command=[sys.executable, "-c", script])
    assert lines == [f"test suite: `make test` {seconds:.1f} s wall: 3 passed in 0.01s"]
    assert seconds > 0  # measured, and the line shows it


def test_the_suite_runs_in_the_environment_given() -> None:
    script = "import os; print(os.environ.get('BENCH_PROBE', 'unset'))"
    lines, _ = time_test_suite({"BENCH_PROBE": "given"}, command=[sys.executable, "-c", script])
    assert lines[0].endswith(": given")


def test_a_silent_suite_says_so() -> None:
    lines, _ = time_test_suite({}, command=[sys.executable, "-c", "pass"])
    assert lines[0].endswith(": (no output)")


def test_a_suite_past_its_timeout_is_killed_and_reported() -> None:
    script = "import sys, time; print('12 passed', flush=True); time.sleep(30)"
    command = [sys.executable, "-u", "-c", script]
    lines, seconds = time_test_suite({}, command=command, timeout=0.3)
    assert seconds < 20  # not a timing assertion: without its timeout it would wait 30 s
    assert lines[0].endswith(": timed out after 0.3 s")
