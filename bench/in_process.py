"""Part 2 of the bench: one WSGI call per request, no server, for the three request kinds.

``/api/public``, ``/api/private`` with a repeated token, and ``/api/private`` with a fresh
token per request: what Django and the validator cost without HTTP parsing or sockets.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from typing import Any

from bench.measure import median, status, timed
from bench.minting import Mints

#: (label, name) of each request kind, in the order they run within a round and are printed.
ROWS = (
    ("/api/public", "public"),
    ("/api/private, repeated token", "repeated"),
    ("/api/private, fresh token per request", "fresh"),
)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Any]


def environ(path: str, token: str | None) -> dict[str, Any]:
    """A WSGI environ (PEP 3333) for ``GET path``, with ``Authorization: Bearer`` if a token."""
    env: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
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
        env["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return env


def _expect_200(status_line: str, headers: Any, exc_info: Any = None) -> None:
    if not status_line.startswith("200"):
        raise RuntimeError(f"unexpected answer {status_line}")


def request(application: WSGIApp, path: str, token: str | None) -> None:
    """One request through ``application``, its body read and closed; anything but 200 raises."""
    response = application(environ(path, token), _expect_200)
    b"".join(response)
    response.close()


def in_process(
    minter: Mints,
    repeated: str,
    *,
    rounds: int,
    requests_per_round: int,
) -> list[str]:
    """The report's lines: microseconds per request, requests/s and the ratio to public."""
    from apiexample.wsgi import application as app  # as gunicorn loads it; Django set up once

    n = requests_per_round
    status(f"minting {n * rounds} tokens for the in-process runs")
    fresh = minter.mint(n * rounds)
    for _ in range(2):  # the JWKS fetched, the repeated token stored (on its second verification)
        request(app, "/api/private", repeated)
    samples: dict[str, list[float]] = {name: [] for _, name in ROWS}
    status(f"in-process runs: {rounds} rounds of {n}")
    for round_ in range(rounds):
        tokens = fresh[round_ * n : (round_ + 1) * n]

        def public() -> None:
            for _ in range(n):
                request(app, "/api/public", None)

        def private_repeated() -> None:
            for _ in range(n):
                request(app, "/api/private", repeated)

        def private_fresh(tokens: list[str] = tokens) -> None:
            for token in tokens:
                request(app, "/api/private", token)

        samples["public"].append(timed(public) / n * 1e6)
        samples["repeated"].append(timed(private_repeated) / n * 1e6)
        samples["fresh"].append(timed(private_fresh) / n * 1e6)
    public_us = median(samples["public"])
    lines = [
        f"in-process request, one WSGI call (median of {rounds} rounds of {n})",
        f"  {'':40s} {'us/req':>9s} {'req/s':>8s} {'x public':>8s}",
    ]
    for label, name in ROWS:
        us = median(samples[name])
        lines.append(f"  {label:40s} {us:9.1f} {1e6 / us:8.0f} {public_us / us:8.2f}")
    return lines
