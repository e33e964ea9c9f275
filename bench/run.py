"""Benchmarks of token validation and protected requests, all measured in one run.

    .venv/bin/python bench/run.py [--quick] [--skip-tests] [--skip-gunicorn]   (or: make bench)

1. Per token: the raw RSA-2048 verify (the floor), our validator on a fresh token (a cache
   miss) and on a repeated one, joserfc ``jwt.decode`` + claims and PyJWT ``jwt.decode``.
   Rounds are interleaved and ratios taken within each round, then the median is reported.
2. In process: one WSGI call per request for ``/api/public``, ``/api/private`` with a repeated
   token, and ``/api/private`` with a fresh token per request.
3. gunicorn, 2 sync workers on 127.0.0.1, under ``wrk`` (or a Python load generator): the same
   three cases in requests/s, with fresh tokens from a pool minted before the timed runs; the
   JWKS fetches counted from the mock IdP's hit log. Beside it, a second gunicorn serving the
   floor (``bench/floor_app.py``: the signature checked, nothing else) with the same fresh tokens.
4. The test suite's wall time (``make test``'s pytest command).

The mock IdP serves the JWKS on 127.0.0.1 from this process; every process this script starts
is stopped before it exits.
"""

from __future__ import annotations

import argparse
import gc
import io
import logging
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from apiexample import conf  # noqa: E402
from bench import load  # noqa: E402
from bench.worker_cpu import WorkerCPU  # noqa: E402
from devtools.processes import API_APP, RunningServer, api_environment, api_server  # noqa: E402
from mock_idp import DEFAULT_AUDIENCE as AUDIENCE  # noqa: E402
from mock_idp import KeyRing, MockIdP  # noqa: E402
from mock_idp.http import JWKS as JWKS_PATH  # noqa: E402
from mock_idp.keys import b64url_decode  # noqa: E402
from mock_idp.server import MockIdPServer  # noqa: E402

#: The environment as this script found it: the test suite runs in it, not in the bench's.
ORIGINAL_ENVIRONMENT = dict(os.environ)
SUITE_TIMEOUT = 600
#: The API with its protected routes checking the signature only (bench/floor_app.py).
FLOOR_APP = "bench.floor_app:create_application()"
LIBRARIES = ("Django", "Authlib", "joserfc", "cryptography", "PyJWT", "gunicorn")


@dataclass(frozen=True)
class Plan:
    token_rounds: int
    tokens_per_round: int
    wsgi_rounds: int
    requests_per_round: int
    load_rounds: int
    load_seconds: float

    @classmethod
    def for_args(cls, quick: bool) -> Plan:
        if quick:
            return cls(5, 300, 3, 200, 1, 3.0)
        return cls(9, 1000, 7, 1000, 7, 4.0)


# -- minting, in worker processes (RSA signing is the slow part of making tokens) ---------------

_minter: MockIdP | None = None


def _init_minter(keys_path: str, issuer: str) -> None:
    global _minter
    _minter = MockIdP(issuer, keys=KeyRing.load(keys_path), audience=AUDIENCE)


def _mint_batch(job: tuple[str, int]) -> list[str]:
    prefix, count = job
    if _minter is None:
        raise RuntimeError("the minting process was not initialised")
    return [_minter.mint(claims={"jti": f"{prefix}-{n}"}) for n in range(count)]


class Minter:
    """Distinct, valid tokens in bulk, signed by the IdP's key in every CPU."""

    def __init__(self, idp: MockIdP, scratch: Path) -> None:
        keys = scratch / "keys.json"
        idp.save(keys)
        self._pool = ProcessPoolExecutor(
            max_workers=os.cpu_count() or 1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_minter,
            initargs=(str(keys), idp.issuer),
        )
        self._batches = 0

    def mint(self, count: int) -> list[str]:
        size = 500
        jobs = []
        for start in range(0, count, size):
            self._batches += 1
            jobs.append((f"b{self._batches}", min(size, count - start)))
        return [token for batch in self._pool.map(_mint_batch, jobs) for token in batch]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


# -- helpers ------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values)


def timed(fn: Callable[[], None]) -> float:
    gc.collect()
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def status(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in LIBRARIES)
    return [
        f"machine: {os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}",
        f"python:  {platform.python_implementation()} {platform.python_version()}",
        f"libs:    {versions}, load: {load.wrk_version() or 'python load generator'}",
        f"gunicorn HTTP parser: {http_parser()}",
    ]


