"""``python -m soak [--duration 60] ...``: run the soak scenario, print the table, exit 0 or 1."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from soak.scenario import SoakConfig


def parse_args(argv: Sequence[str] | None = None) -> tuple[SoakConfig, Path | None]:
    parser = argparse.ArgumentParser(
        prog="python -m soak",
        description="Soak the API under gunicorn: mixed load, key rotation, JWKS outage and "
        "slowness; exits 1 on any unexpected status, JWKS fetches over the README's bound, or "
        "worker memory growth of 10% or more.",
    )
    parser.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    parser.add_argument("--clients", type=int, default=4, help="client processes (default 4)")
    parser.add_argument("--rate", type=float, default=250.0, help="req/s in all (default 250)")
    parser.add_argument("--ttl", type=float, help="AUTH0_JWKS_CACHE_TTL (default duration/6)")
    parser.add_argument("--cooldown", type=float, help="AUTH0_JWKS_COOLDOWN (default duration/30)")
    parser.add_argument(
        "--jwks-timeout", type=float, help="AUTH0_JWKS_TIMEOUT (default duration/20, 1 to 60)"
    )
    parser.add_argument("--seed", type=int, default=7, help="traffic mix seed (default 7)")
    parser.add_argument("--log-dir", type=Path, help="keep gunicorn's logs here")
    args = parser.parse_args(argv)
    try:
        config = SoakConfig.for_duration(
            args.duration,
            workers=args.workers,
            threads=args.threads,
            clients=args.clients,
            rate=args.rate,
            cache_ttl=args.ttl,
            cooldown=args.cooldown,
            jwks_timeout=args.jwks_timeout,
            seed=args.seed,
        )
    except ValueError as exc:
        parser.error(str(exc))
    return config, args.log_dir


def main(argv: Sequence[str] | None = None) -> int:
    config, log_dir = parse_args(argv)
    from soak.runner import run  # after argument errors: importing the stack takes a moment

    print(f"soak: starting ({config.duration:g} s, phases: ", end="", file=sys.stderr)
    print(", ".join(p.name for p in config.schedule()) + ")", file=sys.stderr, flush=True)
    result = run(config, log_dir)
    print(result.table, flush=True)
    return 0 if result.ok else 1
