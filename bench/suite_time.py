"""The test suite's wall time, run as the README says (``make test``), in the caller's
environment as it was before the bench pinned the API's settings."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench.measure import status

ROOT = Path(__file__).resolve().parent.parent
COMMAND = ("make", "--no-print-directory", "test")
TIMEOUT = 600


def time_test_suite(
    env: Mapping[str, str],
    command: Sequence[str] = COMMAND,
    timeout: float = TIMEOUT,
) -> tuple[list[str], float]:
    """The report line and the seconds ``command`` took; its last output line is the summary."""
    status("running the test suite (make test, already installed)")
    started = time.monotonic()
    try:
        done = subprocess.run(
            list(command),
            cwd=ROOT,
            env=dict(env),
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,  # subprocess.run kills the suite when it expires
        )
        output = done.stdout
    except subprocess.TimeoutExpired:
        output = f"timed out after {timeout:g} s"
    seconds = time.monotonic() - started
    summary = (output.strip().splitlines() or ["(no output)"])[-1].strip("= ")
    return [f"test suite: `make test` {seconds:.1f} s wall: {summary}"], seconds
