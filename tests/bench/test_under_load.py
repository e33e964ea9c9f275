"""The bench's load runs: each ratio is taken between runs next to each other in time, and the
figures are read off the rounds as the table and the targets say."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bench import load, under_load
from bench.load import LoadResult
from bench.under_load import (
    API_ROWS,
    CASES,
    FLOOR_APP,
    FLOOR_ROWS,
    Case,
    load_report,
    pool_size,
    round_order,
)
from bench.worker_cpu import WorkerCPU
from devtools.processes import API_APP, RunningServer
from mock_idp import DEFAULT_AUDIENCE, MockIdP
from mock_idp.http import JWKS, Hit

#: Each measured protected case and the baselines its ratios are read against.
BASELINES = {
    "repeated": ("public", "public_header"),
    "fresh": ("public", "public_pool"),
    "floor_fresh": ("floor_public",),
}


@pytest.mark.parametrize("round_", [0, 1, 2, 3])
def test_every_printed_case_runs_once_a_round(round_: int) -> None:
    names = [name for _, name, _ in API_ROWS + FLOOR_ROWS]
    assert sorted(round_order(round_)) == sorted(names) == sorted(CASES)


def test_a_same_headers_baseline_sends_what_its_case_sends_to_the_public_route() -> None:
    for _, name, same in API_ROWS:
        assert same is not None
        assert CASES[same].sends == CASES[name].sends
        assert CASES[same].server == CASES[name].server
        assert CASES[same].path == "/api/public"


def test_load_options_name_the_tokens_each_case_sends() -> None:
    pool = ["a", "b"]
    assert CASES["public"].load_options("t", pool) == {}
    assert CASES["repeated"].load_options("t", pool) == {"token": "t"}
    assert CASES["floor_fresh"].load_options("t", pool) == {"pool": pool}


@pytest.mark.parametrize("round_", [0, 1])
def test_each_protected_case_runs_next_to_its_baselines(round_: int) -> None:
    order = round_order(round_)
    for case, baselines in BASELINES.items():
        for baseline in baselines:
            assert abs(order.index(case) - order.index(baseline)) == 1, (case, baseline)


def test_the_baselines_are_the_ones_the_tables_print() -> None:
    for _, name, same in API_ROWS + FLOOR_ROWS:
        if name in BASELINES and same is not None:
            assert same in BASELINES[name]


def test_each_pair_runs_in_both_orders_over_two_rounds() -> None:
    assert round_order(1) == tuple(reversed(round_order(0)))
    assert round_order(2) == round_order(0)


def rounds_of(*rps: float, not_ok: int = 0, exhausted: bool = False) -> list[LoadResult]:
    """One 1-second result per round, at each requests/s given."""
    return [LoadResult(int(r), 1.0, not_ok, exhausted) for r in rps]


#: Two rounds of every case: ratios chosen so each figure differs from every other.
RESULTS = {
    "public": rounds_of(1000, 1000),
    "public_header": rounds_of(1000, 800),
    "public_pool": rounds_of(900, 1000),
    "repeated": rounds_of(950, 760),
    "fresh": rounds_of(800, 700, not_ok=2),
    "floor_public": rounds_of(500, 1000),
    "floor_fresh": rounds_of(450, 800, exhausted=True),
}
CPU = {name: [100.0] for name in RESULTS} | {"repeated": [125.0], "fresh": [200.0]}


def test_each_ratio_is_the_median_of_its_rounds_against_its_baseline() -> None:
    lines, figures = load_report("heading", RESULTS, CPU, fetches=2, requests=12_345)
    assert figures["repeated"] == pytest.approx((0.95 + 0.76) / 2)
    assert figures["repeated_same"] == pytest.approx((0.95 + 0.95) / 2)
    assert figures["fresh"] == pytest.approx((0.8 + 0.7) / 2)
    assert figures["fresh_same"] == pytest.approx((0.8 / 0.9 + 0.7) / 2)
    assert figures["floor_fresh"] == pytest.approx((0.9 + 0.8) / 2)  # against its own public
    assert figures["cpu_repeated"] == pytest.approx(0.8)
    assert figures["cpu_fresh"] == pytest.approx(0.5)
    assert figures["fetches"] == 2
    assert figures["not_ok"] == 4  # the API's fresh rounds; the floor's pool is not the API's
    assert figures["pool_ran_out"] == 0.0
    assert lines[0] == "heading"
    assert lines[-1].startswith("  JWKS fetches (IdP hit log): 2 for 12345 requests")


def test_the_table_shows_spread_failures_and_an_exhausted_pool() -> None:
    lines, _ = load_report("heading", RESULTS, CPU, fetches=2, requests=1)
    fresh = next(line for line in lines if "fresh token per request" in line)  # the API's
    assert "0.70-0.80" in fresh
    assert fresh.split()[-1] == "4"  # not 200, summed over the rounds
    floor = [line for line in lines if "token pool ran out" in line]
    assert len(floor) == 1
    assert "0.80-0.90" in floor[0]


def test_a_pool_that_ran_out_in_one_round_only_is_flagged() -> None:
    results = {**RESULTS, "fresh": [*rounds_of(800), *rounds_of(700, exhausted=True)]}
    lines, figures = load_report("heading", results, CPU, fetches=2, requests=1)
    flagged = [line for line in lines if "token pool ran out" in line]
    assert [line.split("  ")[1] for line in flagged] == [
        "/api/private, fresh token per request"
    ] * 2  # the API's, and the floor's
    assert figures["pool_ran_out"] == 1.0


def test_the_table_s_rate_is_the_median_of_the_rounds() -> None:
    results = {name: [*rounds, rounds[0]] for name, rounds in RESULTS.items()}
    results["repeated"] = rounds_of(950, 760, 990)
    lines, _ = load_report("heading", results, CPU, fetches=2, requests=1)
    repeated = next(line for line in lines if line.startswith("  /api/private, repeated"))
    assert repeated.split()[3] == "950"  # not the mean 900, nor the highest round's 990


def test_ours_against_the_floor_is_our_ratio_over_the_floor_s() -> None:
    lines, _ = load_report("heading", RESULTS, CPU, fetches=2, requests=1)
    assert lines[-2] == "  fresh token 0.882x the signature-only floor's 0.850x"  # 0.75 / 0.85


def test_without_worker_cpu_the_table_says_so_and_skips_the_cpu_ratios() -> None:
    lines, figures = load_report("h", RESULTS, {name: [] for name in RESULTS}, 2, 1)
    assert "cpu_fresh" not in figures
    assert all(" n/a " in line for line in lines if line.startswith("  /api/"))


@pytest.mark.parametrize("rps", [500.0, 6000.0, 20000.0])
def test_a_round_s_pool_outlasts_its_busiest_wrk_thread(rps: float) -> None:
    """wrk's two threads each take every other token: one thread sending 60% of a case's
    requests, at the fastest rate seen, still sends no token twice."""
    seconds = 4.0
    assert pool_size(rps, seconds) // 2 >= 0.6 * rps * seconds


# -- the runs themselves, with servers, load generator and worker CPU faked -------------------

#: Requests/s of each case, round by round; the fastest of round 0 (the floor's public, 3100)
#: sizes the pool of round 1, the fastest warm-up (1200) round 0's. Worker CPU us per request.
RATES = {
    "public": [3000, 2000],
    "public_header": [2900, 2000],
    "public_pool": [2800, 1900],
    "repeated": [2700, 1800],
    "fresh": [2400, 1600],
    "floor_public": [3100, 2100],
    "floor_fresh": [2000, 1700],
}
WARM_UPS = {
    "http://api/api/private": 1000,
    "http://floor/api/private": 900,
    "http://api/api/public": 1200,
}
WORKER_US = dict.fromkeys(RATES, 200) | {"repeated": 220, "fresh": 280, "floor_fresh": 260}
PIDS = {"api": 101, "floor": 202}


class Lab:
    """Everything ``under_load`` starts and runs, faked, and what it was asked to do."""

    def __init__(self, idp: MockIdP) -> None:
        self.idp = idp
        self.floor_idp: MockIdP | None = None
        self.servers: list[tuple[str, str, str]] = []
        self.runs: list[tuple[str, str, float, dict[str, Any]]] = []
        self.minted: list[list[str]] = []
        cpu = self.cpu = dict.fromkeys(PIDS.values(), 0.0)

        class Workers(WorkerCPU):
            def sample(self) -> tuple[tuple[int, ...], float]:
                return (self.master_pid,), cpu[self.master_pid]

        self.Workers = Workers

    def mint(self, count: int) -> list[str]:
        self.minted.append([f"r{len(self.minted)}-{n}" for n in range(count)])
        return self.minted[-1]

    @contextmanager
    def gunicorn(
        self, issuer: str, scratch: Path, name: str, app: str = API_APP
    ) -> Iterator[RunningServer]:
        self.servers.append((issuer, name, app))
        yield RunningServer(f"http://{name}", PIDS[name])

    def idp_server(self, idp: MockIdP, **options: Any) -> Any:
        lab = self

        class Server:
            def __enter__(self) -> Any:
                lab.floor_idp = self.idp = idp
                if not options.get("keep_issuer"):
                    idp.issuer = "http://127.0.0.1:9/"  # as a started server sets it
                return self

            def __exit__(self, *exc: object) -> None:
                pass

        return Server()

    def run(self, url: str, duration: float, **options: Any) -> LoadResult:
        """The load generator: warm-ups last a second, the cases 2 s."""
        server, path = url.removeprefix("http://").split("/", 1)
        if duration == 1:
            name, rps = "warm-up", WARM_UPS[url]
            if url == "http://api/api/private":  # each worker fetches the JWKS, and the floor's
                for fetched in (self.idp, self.idp, self.floor_idp):
                    assert fetched is not None
                    fetched.hit_log.record(Hit("GET", JWKS, 0.0, 200))
        else:
            sends = (
                "fresh" if "pool" in options else "repeated" if "token" in options else "nothing"
            )
            (name,) = [n for n, c in CASES.items() if c == Case(server, f"/{path}", sends)]
            rps = RATES[name][sum(1 for run in self.runs if run[0] == name)]
            self.cpu[PIDS[server]] += rps * duration * WORKER_US[name] / 1e6
        self.runs.append((name, url, duration, options))
        return LoadResult(int(rps * duration), duration, 0)


@pytest.fixture
def lab(monkeypatch: pytest.MonkeyPatch) -> Lab:
    """``under_load`` with ``Lab``'s fakes; wrk "installed"."""
    idp = MockIdP(audience=DEFAULT_AUDIENCE)
    idp.hit_log.record(Hit("GET", JWKS, 0.0, 200))  # parts 1 and 2's fetch, before this part
    lab = Lab(idp)
    monkeypatch.setattr(under_load, "gunicorn", lab.gunicorn)
    monkeypatch.setattr(under_load, "MockIdPServer", lab.idp_server)
    monkeypatch.setattr(under_load, "WorkerCPU", lab.Workers)
    monkeypatch.setattr(load, "wrk_version", lambda: "wrk 4.1")
    monkeypatch.setattr(load, "run_wrk", lab.run)
    return lab


