"""Our gunicorn config: every worker dies with gunicorn's master, sync workers included."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from types import SimpleNamespace

import pytest
from gunicorn.config import KNOWN_SETTINGS

from apiexample import gunicorn_config
from devtools import gunicorn_hooks
from devtools.processes import GUNICORN_CONFIG, PROJECT_ROOT, gunicorn_command
from tests.imports import packages_loaded_by
from tests.process_checks import alive, gone_within


def test_every_gunicorn_we_start_loads_it() -> None:
    argv = gunicorn_command(8000)
    assert argv[argv.index("--config") + 1] == GUNICORN_CONFIG == "python:devtools.gunicorn_hooks"


@pytest.mark.parametrize("option", [("-c", "x.py"), ("--config", "x.py"), ("--config=x.py",)])
def test_no_other_config_can_replace_it(option: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="pass settings as options"):
        gunicorn_command(8000, "--workers", "2", *option)


def test_gunicorn_s_master_loads_it_without_the_project() -> None:
    """Only the production settings: the workers import Django and the API themselves."""
    among = ("apiexample.conf", "apiexample.wsgi", "mock_idp", "django", "devtools.processes")
    assert packages_loaded_by("import devtools.gunicorn_hooks", among) == []


def test_it_carries_every_production_setting() -> None:
    names = {setting.name for setting in KNOWN_SETTINGS} & set(vars(gunicorn_config))
    assert names == {"limit_request_field_size", "forwarder_headers", "on_starting"}
    for name in names:
        assert getattr(gunicorn_hooks, name) is getattr(gunicorn_config, name)


def test_a_new_worker_asks_to_die_with_the_master(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[bool] = []
    monkeypatch.setattr(gunicorn_hooks, "_ASK_TO_DIE_WITH_PARENT", lambda: asked.append(True))
    gunicorn_hooks.post_fork(None, SimpleNamespace(ppid=os.getppid()))
    assert asked == [True]


def test_a_worker_whose_master_already_died_exits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gunicorn_hooks, "_ASK_TO_DIE_WITH_PARENT", None)  # as on macOS
    with pytest.raises(SystemExit) as exited:
        gunicorn_hooks.post_fork(None, SimpleNamespace(ppid=os.getppid() + 1))
    assert exited.value.code == 1


@pytest.mark.live
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux prctl(2)")
def test_sync_workers_die_with_a_killed_parent_at_once() -> None:
    """Without the hook a sync worker outlives its master until its next parent check, up to
    15 s (half gunicorn's --timeout), still holding the port."""
    code = (
        "import time\n"
        "from devtools.processes import api_environment, api_server, child_pids\n"
        "options = ('--workers', '2', '--worker-class', 'sync')\n"
        "with api_server(api_environment('http://127.0.0.1:9/'), *options) as server:\n"
        "    deadline = time.monotonic() + 10\n"
        "    while len(child_pids(server.pid)) < 2 and time.monotonic() < deadline:\n"
        "        time.sleep(0.05)\n"
        "    print(server.pid, *child_pids(server.pid), flush=True)\n"
        "    time.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
    )
    pids: list[int] = []
    try:
        assert parent.stdout is not None
        pids = [int(pid) for pid in parent.stdout.readline().split()]
    finally:
        parent.kill()
        parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()
    try:
        assert len(pids) == 3
        assert gone_within(pids, 10)  # polled: well under the 15 s a sync worker would take
    finally:
        for pid in pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
