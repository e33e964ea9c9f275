"""``make run`` end to end: the real mock IdP and API on 127.0.0.1, the printed curls, the stop.

Each test starts the stack on free ports with its keys in a temporary directory, so it can run
beside a developer's ``make run`` and in parallel tox environments.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from devtools import run
from devtools.processes import PROJECT_ROOT
from devtools.run import DevConfig, DevRunError
from tests.process_checks import alive, free_ports

pytestmark = pytest.mark.live

MESSAGES = {
    "/api/public": "Hello from a public endpoint! You don't need to be authenticated to see this.",
    "/api/private": "Hello from a private endpoint! You need to be authenticated to see this.",
    "/api/private-scoped": (
        "Hello from a private endpoint! You need to be authenticated and have a scope of "
        "read:messages to see this."
    ),
}


@pytest.fixture
def config(tmp_path: Path) -> DevConfig:
    api_port, idp_port = free_ports(2)
    return DevConfig(api_port=api_port, idp_port=idp_port, state_dir=tmp_path / "var")


def run_curl(line: str) -> tuple[int, str]:
    """Execute a printed curl line (with curl when installed) and return status and body."""
    argv = shlex.split(line)
    assert argv[0] == "curl"
    if shutil.which("curl"):
        result = subprocess.run(
            [*argv, "--silent", "--write-out", "\n%{http_code}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        body, _, status = result.stdout.rpartition("\n")
        return int(status), body
    headers = dict(
        argv[i + 1].split(": ", 1) for i, arg in enumerate(argv) if arg == "-H"
    )  # pragma: no cover - curl is installed where CI runs
    request = urllib.request.Request(argv[-1], headers=headers)  # pragma: no cover
    with urllib.request.urlopen(request, timeout=30) as response:  # pragma: no cover
        return response.status, response.read().decode()


def assert_curls_answer(output: str) -> None:
    """Every route's printed curl gets its 200 and message, each refusal its status and
    ``WWW-Authenticate``."""
    curls = [line.strip() for line in output.splitlines() if line.strip().startswith("curl ")]
    by_route = {shlex.split(line)[-1].rsplit("/api", 1)[-1]: line for line in curls[:3]}
    assert sorted(by_route) == ["/private", "/private-scoped", "/public"]
    for route, line in by_route.items():
        status, body = run_curl(line)
        assert status == 200, (line, body)
        assert json.loads(body) == {"message": MESSAGES[f"/api{route}"]}
    refusals = {401: 'Bearer realm="api"', 403: 'error="insufficient_scope"'}
    for line, (expected, challenge) in zip(curls[3:5], refusals.items(), strict=True):
        assert shlex.split(line)[:2] == ["curl", "-i"]
        if shutil.which("curl"):  # -i: the headers come first
            status, answer = run_curl(line)
            assert status == expected, (line, answer)
            assert challenge in answer
    assert curls[5].startswith("curl -X POST http://127.0.0.1:")
    if shutil.which("curl"):  # the /oauth/token line, as a new user would paste it
        status, body = run_curl(curls[5])
        assert status == 200, body
        token = json.loads(body)["access_token"]
        scoped = next(line for line in curls[:3] if line.endswith("/api/private-scoped"))
        api_url = shlex.split(scoped)[-1]
        status, body = run_curl(f"curl -H 'Authorization: Bearer {token}' {api_url}")
        assert status == 200, body


def survivors(*needles: str) -> list[str]:
    """Command lines of live processes mentioning any of ``needles`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if any(needle in cmdline for needle in needles) and alive(int(entry.name)):
            found.append(cmdline)
    return found


def ports_free(config: DevConfig) -> bool:
    try:
        run.ensure_port_free(config.api_port, "API")
        run.ensure_port_free(config.idp_port, "IdP")
    except DevRunError:
        return False
    return True


def assert_no_survivors(config: DevConfig, within: float = 10.0) -> None:
    """No process of the run is left, and both ports are free. A process killed a moment ago
    may have left /proc's command lines (its memory is freed first) and still hold its sockets
    (closed after), so both are polled for."""
    needles = (f"127.0.0.1:{config.api_port}", str(config.keys_file))
    deadline = time.monotonic() + within
    while (survivors(*needles) or not ports_free(config)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert survivors(*needles) == []
    run.ensure_port_free(config.api_port, "API")
    run.ensure_port_free(config.idp_port, "IdP")


def test_main_serves_the_printed_curls_and_stops_on_sigterm(
    config: DevConfig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    printed = threading.Event()
    finished = threading.Event()
    real_banner = run.banner
    outputs: list[str] = []

    def banner(config: DevConfig, token: str, unscoped_token: str) -> str:
        text = real_banner(config, token, unscoped_token)
        outputs.append(text)
        printed.set()
        return text

    def check_then_stop() -> None:
        try:  # start-up may take 3 x 30 s (the IdP's line, the API's answer, a token)
            if printed.wait(120) and not finished.is_set():
                assert_curls_answer(outputs[0])
                outputs.append("curls ok")
        finally:  # whatever happened: a failure must fail the test, never leave it serving
            if not finished.is_set():
                os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(run, "banner", banner)
    handler_before = signal.getsignal(signal.SIGTERM)
    checker = threading.Thread(target=check_then_stop, daemon=True)
    checker.start()
    argv = ["--api-port", str(config.api_port), "--idp-port", str(config.idp_port)]
    try:
        code = run.main([*argv, "--state-dir", str(config.state_dir)])
    finally:
        finished.set()
        printed.set()
        checker.join(30)
    out = capsys.readouterr().out
    assert code == 0, out
    assert outputs[-1] == "curls ok"
    assert "SIGTERM, stopping the API and the mock IdP" in out
    assert signal.getsignal(signal.SIGTERM) == handler_before, "handlers restored"
    assert config.keys_file.stat().st_mode & 0o777 == 0o600
    assert_no_survivors(config)


def test_main_reports_a_busy_port(config: DevConfig, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", config.api_port))
        busy.listen()
        argv = ["--api-port", str(config.api_port), "--idp-port", str(config.idp_port)]
        assert run.main([*argv, "--state-dir", str(config.state_dir)]) == 1
    assert f"make run API_PORT={config.api_port + 1000}" in capsys.readouterr().err
    assert_no_survivors(config)


@dataclass
class Runner:
    """A ``python -m devtools.run`` process and what it printed up to its banner's end."""

    process: subprocess.Popen[str]
    output: str


#: Start-up may take 3 x 30 s (the IdP's line, the API's answer, a token).
STARTUP_ALLOWANCE = 100.0


def read_until(stream: IO[str], prefix: str, lines: list[str]) -> None:
    """Append ``stream``'s lines to ``lines`` up to the first starting with ``prefix``."""
    for line in stream:
        lines.append(line)
        if line.startswith(prefix):
            return


@pytest.fixture
def runner(config: DevConfig) -> Iterator[Runner]:
    """``python -m devtools.run`` as ``make run`` starts it, once it has printed its curls."""
    argv = [
        sys.executable, "-m", "devtools.run",
        "--api-port", str(config.api_port), "--idp-port", str(config.idp_port),
        "--state-dir", str(config.state_dir),
    ]  # fmt: skip
    # Without PYTHONUNBUFFERED, so the banner reaches a pipe only if devtools.run flushes it.
    env = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    process = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    output: list[str] = []
    reader = threading.Thread(target=read_until, args=(process.stdout, "Ctrl-C stops", output))
    reader.start()
    reader.join(STARTUP_ALLOWANCE)
    if not (output and output[-1].startswith("Ctrl-C stops")):  # the stack could not start
        process.kill()
        process.wait(30)
        reader.join(30)
        process.stdout.close()
        pytest.fail(f"devtools.run printed no curls ({process.returncode}):\n{''.join(output)}")
    try:
        yield Runner(process, "".join(output))
    finally:
        if process.poll() is None:  # pragma: no cover - only when a test failed early
            process.kill()
        process.wait(30)
        process.stdout.close()


def test_runner_process_answers_its_curls_and_stops_both_servers_on_sigint(
    runner: Runner, config: DevConfig
) -> None:
    assert_curls_answer(runner.output)
    runner.process.send_signal(signal.SIGINT)
    assert runner.process.wait(30) == 0
    assert_no_survivors(config)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_killed_runner_leaves_no_orphans(runner: Runner, config: DevConfig) -> None:
    assert "Ctrl-C stops" in runner.output
    runner.process.kill()
    runner.process.wait(30)
    assert_no_survivors(config)


def test_runner_process_stops_both_servers_on_sigterm_and_logs_no_token_sent_in_the_query(
    runner: Runner, config: DevConfig
) -> None:
    """One stack (about a second of CPU to start) for both: the printed curls before a SIGTERM
    are ``test_main_serves_the_printed_curls_and_stops_on_sigterm``'s."""
    secret = "eyJhbGciOiJSUzI1NiJ9.query-token-material.c2ln"
    url = f"http://127.0.0.1:{config.api_port}/api/private?access_token={secret}"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=30)
    refused.value.close()
    assert refused.value.code == 401
    runner.process.send_signal(signal.SIGTERM)
    assert runner.process.wait(30) == 0
    assert runner.process.stdout is not None
    log = runner.process.stdout.read()
    assert '"GET /api/private HTTP/1.1" 401' in log  # the request was logged...
    assert secret not in log  # ...without its query string
    assert_no_survivors(config)
