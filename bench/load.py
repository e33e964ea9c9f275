"""Load generators for the gunicorn runs: ``wrk`` when installed, else a Python fallback.

Both open a new connection whenever the server closes one (gunicorn's sync workers close
after every response), send ``Authorization: Bearer`` with one fixed token or with the next
token of a pre-minted pool, and report completed requests per second, how many answers were
not 200, and whether the pool ran out. Each token goes out once until the pool ends; then the
Python generator stops, and wrk's script starts the pool over and says so (a run to discard).
"""

from __future__ import annotations

import http.client
import multiprocessing
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

WRK_SCRIPT = r"""
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

-- Requests are formatted once, before the run: the load generator shares the machine's cores
-- with the server, so per-request work here would lower the server's figures. wrk calls
-- request() once before the run, to count pipelined requests: thread 0's first token goes last.
function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  requests, position, exhausted = {}, 0, 0
  local n = 0
  for line in io.lines(path) do
    if n % nthreads == id then
      requests[#requests + 1] = wrk.format("GET", nil, {["Authorization"] = "Bearer " .. line})
    end
    n = n + 1
  end
end

function request()
  position = position + 1
  if position > #requests then position, exhausted = 1, 1 end
  return requests[position]
end

function done(summary, latency, requests)
  local used = 0
  for _, thread in ipairs(threads) do used = used + thread:get("exhausted") end
  io.write(string.format("pool_exhausted_threads: %d\n", used))
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    not_ok: int
    pool_exhausted: bool = False

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_version() -> str | None:
    if shutil.which("wrk") is None:
        return None
    out = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10, check=False)
    match = re.search(r"wrk (\S+)", out.stdout + out.stderr)
    return f"wrk {match.group(1)}" if match else "wrk"


def run_wrk(
    url: str,
    duration: float,
    *,
    token: str | None = None,
    pool: list[str] | None = None,
    threads: int = 2,
    connections: int = 8,
) -> LoadResult:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s"]
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as scratch:
        if pool is not None:
            script, tokens = Path(scratch, "pool.lua"), Path(scratch, "tokens.txt")
            script.write_text(WRK_SCRIPT)
            tokens.write_text("\n".join(pool) + "\n")
            command += ["-s", str(script), url, "--", str(tokens), str(threads)]
        else:
            if token is not None:
                command += ["-H", f"Authorization: Bearer {token}"]
            command.append(url)
        out = subprocess.run(
            command, capture_output=True, text=True, timeout=duration + 60, check=True
        ).stdout
    return parse_wrk_output(out)


def parse_wrk_output(out: str) -> LoadResult:
    """Requests, seconds and failures from wrk's summary; socket errors count as failures,
    and the pool script's last line says whether a thread ran out of tokens."""
    total = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if total is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    seconds = float(total.group(2)) / (1000 if total.group(3) == "ms" else 1)
    not_ok = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors:
        not_ok += sum(int(n) for n in errors.groups())
    exhausted = re.search(r"pool_exhausted_threads: (\d+)", out)
    return LoadResult(
        int(total.group(1)), seconds, not_ok, bool(exhausted and int(exhausted.group(1)))
    )


def _client_process(
    host: str,
    port: int,
    path: str,
    duration: float,
    threads: int,
    token: str | None,
    pool: list[str] | None,
    results: multiprocessing.Queue,  # type: ignore[type-arg]
) -> None:
    counts = [0, 0]
    lock = threading.Lock()
    exhausted = threading.Event()
    shared = iter(pool) if pool is not None else None
    deadline = time.monotonic() + duration

    def next_token() -> str | None:
        if shared is None:
            return token
        with lock:
            value = next(shared, None)
        if value is None:
            exhausted.set()
        return value

    def worker() -> None:
        """Requests until the deadline, and at least one: a thread that starts late on a loaded
        machine still measures a request."""
        connection: http.client.HTTPConnection | None = None
        ok = bad = 0
        while not (ok or bad) or time.monotonic() < deadline:
            bearer = next_token()
            if pool is not None and bearer is None:
                break
            headers = {"Connection": "keep-alive"}
            if bearer is not None:
                headers["Authorization"] = f"Bearer {bearer}"
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(host, port, timeout=10)
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                ok, bad = (ok + 1, bad) if response.status == 200 else (ok, bad + 1)
                if response.will_close:
                    connection.close()
                    connection = None
            except OSError:
                bad += 1
                if connection is not None:
                    connection.close()
                connection = None
        if connection is not None:
            connection.close()
        with lock:
            counts[0] += ok
            counts[1] += bad

    started = time.monotonic()
    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    results.put((counts[0] + counts[1], time.monotonic() - started, counts[1], exhausted.is_set()))


def run_python(
    url: str,
    duration: float,
    *,
    token: str | None = None,
    pool: list[str] | None = None,
    processes: int = 2,
    threads: int = 4,
) -> LoadResult:
    """Several processes of several threads each; a pool is split between the processes."""
    match = re.fullmatch(r"http://([^:/]+):(\d+)(/.*)", url)
    if match is None:
        raise ValueError(f"not an http://host:port/path URL: {url}")
    host, port, path = match.group(1), int(match.group(2)), match.group(3)
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue = context.Queue()  # type: ignore[type-arg]
    children = [
        context.Process(
            target=_client_process,
            args=(
                host,
                port,
                path,
                duration,
                threads,
                token,
                pool[n::processes] if pool is not None else None,
                results,
            ),
        )
        for n in range(processes)
    ]
    try:
        for child in children:
            child.start()
        gathered = [results.get(timeout=duration + 60) for _ in children]
    finally:
        for child in children:
            child.join(timeout=10)
            if child.is_alive():
                child.kill()
                child.join()
    return LoadResult(
        sum(g[0] for g in gathered),
        max(g[1] for g in gathered),
        sum(g[2] for g in gathered),
        any(g[3] for g in gathered),
    )
