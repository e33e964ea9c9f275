"""What tests that start processes check afterwards: is a pid still running, are ports free.

Linux ``/proc`` (proc(5)); a zombie counts as gone.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, exited but not yet reaped, counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def gone_within(pids: list[int], seconds: float) -> bool:
    """Polls until none of ``pids`` runs, for at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(alive(pid) for pid in pids)


def free_ports(count: int) -> list[int]:
    """Distinct ports on 127.0.0.1 nobody listens on right now."""
    sockets = []
    try:
        for _ in range(count):
            probe = socket.socket()
            probe.bind(("127.0.0.1", 0))
            sockets.append(probe)
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()
