"""Processes the project's tooling starts on 127.0.0.1: free ports, gunicorn, orphan safety.

Shared by ``make run`` (devtools.run), the benchmark, the soak run and the live tests, so the
API is always started the same way: ``gunicorn apiexample.wsgi:application`` bound to loopback.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, NamedTuple

from apiexample import conf
from devtools.parent_death import die_with_parent
from mock_idp import DEFAULT_AUDIENCE

LOOPBACK = "127.0.0.1"
API_APP = "apiexample.wsgi:application"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Readiness polls go straight to 127.0.0.1, whatever ``http_proxy`` a developer has set.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def child_pids(pid: int) -> list[int]:
    """Pids whose parent is ``pid``, from Linux's ``/proc`` (proc(5)): the ``children`` file of
    each of its threads, or a scan of every process where the kernel has no such files."""
    found: set[int] = set()
    listings = list(Path(f"/proc/{pid}/task").glob("*/children"))
    for listing in listings:
        with contextlib.suppress(OSError):  # the thread ended meanwhile
            found.update(int(child) for child in listing.read_text().split())
    if not listings:
        processes = (entry for entry in Path("/proc").iterdir() if entry.name.isdigit())
        for entry in processes:
            with contextlib.suppress(OSError):  # the process ended meanwhile
                # The command name may hold spaces and parentheses: fields follow the last ')'.
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
                if len(fields) > 1 and fields[1] == str(pid):
                    found.add(int(entry.name))
    return sorted(found)


def no_control_socket() -> list[str]:
    """``--no-control-socket`` where gunicorn has a control socket (newer than 23).

    Otherwise every gunicorn shares ``~/.gunicorn/gunicorn.ctl``, parallel runs included.
    """
    config_module = importlib.import_module("gunicorn.config")
    names = {setting.name for setting in config_module.KNOWN_SETTINGS}
    return ["--no-control-socket"] if "control_socket_disable" in names else []


#: Our gunicorn config: the production settings, and each worker dies with the master
#: (``devtools.gunicorn_hooks``).
GUNICORN_CONFIG = "python:devtools.gunicorn_hooks"


def gunicorn_command(
    port: int, *options: str, python: str = sys.executable, app: str = API_APP
) -> list[str]:
    """``gunicorn apiexample.wsgi:application`` (or ``app``) on 127.0.0.1:``port``, with the
    production settings (``apiexample.gunicorn_config``), its workers dying with it.

    The config is ours (``GUNICORN_CONFIG``): ``options`` may not name another, which would
    replace it (gunicorn keeps the last); pass settings as options instead.
    """
    if {"-c", "--config"} & set(options) or any(o.startswith("--config=") for o in options):
        raise ValueError(f"gunicorn's config is {GUNICORN_CONFIG}; pass settings as options")
    return [
        python, "-m", "gunicorn", app,
        "--config", GUNICORN_CONFIG,
        "--bind", f"{LOOPBACK}:{port}",
        *no_control_socket(),
        *options,
    ]  # fmt: skip


def api_environment(
    issuer: str,
    audience: str = DEFAULT_AUDIENCE,
    *,
    base: Mapping[str, str] | None = None,
    **overrides: str,
) -> dict[str, str]:
    """The API's environment: ``base`` (default ``os.environ``) with every AUTH0_* and DJANGO_*
    setting pinned, the documented defaults where not given, so a developer's ``.env`` (read without
    overriding the environment) can never point the API elsewhere; then ``overrides``."""
    env = {
        name: value
        for name, value in (os.environ if base is None else base).items()
        if not name.startswith(("AUTH0_", "DJANGO_"))
    }
    env.update(
        PYTHONPATH=str(PROJECT_ROOT),
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="apiexample.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(32),
        DJANGO_DEBUG="false",
        DJANGO_ALLOWED_HOSTS=LOOPBACK,
        AUTH0_DOMAIN="",
        AUTH0_ISSUER=issuer,
        AUTH0_AUDIENCE=audience,
        AUTH0_JWKS_URL=f"{issuer}.well-known/jwks.json",
        AUTH0_ALGORITHMS=",".join(conf.DEFAULT_ALGORITHMS),
        AUTH0_LEEWAY=str(conf.DEFAULT_LEEWAY),
        AUTH0_JWKS_CACHE_TTL=str(conf.DEFAULT_JWKS_CACHE_TTL),
        AUTH0_JWKS_COOLDOWN=str(conf.DEFAULT_JWKS_COOLDOWN),
        AUTH0_JWKS_TIMEOUT=str(conf.DEFAULT_JWKS_TIMEOUT),
        AUTH0_JWKS_STALE_IF_ERROR=str(conf.DEFAULT_JWKS_STALE_IF_ERROR),
        AUTH0_TOKEN_CACHE_SIZE=str(conf.DEFAULT_TOKEN_CACHE_SIZE),
    )
    env.update(overrides)
    return env


def wait_until_serving(
    url: str, process: subprocess.Popen[Any], timeout: float = 30.0, name: str = "the server"
) -> None:
    """Poll ``url`` until it answers 200; fail early if ``process`` (called ``name``) exits."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            # Each poll ends by the deadline, even against a port that accepts and never answers.
            poll_timeout = min(2.0, max(deadline - time.monotonic(), 0.05))
            with _DIRECT.open(url, timeout=poll_timeout) as answer:
                if answer.status == 200:
                    return
        except (OSError, http.client.HTTPException):  # not listening yet, or not HTTP
            pass
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited (status {process.returncode}) early")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not answer {url} within {timeout:.0f} s")
        time.sleep(0.05)


