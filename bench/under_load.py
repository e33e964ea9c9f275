"""Part 3 of the bench: gunicorn, 2 sync workers on 127.0.0.1, under ``wrk`` (or the Python
load generator of ``bench.load``).

``/api/public``, ``/api/private`` with one repeated token, and with a fresh token from a pool
minted before each round (sized from the fastest rate seen yet), in requests/s and in the
workers' CPU time per request; each protected case also against ``/api/public`` receiving the
same headers. Beside the API, a second gunicorn serves the floor (``bench/floor_app.py``: the
signature checked, nothing else) with the same fresh tokens. The JWKS fetches are counted from
the mock IdP's hit log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apiexample import conf
from bench import load
from bench.measure import median, status
from bench.minting import Mints
from bench.worker_cpu import WorkerCPU
from devtools.processes import API_APP, RunningServer, api_environment, api_server
from mock_idp import DEFAULT_AUDIENCE as AUDIENCE
from mock_idp import MockIdP
from mock_idp.http import JWKS as JWKS_PATH
from mock_idp.server import MockIdPServer

#: The API with its protected routes checking the signature only (bench/floor_app.py).
FLOOR_APP = "bench.floor_app:create_application()"
#: A round's token pool: this many times what a case sends at the fastest rate seen yet, plus a
#: lead (wrk's threads each take every other token, and one may run faster).
POOL_MARGIN = 1.3
POOL_LEAD = 1000


def pool_size(fastest_rps: float, seconds: float) -> int:
    """The fresh tokens one round's cases need, none sent twice, at ``fastest_rps``."""
    return int(fastest_rps * seconds * POOL_MARGIN) + POOL_LEAD


@contextmanager
def gunicorn(issuer: str, scratch: Path, name: str, app: str = API_APP) -> Iterator[RunningServer]:
    """2 sync workers, as the issue asks; the API's settings pinned to the mock IdP."""
    options = ("--workers", "2", "--worker-class", "sync", "--log-level", "warning")
    with api_server(
        api_environment(issuer, AUDIENCE), *options, log=scratch / f"{name}.log", app=app
    ) as server:
        yield server


@dataclass(frozen=True)
class Case:
    """What one load run requests: which server, which route, with which tokens."""

    server: str  # "api" or "floor"
    path: str
    sends: str  # "nothing", "repeated" (one token on every request) or "fresh" (a pool's tokens)

    def load_options(self, repeated: str, pool: list[str]) -> dict[str, Any]:
        """The load generator's ``token``/``pool`` arguments for this case."""
        options: dict[str, dict[str, Any]] = {
            "nothing": {},
            "repeated": {"token": repeated},
            "fresh": {"pool": pool},
        }
        return options[self.sends]


#: Every load case, in the order they run within a round: each protected case runs right next
#: to both of its baselines (``/api/public``, and ``/api/public`` receiving the same headers),
#: because this machine's speed drifts over seconds and a ratio of two adjacent runs is the least
#: affected. public_header and public_pool send what repeated and fresh send, to the public route
#: (which ignores it): the same client work, so their ratios isolate the server's cost of
#: validating (the load generator shares the 2 cores). The floor server gets the same fresh
#: tokens (it caches nothing).
CASES = {
    "public_header": Case("api", "/api/public", "repeated"),
    "repeated": Case("api", "/api/private", "repeated"),
    "public": Case("api", "/api/public", "nothing"),
    "fresh": Case("api", "/api/private", "fresh"),
    "public_pool": Case("api", "/api/public", "fresh"),
    "floor_public": Case("floor", "/api/public", "nothing"),
    "floor_fresh": Case("floor", "/api/private", "fresh"),
}

