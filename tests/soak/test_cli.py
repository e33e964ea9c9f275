"""``python -m soak``: its exit status is the soak's verdict (``make soak`` fails with it)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from soak import cli, runner
from soak.scenario import SoakConfig


@pytest.mark.parametrize(("ok", "status"), [(True, 0), (False, 1)])
def test_the_exit_status_is_the_verdict(
    ok: bool, status: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    runs: list[tuple[SoakConfig, Path | None]] = []

    def run(config: SoakConfig, log_dir: Path | None) -> SimpleNamespace:
        runs.append((config, log_dir))
        return SimpleNamespace(ok=ok, table="the table")

    monkeypatch.setattr(runner, "run", run)
    assert cli.main(["--duration", "12", "--workers", "3", "--log-dir", "logs"]) == status
    assert "the table" in capsys.readouterr().out
    ((config, log_dir),) = runs
    assert (config.duration, config.workers, log_dir) == (12.0, 3, Path("logs"))


def test_settings_the_phases_cannot_honour_are_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(runner, "run", lambda *args: pytest.fail("ran"))
    with pytest.raises(SystemExit) as exited:
        cli.main(["--duration", "60", "--ttl", "40"])
    assert exited.value.code == 2
    assert "too short" in capsys.readouterr().err