def http_parser() -> str:
    """gunicorn 27 (not 23) parses requests in C when gunicorn_h1c is installed."""
    try:
        return f"C (gunicorn_h1c {metadata.version('gunicorn_h1c')})"
    except metadata.PackageNotFoundError:
        return "Python (gunicorn_h1c not installed: requirements-fast.txt)"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


# -- 1. per token ---------------------------------------------------------------------------------


def per_token(
    idp: MockIdP, minter: Minter, plan: Plan, repeated: str
) -> tuple[list[str], dict[str, float]]:
    import jwt as pyjwt
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from joserfc import jwt as jose_jwt
    from joserfc.jwt import JWTClaimsRegistry

    from apiexample.signing_keys import cache_for
    from apiexample.validator import Auth0JWTBearerTokenValidator

    n, rounds = plan.tokens_per_round, plan.token_rounds
    status(f"minting {n * rounds} tokens for the per-token runs")
    fresh = minter.mint(n * rounds)
    validator = Auth0JWTBearerTokenValidator()
    validator.authenticate_token(repeated)  # fetches the JWKS once
    key = cache_for(conf.current().jwks_url).get(idp.keys.signing_key.kid)
    if key is None:
        raise RuntimeError("the IdP's signing key is not in the API's key set")
    public_key = key.public_key
    registry = JWTClaimsRegistry(
        leeway=conf.DEFAULT_LEEWAY,
        iss={"essential": True, "value": idp.issuer},
        aud={"essential": True, "value": AUDIENCE},
        exp={"essential": True},
        iat={"essential": True},
        sub={"essential": True},
    )

    samples: dict[str, list[float]] = {k: [] for k in ("raw", "miss", "hit", "joserfc", "pyjwt")}
    ratios: dict[str, list[float]] = {k: [] for k in samples}
    status(f"per-token runs: {rounds} rounds of {n}")
    for round_ in range(rounds):
        tokens = fresh[round_ * n : (round_ + 1) * n]
        inputs = [signing_input(token) for token in tokens]

        def raw(inputs: list[tuple[bytes, bytes]] = inputs) -> None:
            for signed, signature in inputs:
                public_key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())

        def miss(tokens: list[str] = tokens) -> None:
            for token in tokens:
                validator.authenticate_token(token)

        def hit() -> None:
            for _ in range(n):
                validator.authenticate_token(repeated)

        def joserfc(tokens: list[str] = tokens) -> None:
            for token in tokens:
                registry.validate(jose_jwt.decode(token, key, algorithms=["RS256"]).claims)

        def pyjwt_decode(tokens: list[str] = tokens) -> None:
            for token in tokens:
                pyjwt.decode(
                    token,
                    public_key,
                    algorithms=["RS256"],
                    audience=AUDIENCE,
                    issuer=idp.issuer,
                    leeway=conf.DEFAULT_LEEWAY,
                )

        runs: dict[str, Callable[[], None]] = {
            "raw": raw,
            "miss": miss,
            "hit": hit,
            "joserfc": joserfc,
            "pyjwt": pyjwt_decode,
        }
        times = {name: timed(fn) / n * 1e6 for name, fn in runs.items()}
        for name, value in times.items():
            samples[name].append(value)
            ratios[name].append(value / times["raw"])
    rows = [
        ("raw RSA-2048 verify, same tokens (floor)", "raw"),
        ("ours, fresh token (cache miss)", "miss"),
        ("ours, repeated token (cache hit)", "hit"),
        ("joserfc jwt.decode + claims registry", "joserfc"),
        ("PyJWT jwt.decode (iss, aud, exp)", "pyjwt"),
    ]
    lines = [
        f"per-token validation, RS256 (median of {rounds} interleaved rounds of {n})",
        f"  {'':40s} {'us/token':>9s} {'x floor':>8s}",
    ]
    for label, name in rows:
        lines.append(f"  {label:40s} {median(samples[name]):9.1f} {median(ratios[name]):8.2f}")
    figures = {"floor_us": median(samples["raw"]), "miss_ratio": median(ratios["miss"])}
    return lines, figures


def signing_input(token: str) -> tuple[bytes, bytes]:
    """What a bare RSA verify of ``token`` needs: the signed bytes and the signature."""
    header, payload, signature = token.split(".")
    return f"{header}.{payload}".encode(), b64url_decode(signature)


# -- 2. in process ------------------------------------------------------------------------------


