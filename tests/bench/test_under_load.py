"""The bench's load schedule: each ratio is taken between runs next to each other in time."""

from __future__ import annotations

import pytest

from bench.under_load import API_ROWS, CASES, FLOOR_ROWS, round_order

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
