"""Processes the project's tooling starts on 127.0.0.1: free ports, gunicorn, orphan safety.

Shared by ``make run`` (devtools.run), the benchmark, the soak run and the live tests, so the
API is always started the same way: ``gunicorn apiexample.wsgi:application`` bound to loopback.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib
import signal
import socket
import sys
from collections.abc import Callable

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to SIGKILL the child when this process dies, if available."""
    if not sys.platform.startswith("linux"):  # pragma: no cover - macOS: no PR_SET_PDEATHSIG
        return None
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:  # pragma: no cover - a Linux without a findable libc
        return None
    prctl = ctypes.CDLL(libc_name, use_errno=True).prctl
    pr_set_pdeathsig = 1

    def preexec() -> None:  # pragma: no cover - runs in the forked child
        prctl(pr_set_pdeathsig, signal.SIGKILL)

    return preexec


def no_control_socket() -> list[str]:
    """``--no-control-socket`` where gunicorn has a control socket (newer than 23).

    Otherwise every gunicorn shares ``~/.gunicorn/gunicorn.ctl``, parallel runs included.
    """
    config_module = importlib.import_module("gunicorn.config")
    names = {setting.name for setting in config_module.KNOWN_SETTINGS}
    return ["--no-control-socket"] if "control_socket_disable" in names else []


def gunicorn_command(port: int, *options: str, python: str = sys.executable) -> list[str]:
    """``gunicorn apiexample.wsgi:application`` on 127.0.0.1:``port`` with ``options``."""
    return [
        python, "-m", "gunicorn", "apiexample.wsgi:application",
        "--bind", f"{LOOPBACK}:{port}",
        *no_control_socket(),
        *options,
    ]  # fmt: skip