def in_process(minter: Minter, plan: Plan, repeated: str) -> list[str]:
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    n, rounds = plan.requests_per_round, plan.wsgi_rounds
    status(f"minting {n * rounds} tokens for the in-process runs")
    fresh = minter.mint(n * rounds)

    def start_response(status_line: str, headers: Any, exc_info: Any = None) -> Any:
        if not status_line.startswith("200"):
            raise RuntimeError(f"unexpected answer {status_line}")
        return None

    def request(path: str, token: str | None) -> None:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        if token is not None:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        response = application(environ, start_response)
        b"".join(response)
        response.close()

    request("/api/private", repeated)
    samples: dict[str, list[float]] = {"public": [], "repeated": [], "fresh": []}
    status(f"in-process runs: {rounds} rounds of {n} requests")
    for round_ in range(rounds):
        tokens = fresh[round_ * n : (round_ + 1) * n]

        def public() -> None:
            for _ in range(n):
                request("/api/public", None)

        def private_repeated() -> None:
            for _ in range(n):
                request("/api/private", repeated)

        def private_fresh(tokens: list[str] = tokens) -> None:
            for token in tokens:
                request("/api/private", token)

        samples["public"].append(timed(public) / n * 1e6)
        samples["repeated"].append(timed(private_repeated) / n * 1e6)
        samples["fresh"].append(timed(private_fresh) / n * 1e6)
    public_us = median(samples["public"])
    lines = [
        f"in-process request, one WSGI call (median of {rounds} rounds of {n})",
        f"  {'':40s} {'us/req':>9s} {'req/s':>8s} {'x public':>8s}",
    ]
    for label, name in [
        ("/api/public", "public"),
        ("/api/private, repeated token", "repeated"),
        ("/api/private, fresh token per request", "fresh"),
    ]:
        us = median(samples[name])
        lines.append(f"  {label:40s} {us:9.1f} {1e6 / us:8.0f} {public_us / us:8.2f}")
    return lines


# -- 3. gunicorn ----------------------------------------------------------------------------------


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
    idp: MockIdP, minter: Minter, plan: Plan, repeated: str, scratch: Path
) -> tuple[list[str], dict[str, float]]:
    use_wrk = load.wrk_version() is not None

    def run(url: str, seconds: float, **kw: Any) -> load.LoadResult:
        return load.run_wrk(url, seconds, **kw) if use_wrk else load.run_python(url, seconds, **kw)

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
        run(f"{api_base}/api/private", 1, token=repeated)
        run(f"{floor_base}/api/private", 1, token=repeated)
        probe = run(f"{api_base}/api/public", 1)
        per_run = int(probe.rps * plan.load_seconds * 1.3) + 1000
        status(f"minting {per_run * plan.load_rounds} tokens for the fresh-token runs")
        pools = [minter.mint(per_run) for _ in range(plan.load_rounds)]
        for round_ in range(plan.load_rounds):
            status(f"load round {round_ + 1}/{plan.load_rounds} ({plan.load_seconds:.0f} s a case)")
            for name in round_order(round_):
                case = CASES[name]
                options = case.load_options(repeated, pools[round_])
                before = workers[case.server].sample()
                result = run(f"{bases[case.server]}{case.path}", plan.load_seconds, **options)
                after = workers[case.server].sample()
                used = WorkerCPU.per_request_us(before, after, result.requests)
                results[name].append(result)
                if used is not None:
                    cpu_us[name].append(used)
    fetches = idp.hit_count(JWKS_PATH) - fetches_before
    requests = sum(r.requests for rs in results.values() for r in rs) + probe.requests

    def per_round(name: str, baseline: str) -> list[float]:
        return [r.rps / b.rps for r, b in zip(results[name], results[baseline], strict=True)]

    ratios: dict[str, float] = {}

    def rows(table: list[tuple[str, str, str | None]], public: str) -> list[str]:
        lines = []
        for label, name, same in table:
            rounds = per_round(name, public)
            ratios[name] = median(rounds)
            same_text = f"{'-':>7s}"
            if same is not None:
                ratios[f"{name}_same"] = median(per_round(name, same))
                same_text = f"{ratios[f'{name}_same']:7.3f}"
            bad = sum(r.not_ok for r in results[name])
            ran_out = any(r.pool_exhausted for r in results[name])
            spread = f"{min(rounds):.2f}-{max(rounds):.2f}"
            cpu = f"{median(cpu_us[name]):6.0f}" if cpu_us[name] else f"{'n/a':>6s}"
            lines.append(
                f"  {label:40s} {median([r.rps for r in results[name]]):7.0f} "
                f"{ratios[name]:8.3f} {spread:>10s} {same_text} {cpu} "
                f"{bad:7d}{' (token pool ran out!)' if ran_out else ''}"
            )
        return lines

    generator = "wrk -t2 -c8" if use_wrk else "python, 2 processes x 4 threads"
    lines = [
        f"gunicorn, 2 sync workers, 127.0.0.1, {generator} "
        f"(median of {plan.load_rounds} rounds of {plan.load_seconds:.0f} s)",
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
    ]
    lines.append(
        f"  JWKS fetches (IdP hit log): {fetches} for {requests} requests to 2 workers "
        f"(TTL {conf.DEFAULT_JWKS_CACHE_TTL} s)"
    )
    ratios["fetches"] = fetches
    return lines, ratios


