"""Issue 7 in CI: the soak scenario of ``make soak``, compressed to a few seconds.

The same run as ``python -m soak --duration 5``: gunicorn with two gthread workers, the mock
IdP's live server, key rotation, a JWKS outage, a slow and a hung JWKS, and the same checks
(no unexpected status, JWKS fetches within the README's bound, flat worker memory). Every
process the run starts is gone when it returns, whether it passed, failed or crashed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devtools.processes import child_pids
from soak import runner
from soak.scenario import SoakConfig
from tests.process_checks import alive

pytestmark = pytest.mark.live

SHORT = SoakConfig.for_duration(5.0, clients=2, rate=150.0)


def test_the_short_soak_keeps_every_guarantee(tmp_path: Path) -> None:
    result = runner.run(SHORT, log_dir=tmp_path)

    assert result.ok, result.table
    assert result.observed.outcomes, result.table
    assert 0 < result.jwks_fetches <= result.jwks_bound
    started = [result.observed.master_pid, *result.observed.workers_seen]
    assert len(started) == 1 + SHORT.workers
    assert not [pid for pid in started if alive(pid)]


def test_gunicorn_is_stopped_when_the_run_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[int] = []

    def crash(*_args: object) -> list[float]:
        for pid in child_pids(os.getpid()):
            if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes():
                started.extend([pid, *child_pids(pid)])
        raise RuntimeError("the scenario crashed")

    monkeypatch.setattr(runner, "_drive", crash)
    config = SoakConfig.for_duration(5.0, workers=1, clients=1, rate=20.0)
    with pytest.raises(RuntimeError, match="the scenario crashed"):
        runner.run(config, log_dir=tmp_path)

    assert len(started) == 2
    assert not [pid for pid in started if alive(pid)]
    assert os.listdir(tmp_path)  # logs are kept
    assert (tmp_path / "stop").exists()  # the clients were told to stop, not left to their end
