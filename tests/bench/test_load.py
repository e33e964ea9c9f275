"""The load generators: what they send, what they count, and how wrk's summary is read."""

from __future__ import annotations

import json
import multiprocessing
import queue
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bench import load
from tests.recording_server import Recording, recording_server

WRK_SUMMARY = """\
Running 4s test @ http://127.0.0.1:40211/api/private
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.43ms  389.12us   9.87ms   82.11%
    Req/Sec     2.79k   120.33     3.05k    71.25%
  22264 requests in 4.00s, 5.87MB read
{extra}Requests/sec:   5563.68
Transfer/sec:      1.47MB
"""


@pytest.fixture
def server() -> Iterator[tuple[str, Recording]]:
    """A recording server and the URL the load goes to."""
    with recording_server() as recording:
        yield f"{recording.base}/api/private", recording


@pytest.fixture
def paced_server() -> Iterator[tuple[str, Recording]]:
    """A recording server answering each request 5 ms late (about 200 requests a second per
    connection): wrk runs its full second at a fraction of the CPU."""
    with recording_server(pace=0.005) as recording:
        yield f"{recording.base}/api/private", recording


# -- wrk's summary --------------------------------------------------------------------------


def test_a_clean_run_is_read_as_requests_over_seconds() -> None:
    result = load.parse_wrk_output(WRK_SUMMARY.format(extra=""))
    assert (result.requests, result.seconds, result.not_ok) == (22264, 4.0, 0)
    assert result.rps == pytest.approx(5566.0)
    assert not result.pool_exhausted


def test_refused_answers_and_socket_errors_are_failures() -> None:
    extra = (
        "  Socket errors: connect 1, read 2, write 3, timeout 4\n  Non-2xx or 3xx responses: 50\n"
    )
    assert load.parse_wrk_output(WRK_SUMMARY.format(extra=extra)).not_ok == 60


def test_milliseconds_and_the_pool_script_s_line_are_read() -> None:
    out = WRK_SUMMARY.format(extra="").replace("in 4.00s", "in 250.00ms")
    result = load.parse_wrk_output(out + "pool_exhausted_threads: 1\n")
    assert result.seconds == 0.25
    assert result.pool_exhausted
    assert not load.parse_wrk_output(out + "pool_exhausted_threads: 0\n").pool_exhausted


