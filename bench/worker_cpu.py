"""CPU time used by gunicorn's workers, read from ``/proc`` (Linux).

Requests per second under a load generator that shares the machine's cores also move with the
generator's own work and with the machine's noise; the workers' CPU time per request is the
server's cost alone. ``None`` wherever it cannot be read (not Linux, or a worker replaced
during the run, which would make the difference meaningless).
"""

from __future__ import annotations

import os
from pathlib import Path

from devtools.processes import child_pids

PROC = Path("/proc")


def _cpu_seconds(pid: int) -> float:
    """utime + stime of one process (proc(5), fields 14 and 15 of ``stat``)."""
    fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class WorkerCPU:
    """The summed CPU seconds of the workers of the gunicorn master ``master_pid``."""

    def __init__(self, master_pid: int) -> None:
        self.master_pid = master_pid

    def sample(self) -> tuple[tuple[int, ...], float] | None:
        """The workers and their CPU seconds; None with no workers, or one gone mid-read."""
        try:
            workers = tuple(child_pids(self.master_pid))
            if not workers:
                return None
            return workers, sum(_cpu_seconds(pid) for pid in workers)
        except (OSError, ValueError, IndexError):
            return None

    @staticmethod
    def per_request_us(
        before: tuple[tuple[int, ...], float] | None,
        after: tuple[tuple[int, ...], float] | None,
        requests: int,
    ) -> float | None:
        """Microseconds of worker CPU per request between two samples of the same workers."""
        if before is None or after is None or before[0] != after[0] or requests <= 0:
            return None
        return (after[1] - before[1]) / requests * 1e6
