"""One soak run: the mock IdP here, the API under gunicorn, client processes, the phase driver.

``run(config)`` returns a ``SoakResult`` (``ok``, ``table``) and always stops what it started:
the client processes end at their deadline, gunicorn and the IdP server are stopped in a
``finally`` block (gunicorn also dies with this process on Linux).
"""

from __future__ import annotations

import multiprocessing
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from devtools.processes import api_environment
from mock_idp import DEFAULT_AUDIENCE as AUDIENCE
from mock_idp import KeyPair, KeyRing, KeyState, MockIdP
from mock_idp.http import JWKS, Fault, Hit
from mock_idp.server import MockIdPServer
from soak.load import ClientPlan, Outcome, TokenPools, run_client
from soak.processes import Gunicorn, RssSampler
from soak.report import Observed, SoakResult, analyse
from soak.scenario import FORGERIES, SCOPE, Phase, SoakConfig

TOKENS_PER_POOL = 8
#: Time for the client processes to start (spawn) before the warm-up begins.
CLIENT_START_ALLOWANCE = 1.0
#: Threads per client process: requests keep coming while some wait for slow answers.
CLIENT_THREADS = 16


def mint_pools(issuer: str, old: KeyPair, new: KeyPair, foreign: KeyPair) -> TokenPools:
    """Tokens as the IdP issues them before (``old``) and after (``new``) the rotation."""
    signers = {
        "old": MockIdP(issuer, keys=KeyRing([(old, KeyState.SIGNING)]), foreign_key=foreign),
        "new": MockIdP(
            issuer,
            keys=KeyRing([(old, KeyState.RETIRED), (new, KeyState.SIGNING)]),
            foreign_key=foreign,
        ),
    }
    for idp in signers.values():
        idp.audience = AUDIENCE

    def pool(make: Callable[[MockIdP, int], str]) -> dict[str, list[str]]:
        return {k: [make(idp, i) for i in range(TOKENS_PER_POOL)] for k, idp in signers.items()}

    return TokenPools(
        valid=pool(lambda idp, i: idp.mint(scope=SCOPE, client_id=f"soak-client-{i}")),
        no_scope=pool(lambda idp, i: idp.mint(scope="", client_id=f"soak-client-{i}")),
        expired=pool(lambda idp, i: idp.forge("expired", by=3600 + i, scope=SCOPE)),
        forged={
            k: [(name, idp.forge(name, scope=SCOPE)) for name in FORGERIES]
            for k, idp in signers.items()
        },
        kid_template=signers["old"].mint(scope=SCOPE),
    )


def _phase_actions(idp: MockIdP, config: SoakConfig, new: KeyPair) -> dict[str, Callable[[], None]]:
    """What the driver does to the IdP as each phase begins."""

    def fault(delay: float | None) -> Callable[[], None]:
        def apply() -> None:
            idp.clear_faults(JWKS)
            if delay is not None:
                idp.inject_fault(JWKS, Fault.slow(delay))

        return apply

    def publish() -> None:
        idp.keys.add(new, KeyState.PUBLISHED)

    return {
        "baseline": lambda: None,
        "published": publish,
        "rotated": lambda: idp.keys.promote(new.kid),
        "jwks_down": lambda: idp.inject_fault(JWKS, Fault.error(503)),
        "recovered": fault(None),
        "jwks_slow": fault(config.slow_delay),
        "jwks_hung": fault(config.hung_delay),
        "recovered_2": fault(None),
    }


def _drive(schedule: list[Phase], t0: float, actions: dict[str, Callable[[], None]]) -> list[float]:
    """Apply each phase's action at its time; returns when each actually began."""
    began = []
    for phase in schedule:
        delay = t0 + phase.start - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        actions[phase.name]()
        began.append(time.monotonic())
    return began


def _read_access_log(path: Path) -> dict[str, int]:
    """Request id -> worker pid, from gunicorn's access log (``<pid> id status micros``)."""
    workers: dict[str, int] = {}
    if not path.exists():
        return workers
    for line in path.read_text(errors="replace").splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0].startswith("<") and fields[1] != "-":
            workers[fields[1]] = int(fields[0].strip("<>"))
    return workers