# -- 4. test suite --------------------------------------------------------------------------------


def time_test_suite() -> tuple[list[str], float]:
    status("running the test suite (make test, already installed)")
    command = ["make", "--no-print-directory", "test"]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=ORIGINAL_ENVIRONMENT,
            capture_output=True,
            text=True,
            check=False,
            timeout=SUITE_TIMEOUT,  # subprocess.run kills the suite when it expires
        )
        output = done.stdout
    except subprocess.TimeoutExpired as expired:
        output = f"timed out after {SUITE_TIMEOUT} s"
        if expired.stdout:
            output = f"{expired.stdout!s}\n{output}"
    seconds = time.monotonic() - started
    summary = (output.strip().splitlines() or ["(no output)"])[-1].strip("= ")
    return [f"test suite: `make test` {seconds:.1f} s wall: {summary}"], seconds


# -- main -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test)")
    parser.add_argument("--skip-tests", action="store_true", help="do not time the test suite")
    parser.add_argument("--skip-gunicorn", action="store_true", help="no gunicorn runs")
    args = parser.parse_args(argv)
    plan = Plan.for_args(args.quick)

    with tempfile.TemporaryDirectory(prefix="bench-") as scratch_dir:
        scratch = Path(scratch_dir)
        server = MockIdPServer(MockIdP(audience=AUDIENCE)).start()
        minter: Minter | None = None
        try:
            idp = server.idp
            os.environ.update(
                DJANGO_SETTINGS_MODULE="apiexample.settings",
                AUTH0_ISSUER=idp.issuer,
                AUTH0_AUDIENCE=AUDIENCE,
                AUTH0_DOMAIN="",
                AUTH0_JWKS_URL="",
                DJANGO_ALLOWED_HOSTS="127.0.0.1",
            )
            import django

            django.setup()
            logging.getLogger("apiexample").setLevel(logging.WARNING)
            minter = Minter(idp, scratch)
            report = machine()
            repeated = minter.mint(1)[0]
            token_lines, token_figures = per_token(idp, minter, plan, repeated)
            report += ["", *token_lines, "", *in_process(minter, plan, repeated)]
            load_figures: dict[str, float] = {}
            if not args.skip_gunicorn:
                load_lines, load_figures = under_load(idp, minter, plan, repeated, scratch)
                report += ["", *load_lines]
            suite_seconds = None
            if not args.skip_tests:
                suite_lines, suite_seconds = time_test_suite()
                report += ["", *suite_lines]
        finally:
            if minter is not None:
                minter.close()
            server.stop()

    targets = [
        f"  fresh token <= 2.0x raw verify: {token_figures['miss_ratio']:.2f}x "
        f"-> {verdict(token_figures['miss_ratio'] <= 2.0)}"
    ]
    if load_figures:
        targets += [
            f"  gunicorn repeated token >= 0.95x public: {load_figures['repeated']:.3f}x "
            f"-> {verdict(load_figures['repeated'] >= 0.95)} "
            f"(same client work: {load_figures['repeated_same']:.3f}x)",
            f"  gunicorn fresh token >= 0.80x public: {load_figures['fresh']:.3f}x "
            f"-> {verdict(load_figures['fresh'] >= 0.80)} "
            f"(same client work: {load_figures['fresh_same']:.3f}x)",
            f"  JWKS fetches one per TTL per process (2 workers): {load_figures['fetches']:.0f} "
            f"-> {verdict(load_figures['fetches'] <= 2)}",
        ]
    if suite_seconds is not None:
        targets.append(
            f"  test suite under 30 s: {suite_seconds:.1f} s -> {verdict(suite_seconds < 30)}"
        )
    print("\n".join([*report, "", "targets", *targets]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
