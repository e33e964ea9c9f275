"""The API under gunicorn on 127.0.0.1, its worker processes, and their memory (Linux /proc).

gunicorn runs in its own session and, on Linux, is SIGKILLed by the kernel if this process
dies, so no run leaves a server behind; ``stop()`` terminates it, then kills whatever is left
of its process group.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from devtools.processes import (
    LOOPBACK,
    child_pids,
    free_port,
    gunicorn_command,
    start_in_session,
    stop_process_group,
    wait_until_serving,
)

ACCESS_LOG_FORMAT = "%(p)s %({x-soak-request}i)s %(s)s %(D)s"


@dataclass
class Gunicorn:
    """``gunicorn apiexample.wsgi:application`` with gthread workers, started by ``start()``."""

    env: Mapping[str, str]
    log_dir: Path
    workers: int = 2
    threads: int = 4
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    _stderr: IO[bytes] | None = None

    @property
    def access_log(self) -> Path:
        return self.log_dir / "access.log"

    @property
    def error_log(self) -> Path:
        return self.log_dir / "gunicorn.log"

    def command(self) -> list[str]:
        return gunicorn_command(
            self.port,
            "--workers", str(self.workers),
            "--worker-class", "gthread",
            "--threads", str(self.threads),
            "--timeout", "60",
            "--graceful-timeout", "5",
            "--access-logfile", str(self.access_log),
            "--access-logformat", ACCESS_LOG_FORMAT,
        )  # fmt: skip

    def start(self, timeout: float = 30.0) -> None:
        """Start gunicorn and wait until every worker answers ``/api/public``."""
        self.port = self.port or free_port()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._stderr = self.error_log.open("wb")
        self.process = start_in_session(
            self.command(), self.env, stdout=self._stderr, stderr=self._stderr
        )
        deadline = time.monotonic() + timeout
        try:
            url = f"http://{LOOPBACK}:{self.port}/api/public"
            wait_until_serving(url, self.process, timeout, name="gunicorn")
            while len(self.worker_pids()) < self.workers:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("not every worker started")
                time.sleep(0.05)
        except RuntimeError as exc:
            raise RuntimeError(f"gunicorn did not start; see {self.error_log}") from exc

    def worker_pids(self) -> list[int]:
        """The master's children (its workers), from /proc."""
        if self.process is None:
            return []
        return child_pids(self.process.pid)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the master, SIGKILL its process group if it lingers, and reap it."""
        if self.process is not None:
            stop_process_group(self.process, timeout)
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


def rss_kib(pid: int) -> int | None:
    """``VmRSS`` of ``pid`` in KiB, or None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


@dataclass(frozen=True)
class RssSample:
    time: float
    pid: int
    kib: int


class RssSampler:
    """Samples the VmRSS of gunicorn's workers every ``interval`` seconds, in a thread."""

    def __init__(self, gunicorn: Gunicorn, interval: float = 1.0) -> None:
        self.gunicorn = gunicorn
        self.interval = interval
        self.samples: list[RssSample] = []
        self.pids_seen: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak rss sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def sample(self) -> None:
        now = time.monotonic()
        for pid in self.gunicorn.worker_pids():
            kib = rss_kib(pid)
            if kib is not None:
                self.pids_seen.add(pid)
                self.samples.append(RssSample(now, pid, kib))

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