def test_output_without_a_summary_is_an_error_not_zero() -> None:
    with pytest.raises(RuntimeError, match="unexpected wrk output"):
        load.parse_wrk_output("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_a_run_of_no_time_has_no_rate() -> None:
    assert load.LoadResult(requests=0, seconds=0.0, not_ok=0).rps == 0.0


# -- the wrk command ------------------------------------------------------------------------


@pytest.fixture
def fake_wrk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``wrk`` first on PATH that records its arguments and the pool file, then prints a
    summary; returns the directory it records into."""
    record = tmp_path / "record"
    record.mkdir()
    script = tmp_path / "bin" / "wrk"
    script.parent.mkdir()
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, pathlib, sys\n"
        f"record = pathlib.Path({str(record)!r})\n"
        "if sys.argv[1:] == ['-v']:\n"
        "    print('wrk debian/4.1.0-3 [epoll] Copyright (C) 2012 Will Glozer')\n"
        "    sys.exit(1)\n"
        "(record / 'argv.json').write_text(json.dumps(sys.argv[1:]))\n"
        "if '--' in sys.argv:\n"
        "    pool = pathlib.Path(sys.argv[sys.argv.index('--') + 1]).read_text()\n"
        "    (record / 'pool.txt').write_text(pool)\n"
        "    script = pathlib.Path(sys.argv[sys.argv.index('-s') + 1]).read_text()\n"
        "    (record / 'script.lua').write_text(script)\n"
        f"print({WRK_SUMMARY.format(extra='')!r})\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{script.parent}:/usr/bin:/bin")
    return record


def test_wrk_s_version_is_read_from_what_it_prints(fake_wrk: Path) -> None:
    assert load.wrk_version() == "wrk debian/4.1.0-3"


def test_no_wrk_on_path_means_no_version(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert load.wrk_version() is None


def test_one_token_goes_in_a_header_of_every_request(fake_wrk: Path) -> None:
    result = load.run_wrk("http://127.0.0.1:9/api/private", 3.4, token="tok")
    argv = json.loads((fake_wrk / "argv.json").read_text())
    assert argv == [
        "-t2", "-c8", "-d3s", "-H", "Authorization: Bearer tok", "http://127.0.0.1:9/api/private"
    ]  # fmt: skip
    assert result.requests == 22264


def test_a_pool_goes_to_the_script_one_token_a_line(fake_wrk: Path) -> None:
    load.run_wrk("http://127.0.0.1:9/x", 0.2, pool=["a", "b", "c"], threads=3, connections=6)
    argv = json.loads((fake_wrk / "argv.json").read_text())
    # at least a second; the script's arguments: the pool file and the threads sharing it
    assert argv[:4] == ["-t3", "-c6", "-d1s", "-s"]
    assert argv[5:7] == ["http://127.0.0.1:9/x", "--"]
    assert argv[8] == "3"
    assert (fake_wrk / "pool.txt").read_text() == "a\nb\nc\n"
    assert (fake_wrk / "script.lua").read_text() == load.WRK_SCRIPT


# -- real load ------------------------------------------------------------------------------

POOL = [f"t{n}" for n in range(40)]
POOL_HEADERS = [f"Bearer {token}" for token in POOL]


def test_the_python_generator_counts_answers_and_refusals(server: tuple[str, Recording]) -> None:
    url, recording = server
    good = load.run_python(url, 0.1, token="good", processes=1, threads=2)
    assert good.requests >= 2  # each thread sends one at least, however late it starts
    assert good.not_ok == 0
    assert set(recording.authorizations()) == {"Bearer good"}
    bad = load.run_python(url, 0.1, token="bad", processes=1, threads=2)
    assert bad.requests >= 2
    assert bad.not_ok == bad.requests


def test_a_python_generator_thread_past_its_deadline_still_sends_one(
    server: tuple[str, Recording],
) -> None:
    url, recording = server
    result = load.run_python(url, 0.0, token="late", processes=1, threads=3)
    assert result.requests == 3
    assert recording.authorizations() == ["Bearer late"] * 3


def test_the_python_generator_sends_each_pool_token_at_most_once(
    server: tuple[str, Recording],
) -> None:
    url, recording = server
    # Ends when the pool does; the duration only bounds a machine too loaded to send 40.
    result = load.run_python(url, 60.0, pool=POOL, processes=2, threads=2)
    assert result.pool_exhausted
    assert sorted(recording.authorizations()) == sorted(POOL_HEADERS)
    assert result.requests == len(POOL)


class FakeContext:
    """``multiprocessing.get_context("spawn")`` for ``run_python``: each process, once started,
    reports what ``answer`` makes of its pool (requests, seconds, not 200, ran out)."""

    def __init__(self, answer: Callable[[list[str]], tuple[int, float, int, bool]]) -> None:
        self.answer = answer
        self.pools: list[list[str]] = []
        self.queue: queue.Queue[tuple[int, float, int, bool]] = queue.Queue()

    def Queue(self) -> queue.Queue[tuple[int, float, int, bool]]:
        return self.queue

    def Process(self, target: Any, args: tuple[Any, ...]) -> Any:
        context, pool = self, args[6]

        class Child:
            def start(self) -> None:
                context.pools.append(pool)
                context.queue.put(context.answer(pool))

            def join(self, timeout: float | None = None) -> None:
                pass

            def is_alive(self) -> bool:
                return False

        return Child()


def test_the_python_generator_s_processes_add_up_to_one_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Requests and failures are summed over the processes, the run lasts as long as the
    longest, any process running out of tokens flags the run, and the pool is dealt out."""
    answers = iter([(300, 2.0, 5, False), (100, 4.0, 1, True), (200, 3.0, 0, False)])
    context = FakeContext(lambda pool: next(answers))
    monkeypatch.setattr(multiprocessing, "get_context", lambda method: context)
    result = load.run_python("http://127.0.0.1:9/api/private", 4.0, pool=POOL, processes=3)
    assert result == load.LoadResult(600, 4.0, 6, True)
    assert result.rps == 150.0
    assert sorted(token for pool in context.pools for token in pool) == sorted(POOL)


def test_the_python_generator_takes_plain_loopback_urls_only() -> None:
    with pytest.raises(ValueError, match="not an http://host:port/path URL"):
        load.run_python("https://127.0.0.1:9/api/public", 0.1)


needs_wrk = pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (`make wrk` installs it)"
)


@needs_wrk
def test_wrk_s_pool_script_sends_every_token_once_before_any_twice(
    paced_server: tuple[str, Recording],
) -> None:
    url, recording = paced_server
    result = load.run_wrk(url, 1, pool=POOL, threads=1, connections=1)
    assert result.pool_exhausted  # then it starts the pool over, and says so
    seen = recording.authorizations()
    assert set(seen) == set(POOL_HEADERS)
    # wrk asks the script for a request once before the run, so the first token may come last
    assert len(set(seen[: len(POOL)])) == len(POOL)


@needs_wrk
def test_wrk_s_threads_share_a_pool_without_sending_a_token_twice(
    paced_server: tuple[str, Recording],
) -> None:
    """Each thread takes every other token: a pool larger than a second of load is never
    exhausted, and no token reaches the server twice."""
    url, recording = paced_server
    pool = [f"t{n}" for n in range(4_000)]
    result = load.run_wrk(url, 1, pool=pool, threads=2, connections=2)
    assert not result.pool_exhausted
    seen = recording.authorizations()
    assert len(seen) > 10
    assert len(set(seen)) == len(seen)
