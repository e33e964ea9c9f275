"""Process helpers shared by make run, the bench and the soak run."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from devtools.processes import (
    PROJECT_ROOT,
    child_pids,
    start_in_session,
    stop_process_group,
    wait_until_serving,
)

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


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_readiness_polls_ignore_a_developer_s_http_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # nothing listens there
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    # a short poll: shutdown() waits for it (0.5 s by default)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            wait_until_serving(f"http://127.0.0.1:{server.server_port}/", process, timeout=30)
        finally:
            process.kill()
            process.wait()
    finally:
        server.shutdown()
        server.server_close()


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
