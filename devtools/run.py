"""``make run``: serve the API on 127.0.0.1 against a local mock IdP, with ready-to-paste curls.

Starts ``python -m mock_idp serve`` (keys kept in ``var/``), waits for its ready line, starts the
API under gunicorn (the production server, with ``DJANGO_DEBUG`` off) pointed at that issuer,
waits until ``/api/public`` answers, mints two tokens with ``python -m mock_idp token`` (one
without scopes) and prints a ``curl`` line per route, and two refused ones. SIGINT or SIGTERM
stops the API, then the IdP; each child runs in its own session so that its whole process group
(gunicorn's workers too) is stopped, and on Linux dies with this process even if it is killed
outright.
"""

from __future__ import annotations

import argparse
import os
import queue
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

from devtools.processes import (
    LOOPBACK,
    PROJECT_ROOT,
    api_environment,
    gunicorn_command,
    start_in_session,
    stop_process_group,
    wait_until_serving,
)
from mock_idp import DEFAULT_AUDIENCE

DEFAULT_API_PORT = 8000
DEFAULT_IDP_PORT = 8001
DEFAULT_SCOPE = "read:messages"
TOKEN_LIFETIME = 3600
IDP_READY_PREFIX = "mock_idp serving"
PUBLIC_ROUTE = "/api/public"
PRIVATE_ROUTE = "/api/private"
SCOPED_ROUTE = "/api/private-scoped"  # needs DEFAULT_SCOPE
ROUTES = (PUBLIC_ROUTE, PRIVATE_ROUTE, SCOPED_ROUTE)
#: gunicorn's default access log without the query string and the referrer: a token sent as
#: ``?access_token=`` (refused, RFC 6750 section 2.3) must not reach the log either.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'


class DevRunError(RuntimeError):
    """The stack could not be started; the message says why and what to do."""


@dataclass(frozen=True)
class DevConfig:
    """Where the two servers listen and what the API expects of tokens."""

    api_port: int = DEFAULT_API_PORT
    idp_port: int = DEFAULT_IDP_PORT
    audience: str = DEFAULT_AUDIENCE
    state_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "var")
    python: str = sys.executable
    startup_timeout: float = 30.0

    @property
    def api_url(self) -> str:
        """Base URL of the API, without a trailing slash."""
        return f"http://{LOOPBACK}:{self.api_port}"

    @property
    def issuer(self) -> str:
        """The mock IdP's issuer, Auth0-style with a trailing slash."""
        return f"http://{LOOPBACK}:{self.idp_port}/"

    @property
    def keys_file(self) -> Path:
        """The mock IdP's private keys (mode 0600, created on first run, reused after)."""
        return self.state_dir / "mock_idp_keys.json"


def idp_command(config: DevConfig) -> list[str]:
    """The command line serving the mock IdP."""
    return [
        config.python, "-m", "mock_idp", "serve",
        "--host", LOOPBACK,
        "--port", str(config.idp_port),
        "--keys", str(config.keys_file),
        "--issuer", config.issuer,
        "--audience", config.audience,
    ]  # fmt: skip


def api_command(config: DevConfig) -> list[str]:
    """The command line serving the API: gunicorn, as in production."""
    return gunicorn_command(
        config.api_port,
        "--workers", "1",
        "--threads", "4",
        "--access-logfile", "-",
        "--access-logformat", ACCESS_LOG_FORMAT,
        "--graceful-timeout", "5",
        python=config.python,
    )  # fmt: skip


def token_command(config: DevConfig, scope: str = DEFAULT_SCOPE) -> list[str]:
    """The command line minting an access token offline with the IdP's keys."""
    return [
        config.python, "-m", "mock_idp", "token",
        "--keys", str(config.keys_file),
        "--issuer", config.issuer,
        "--audience", config.audience,
        "--scope", scope,
        "--expires-in", str(TOKEN_LIFETIME),
    ]  # fmt: skip


def api_env(config: DevConfig, base: Mapping[str, str]) -> dict[str, str]:
    """The API's environment: ``base`` with every AUTH0_* and DJANGO_* setting pinned to the
    mock IdP (``devtools.processes.api_environment``), so a developer's ``.env`` cannot point
    the dev server at a real tenant."""
    return api_environment(
        config.issuer,
        config.audience,
        base=base,
        DJANGO_ALLOWED_HOSTS=f"{LOOPBACK},localhost",
    )


