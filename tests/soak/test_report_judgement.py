"""The soak's judgement (``soak.report.analyse`` and the analysis helpers of ``soak.scenario``):
could a real failure pass? Pure: hand-built outcomes, no live run.

An 8 s run of two workers (pids 1 and 2) whose every request got its expected status, whose
JWKS was fetched once per worker in the warm-up and whose memory is flat, PASSes; each test
changes one thing a real failure would change and checks that the run FAILs on the right check.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import cast

import pytest

from soak.load import Outcome
from soak.processes import RssSample
from soak.report import (
    MAX_LISTED,
    Observed,
    SoakResult,
    _judge,
    _phase_of,
    analyse,
    fetch_bound,
    percentile,
    rss_rows,
    warm_since,
)
from soak.scenario import (
    CLASSES,
    EXPIRED,
    FETCH_LEAD,
    FETCH_SLACK,
    FORGED,
    GARBAGE,
    LOADED_FETCH_LEAD,
    MAX_STALL,
    NO_SCOPE,
    STALL_REACH,
    UNKNOWN_KID,
    VALID_NEW,
    VALID_OLD,
    WARM_REQUESTS,
    SoakConfig,
    degraded_windows,
    expected_statuses,
    fetch_windows,
    may_be_designed_503,
    stalls_at,
)

T0 = 1000.0
#: Judged as the 60 s run is: its cooldown (0.27 s) would give it the loaded lead.
CONFIG = SoakConfig.for_duration(8.0, workers=2, clients=1, rate=10.0, fetch_lead=FETCH_LEAD)
SCHEDULE = CONFIG.schedule()
STARTS = [T0 + p.start for p in SCHEDULE]
PHASES = list(zip(SCHEDULE, STARTS, [*STARTS[1:], T0 + CONFIG.duration], strict=True))
SPAN = {p.name: (start, end) for p, start, end in PHASES}
DOWN = SPAN["jwks_down"]
MIB = 1024

DETAIL = {UNKNOWN_KID: "random_kid", FORGED: "alg_none", GARBAGE: "no_header"}


def status_of(token_class: str, route: str) -> int:
    return min(expected_statuses(token_class, route))


def baseline_outcomes() -> tuple[list[Outcome], dict[str, int]]:
    """160 requests, one every 0.05 s, alternating workers, every class on both routes."""
    outcomes, worker_of = [], {}
    for i in range(160):
        at = T0 + i * 0.05
        token_class = CLASSES[i % len(CLASSES)]
        route = ("private", "scoped")[(i // len(CLASSES)) % 2]
        detail = DETAIL.get(token_class, "new_key" if token_class == VALID_NEW else "old_key")
        rid = f"r{i}"
        outcomes.append(
            Outcome(at, at + 0.01, token_class, route, status_of(token_class, route), rid, detail)
        )
        worker_of[rid] = 2 if token_class == VALID_NEW else 1 + i % 2  # worker 1: no new key
    return outcomes, worker_of


def flat_rss(pids: tuple[int, ...] = (1, 2), mib: int = 100) -> list[RssSample]:
    return [RssSample(T0 + n * 0.25, pid, mib * MIB) for n in range(33) for pid in pids]


def run(
    extra: Sequence[Outcome] = (),
    extra_workers: dict[str, int] | None = None,
    jwks_hits: list[tuple[float, int]] | None = None,
    rss: list[RssSample] | None = None,
    workers_seen: list[int] | None = None,
    drop_class: str | None = None,
    change: dict[int, int] | None = None,
) -> Observed:
    outcomes, worker_of = baseline_outcomes()
    for index, status in (change or {}).items():
        outcomes[index] = outcomes[index]._replace(status=status)
    outcomes = [o for o in outcomes if o.token_class != drop_class] + list(extra)
    worker_of.update(extra_workers or {})
    hits = [(T0 - 0.5, 200), (T0 - 0.4, 200)] if jwks_hits is None else jwks_hits
    return Observed(
        CONFIG,
        PHASES,
        T0,
        sorted(outcomes),
        worker_of,
        hits,
        flat_rss() if rss is None else rss,
        [1, 2] if workers_seen is None else workers_seen,
        1,
        Path("."),
    )


def failed(observed: Observed) -> set[str]:
    result = analyse(observed)
    names = {name for name, passed, _detail in result.checks if not passed}
    assert result.ok is (not names)
    return names


def index_of(token_class: str, route: str) -> int:
    outcomes, _ = baseline_outcomes()
    return next(
        i for i, o in enumerate(outcomes) if (o.token_class, o.route) == (token_class, route)
    )


# -- the whole judgement -----------------------------------------------------------------------


def test_a_run_with_every_expected_status_passes() -> None:
    result = analyse(run())
    assert result.ok, result.table
    assert result.jwks_bound == fetch_bound(2, 159 * 0.05 + 0.01, CONFIG)
    assert "soak: PASS" in result.table


@pytest.mark.parametrize(
    ("token_class", "route", "status", "why"),
    [
        (VALID_OLD, "private", 500, "valid token refused"),
        (VALID_OLD, "scoped", 401, "valid token refused"),  # a 200 turned 401
        (VALID_NEW, "private", 403, "valid token refused"),
        (FORGED, "private", 500, "5xx"),
        (UNKNOWN_KID, "scoped", 500, "5xx"),
        (EXPIRED, "private", 403, "wrong status"),
        (NO_SCOPE, "private", 403, "wrong status"),
        (GARBAGE, "scoped", 0, "no answer"),
    ],
)
def test_an_unexpected_status_fails_the_run(
    token_class: str, route: str, status: int, why: str
) -> None:
    observed = run(change={index_of(token_class, route): status})
    result = analyse(observed)
    assert [v.why for v in result.unexpected] == [why]
    assert failed(observed) == {"no unexpected status"}
    assert "soak: FAIL" in result.table


@pytest.mark.parametrize(
    ("token_class", "route"),
    [(FORGED, "private"), (EXPIRED, "scoped"), (UNKNOWN_KID, "private"), (NO_SCOPE, "scoped")],
)
def test_a_bad_token_accepted_fails_two_checks(token_class: str, route: str) -> None:
    observed = run(change={index_of(token_class, route): 200})
    assert [v.why for v in analyse(observed).unexpected] == ["accepted!"]
    assert failed(observed) == {"no unexpected status", "no bad token accepted"}


def test_a_failed_run_s_table_lists_the_first_unexpected_and_says_where_the_logs_are() -> None:
    outcomes, _ = baseline_outcomes()
    refused = [i for i, o in enumerate(outcomes) if o.token_class not in (VALID_OLD, VALID_NEW)]
    changes = dict.fromkeys(refused[: MAX_LISTED + 5], 500)
    changes[refused[MAX_LISTED + 5]] = 0
    table = analyse(run(change=changes)).table
    assert f"Unexpected: {MAX_LISTED + 6} " in table
    assert sum(1 for line in table.splitlines() if line.endswith("  5xx")) == MAX_LISTED
    assert "none:1" in table  # a request without an answer, in its class's statuses
    assert "logs kept in ." in table
    assert "logs kept in" not in analyse(run()).table


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([7.0], 0.5) == 7.0
    assert percentile([], 0.99) == 0.0


def test_an_unexpected_status_during_the_warm_up_counts() -> None:
    early = Outcome(T0 - 0.3, T0 - 0.2, FORGED, "private", 500, "w", "alg_none")
    assert failed(run([early], {"w": 1})) == {"no unexpected status"}


def test_a_class_never_sent_fails_the_run() -> None:
    observed = run(drop_class=UNKNOWN_KID)
    assert failed(observed) == {"every class exercised"}
    assert "missing: unknown_kid" in analyse(observed).table


def test_a_replaced_worker_fails_the_run() -> None:
    assert failed(run(workers_seen=[1, 2, 3])) == {"no worker replaced"}


# -- designed 503s --------------------------------------------------------------------------------


def outage_503(token_class: str, rid: str, at: float, detail: str = "new_key") -> Outcome:
    return Outcome(at, at + 0.1, token_class, "private", 503, rid, detail)


def test_a_503_is_designed_in_an_outage_for_an_unknown_kid_or_a_key_not_held() -> None:
    extra = [
        outage_503(UNKNOWN_KID, "u", DOWN[0] + 0.2, "random_kid"),
        outage_503(VALID_OLD, "o1", DOWN[0] + 0.2, "old_key"),  # worker 3 never served a token
        outage_503(VALID_OLD, "o2", DOWN[0] + 0.5, "old_key"),  # nor does a 503 make it hold one
    ]
    observed = run(extra, {"u": 1, "o1": 3, "o2": 3})
    result = analyse(observed)
    assert result.ok, result.table
    verdicts, _stall = _judge(observed)
    assert {v.outcome.request_id for v in verdicts if v.designed_503} == {"u", "o1", "o2"}


@pytest.mark.parametrize(
    ("token_class", "detail", "why"),
    [
        (VALID_OLD, "old_key", "valid token refused"),  # worker 1 has answered 200 for it
        (FORGED, "alg_none", "5xx"),
        (EXPIRED, "old_key", "5xx"),
        (NO_SCOPE, "old_key", "5xx"),
    ],
)
def test_a_503_in_an_outage_is_not_designed_otherwise(
    token_class: str, detail: str, why: str
) -> None:
    observed = run([outage_503(token_class, "x", DOWN[0] + 0.2, detail)], {"x": 1})
    assert [v.why for v in analyse(observed).unexpected] == [why]
    assert failed(observed) == {"no unexpected status"}


@pytest.mark.parametrize("phase", ["baseline", "published", "rotated", "jwks_slow"])
def test_a_valid_token_503_outside_an_outage_is_unexpected_even_during_a_fetch(phase: str) -> None:
    """Outside the outages and their grace (in the 8 s run, the end of jwks_slow is clear)."""
    at = SPAN[phase][0] + 0.25 if phase != "jwks_slow" else SPAN[phase][1] - 0.25
    hits = [(T0 - 0.5, 200), (T0 - 0.4, 200), (at - 0.1, 200)]
    observed = run([outage_503(VALID_NEW, "x", at)], {"x": 1}, jwks_hits=hits)
    assert [v.why for v in analyse(observed).unexpected] == ["valid token refused"]


def test_an_unknown_kid_503_is_designed_while_a_fetch_is_in_flight_and_not_after() -> None:
    hit = T0 + 0.3  # healthy: the fetch is answered at once
    hits = [(hit, 200)]
    during = outage_503(UNKNOWN_KID, "a", hit + 0.05, "random_kid")
    after = outage_503(UNKNOWN_KID, "b", hit + FETCH_SLACK + 0.05, "random_kid")
    before = outage_503(UNKNOWN_KID, "c", hit - FETCH_LEAD - 0.15, "random_kid")
    result = analyse(run([during, after, before], {"a": 1, "b": 1, "c": 1}, jwks_hits=hits))
    assert sorted(v.outcome.request_id for v in result.unexpected) == ["b", "c"]


def test_a_loaded_api_widens_the_in_flight_window_near_its_stall() -> None:
    """A fetch's thread can wait for the CPU as long as a request with a cached key waited for
    its answer around the same moment: an unknown kid's 503 that early before the IdP's log is
    then designed, and a slow answer elsewhere in the run widens nothing here."""
    hit = T0 + 1.0
    early = outage_503(UNKNOWN_KID, "e", hit - 0.4, "random_kid")  # answered 0.3 s before the hit
    slow = Outcome(hit - 0.2, hit + 0.3, VALID_OLD, "private", 200, "s", "old_key")

    def judged(extra: Outcome, worker: int = 1) -> SoakResult:
        return analyse(run([early, extra], {"e": 1, "s": worker}, jwks_hits=[(hit, 200)]))

    quiet = analyse(run([early], {"e": 1}, jwks_hits=[(hit, 200)]))
    assert [v.outcome.request_id for v in quiet.unexpected] == ["e"]
    assert quiet.stall == pytest.approx(0.01)
    loaded = judged(slow)
    assert loaded.ok, loaded.table
    assert loaded.stall == pytest.approx(MAX_STALL)
    assert "at once: up to 0.300 s)" in loaded.table
    # The report gives the longest of the hits' stalls, whichever hit it was near.
    later_hit = analyse(
        run([early, slow], {"e": 1, "s": 1}, jwks_hits=[(hit - 0.9, 200), (hit, 200)])
    )
    assert later_hit.ok, later_hit.table
    assert later_hit.stall == pytest.approx(MAX_STALL)
    elsewhere = judged(slow._replace(sent=hit + 0.6, done=hit + 1.1))  # begun past STALL_REACH
    assert [v.outcome.request_id for v in elsewhere.unexpected] == ["e"]
    # Worker 3 had never served the old key: its first 200s may have waited for a fetch, also
    # one sent before the first of them was answered.
    assert [v.outcome.request_id for v in judged(slow, worker=3).unexpected] == ["e"]
    overlapping = [slow._replace(request_id="t", sent=slow.sent - 0.01, done=slow.done - 0.01)]
    both = analyse(
        run([early, slow, *overlapping], {"e": 1, "s": 3, "t": 3}, jwks_hits=[(hit, 200)])
    )
    assert [v.outcome.request_id for v in both.unexpected] == ["e"]


@pytest.mark.parametrize("where", ["jwks_down", "after the outage's grace, in jwks_slow"])
def test_a_request_queued_while_the_idp_is_failing_or_slow_is_no_stall(where: str) -> None:
    """There a request may queue behind a thread waiting for its own fetch, a wait no fetch
    itself goes through."""
    after_down = degraded_windows(PHASES, CONFIG)[0][1]
    sent, done = (
        (DOWN[0] + 0.1, DOWN[0] + 0.6)
        if where == "jwks_down"
        else (
            after_down,
            SPAN["jwks_slow"][1],
        )
    )
    assert done - sent > 0.3
    queued = Outcome(sent, done, VALID_OLD, "private", 200, "q", "old_key")
    result = analyse(run([queued], {"q": 1}, jwks_hits=[((sent + done) / 2, 200)]))
    assert result.stall < 0.1


@pytest.mark.parametrize(("duration", "lead"), [(60.0, FETCH_LEAD), (5.0, LOADED_FETCH_LEAD)])
def test_a_run_whose_windows_join_up_anyway_gives_a_fetch_a_longer_lead(
    duration: float, lead: float
) -> None:
    """The 60 s run keeps the lead that lets it tell fetches apart; ``make test``'s 5 s run,
    whose cooldown is shorter than a window, makes room for a fetching thread on a loaded CI."""
    config = SoakConfig.for_duration(duration)
    assert config.fetch_lead == lead
    assert (config.cooldown < FETCH_LEAD + FETCH_SLACK) is (lead == LOADED_FETCH_LEAD)
    (window,) = fetch_windows([T0], [], config)
    assert window[0] == pytest.approx(T0 - lead)


def test_stalls_are_the_longest_wait_in_flight_near_each_hit() -> None:
    waits = [(10.0, 10.1), (10.2, 10.45), (13.0, 13.2), (20.0, 23.0)]
    assert stalls_at([], waits) == []
    assert stalls_at([10.3, 10.9, 11.0, 12.55, 16.0, 23.4], waits) == pytest.approx(
        [0.25, 0.25, 0.0, 0.2, 0.0, MAX_STALL]
    )
    assert stalls_at([10.3], []) == [0.0]
    assert STALL_REACH == 0.5
    assert stalls_at([21.0], [(20.0, 20.0 + MAX_STALL + 2)]) == [MAX_STALL]
    assert MAX_STALL == 0.3


def test_a_stall_widens_both_margins_of_a_fetch_window_by_as_much() -> None:
    slow = SPAN["jwks_slow"][0] + 0.4
    unloaded = fetch_windows([slow, slow], PHASES, CONFIG)
    assert fetch_windows([slow, slow], PHASES, CONFIG, stalls=[0.0, 0.0]) == unloaded
    assert unloaded[0] == (slow - FETCH_LEAD, slow + CONFIG.slow_delay + FETCH_SLACK)
    loaded = fetch_windows([slow, slow], PHASES, CONFIG, stalls=[0.3, 0.02])
    for (start, end), stall in zip(loaded, [0.3, 0.02], strict=True):
        assert start == pytest.approx(slow - FETCH_LEAD - stall)
        assert end == pytest.approx(slow + CONFIG.slow_delay + FETCH_SLACK + stall)


def test_an_unknown_kid_500_in_an_outage_is_not_designed() -> None:
    late = Outcome(DOWN[0] + 0.2, DOWN[0] + 0.3, UNKNOWN_KID, "private", 500, "x", "random_kid")
    assert [v.why for v in analyse(run([late], {"x": 1})).unexpected] == ["5xx"]


def test_degraded_windows_are_the_outages_plus_a_cooldown_and_a_fetch() -> None:
    grace = CONFIG.cooldown + CONFIG.jwks_timeout
    assert degraded_windows(PHASES, CONFIG) == [
        (SPAN["jwks_down"][0], SPAN["jwks_down"][1] + grace),
        (SPAN["jwks_hung"][0], SPAN["jwks_hung"][1] + grace + CONFIG.hung_delay),
    ]


def test_a_fetch_window_lasts_the_idp_s_delay_at_most_the_timeout_plus_slack() -> None:
    healthy = SPAN["baseline"][0] + 0.5
    slow = SPAN["jwks_slow"][0] + 0.4
    hung = SPAN["jwks_hung"][0] + 0.4
    windows = fetch_windows([healthy, slow, hung], PHASES, CONFIG)
    assert windows == [
        (healthy - FETCH_LEAD, healthy + FETCH_SLACK),
        (slow - FETCH_LEAD, slow + CONFIG.slow_delay + FETCH_SLACK),
        (hung - FETCH_LEAD, hung + min(CONFIG.hung_delay, CONFIG.jwks_timeout) + FETCH_SLACK),
    ]


def test_a_fetch_near_a_phase_change_gets_the_longer_delay() -> None:
    just_before_slow = SPAN["jwks_slow"][0] - 0.1
    (window,) = fetch_windows([just_before_slow], PHASES, CONFIG)
    assert window[1] == just_before_slow + CONFIG.slow_delay + FETCH_SLACK


def test_a_request_overlaps_a_window_only_if_it_was_in_flight_inside_it() -> None:
    window = [(10.0, 20.0), (30.0, 40.0)]
    for sent, done, inside in [
        (9.0, 10.0, False),
        (9.0, 10.1, True),
        (19.9, 25.0, True),
        (20.0, 25.0, False),
        (21.0, 29.0, False),
        (35.0, 36.0, True),
    ]:
        assert may_be_designed_503(VALID_NEW, sent, done, window, False) is inside, (sent, done)


# -- JWKS fetch bounds --------------------------------------------------------------------------


def test_the_fetch_bound_is_per_worker_one_per_cooldown_and_one_per_ttl_and_the_first() -> None:
    config = SoakConfig(cache_ttl=3.0, cooldown=2.0)
    assert fetch_bound(2, 9.5, config) == 2 * ((4 + 1) + (3 + 1))
    assert fetch_bound(1, 0.0, config) == 2


def even_hits(name: str, count: int, status: int = 200) -> list[tuple[float, int]]:
    start, end = SPAN[name] if name != "warmup" else (T0 - CONFIG.warmup, T0)
    return [(start + (end - start) * (n + 0.5) / count, status) for n in range(count)]


def phase_bound(name: str) -> int:
    start, end = SPAN[name] if name != "warmup" else (T0 - CONFIG.warmup, T0)
    return fetch_bound(2, end - start, CONFIG)


@pytest.mark.parametrize(("phase", "status"), [("warmup", 200), ("jwks_down", 503)])
def test_too_many_fetches_in_one_phase_fail_the_run(phase: str, status: int) -> None:
    hits = even_hits(phase, phase_bound(phase) + 1, status)
    observed = run(jwks_hits=hits)
    assert analyse(observed).jwks_fetches <= analyse(observed).jwks_bound
    assert failed(observed) == {"JWKS fetches within the bound"}
    assert failed(run(jwks_hits=even_hits(phase, phase_bound(phase), status))) == set()


def test_too_many_fetches_over_the_run_fail_even_if_every_phase_kept_its_bound() -> None:
    names = ["warmup", *SPAN]
    every_phase_full = [hit for name in names for hit in even_hits(name, phase_bound(name), 503)]
    observed = run(jwks_hits=every_phase_full)
    result = analyse(observed)
    assert result.jwks_fetches > result.jwks_bound
    assert failed(observed) == {"JWKS fetches within the bound"}
    at_bound = run(jwks_hits=every_phase_full[: result.jwks_bound])
    assert failed(at_bound) == set()
    one_over = run(jwks_hits=every_phase_full[: result.jwks_bound + 1])
    assert failed(one_over) == {"JWKS fetches within the bound"}


def test_a_fetch_at_a_phase_start_belongs_to_that_phase() -> None:
    observed = run()
    assert _phase_of(DOWN[0], observed) == "jwks_down"
    assert _phase_of(T0 - 0.1, observed) == "warmup"
    assert _phase_of(T0, observed) == "baseline"


# -- memory -------------------------------------------------------------------------------------


def rising(pid: int, first: int, last: int) -> list[RssSample]:
    return [RssSample(T0 + n * 0.25, pid, (first if n < 24 else last) * MIB) for n in range(33)]


@pytest.mark.parametrize(("last", "fails"), [(109, False), (110, True), (115, True)])
def test_memory_growth_of_a_tenth_fails_the_run(last: int, fails: bool) -> None:
    observed = run(rss=[*rising(1, 100, last), *flat_rss((2,))])
    assert failed(observed) == ({"worker RSS growth < 10%"} if fails else set())


def test_a_worker_without_a_first_quarter_sample_fails_the_memory_check() -> None:
    only_late = [s for s in flat_rss((1,)) if s.time >= T0 + 6.0]
    observed = run(rss=[*only_late, *flat_rss((2,))])
    assert math.isinf(analyse(observed).rss_growth)
    assert failed(observed) == {"worker RSS growth < 10%"}


def test_the_total_is_the_sum_and_is_judged_only_once_every_worker_is_warm() -> None:
    observed = run(rss=[*flat_rss((1,), 100), *flat_rss((2,), 50)])
    rows, _ = rss_rows(observed)
    assert cast(str, rows[-1][2]).startswith("150.0 ")
    cold = run(rss=[*flat_rss((1, 2)), *flat_rss((3,))])  # worker 3 answered nothing
    rows, _ = rss_rows(cold)
    assert rows[-1][4] == "not judged"


def test_a_worker_is_warm_at_exactly_its_warm_requests_th_answer() -> None:
    observed = run()
    of_worker_1 = [o for o in observed.outcomes if observed.worker_of[o.request_id] == 1]
    assert len(of_worker_1) > WARM_REQUESTS
    trimmed = replace(observed, outcomes=of_worker_1[:WARM_REQUESTS])
    assert warm_since(trimmed) == {1: of_worker_1[WARM_REQUESTS - 1].done}


def test_a_worker_warm_just_a_quarter_before_the_last_quarter_is_judged() -> None:
    at = T0 + 3 * CONFIG.duration / 4 - CONFIG.duration / 4  # warm exactly at +4 s
    outcomes = [
        Outcome(at - 0.01, at, VALID_OLD, "private", 200, f"w{n}", "old_key") for n in range(20)
    ]
    observed = replace(
        run(), outcomes=outcomes, worker_of={f"w{n}": 1 for n in range(20)}, rss=flat_rss((1,))
    )
    rows, worst = rss_rows(observed)
    assert rows[0][4] == "+0.0%"
    assert worst == 0.0


# -- the schedule -------------------------------------------------------------------------------


def test_the_new_key_signs_a_ttl_and_two_cooldowns_after_it_is_published() -> None:
    config = SoakConfig.for_duration(60.0)
    starts = {p.name: p.start for p in config.schedule()}
    assert starts["rotated"] == pytest.approx(0.12 * 60 + config.cache_ttl + 2 * config.cooldown)
    assert [p.name for p in config.schedule() if p.degraded] == ["jwks_down", "jwks_hung"]


def test_a_rotation_less_than_a_cooldown_before_the_outage_is_refused() -> None:
    # published 12 s + TTL 30 s + 2 cooldowns = 44 s = the outage at 45 s less a cooldown
    with pytest.raises(ValueError, match="too short"):
        SoakConfig(duration=100.0, cache_ttl=30.0, cooldown=1.0).schedule()
    SoakConfig(duration=100.0, cache_ttl=29.9, cooldown=1.0).schedule()


# -- real failures the judgement once passed ---------------------------------------------------


def test_unknown_kids_all_answered_503_while_the_jwks_is_healthy_fail_the_run() -> None:
    """The API answering 503 instead of 401 to every unknown kid, the JWKS up and each fetch
    answered at once, each worker fetching once a second (the 60 s run's cooldown is 2 s).
    A fetch's window once lasted the whole fetch timeout (3 s in the 60 s run), so the windows
    covered the whole run and this passed. (In a run whose cooldown is shorter than a window,
    such as ``make test``'s 5 s soak, the windows still join up.)"""
    outcomes, _ = baseline_outcomes()
    changes = {i: 503 for i, o in enumerate(outcomes) if o.token_class == UNKNOWN_KID}
    start, end = T0 - CONFIG.warmup, T0 + CONFIG.duration
    hits = sorted((start + w * 0.5 + n, 200) for w in range(2) for n in range(int(end - start)))
    observed = run(change=changes, jwks_hits=hits)
    assert failed(observed) == {"no unexpected status"}


def test_memory_without_last_quarter_samples_fails_the_memory_check() -> None:
    """A sampler that stopped leaves the last quarter empty: once read as -100% growth, PASS."""
    early_only = [s for s in flat_rss() if s.time < T0 + 5.0]
    observed = run(rss=early_only)
    assert analyse(observed).rss_growth == math.inf
    assert failed(observed) == {"worker RSS growth < 10%"}


def test_new_key_503s_through_the_outage_fail_although_the_worker_never_served_it() -> None:
    """Worker 1 never answered a new-key token before the outage. The new key was published a
    TTL and two cooldowns before it signed, so the worker holds it: a 503 for it is the failure
    'the TTL refresh does not pick up the published key', once judged designed."""
    at = [DOWN[0] + 0.1 * n for n in range(20)]
    extra = [outage_503(VALID_NEW, f"n{n}", t) for n, t in enumerate(at)]
    observed = run(extra, {f"n{n}": 1 for n in range(20)})
    assert failed(observed) == {"no unexpected status"}
