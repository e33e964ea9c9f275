"""The soak's view of gunicorn's workers: their resident memory, from Linux /proc."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from soak.processes import rss_kib

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")

MIB = 1024


def test_rss_is_the_memory_resident_now_not_its_peak_or_the_address_space() -> None:
    """Grows as memory is touched and shrinks as it is given back; the run judges growth."""
    code = (
        "import mmap, sys\n"
        "def ask(): print(flush=True); sys.stdin.readline()\n"
        "ask()\n"
        "held = b'x' * (64 << 20)\n"
        "reserved = mmap.mmap(-1, 256 << 20)  # address space, never touched\n"
        "ask()\n"
        "del held\n"
        "ask()\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdin is not None
    assert process.stdout is not None
    sizes = []
    try:
        for _ in range(3):
            process.stdout.readline()
            sizes.append(rss_kib(process.pid))
            process.stdin.write("\n")
            process.stdin.flush()
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdin.close()
        process.stdout.close()
    before, holding, after = (size or 0 for size in sizes)
    assert 60 * MIB <= holding - before < 128 * MIB  # the untouched 256 MiB do not count
    assert holding - after >= 60 * MIB


def test_a_process_gone_has_no_rss() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(30)
    assert rss_kib(process.pid) is None
