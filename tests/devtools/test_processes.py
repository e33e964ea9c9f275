"""Process helpers shared by make run, the bench and the soak run."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.processes import child_pids

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
