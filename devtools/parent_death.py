"""Linux's parent-death signal (prctl(2) ``PR_SET_PDEATHSIG``): a process the kernel SIGKILLs
when its parent dies, so nothing our tooling starts outlives it, even when it is SIGKILLed.

The setting is not inherited across fork(2): each process must ask for itself. The signal
comes when the parent *thread* that forked it exits; our tooling forks from main threads.
This module imports nothing of the project, so gunicorn's master loads it cheaply (through
``devtools.gunicorn_hooks``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


@functools.cache  # find_library runs ldconfig: once per process, not per child started
def die_with_parent() -> Callable[[], None] | None:
    """A function that, called in a process, has Linux SIGKILL it when its parent dies; None
    where that does not exist (macOS). Resolved here, so calling it after fork is only prctl."""
    if not sys.platform.startswith("linux"):  # pragma: no cover - macOS: no PR_SET_PDEATHSIG
        return None
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:  # pragma: no cover - a Linux without a findable libc
        return None
    prctl = ctypes.CDLL(libc_name, use_errno=True).prctl

    def ask() -> None:  # pragma: no cover - runs in child processes (preexec_fn, post_fork)
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)

    return ask
