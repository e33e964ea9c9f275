"""Process helpers shared by make run, the bench and the soak run."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from devtools import processes
from devtools.processes import (
    PROJECT_ROOT,
    api_environment,
    api_server,
    child_pids,
    start_in_session,
    stop_process_group,
    wait_until_serving,
)
from tests.process_checks import alive, gone_within
from tests.recording_server import recording_server

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A child of this process that does nothing until the test kills it."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield process
    finally:
        process.kill()
        process.wait()


@pytest.fixture
def child(sleeper: subprocess.Popen[bytes]) -> int:
    return sleeper.pid


def test_child_pids_lists_this_process_s_children(child: int) -> None:
    assert child in child_pids(os.getpid())
    assert child_pids(child) == []


def test_child_pids_scans_proc_where_the_kernel_lists_no_children(
    child: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Path, "glob", lambda self, pattern: iter(()))
    assert child in child_pids(os.getpid())
    assert child_pids(child) == []


def test_readiness_polls_ignore_a_developer_s_http_proxy() -> None:
    """In a process whose environment names a proxy when it imports the module: urllib reads
    the proxy settings as the opener is built, so setting them here, later, would prove nothing."""
    code = (
        "import subprocess, sys\n"
        "from devtools.processes import wait_until_serving\n"
        "sleeper = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "try:\n"
        "    wait_until_serving(sys.argv[1], sleeper, timeout=5)\n"
        "finally:\n"
        "    sleeper.kill()\n"
        "    sleeper.wait()\n"
    )
    proxied = {name: value for name, value in os.environ.items() if name.lower() != "no_proxy"}
    proxied["http_proxy"] = "http://127.0.0.1:9"  # nothing listens there
    with recording_server() as recording:
        result = subprocess.run(
            [sys.executable, "-c", code, f"{recording.base}/"],
            cwd=PROJECT_ROOT,
            env=proxied,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert [path for path, _headers in recording.requests] == ["/"]


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


def test_child_pids_scan_reads_a_command_name_holding_parentheses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    odd = tmp_path / "x) S 1 "  # read up to the first ')', the parent would be pid 1
    odd.symlink_to(os.path.realpath(shutil.which("sleep") or "/bin/sleep"))
    process = subprocess.Popen([str(odd), "60"])
    try:
        monkeypatch.setattr(Path, "glob", lambda self, pattern: iter(()))
        assert process.pid in child_pids(os.getpid())
    finally:
        process.kill()
        process.wait()


def test_child_pids_are_sorted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    listing = tmp_path / "children"
    listing.write_text("300 100 200 ")
    monkeypatch.setattr(Path, "glob", lambda self, pattern: iter([listing]))
    assert child_pids(1) == [100, 200, 300]  # bench.worker_cpu compares these between samples


def test_child_pids_skips_a_thread_that_ended_meanwhile(monkeypatch: pytest.MonkeyPatch) -> None:
    read_text = Path.read_text

    def vanished(self: Path, *args: Any, **kwargs: Any) -> str:
        if self.name == "children":
            raise FileNotFoundError(self)
        return read_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", vanished)
    assert child_pids(os.getpid()) == []


def test_api_environment_pins_every_setting_the_api_reads() -> None:
    settings = (PROJECT_ROOT / "apiexample" / "settings.py").read_text()
    read = set(re.findall(r'_env\w*\("((?:AUTH0|DJANGO)_\w+)"', settings))
    assert len(read) > 10  # the pattern still finds how settings.py reads them
    env = api_environment("http://127.0.0.1:1/", base={})
    assert read <= set(env), read - set(env)


def test_api_environment_drops_other_auth0_and_django_variables() -> None:
    base = {"DJANGO_EXTRA": "x", "AUTH0_EXTRA": "y", "KEEP": "z"}
    env = api_environment("http://i/", base=base)
    assert "DJANGO_EXTRA" not in env
    assert "AUTH0_EXTRA" not in env
    assert env["KEEP"] == "z"


def test_api_environment_allows_only_loopback_and_takes_the_audience() -> None:
    env = api_environment("http://i/", "https://custom.test", base={}, AUTH0_LEEWAY="5")
    assert env["DJANGO_ALLOWED_HOSTS"] == "127.0.0.1"
    assert env["AUTH0_AUDIENCE"] == "https://custom.test"
    assert env["AUTH0_LEEWAY"] == "5"


@pytest.mark.parametrize("answer", [b"", b"garbage\r\n\r\n"], ids=["mute", "not-http"])
def test_readiness_gives_up_on_a_port_that_never_answers_http(
    sleeper: subprocess.Popen[bytes], answer: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A port that accepts connections and never answers, or answers something not HTTP: the
    poll fails with its own error once its timeout is over, each try bounded by it too."""
    timeouts: list[float] = []
    opener = processes._DIRECT

    def spied_open(url: str, timeout: float) -> Any:
        timeouts.append(timeout)
        return opener.open(url, timeout=timeout)

    monkeypatch.setattr(processes, "_DIRECT", SimpleNamespace(open=spied_open))
    with socket.create_server(("127.0.0.1", 0)) as listener:
        stop = threading.Event()

        def answer_each() -> None:
            listener.settimeout(0.05)
            while not stop.is_set():
                try:
                    connection, _ = listener.accept()
                except TimeoutError:
                    continue
                with connection:  # held open, never answered (mute), until the test ends
                    if answer:
                        connection.sendall(answer)
                    stop.wait()

        server = threading.Thread(target=answer_each)
        server.start()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        errors: list[Exception] = []

        def poll() -> None:
            try:
                wait_until_serving(url, sleeper, timeout=0.3)
            except Exception as exc:
                errors.append(exc)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        poller.join(10)  # not a timing assertion: a poll without a timeout never returns
        stop.set()
        server.join()
    assert not poller.is_alive(), "the readiness poll hung on a port that never answers"
    assert [type(e) for e in errors] == [RuntimeError]
    assert "did not answer" in str(errors[0])
    assert timeouts
    assert max(timeouts) <= 0.3  # no try outlasts the poll's own timeout


