"""Process helpers shared by make run, the bench and the soak run."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.processes import (
    PROJECT_ROOT,
    child_pids,
    start_in_session,
    stop_process_group,
    wait_until_serving,
)
from tests.recording_server import recording_server

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


@pytest.fixture
def child() -> Iterator[int]:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield process.pid
    finally:
        process.kill()
        process.wait()


def test_child_pids_lists_this_process_s_children(child: int) -> None:
    assert child in child_pids(os.getpid())
    assert child_pids(child) == []


def test_child_pids_scans_proc_where_the_kernel_lists_no_children(
    child: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Path, "glob", lambda self, pattern: iter(()))
    assert child in child_pids(os.getpid())
    assert child_pids(child) == []


def test_readiness_polls_ignore_a_developer_s_http_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # nothing listens there
    with recording_server() as recording:
        process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            wait_until_serving(f"{recording.base}/", process, timeout=30)
        finally:
            process.kill()
            process.wait()


def test_start_in_session_runs_in_the_project_root_in_a_session_of_its_own() -> None:
    report = "import os; print(os.getcwd(), os.getsid(0) == os.getpid(), os.environ['MARK'])"
    process = start_in_session(
        [sys.executable, "-c", report],
        {"MARK": "only-this-env"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = process.communicate(timeout=30)
    finally:
        stop_process_group(process)
    assert output.split() == [str(PROJECT_ROOT), "True", "only-this-env"]