def test_each_round_runs_every_case_on_its_server_with_a_pool_of_its_own(
    lab: Lab, tmp_path: Path
) -> None:
    idp = lab.idp
    lines, figures = under_load.under_load(idp, lab, "rep", tmp_path, rounds=2, seconds=2.0)

    assert lab.floor_idp is not None
    assert lab.floor_idp is not idp  # the floor's JWKS fetches are not counted as the API's
    assert lab.floor_idp.keys is idp.keys  # it trusts the same tokens
    assert lab.servers == [
        (idp.issuer, "api", API_APP),
        ("http://127.0.0.1:9/", "floor", FLOOR_APP),
    ]
    assert [run[0] for run in lab.runs] == ["warm-up"] * 3 + [*round_order(0), *round_order(1)]
    assert [len(pool) for pool in lab.minted] == [pool_size(1200, 2.0), pool_size(3100, 2.0)]
    assert not set(lab.minted[0]) & set(lab.minted[1])
    for n, (name, url, duration, options) in enumerate(lab.runs[3:]):
        assert duration == 2.0
        assert url == f"http://{CASES[name].server}{CASES[name].path}"
        assert options == CASES[name].load_options("rep", lab.minted[n // len(CASES)])
        if "pool" in options:
            assert options["pool"] is lab.minted[n // len(CASES)]

    assert figures["fetches"] == 2
    assert figures["repeated"] == pytest.approx((2700 / 3000 + 1800 / 2000) / 2)
    assert figures["floor_fresh"] == pytest.approx((2000 / 3100 + 1700 / 2100) / 2)
    assert figures["cpu_repeated"] == pytest.approx(200 / 220)
    assert figures["cpu_fresh"] == pytest.approx(200 / 280)
    floor_fresh = [line for line in lines if line.startswith("  /api/private, fresh")][-1]
    assert floor_fresh.split()[-2] == "260"  # the floor's workers' CPU, not the API's
    assert (
        lines[0] == "gunicorn, 2 sync workers, 127.0.0.1, wrk -t2 -c8 (median of 2 rounds of 2 s)"
    )
    api_requests = sum(
        int(rate * 2.0)
        for name, rates in RATES.items()
        if CASES[name].server == "api"
        for rate in rates
    )
    assert lines[-1].startswith(
        f"  JWKS fetches (IdP hit log): 2 for {api_requests + 1000 + 1200} requests"
    )


def test_a_run_whose_worker_cpu_cannot_be_read_has_no_cpu_figure(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not Linux, or a worker replaced mid-run: the case's CPU is unknown, not zero."""
    monkeypatch.setattr(lab.Workers, "sample", lambda self: None)
    lines, figures = under_load.under_load(lab.idp, lab, "rep", tmp_path, rounds=2, seconds=2.0)
    assert "cpu_fresh" not in figures
    assert all(" n/a " in line for line in lines if line.startswith("  /api/"))