#: (label, case, the case whose requests carry the same headers, if measured), as printed.
API_ROWS: list[tuple[str, str, str | None]] = [
    ("/api/public", "public", "public"),
    ("/api/public, with the repeated token", "public_header", "public_header"),
    ("/api/public, with a fresh token each", "public_pool", "public_pool"),
    ("/api/private, repeated token", "repeated", "public_header"),
    ("/api/private, fresh token per request", "fresh", "public_pool"),
]
FLOOR_ROWS: list[tuple[str, str, str | None]] = [
    ("/api/public", "floor_public", "floor_public"),
    ("/api/private, fresh token per request", "floor_fresh", None),
]


def round_order(round_: int) -> tuple[str, ...]:
    """The names of ``CASES`` in order, reversed in odd rounds so each pair runs in both orders."""
    names = tuple(CASES)
    return names if round_ % 2 == 0 else names[::-1]


def under_load(
    idp: MockIdP, minter: Mints, repeated: str, scratch: Path, *, rounds: int, seconds: float
) -> tuple[list[str], dict[str, float]]:
    """Every case of ``CASES`` for ``rounds`` rounds of ``seconds``; ``load_report``'s lines
    and figures."""
    use_wrk = load.wrk_version() is not None

    def run(url: str, duration: float, **kw: Any) -> load.LoadResult:
        generator = load.run_wrk if use_wrk else load.run_python
        return generator(url, duration, **kw)

    fetches_before = idp.hit_count(JWKS_PATH)
    results: dict[str, list[load.LoadResult]] = {name: [] for name in CASES}
    cpu_us: dict[str, list[float]] = {name: [] for name in CASES}
    # The floor trusts an IdP of its own holding the same keys, so the JWKS fetches counted
    # below are the API's alone.
    with (
        MockIdPServer(MockIdP(audience=AUDIENCE, keys=idp.keys)) as floor_idp,
        gunicorn(idp.issuer, scratch, "api") as api,
        gunicorn(floor_idp.idp.issuer, scratch, "floor", app=FLOOR_APP) as floor,
    ):
        api_base, floor_base = api.base, floor.base
        bases = {"api": api_base, "floor": floor_base}
        workers = {"api": WorkerCPU(api.pid), "floor": WorkerCPU(floor.pid)}
        status("gunicorn up (the API, and the signature-only floor); warming up")
        warm_ups = [
            run(f"{api_base}/api/private", 1, token=repeated),
            run(f"{floor_base}/api/private", 1, token=repeated),
            run(f"{api_base}/api/public", 1),
        ]
        # A round's pool is minted just before it, from the fastest rate seen yet: a slow second
        # while warming up would otherwise size every pool short, and tokens would repeat.
        fastest = max(r.rps for r in warm_ups)
        for round_ in range(rounds):
            pool = minter.mint(pool_size(fastest, seconds))
            status(f"load round {round_ + 1}/{rounds} ({seconds:.0f} s a case, {len(pool)} tokens)")
            for name in round_order(round_):
                case = CASES[name]
                options = case.load_options(repeated, pool)
                before = workers[case.server].sample()
                result = run(f"{bases[case.server]}{case.path}", seconds, **options)
                after = workers[case.server].sample()
                used = WorkerCPU.per_request_us(before, after, result.requests)
                results[name].append(result)
                fastest = max(fastest, result.rps)
                if used is not None:
                    cpu_us[name].append(used)
    fetches = idp.hit_count(JWKS_PATH) - fetches_before
    # The requests the API's workers served (the floor trusts an IdP of its own).
    requests = sum(r.requests for n, rs in results.items() if CASES[n].server == "api" for r in rs)
    requests += warm_ups[0].requests + warm_ups[2].requests

    generator = "wrk -t2 -c8" if use_wrk else "python, 2 processes x 4 threads"
    heading = (
        f"gunicorn, 2 sync workers, 127.0.0.1, {generator} "
        f"(median of {rounds} rounds of {seconds:.0f} s)"
    )
    return load_report(heading, results, cpu_us, fetches, requests)


