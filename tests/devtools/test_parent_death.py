"""The parent-death signal: a process started with it dies when its parent does, even one
ignoring SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from devtools.parent_death import die_with_parent
from devtools.processes import PROJECT_ROOT
from tests.imports import packages_loaded_by
from tests.process_checks import alive, gone_within

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux prctl(2)")


def test_linux_has_it() -> None:
    assert callable(die_with_parent())


def test_a_child_ignoring_sigterm_still_dies_with_its_parent() -> None:
    grandchild = (
        "import os, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print(os.getpid(), flush=True); time.sleep(60)"
    )
    parent_code = (
        "import subprocess, sys, time\n"
        "from devtools.parent_death import die_with_parent\n"
        f"subprocess.Popen([sys.executable, '-c', {grandchild!r}], preexec_fn=die_with_parent())\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())  # printed once it ignores SIGTERM
    parent.kill()
    parent.wait()
    parent.stdout.close()
    try:
        assert gone_within([child], 10)  # polled: the kernel signals it as the parent exits
    finally:
        if alive(child):
            os.kill(child, signal.SIGKILL)


def test_the_module_imports_nothing_of_the_project() -> None:
    among = ("apiexample", "mock_idp", "django", "devtools.processes")
    assert packages_loaded_by("import devtools.parent_death", among) == []
