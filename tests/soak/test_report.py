"""The soak report's memory check: growth is judged from when each worker has warmed up."""

from __future__ import annotations

import math
from pathlib import Path

from soak.load import Outcome
from soak.processes import RssSample
from soak.report import Observed, rss_rows, warm_since
from soak.scenario import MAX_RSS_GROWTH, VALID_OLD, WARM_REQUESTS, SoakConfig

T0 = 1000.0
CONFIG = SoakConfig.for_duration(8.0, workers=2, clients=1, rate=10.0)  # quarters of 2 s
MIB = 1024
EVERY_SECOND = [float(t) for t in range(9)]


def observed(answers: dict[int, list[float]], rss: dict[int, list[tuple[float, int]]]) -> Observed:
    """A run whose workers answered at ``answers`` and weighed ``rss`` (seconds after T0, MiB)."""
    outcomes, worker_of = [], {}
    for pid, times in answers.items():
        for n, at in enumerate(times):
            request_id = f"{pid}-{n}"
            outcomes.append(
                Outcome(T0 + at - 0.01, T0 + at, VALID_OLD, "private", 200, request_id, "old_key")
            )
            worker_of[request_id] = pid
    samples = [
        RssSample(T0 + t, pid, mib * MIB) for pid, points in rss.items() for t, mib in points
    ]
    return Observed(CONFIG, [], T0, outcomes, worker_of, [], samples, sorted(rss), 1, Path("."))


def answering_from(start: float, count: int = 40) -> list[float]:
    return [start + n * 0.05 for n in range(count)]


def flat(mib: int) -> list[tuple[float, int]]:
    return [(t, mib) for t in EVERY_SECOND]


def test_warm_since_is_the_time_of_a_workers_warm_requests_th_answer() -> None:
    run = observed({1: answering_from(0.0), 2: answering_from(3.0), 3: [1.0]}, {})

    assert warm_since(run) == {
        1: T0 + (WARM_REQUESTS - 1) * 0.05,
        2: T0 + 3.0 + (WARM_REQUESTS - 1) * 0.05,
    }


def test_a_worker_idle_at_the_start_is_judged_from_when_it_warmed_up() -> None:
    """What failed once in CI: a worker served nothing in the first quarter, then loaded the
    views and their libraries on its first requests, which read as 15% growth."""
    cold_then_warm = [(t, 48 if t < 3 else 55) for t in EVERY_SECOND]
    run = observed(
        {1: answering_from(0.0), 2: answering_from(2.5)}, {1: flat(55), 2: cold_then_warm}
    )

    rows, worst = rss_rows(run)

    assert worst == 0.0 < MAX_RSS_GROWTH
    assert rows[1][2] == "55.0 (from +3.5 s)"
    assert [row[4] for row in rows] == ["+0.0%", "+0.0%", "+0.0%"]


def test_growth_after_warm_up_is_still_caught() -> None:
    leaking = [(t, 50 + int(t)) for t in EVERY_SECOND]  # 50 MiB, one more every second
    run = observed({1: answering_from(0.0), 2: answering_from(0.0)}, {1: flat(55), 2: leaking})

    rows, worst = rss_rows(run)

    assert worst == (58 - 52) / 52 > MAX_RSS_GROWTH  # from +1 s (warm at +0.95 s) to the end
    assert rows[1][4] == "+11.5%"


def test_a_worker_warmed_up_too_late_is_not_judged_but_the_others_are() -> None:
    leaking = [(t, 50 + int(t)) for t in EVERY_SECOND]
    late = [(t, 40 if t < 5 else 80) for t in EVERY_SECOND]  # warm at +5 s: no quarter before +6
    run = observed({1: answering_from(0.0), 2: answering_from(5.0)}, {1: leaking, 2: late})

    rows, worst = rss_rows(run)

    assert worst == (58 - 52) / 52
    assert rows[1][4] == rows[2][4] == "not judged"  # the worker, and so the total


def test_no_worker_to_judge_fails_the_check() -> None:
    run = observed({1: answering_from(0.0, count=WARM_REQUESTS - 1)}, {1: flat(50)})

    rows, worst = rss_rows(run)

    assert math.isinf(worst)
    assert rows[0][4] == "not judged"
