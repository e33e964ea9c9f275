"""What a soak run observed, judged against the scenario, and printed as one table.

Every request is expected per class and route (``scenario.expected_statuses``), with a 503
allowed only where the README designs one. JWKS fetches are bounded as its "Signing keys"
says: per worker process at most one fetch per cooldown plus one per TTL (and the first of
each), over the run and over each phase. Worker memory is the VmRSS peak of a quarter of
the run, from when the worker had warmed up, against that of the last quarter.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from apiexample import conf
from soak.load import Outcome
from soak.processes import RssSample
from soak.scenario import (
    CLASSES,
    FETCH_SLACK,
    MAX_RSS_GROWTH,
    ROUTES,
    VALID_CLASSES,
    WARM_REQUESTS,
    Phase,
    SoakConfig,
    degraded_windows,
    expected_statuses,
    fetch_windows,
    in_flight_during,
    may_be_designed_503,
    stalls_at,
)

MAX_LISTED = 20


@dataclass(frozen=True)
class Observed:
    """The raw record of a run; times are ``time.monotonic()``."""

    config: SoakConfig
    phases: list[tuple[Phase, float, float]]
    t0: float
    outcomes: list[Outcome]
    worker_of: dict[str, int]
    jwks_hits: list[tuple[float, int]]
    rss: list[RssSample]
    workers_seen: list[int]
    master_pid: int
    log_dir: Path


@dataclass(frozen=True)
class Verdict:
    """One request judged: ``why`` is empty when it was expected."""

    outcome: Outcome
    worker: int | None
    designed_503: bool
    why: str


@dataclass
class SoakResult:
    """The analysis: ``ok`` when every check passed; ``table`` is the printed report."""

    observed: Observed
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    table: str = ""
    unexpected: list[Verdict] = field(default_factory=list)
    jwks_fetches: int = 0
    jwks_bound: int = 0
    rss_growth: float = 0.0
    stall: float = 0.0  # the longest of stalls_at: how far an in-flight window was widened

    @property
    def ok(self) -> bool:
        return all(passed for _name, passed, _detail in self.checks)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted ``values`` (0 when empty)."""
    if not values:
        return 0.0
    return values[min(len(values) - 1, max(0, math.ceil(fraction * len(values)) - 1))]


def fetch_bound(workers: int, seconds: float, config: SoakConfig) -> int:
    """Per worker, one fetch per cooldown (unknown kids, failures) plus the TTL refreshes."""
    per_worker = (math.floor(seconds / config.cooldown) + 1) + (
        math.floor(seconds / config.cache_ttl) + 1
    )
    return workers * per_worker


def _statuses(counter: Counter[int]) -> str:
    return " ".join(f"{status or 'none'}:{n}" for status, n in sorted(counter.items()))