def test_stop_process_group_kills_the_whole_group() -> None:
    code = (
        "import subprocess, sys, time\n"
        "ignoring = 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print(1, flush=True); time.sleep(60)'\n"
        "g = subprocess.Popen([sys.executable, '-c', ignoring], stdout=subprocess.PIPE)\n"
        "g.stdout.readline()\n"
        "print(g.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    leader = start_in_session(
        [sys.executable, "-c", code], {}, stdout=subprocess.PIPE, stderr=None, text=True
    )
    assert leader.stdout is not None
    grandchild = int(leader.stdout.readline())  # it ignores SIGTERM by now
    try:
        assert stop_process_group(leader, grace=5)
        assert gone_within([grandchild], 5)
    finally:
        leader.stdout.close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(grandchild, signal.SIGKILL)


def test_stop_process_group_kills_and_reaps_a_process_ignoring_sigterm() -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print(1, flush=True); time.sleep(60)"
    )
    process = start_in_session(
        [sys.executable, "-c", code], {}, stdout=subprocess.PIPE, stderr=None, text=True
    )
    assert process.stdout is not None
    try:
        process.stdout.readline()  # it ignores SIGTERM by now
        assert stop_process_group(process, grace=0.2) is False  # it disobeyed, and says so
        assert process.returncode == -signal.SIGKILL  # reaped: no zombie left behind
    finally:
        process.stdout.close()
        if process.returncode is None:
            process.kill()
            process.wait()


def test_start_in_session_pins_stdin_and_honours_stderr(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    code = (
        "import os, sys; print(os.getcwd(), os.readlink('/proc/self/fd/0')); "
        "print('e', file=sys.stderr)"
    )
    read_end, write_end = os.pipe()  # whatever stdin pytest has, this process's is a pipe now
    saved = os.dup(0)
    os.dup2(read_end, 0)
    try:
        process = start_in_session(
            [sys.executable, "-c", code],
            {},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        os.dup2(saved, 0)
        for fd in (saved, read_end, write_end):
            os.close(fd)
    out, err = process.communicate(timeout=30)
    assert out.split() == [str(PROJECT_ROOT), os.devnull]
    assert err == "e\n"


@pytest.mark.live
def test_api_server_logs_and_yields_the_master_then_stops_every_process(tmp_path: Path) -> None:
    log = tmp_path / "api.log"
    with api_server(api_environment("http://127.0.0.1:9/"), "--workers", "2", log=log) as server:
        assert b"gunicorn" in Path(f"/proc/{server.pid}/cmdline").read_bytes()
        deadline = time.monotonic() + 10
        while len(child_pids(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        started = [server.pid, *child_pids(server.pid)]
        assert len(started) == 3
    assert not [pid for pid in started if alive(pid)]
    assert "Listening at: http://127.0.0.1:" in log.read_text()


@pytest.mark.live
def test_an_api_server_not_ready_in_time_is_stopped() -> None:
    before = set(child_pids(os.getpid()))
    with (
        pytest.raises(RuntimeError, match="did not answer"),
        api_server(api_environment("http://127.0.0.1:9/"), timeout=0.0),
    ):
        pass  # pragma: no cover - never entered
    assert set(child_pids(os.getpid())) <= before