def load_report(
    heading: str,
    results: dict[str, list[load.LoadResult]],
    cpu_us: dict[str, list[float]],
    fetches: int,
    requests: int,
) -> tuple[list[str], dict[str, float]]:
    """The table of every case's rounds, and the figures the targets read: ``<case>`` (the
    median of its rounds' ratios to its server's ``/api/public``), ``<case>_same`` (to the
    same headers), ``cpu_repeated``/``cpu_fresh`` (public's worker CPU over theirs), and
    ``fetches``."""

    def per_round(name: str, baseline: str) -> list[float]:
        return [r.rps / b.rps for r, b in zip(results[name], results[baseline], strict=True)]

    ratios: dict[str, float] = {}

    def rows(table: list[tuple[str, str, str | None]], public: str) -> list[str]:
        lines = []
        for label, name, same in table:
            round_ratios = per_round(name, public)
            ratios[name] = median(round_ratios)
            same_text = f"{'-':>7s}"
            if same is not None:
                ratios[f"{name}_same"] = median(per_round(name, same))
                same_text = f"{ratios[f'{name}_same']:7.3f}"
            bad = sum(r.not_ok for r in results[name])
            ran_out = any(r.pool_exhausted for r in results[name])
            spread = f"{min(round_ratios):.2f}-{max(round_ratios):.2f}"
            cpu = f"{median(cpu_us[name]):6.0f}" if cpu_us[name] else f"{'n/a':>6s}"
            lines.append(
                f"  {label:40s} {median([r.rps for r in results[name]]):7.0f} "
                f"{ratios[name]:8.3f} {spread:>10s} {same_text} {cpu} "
                f"{bad:7d}{' (token pool ran out!)' if ran_out else ''}"
            )
        return lines

    lines = [
        heading,
        f"  {'':40s} {'req/s':>7s} {'x public':>8s} {'rounds':>10s} {'x same':>7s} "
        f"{'cpu us':>6s} {'not 200':>7s}",
        *rows(API_ROWS, "public"),
        "  the floor: the same API with its protected routes checking the signature only",
        "  (bench/floor_app.py, a second gunicorn; ratios against its own /api/public)",
        *rows(FLOOR_ROWS, "floor_public"),
        "  x public: median of the rounds' ratios (each round runs the cases back to back, each",
        "  protected case next to its baselines, in reverse every other round);",
        "  rounds: the lowest and highest of them. x same: against /api/public receiving the",
        "  same headers, i.e. the same load generator work on the shared cores. cpu us: worker",
        "  CPU time (utime+stime from /proc) per request, median of the rounds: the server alone.",
    ]
    if cpu_us["public"] and cpu_us["repeated"] and cpu_us["fresh"]:
        ratios["cpu_repeated"] = median(cpu_us["public"]) / median(cpu_us["repeated"])
        ratios["cpu_fresh"] = median(cpu_us["public"]) / median(cpu_us["fresh"])
        lines.append(
            f"  by worker CPU, public / private: repeated {ratios['cpu_repeated']:.3f}x, "
            f"fresh {ratios['cpu_fresh']:.3f}x"
        )
    lines += [
        f"  against the floors: repeated token {ratios['repeated_same']:.3f}x /api/public with the "
        "same header (no validation at all);",
        f"  fresh token {ratios['fresh'] / ratios['floor_fresh']:.3f}x the signature-only floor's "
        f"{ratios['floor_fresh']:.3f}x",
        f"  JWKS fetches (IdP hit log): {fetches} for {requests} requests to 2 workers "
        f"(TTL {conf.DEFAULT_JWKS_CACHE_TTL} s)",
    ]
    ratios["fetches"] = fetches
    # What makes the API's throughput no measure of a target, whatever its ratios (the targets
    # read them): an answer other than 200 (a refusal costs less than a 200), and a token pool
    # that ran out (the "fresh" tokens sent again are cache hits).
    api_results = [r for _, name, _ in API_ROWS for r in results[name]]
    ratios["not_ok"] = sum(r.not_ok for r in api_results)
    ratios["pool_ran_out"] = float(any(r.pool_exhausted for r in api_results))
    return lines, ratios