def curl(url: str, token: str | None = None, *, show_headers: bool = False) -> str:
    """A ready-to-paste ``curl`` for ``url``, with ``token`` as its bearer token if given, and
    ``-i`` to show the answer's headers (``WWW-Authenticate``)."""
    argv = ["curl", *(["-i"] if show_headers else [])]
    if token is not None:
        argv += ["-H", f"Authorization: Bearer {token}"]
    return shlex.join([*argv, url])


def curl_lines(config: DevConfig, token: str) -> list[str]:
    """One ready-to-paste ``curl`` per route; the protected ones carry ``token``."""
    return [
        curl(config.api_url + route, None if route == PUBLIC_ROUTE else token) for route in ROUTES
    ]


def refusal_lines(config: DevConfig, unscoped_token: str) -> list[str]:
    """Two refused requests: no token (401), and a token without ``DEFAULT_SCOPE`` on the
    route that needs it (403)."""
    return [
        curl(config.api_url + PRIVATE_ROUTE, show_headers=True),
        curl(config.api_url + SCOPED_ROUTE, unscoped_token, show_headers=True),
    ]


def token_request_line(config: DevConfig, scope: str = DEFAULT_SCOPE) -> str:
    """The ``curl`` asking the mock IdP for another token (client credentials, Auth0-style)."""
    argv = [
        "curl", "-X", "POST", f"{config.issuer}oauth/token",
        "-d", "grant_type=client_credentials",
        "-d", "client_id=x",
        "-d", "client_secret=y",
        "-d", f"audience={config.audience}",
        "-d", f"scope={scope}",
    ]  # fmt: skip
    return shlex.join(argv)


def banner(config: DevConfig, token: str, unscoped_token: str) -> str:
    """What is printed once both servers answer."""
    minutes = TOKEN_LIFETIME // 60
    out = [
        "",
        f"API ready on {config.api_url}/ (mock IdP {config.issuer}, audience {config.audience})",
        f"Try it (token valid for {minutes} minutes):",
        "",
        *(f"  {line}" for line in curl_lines(config, token)),
        "",
        f"Refused: no token (401), and a token without {DEFAULT_SCOPE} (403):",
        "",
        *(f"  {line}" for line in refusal_lines(config, unscoped_token)),
        "",
        "More tokens from the mock IdP:",
        "",
        f"  {token_request_line(config)}",
        "",
        "Ctrl-C stops both servers.",
        "",
    ]
    return "\n".join(out)


def ensure_port_free(port: int, what: str) -> None:
    """Fail early, with a hint, when ``port`` on 127.0.0.1 is taken.

    Otherwise the readiness check could be answered by whatever already listens there.
    Connections of a previous run lingering in TIME_WAIT do not count, as for the servers.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError as exc:
            variable = "API_PORT" if what == "API" else "IDP_PORT"
            raise DevRunError(
                f"{what} port {LOOPBACK}:{port} is in use ({exc.strerror}); "
                f"pick another, e.g. `make run {variable}={port + 1000}`"
            ) from exc


@dataclass
class Child:
    """A server started by the runner, in its own session (process group).

    With a piped stdout, a daemon thread echoes each line prefixed with the name and queues it
    for ``wait_for_line``; ``None`` is queued at end of file.
    """

    name: str
    process: subprocess.Popen[str]
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    pump: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the process has not exited yet."""
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process, SIGKILL its group if it lingers, reap it and drain its output."""
        if not stop_process_group(self.process, timeout):
            print(f"devtools: {self.name} ignored SIGTERM for {timeout}s; killed it")
        if self.pump is not None:
            # The pipe's writers are gone, so the echo thread reaches end of file.
            self.pump.join(timeout)


def spawn(name: str, argv: Sequence[str], env: Mapping[str, str], *, pipe_stdout: bool) -> Child:
    """Start ``argv`` in the project root, in a new session, dying with this process."""
    process = start_in_session(
        argv, env, stdout=subprocess.PIPE if pipe_stdout else None, stderr=None, text=True
    )
    child = Child(name, process)
    if process.stdout is not None:
        child.pump = threading.Thread(
            target=_pump, args=(process.stdout, child.lines, f"[{name}] "), daemon=True
        )
        child.pump.start()
    return child


def _pump(stream: IO[str], lines: queue.Queue[str | None], echo_prefix: str) -> None:
    """Copy ``stream`` to stdout line by line, queueing each line, then ``None``; close it."""
    with stream:
        for line in stream:
            lines.put(line)
            print(f"{echo_prefix}{line}", end="", flush=True)
    lines.put(None)


def wait_for_line(child: Child, prefix: str, timeout: float) -> str:
    """Wait until ``child`` prints a stdout line starting with ``prefix``."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DevRunError(f"{child.name} printed no '{prefix}' line within {timeout:.0f}s")
        try:
            line = child.lines.get(timeout=remaining)
        except queue.Empty:
            continue
        if line is None:
            child.process.wait()
            raise DevRunError(f"{child.name} exited (status {child.process.returncode}) early")
        if line.startswith(prefix):
            return line.strip()


