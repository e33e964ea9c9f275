"""The bench's command: how much it measures, and the issue's targets read off the figures."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler

from bench import run
from bench.per_token import ROWS, PerTokenResult
from bench.run import Plan, targets
from mock_idp import MockIdP

LOAD = {"repeated": 0.95, "repeated_same": 0.96, "fresh": 0.80, "fresh_same": 0.81, "fetches": 2}


def test_quick_measures_less_of_everything() -> None:
    quick, full = Plan.for_args(quick=True), Plan.for_args(quick=False)
    assert all(q < f for q, f in zip(vars(quick).values(), vars(full).values(), strict=True))


def test_the_full_plan_is_the_one_the_readme_reports() -> None:
    """9 rounds of 1,000 tokens, 7 of 1,000 WSGI calls, 7 rounds of 4 s under gunicorn."""
    assert Plan.for_args(quick=False) == Plan(9, 1000, 7, 1000, 7, 4.0)


def test_each_target_is_met_at_its_bound() -> None:
    lines = targets(2.0, LOAD, 29.9)
    assert [line.rsplit("-> ", 1)[1].split(" (")[0] for line in lines] == ["met"] * 5
    assert "(same client work: 0.960x)" in lines[1]
    assert "(same client work: 0.810x)" in lines[2]


@pytest.mark.parametrize(
    ("miss", "load", "suite", "failed"),
    [
        (2.01, LOAD, None, 0),
        (2.0, {**LOAD, "repeated": 0.949}, None, 1),
        (2.0, {**LOAD, "fresh": 0.799}, None, 2),
        (2.0, {**LOAD, "fetches": 3}, None, 3),
        (2.0, LOAD, 30.0, 4),
    ],
)
def test_each_target_is_not_met_past_its_bound(
    miss: float, load: dict[str, float], suite: float | None, failed: int
) -> None:
    verdicts = ["NOT MET" in line for line in targets(miss, load, suite)]
    assert verdicts.index(True) == failed
    assert verdicts.count(True) == 1


@pytest.mark.parametrize(
    ("flaw", "failed", "said"),
    [
        ({"not_ok": 3}, [1, 2], "[3 answers not 200]"),
        ({"pool_ran_out": 1.0}, [2], "[a token pool ran out: tokens were sent again]"),
    ],
)
def test_a_throughput_target_is_not_met_by_a_run_that_measured_something_else(
    flaw: dict[str, float], failed: list[int], said: str
) -> None:
    """Refusals are cheaper than 200s, and repeated "fresh" tokens are cache hits."""
    lines = targets(2.0, {**LOAD, "repeated": 0.99, "fresh": 0.99, **flaw}, None)
    assert [i for i, line in enumerate(lines) if "NOT MET" in line] == failed
    assert all(lines[i].endswith(said) for i in failed)


def test_parts_not_run_have_no_target_line() -> None:
    assert len(targets(1.5, {}, None)) == 1


def test_a_quick_run_without_gunicorn_or_the_suite_reports_and_judges(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    settings: Any,
    wsgi_app: WSGIHandler,
) -> None:
    """``main`` end to end, with a tiny plan, pinned through Django settings rather than the
    environment (this process's settings are loaded already)."""

    def pin(idp: MockIdP) -> None:
        settings.AUTH0_DOMAIN, settings.AUTH0_JWKS_URL = "", ""
        settings.AUTH0_ISSUER, settings.AUTH0_AUDIENCE = idp.issuer, idp.audience

    monkeypatch.setattr(run, "_pin_the_api_to", pin)
    monkeypatch.setattr(Plan, "for_args", classmethod(lambda cls, quick: cls(1, 2, 1, 2, 1, 1)))
    assert run.main(["--quick", "--skip-gunicorn", "--skip-tests"]) == 0
    report = capsys.readouterr().out.splitlines()
    assert report[0].startswith("machine: ")
    assert "per-token validation, RS256 (median of 1 interleaved rounds of 2)" in report
    assert "in-process request, one WSGI call (median of 1 rounds of 2)" in report
    assert not [line for line in report if line.startswith(("gunicorn, 2 sync", "test suite"))]
    assert report[-2] == "targets"
    assert report[-1].startswith("  fresh token <= 2.0x raw verify: ")


class StubMinter:
    def __init__(self, idp: MockIdP, scratch: Path) -> None:
        self.closed = False

    def mint(self, count: int) -> list[str]:
        return [f"token{n}" for n in range(count)]

    def close(self) -> None:
        self.closed = True


def test_each_part_measures_its_share_of_the_plan_and_the_targets_read_its_figures(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``main`` with every part stubbed: what each is asked to measure, and which of its
    figures each target line reads (the fresh token's per-token ratio, not another row's)."""
    asked: dict[str, Any] = {}

    def per_token(idp: MockIdP, minter: Any, repeated: str, **plan: int) -> PerTokenResult:
        asked["per_token"] = plan
        ratio = {name: 1.0 + n / 4 for n, (_, name) in enumerate(ROWS)}  # miss 1.25, hit 1.50
        return PerTokenResult(ratio, ratio, plan["rounds"], plan["tokens_per_round"])

    def in_process(minter: Any, repeated: str, **plan: int) -> list[str]:
        asked["in_process"] = plan
        return ["in-process stub"]

    def under_load(*args: Any, **plan: float) -> tuple[list[str], dict[str, float]]:
        asked["under_load"] = plan
        return ["gunicorn stub"], {**LOAD, "repeated": 0.97, "fresh": 0.79}

    def time_test_suite(env: Mapping[str, str]) -> tuple[list[str], float]:
        asked["suite_env"] = env
        return ["suite stub"], 25.0

    monkeypatch.setattr(run, "_pin_the_api_to", lambda idp: None)
    monkeypatch.setattr(run, "Minter", StubMinter)
    monkeypatch.setattr(run, "machine", lambda: ["machine: stub"])
    monkeypatch.setattr("bench.per_token.per_token", per_token)
    monkeypatch.setattr("bench.in_process.in_process", in_process)
    monkeypatch.setattr("bench.under_load.under_load", under_load)
    monkeypatch.setattr(run, "time_test_suite", time_test_suite)
    assert run.main(["--quick"]) == 0  # its plan's figures differ from one another
    assert asked["per_token"] == {"rounds": 5, "tokens_per_round": 300}
    assert asked["in_process"] == {"rounds": 3, "requests_per_round": 200}
    assert asked["under_load"] == {"rounds": 1, "seconds": 3.0}
    assert asked["suite_env"] is run.ORIGINAL_ENVIRONMENT  # as found, not as the bench pinned it
    report = capsys.readouterr().out.splitlines()
    for part in ("in-process stub", "gunicorn stub", "suite stub"):
        assert part in report
    summary = report[report.index("targets") + 1 :]
    assert summary[0] == "  fresh token <= 2.0x raw verify: 1.25x -> met"
    assert summary[1].startswith("  gunicorn repeated token >= 0.95x public: 0.970x -> met")
    assert summary[2].startswith("  gunicorn fresh token >= 0.80x public: 0.790x -> NOT MET")
    assert summary[4] == "  test suite under 30 s: 25.0 s -> met"


def test_the_in_process_api_gets_every_setting_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's .env (read without overriding the environment) must change no figure."""
    from apiexample import conf

    environ = {"AUTH0_TOKEN_CACHE_SIZE": "0", "AUTH0_LEEWAY": "0", "HOME": "/home/dev"}
    monkeypatch.setattr("bench.run.os.environ", environ)
    monkeypatch.setattr("django.setup", lambda: None)
    levels: list[int] = []  # the bench quiets the API's logger; this process's tests read it
    monkeypatch.setattr(logging.getLogger("apiexample"), "setLevel", levels.append)
    idp = MockIdP("http://127.0.0.1:8001/", keys=[])
    run._pin_the_api_to(idp)
    assert levels == [logging.WARNING]
    assert environ["AUTH0_TOKEN_CACHE_SIZE"] == str(conf.DEFAULT_TOKEN_CACHE_SIZE)
    assert environ["AUTH0_LEEWAY"] == str(conf.DEFAULT_LEEWAY)
    assert environ["AUTH0_ISSUER"] == "http://127.0.0.1:8001/"
    assert environ["AUTH0_JWKS_URL"] == "http://127.0.0.1:8001/.well-known/jwks.json"
    assert environ["AUTH0_DOMAIN"] == ""
    assert environ["HOME"] == "/home/dev"
