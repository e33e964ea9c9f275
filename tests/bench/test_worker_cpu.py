"""The bench's worker CPU reading: a master's children, their CPU time from /proc."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import worker_cpu
from bench.worker_cpu import WorkerCPU

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")

BURN = """
import time
start = time.process_time()
while time.process_time() - start < 0.3:
    pass
time.sleep(60)
"""


def test_a_child_burning_cpu_is_measured() -> None:
    child = subprocess.Popen([sys.executable, "-c", BURN])
    try:
        workers = WorkerCPU(os.getpid())  # this test process plays gunicorn's master
        deadline = time.monotonic() + 30
        sample = workers.sample()
        while sample is not None and sample[1] < 0.25 and time.monotonic() < deadline:
            time.sleep(0.05)
            sample = workers.sample()
        assert sample is not None
        assert child.pid in sample[0]
        assert 0.25 <= sample[1] < 30
    finally:
        child.kill()
        child.wait()


def test_a_master_without_workers_reads_as_unknown() -> None:
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as lone:
        try:
            assert WorkerCPU(lone.pid).sample() is None
        finally:
            lone.kill()


def test_per_request_needs_the_same_workers_and_some_requests() -> None:
    assert WorkerCPU.per_request_us(((1, 2), 1.0), ((1, 2), 1.5), 1000) == pytest.approx(500)
    assert WorkerCPU.per_request_us(((1, 2), 1.0), ((1, 3), 1.5), 1000) is None
    assert WorkerCPU.per_request_us(((1, 2), 1.0), ((1, 2), 1.5), 0) is None
    assert WorkerCPU.per_request_us(None, ((1, 2), 1.5), 10) is None


def test_each_worker_s_user_and_system_ticks_are_summed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """proc(5): utime and stime are the 14th and 15th fields of ``stat``, counted after the
    command name's last ``)`` (a name may hold spaces and parentheses), in clock ticks."""
    rest = "S 1 {pid} 0 0 -1 0 0 0 0 0 {utime} {stime} 7000 9000 20 0 1 0"
    for pid, utime, stime in ((11, 300, 100), (12, 500, 60)):
        (tmp_path / str(pid)).mkdir()
        stat = f"{pid} (gunicorn: worker) [x]) " + rest.format(pid=pid, utime=utime, stime=stime)
        (tmp_path / str(pid) / "stat").write_text(stat)
    monkeypatch.setattr(worker_cpu, "PROC", tmp_path)
    monkeypatch.setattr(worker_cpu, "child_pids", lambda master: [11, 12])
    monkeypatch.setattr(os, "sysconf", {"SC_CLK_TCK": 1000}.__getitem__)
    sample = WorkerCPU(1).sample()
    assert sample is not None
    assert sample[0] == (11, 12)
    assert sample[1] == pytest.approx((300 + 100 + 500 + 60) / 1000)
