"""Benchmarks of token validation and protected requests, all measured in one run.

    .venv/bin/python bench/run.py [--quick] [--skip-tests] [--skip-gunicorn]   (or: make bench)

1. Per token (``bench.per_token``): the raw RSA-2048 verify (the floor), our validator on a
   fresh token and on a repeated one, joserfc and PyJWT.
2. In process (``bench.in_process``): one WSGI call per request for ``/api/public``,
   ``/api/private`` with a repeated token, and with a fresh token per request.
3. gunicorn (``bench.under_load``): 2 sync workers on 127.0.0.1 under ``wrk`` (or a Python
   load generator), the same three cases, beside the signature-only floor server.
4. The test suite's wall time (``bench.suite_time``: ``make test``).

Then the issue's targets, each met or not. The mock IdP serves the JWKS on 127.0.0.1 from
this process; every process this script starts is stopped before it exits.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.machine import machine  # noqa: E402
from bench.minting import Minter  # noqa: E402
from bench.suite_time import time_test_suite  # noqa: E402
from mock_idp import DEFAULT_AUDIENCE as AUDIENCE  # noqa: E402
from mock_idp import MockIdP  # noqa: E402
from mock_idp.server import MockIdPServer  # noqa: E402

#: The environment as this script found it: the test suite runs in it, not in the bench's.
ORIGINAL_ENVIRONMENT = dict(os.environ)


@dataclass(frozen=True)
class Plan:
    """How much each part measures: rounds, and tokens, requests or seconds per round."""

    token_rounds: int
    tokens_per_round: int
    wsgi_rounds: int
    requests_per_round: int
    load_rounds: int
    load_seconds: float

    @classmethod
    def for_args(cls, quick: bool) -> Plan:
        """The full plan, or ``--quick``'s short one (a smoke test, figures not to quote)."""
        if quick:
            return cls(5, 300, 3, 200, 1, 3.0)
        return cls(9, 1000, 7, 1000, 7, 4.0)


def verdict(ok: bool) -> str:
    """How a target line ends."""
    return "met" if ok else "NOT MET"


def unsound(load_figures: dict[str, float], fresh_tokens: bool) -> str:
    """Why this run's throughput meets no target whatever its ratio, or "": answers other than
    200 (a refusal costs less than a 200), or, for fresh tokens, a pool that ran out."""
    reasons = []
    if not_ok := int(load_figures.get("not_ok", 0)):
        reasons.append(f"{not_ok} answers not 200")
    if fresh_tokens and load_figures.get("pool_ran_out"):
        reasons.append("a token pool ran out: tokens were sent again")
    return f" [{'; '.join(reasons)}]" if reasons else ""


def targets(
    miss_ratio: float, load_figures: dict[str, float], suite_seconds: float | None
) -> list[str]:
    """Issue 6's targets, each with its figure and whether this run met it."""
    lines = [f"  fresh token <= 2.0x raw verify: {miss_ratio:.2f}x -> {verdict(miss_ratio <= 2.0)}"]
    if load_figures:
        repeated, fresh, fetches = (load_figures[k] for k in ("repeated", "fresh", "fetches"))
        flaw, fresh_flaw = unsound(load_figures, False), unsound(load_figures, True)
        lines += [
            f"  gunicorn repeated token >= 0.95x public: {repeated:.3f}x "
            f"-> {verdict(repeated >= 0.95 and not flaw)} "
            f"(same client work: {load_figures['repeated_same']:.3f}x){flaw}",
            f"  gunicorn fresh token >= 0.80x public: {fresh:.3f}x "
            f"-> {verdict(fresh >= 0.80 and not fresh_flaw)} "
            f"(same client work: {load_figures['fresh_same']:.3f}x){fresh_flaw}",
            f"  JWKS fetches one per TTL per process (2 workers): {fetches:.0f} "
            f"-> {verdict(fetches <= 2)}",
        ]
    if suite_seconds is not None:
        lines.append(
            f"  test suite under 30 s: {suite_seconds:.1f} s -> {verdict(suite_seconds < 30)}"
        )
    return lines


def _pin_the_api_to(idp: MockIdP) -> None:
    """Settings for this process's API (parts 1 and 2): every AUTH0_* and DJANGO_* setting, as
    the gunicorn runs get them (``api_environment``): the mock IdP, its audience, the documented
    defaults, so that a developer's ``.env`` (a token cache turned off, a leeway) changes no
    figure."""
    from devtools.processes import api_environment

    pinned = api_environment(idp.issuer, AUDIENCE, base={})
    os.environ.update({k: v for k, v in pinned.items() if k.startswith(("AUTH0_", "DJANGO_"))})
    import django

    django.setup()
    logging.getLogger("apiexample").setLevel(logging.WARNING)


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
            _pin_the_api_to(idp)
            # After django.setup(): these import the API.
            from bench.in_process import in_process
            from bench.per_token import per_token
            from bench.under_load import under_load

            minter = Minter(idp, scratch)
            report = machine()
            repeated = minter.mint(1)[0]
            tokens = per_token(
                idp,
                minter,
                repeated,
                rounds=plan.token_rounds,
                tokens_per_round=plan.tokens_per_round,
            )
            requests = in_process(
                minter,
                repeated,
                rounds=plan.wsgi_rounds,
                requests_per_round=plan.requests_per_round,
            )
            report += ["", *tokens.lines(), "", *requests]
            load_figures: dict[str, float] = {}
            if not args.skip_gunicorn:
                load_lines, load_figures = under_load(
                    idp,
                    minter,
                    repeated,
                    scratch,
                    rounds=plan.load_rounds,
                    seconds=plan.load_seconds,
                )
                report += ["", *load_lines]
            suite_seconds = None
            if not args.skip_tests:
                suite_lines, suite_seconds = time_test_suite(ORIGINAL_ENVIRONMENT)
                report += ["", *suite_lines]
        finally:
            if minter is not None:
                minter.close()
            server.stop()

    summary = targets(tokens.ratio["miss"], load_figures, suite_seconds)
    print("\n".join([*report, "", "targets", *summary]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