def stop_process_group(process: subprocess.Popen[Any], grace: float = 10.0) -> bool:
    """SIGTERM a process started in its own session, then SIGKILL whatever is left of its
    group (gunicorn's workers included) after it exits or ``grace`` runs out; reap it.

    Returns False when the process itself ignored SIGTERM for ``grace`` and was killed.
    """
    obeyed = True
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            obeyed = False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return obeyed


def start_in_session(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    stdout: IO[Any] | int | None,
    stderr: IO[Any] | int | None,
    text: bool = False,
) -> subprocess.Popen[Any]:
    """Start ``argv`` in the project root, in a session of its own (so ``stop_process_group``
    reaches all its processes) and, on Linux, SIGKILLed by the kernel if this process dies."""
    return subprocess.Popen(  # noqa: S603 - our own command lines
        list(argv),
        cwd=PROJECT_ROOT,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        text=text,
        start_new_session=True,
        preexec_fn=die_with_parent(),  # only prctl, resolved before fork
    )


class RunningServer(NamedTuple):
    """What ``serving`` started: where it answers, and the pid of the server (gunicorn's master)."""

    base: str
    pid: int


def api_server(
    env: Mapping[str, str],
    *options: str,
    log: Path | None = None,
    timeout: float = 30.0,
    app: str = API_APP,
) -> contextlib.AbstractContextManager[RunningServer]:
    """The API under gunicorn (``gunicorn_command`` with ``options``), as ``serving`` runs it."""
    return serving(
        lambda port: gunicorn_command(port, *options, app=app), env, log=log, timeout=timeout
    )


@contextlib.contextmanager
def serving(
    command: Callable[[int], Sequence[str]],
    env: Mapping[str, str],
    *,
    log: Path | None = None,
    timeout: float = 30.0,
) -> Iterator[RunningServer]:
    """The API as ``command(port)`` serves it (gunicorn, ``runserver``, uvicorn) on a free
    loopback port, in its own session, once ``/api/public`` answers; yields its base URL and pid.

    Stopped with all its processes on exit, and (on Linux) killed if this process dies first.
    """
    port = free_port()
    with contextlib.ExitStack() as stack:
        output: IO[bytes] | int = subprocess.DEVNULL
        if log is not None:
            output = stack.enter_context(log.open("wb"))
        process = start_in_session(command(port), env, stdout=output, stderr=output)
        base = f"http://{LOOPBACK}:{port}"
        try:
            wait_until_serving(f"{base}/api/public", process, timeout)
            yield RunningServer(base, process.pid)
        finally:
            stop_process_group(process)