def _render(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """A plain-text table, numbers right-aligned."""
    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [
        all(row[i].replace(".", "", 1).replace("%", "").lstrip("+-").isdigit() for row in cells[1:])
        for i in range(len(headers))
    ]
    lines = []
    for n, row in enumerate(cells):
        parts = [
            cell.rjust(widths[i]) if numeric[i] and n else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def _judge(observed: Observed) -> tuple[list[Verdict], float]:
    """Each request against its expectation, in order of sending; and the longest stall."""
    windows = degraded_windows(observed.phases, observed.config)
    # When each worker first answered 200 to a token of each key: from then on it holds it.
    # The new key is published a TTL and two cooldowns before it signs, so every worker holds
    # it from the rotation on (the scenario's design), whether or not it has served it yet.
    rotated = next(start for phase, start, _end in observed.phases if phase.name == "rotated")
    before_rotation = math.nextafter(rotated, -math.inf)  # held by a request sent at `rotated`
    holds_since = {(worker, "new_key"): before_rotation for worker in observed.worker_of.values()}
    workers = [observed.worker_of.get(o.request_id) for o in observed.outcomes]
    for o, worker in zip(observed.outcomes, workers, strict=True):
        if worker is not None and o.status == 200 and o.detail.endswith("_key"):
            key = (worker, o.detail)
            holds_since[key] = min(holds_since.get(key, math.inf), o.done)
    held = [
        worker is not None and holds_since.get((worker, o.detail), math.inf) < o.sent
        for o, worker in zip(observed.outcomes, workers, strict=True)
    ]
    hits = [t for t, _status in observed.jwks_hits]
    stalls = _stalls(observed, hits, held, windows)
    in_flight = fetch_windows(hits, observed.phases, observed.config, stalls)
    verdicts = []
    for o, worker, holds in zip(observed.outcomes, workers, held, strict=True):
        why = ""
        designed = False
        if o.status == 0:
            why = "no answer"
        elif o.status not in expected_statuses(o.token_class, o.route):
            if o.status == 503 and may_be_designed_503(
                o.token_class, o.sent, o.done, windows, holds, in_flight
            ):
                designed = True
            elif o.status == 200:
                why = "accepted!"
            elif o.token_class in VALID_CLASSES:
                why = "valid token refused"
            elif o.status >= 500:
                why = "5xx"
            else:
                why = "wrong status"
        verdicts.append(Verdict(o, worker, designed, why))
    return verdicts, max(stalls, default=0.0)


def _stalls(
    observed: Observed,
    hits: list[float],
    held: list[bool],
    degraded: list[tuple[float, float]],
) -> list[float]:
    """``stalls_at`` each hit, from the valid tokens served with a held key while the IdP answered
    at once: in an outage or a slow phase a request may also queue behind a fetch holding one of
    the worker's threads, a wait no fetch itself goes through."""
    config = observed.config
    slow = [(s, e + config.jwks_timeout) for p, s, e in observed.phases if config.idp_delay(p.name)]
    idp_busy = [*degraded, *slow]
    return stalls_at(
        hits,
        (
            (o.sent, o.done)
            for o, holds in zip(observed.outcomes, held, strict=True)
            if holds
            and o.status == 200
            and o.token_class in VALID_CLASSES
            and not in_flight_during(o.sent, o.done, idp_busy)
        ),
    )


def _phase_of(t: float, observed: Observed) -> str:
    if t < observed.t0:
        return "warmup"
    name = observed.phases[0][0].name
    for phase, start, _end in observed.phases:
        if t >= start:
            name = phase.name
    return name


def warm_since(observed: Observed) -> dict[int, float]:
    """When each worker answered its ``WARM_REQUESTS``-th request; absent if it never did."""
    answered: dict[int, list[float]] = defaultdict(list)
    for outcome in observed.outcomes:
        worker = observed.worker_of.get(outcome.request_id)
        if worker is not None:
            answered[worker].append(outcome.done)
    return {
        worker: sorted(times)[WARM_REQUESTS - 1]
        for worker, times in answered.items()
        if len(times) >= WARM_REQUESTS
    }


def rss_rows(observed: Observed) -> tuple[list[list[object]], float]:
    """Per worker and in total: peak RSS of the first quarter once warm and of the last quarter,
    and the growth; the worst growth of those judged (infinite when none could be).

    The first quarter starts at the run's start or, for a worker still warming up then, when it
    had warmed up (in total: when every worker had). One that warmed up too late for a quarter
    to fit before the last one is not judged.
    """
    config, t0 = observed.config, observed.t0
    quarter = config.duration / 4
    last = (t0 + 3 * quarter, t0 + config.duration + 1e-9)
    totals: dict[float, int] = defaultdict(int)
    per_worker: dict[int, list[RssSample]] = defaultdict(list)
    for sample in observed.rss:
        totals[sample.time] += sample.kib
        per_worker[sample.pid].append(sample)
    warm = warm_since(observed)

    def peak(points: list[tuple[float, int]], start: float, end: float) -> int:
        return max((kib for t, kib in points if start <= t < end), default=0)

    served = Counter(observed.worker_of.values())
    rows: list[list[object]] = []
    judged: list[float] = []
    series = [
        (f"worker {pid}", served[pid], warm.get(pid), [(s.time, s.kib) for s in samples])
        for pid, samples in sorted(per_worker.items())
    ]
    warm_times = [warm[pid] for pid in per_worker if pid in warm]
    since = max([t0, *warm_times]) if len(warm_times) == len(per_worker) else None
    series.append(("all workers", sum(served.values()), since, list(totals.items())))
    for name, requests, warm_at, points in series:
        if warm_at is None or max(t0, warm_at) + quarter > last[0]:
            rows.append([name, requests, "warmed up too late", "", "not judged"])
            continue
        start = max(t0, warm_at)
        q1, q4 = peak(points, start, start + quarter), peak(points, *last)
        growth = (q4 - q1) / q1 if q1 and q4 else math.inf  # a quarter without samples fails
        judged.append(growth)
        later = f" (from +{start - t0:.1f} s)" if round(start - t0, 1) > 0 else ""
        first = f"{q1 / 1024:.1f}{later}"
        rows.append([name, requests, first, f"{q4 / 1024:.1f}", f"{100 * growth:+.1f}%"])
    return rows, max(judged, default=math.inf)


def analyse(observed: Observed) -> SoakResult:
    """Judge the run and render the table: the settings, then one section per view of it."""
    config = observed.config
    result = SoakResult(observed)
    verdicts, result.stall = _judge(observed)
    result.unexpected = [v for v in verdicts if v.why]
    workers = max(len(observed.workers_seen), config.workers)
    outcomes = observed.outcomes
    span = (outcomes[-1].done - outcomes[0].sent) if outcomes else 0.0
    result.jwks_fetches = len(observed.jwks_hits)
    result.jwks_bound = fetch_bound(workers, span, config)
    memory_rows, result.rss_growth = rss_rows(observed)

    lines = _settings_lines(observed)
    phase_lines, phase_bound_ok = _phase_section(observed, verdicts, workers)
    lines += phase_lines
    lines += _class_section(verdicts)
    lines += _unexpected_section(observed, result.unexpected, result.stall)
    lines += _jwks_section(observed, result, workers, span)
    lines += _memory_section(config, memory_rows)
    result.checks = _checks(observed, result, phase_bound_ok)
    lines += ["", "Checks"]
    lines += [
        f"  {'PASS' if passed else 'FAIL'}  {name}{f' ({detail})' if detail else ''}"
        for name, passed, detail in result.checks
    ]
    lines.append(f"soak: {'PASS' if result.ok else 'FAIL'}")
    if not result.ok:
        lines.append(f"logs kept in {observed.log_dir}")
    result.table = "\n".join(lines)
    return result


def _settings_lines(observed: Observed) -> list[str]:
    config = observed.config
    outcomes = observed.outcomes
    measured = [o for o in outcomes if o.sent >= observed.t0]
    return [
        f"soak: {config.duration:g} s (+{config.warmup:g} s warm-up), gunicorn -w {config.workers}"
        f" -k gthread --threads {config.threads} on 127.0.0.1, mock IdP on 127.0.0.1 (in the soak"
        " process)",
        f"API settings for the soak: AUTH0_JWKS_CACHE_TTL={config.cache_ttl:g}"
        f" AUTH0_JWKS_COOLDOWN={config.cooldown:g} AUTH0_JWKS_TIMEOUT={config.jwks_timeout:g}"
        " (short, so that TTL refreshes and cooldown-gated refetches happen during the run;"
        f" stale-if-error {conf.DEFAULT_JWKS_STALE_IF_ERROR})",
        f"load: {config.clients} client processes, target {config.rate:g} req/s; sent"
        f" {len(outcomes)} requests ({len(measured) / config.duration:.0f} req/s after warm-up)",
    ]


def _phase_section(
    observed: Observed, verdicts: list[Verdict], workers: int
) -> tuple[list[str], bool]:
    """One row per phase; and whether every phase kept its JWKS fetches within its bound."""
    config = observed.config
    by_phase: dict[str, list[Verdict]] = defaultdict(list)
    for v in verdicts:
        by_phase[_phase_of(v.outcome.sent, observed)].append(v)
    starts = [("warmup", observed.t0 - config.warmup, observed.t0, "old key signs, caches fill")]
    starts += [(p.name, start, end, p.what) for p, start, end in observed.phases]
    hits_by_phase: dict[str, list[int]] = defaultdict(list)
    for t, status in observed.jwks_hits:
        hits_by_phase[_phase_of(t, observed)].append(status)
    rows = []
    bound_ok = True
    for name, start, end, what in starts:
        phase_verdicts = by_phase.get(name, [])
        hits = hits_by_phase.get(name, [])
        bound = fetch_bound(workers, end - start, config)
        bound_ok &= len(hits) <= bound
        valid_ms = sorted(
            1000 * (v.outcome.done - v.outcome.sent)
            for v in phase_verdicts
            if v.outcome.token_class in VALID_CLASSES
        )
        rows.append(
            [
                name,
                f"{start - observed.t0:.1f}",
                f"{end - observed.t0:.1f}",
                len(phase_verdicts),
                sum(1 for v in phase_verdicts if v.why),
                sum(1 for v in phase_verdicts if v.designed_503),
                len(hits),
                sum(1 for s in hits if s == 200),
                bound,
                f"{percentile(valid_ms, 0.99):.0f}",
                what,
            ]
        )
    lines = ["", "Phases (s from the end of the warm-up; JWKS fetches from the IdP's hit log)"]
    lines += _render(
        [
            "phase",
            "from",
            "to",
            "requests",
            "unexpected",
            "designed 503",
            "JWKS fetches",
            "of which 200",
            "fetch bound",
            "valid p99 ms",
            "what",
        ],
        rows,
    )
    return lines, bound_ok


def _class_section(verdicts: list[Verdict]) -> list[str]:
    rows = []
    for token_class in CLASSES:
        for route in ROUTES:
            group = [
                v
                for v in verdicts
                if v.outcome.token_class == token_class and v.outcome.route == route
            ]
            ms = sorted(1000 * (v.outcome.done - v.outcome.sent) for v in group)
            rows.append(
                [
                    token_class,
                    ROUTES[route],
                    "/".join(str(s) for s in sorted(expected_statuses(token_class, route))),
                    len(group),
                    _statuses(Counter(v.outcome.status for v in group)),
                    sum(1 for v in group if v.why),
                    *(f"{percentile(ms, q):.1f}" for q in (0.5, 0.95, 0.99)),
                    f"{ms[-1] if ms else 0:.1f}",
                ]
            )
    lines = ["", "Requests per class (latency in ms, client side)"]
    lines += _render(
        [
            "class",
            "route",
            "expected",
            "requests",
            "statuses",
            "unexpected",
            "p50",
            "p95",
            "p99",
            "max",
        ],
        rows,
    )
    return lines


def _unexpected_section(observed: Observed, unexpected: list[Verdict], stall: float) -> list[str]:
    lines = [
        "",
        f"Unexpected: {len(unexpected)} (a fetch counted as in flight from"
        f" {observed.config.fetch_lead:g} s before"
        f" the IdP logged it to {FETCH_SLACK:g} s after its delay, each margin widened by as long"
        f" as a valid token with a cached key waited around it while the IdP answered at once:"
        f" up to {stall:.3f} s)",
    ]
    if unexpected:
        lines += _render(
            ["t (s)", "phase", "class", "route", "detail", "status", "worker", "why"],
            [
                [
                    f"{v.outcome.sent - observed.t0:.2f}",
                    _phase_of(v.outcome.sent, observed),
                    v.outcome.token_class,
                    v.outcome.route,
                    v.outcome.detail,
                    v.outcome.status,
                    v.worker or "?",
                    v.why,
                ]
                for v in unexpected[:MAX_LISTED]
            ],
        )
    return lines


def _jwks_section(observed: Observed, result: SoakResult, workers: int, span: float) -> list[str]:
    config = observed.config
    ok_fetches = sum(1 for _t, s in observed.jwks_hits if s == 200)
    return [
        "",
        f"JWKS fetches: {result.jwks_fetches} ({ok_fetches} answered 200); bound"
        f" {result.jwks_bound} = {workers} workers x (floor({span:.1f} s / cooldown"
        f" {config.cooldown:g} s) + 1 + floor({span:.1f} s / TTL {config.cache_ttl:g} s) + 1)",
    ]


def _memory_section(config: SoakConfig, memory_rows: list[list[object]]) -> list[str]:
    lines = [
        "",
        f"Worker memory (VmRSS sampled every {config.rss_interval:g} s; MiB, peak per quarter of"
        " the run; the first",
        f"quarter from when the worker had answered {WARM_REQUESTS} requests, if later)",
    ]
    lines += _render(
        ["process", "requests served", "first quarter", "last quarter", "growth"], memory_rows
    )
    return lines


def _checks(
    observed: Observed, result: SoakResult, phase_bound_ok: bool
) -> list[tuple[str, bool, str]]:
    """The run's verdicts: each check, whether it passed, and the figure behind it."""
    missing = [c for c in CLASSES if not any(o.token_class == c for o in observed.outcomes)]
    accepted = [v for v in result.unexpected if v.why == "accepted!"]
    return [
        ("every class exercised", not missing, f"missing: {', '.join(missing)}" if missing else ""),
        ("no unexpected status", not result.unexpected, f"{len(result.unexpected)} unexpected"),
        ("no bad token accepted", not accepted, f"{len(accepted)} accepted"),
        (
            "JWKS fetches within the bound",
            result.jwks_fetches <= result.jwks_bound and phase_bound_ok,
            f"{result.jwks_fetches} <= {result.jwks_bound}, and per phase",
        ),
        (
            f"worker RSS growth < {100 * MAX_RSS_GROWTH:.0f}%",
            result.rss_growth < MAX_RSS_GROWTH,
            f"worst {100 * result.rss_growth:+.1f}%",
        ),
        (
            "no worker replaced",
            len(observed.workers_seen) <= observed.config.workers,
            f"{len(observed.workers_seen)} worker pids seen",
        ),
    ]