def run(config: SoakConfig, log_dir: Path | None = None) -> SoakResult:
    """Run the scenario once and analyse it; logs are kept only when something went wrong."""
    schedule = config.schedule()
    old, new, foreign = KeyPair.rsa(), KeyPair.rsa(), KeyPair.rsa()
    idp = MockIdP(keys=KeyRing([(old, KeyState.SIGNING)]), foreign_key=foreign, audience=AUDIENCE)
    logs = log_dir or Path(tempfile.mkdtemp(prefix="soak-"))
    server = MockIdPServer(idp)
    gunicorn: Gunicorn | None = None
    sampler: RssSampler | None = None
    outcomes: list[Outcome] = []
    try:
        server.start()
        wall_minus_monotonic = time.time() - time.monotonic()
        gunicorn = Gunicorn(
            {**api_environment(idp.issuer, AUDIENCE), **config.environment()},
            logs,
            workers=config.workers,
            threads=config.threads,
        )
        gunicorn.start()
        tokens = mint_pools(idp.issuer, old, new, foreign)
        sampler = RssSampler(gunicorn, config.rss_interval)
        t0 = time.monotonic() + CLIENT_START_ALLOWANCE + config.warmup
        rotated_at = t0 + next(p.start for p in schedule if p.name == "rotated")
        plans = [
            ClientPlan(
                index=i,
                port=gunicorn.port,
                start_at=t0 - config.warmup,
                end_at=t0 + config.duration,
                rotated_at=rotated_at,
                rate=config.rate / config.clients,
                seed=config.seed * 1000 + i,
                threads=CLIENT_THREADS,
                stop_file=str(logs / "stop"),
                tokens=tokens,
            )
            for i in range(config.clients)
        ]
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=config.clients, mp_context=context) as pool:
            futures = [pool.submit(run_client, plan) for plan in plans]
            sampler.start()
            try:
                began = _drive(schedule, t0, _phase_actions(idp, config, new))
                for future in futures:
                    outcomes.extend(future.result())
            except BaseException:
                (logs / "stop").touch()  # the clients stop before the pool waits for them
                raise
        sampler.stop()
        idp.clear_faults()
    finally:
        if sampler is not None:
            sampler.stop()
        if gunicorn is not None:
            gunicorn.stop()
        server.stop()
    worker_of = _read_access_log(gunicorn.access_log)
    ends = [*began[1:], t0 + config.duration]
    observed = Observed(
        config=config,
        phases=list(zip(schedule, began, ends, strict=True)),
        t0=t0,
        outcomes=sorted(outcomes),
        worker_of=worker_of,
        jwks_hits=jwks_hits(idp.hits, wall_minus_monotonic),
        rss=list(sampler.samples),
        workers_seen=workers_seen(sampler.pids_seen, worker_of),
        master_pid=gunicorn.process.pid if gunicorn.process is not None else 0,
        log_dir=logs,
    )
    return discard_logs_if_passed(analyse(observed), logs, keep=log_dir is not None)


def jwks_hits(hits: Iterable[Hit], wall_minus_monotonic: float) -> list[tuple[float, int]]:
    """Every JWKS fetch the IdP saw, whatever it answered (a fetch refused during the outage
    counts against the bound too), on the monotonic clock."""
    return [(hit.time - wall_minus_monotonic, hit.status) for hit in hits if hit.path == JWKS]


def workers_seen(sampled: Iterable[int], worker_of: dict[str, int]) -> list[int]:
    """Worker pids from both witnesses: one that served between two RSS samples is still seen."""
    return sorted(set(sampled) | set(worker_of.values()))


def discard_logs_if_passed(result: SoakResult, logs: Path, *, keep: bool) -> SoakResult:
    """A passing run's temporary logs go; a failing run's stay where its report says."""
    if result.ok and not keep:
        shutil.rmtree(logs, ignore_errors=True)
    return result
