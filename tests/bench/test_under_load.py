"""The bench's load runs: each ratio is taken between runs next to each other in time, and the
figures are read off the rounds as the table and the targets say."""

from __future__ import annotations

import pytest

from bench.load import LoadResult
from bench.under_load import API_ROWS, CASES, FLOOR_ROWS, load_report, pool_size, round_order

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