def wait_for_http(child: Child, url: str, timeout: float) -> None:
    """Poll ``url`` until it answers 200, failing fast if ``child`` exits."""
    try:
        wait_until_serving(url, child.process, timeout, name=child.name)
    except RuntimeError as exc:
        raise DevRunError(str(exc)) from exc


def mint_token(config: DevConfig, env: Mapping[str, str], scope: str = DEFAULT_SCOPE) -> str:
    """A fresh access token from ``python -m mock_idp token``."""
    try:
        result = subprocess.run(  # noqa: S603 - argv is built by this module
            token_command(config, scope),
            cwd=PROJECT_ROOT,
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=config.startup_timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:  # killed by subprocess.run
        raise DevRunError(
            f"mock_idp token did not finish within {config.startup_timeout:g} s"
        ) from exc
    token = result.stdout.strip()
    if result.returncode != 0 or not token:
        raise DevRunError(f"mock_idp token failed ({result.returncode}): {result.stderr.strip()}")
    return token


class DevStack:
    """The mock IdP and the API, started in order and stopped in reverse order."""

    def __init__(self, config: DevConfig, base_env: Mapping[str, str] | None = None) -> None:
        self.config = config
        self.base_env = dict(os.environ if base_env is None else base_env)
        self.children: list[Child] = []
        self.token = ""
        self.unscoped_token = ""

    def start(self) -> None:
        """Start both servers, wait until each answers, and mint a token."""
        config = self.config
        ensure_port_free(config.idp_port, "IdP")
        ensure_port_free(config.api_port, "API")
        config.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        env = {**self.base_env, "PYTHONUNBUFFERED": "1"}
        idp = spawn("mock_idp", idp_command(config), env, pipe_stdout=True)
        self.children.append(idp)
        wait_for_line(idp, IDP_READY_PREFIX, config.startup_timeout)
        api = spawn("api", api_command(config), api_env(config, env), pipe_stdout=False)
        self.children.append(api)
        wait_for_http(api, config.api_url + "/api/public", config.startup_timeout)
        self.token = mint_token(config, env)
        self.unscoped_token = mint_token(config, env, scope="")

    def stop(self) -> None:
        """Stop the API, then the IdP."""
        while self.children:
            self.children.pop().stop()

    def wait(self) -> int:
        """Block until a child exits on its own; return 1 (a server should not stop by itself)."""
        while True:
            for child in self.children:
                if not child.running:
                    print(f"devtools: {child.name} exited (status {child.process.returncode})")
                    return 1
            time.sleep(0.5)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stop(Exception):
    """Raised in the main thread by SIGINT or SIGTERM."""


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def parse_args(argv: Sequence[str] | None) -> DevConfig:
    """Build the configuration from the command line (ports default from the environment)."""
    parser = argparse.ArgumentParser(prog="python -m devtools.run", description=__doc__)
    parser.add_argument(
        "--api-port", type=int, default=int(os.environ.get("API_PORT", DEFAULT_API_PORT))
    )
    parser.add_argument(
        "--idp-port", type=int, default=int(os.environ.get("IDP_PORT", DEFAULT_IDP_PORT))
    )
    parser.add_argument("--audience", default=DEFAULT_AUDIENCE)
    parser.add_argument("--state-dir", type=Path, default=PROJECT_ROOT / "var")
    args = parser.parse_args(argv)
    if args.api_port == args.idp_port:
        parser.error("--api-port and --idp-port must differ")
    return DevConfig(
        api_port=args.api_port,
        idp_port=args.idp_port,
        audience=args.audience,
        state_dir=args.state_dir.resolve(),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the stack until SIGINT/SIGTERM; 0 on a requested stop, 1 on a failure."""
    config = parse_args(argv)
    stack = DevStack(config)
    previous = {sig: signal.signal(sig, _raise_stop) for sig in STOP_SIGNALS}
    try:
        stack.start()
        print(banner(config, stack.token, stack.unscoped_token), flush=True)
        return stack.wait()
    except Stop as stop:
        print(f"\ndevtools: {stop}, stopping the API and the mock IdP", flush=True)
        return 0
    except DevRunError as exc:
        print(f"devtools: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        # A second Ctrl-C during shutdown must not leave children behind.
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
