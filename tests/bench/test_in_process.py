"""In-process figures: one WSGI call per request, and anything but 200 stops the run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler

from bench import in_process as in_process_module
from bench.in_process import ROWS, environ, in_process, request
from mock_idp import MockIdP
from tests.bench.conftest import IdPMinter

REQUIRED = {  # PEP 3333's required environ keys
    "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "SERVER_NAME", "SERVER_PORT",
    "SERVER_PROTOCOL", "wsgi.version", "wsgi.url_scheme", "wsgi.input", "wsgi.errors",
    "wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once",
}  # fmt: skip


def test_the_environ_is_a_get_with_a_bearer_token_only_when_given() -> None:
    assert set(environ("/api/public", None)) >= REQUIRED
    assert "HTTP_AUTHORIZATION" not in environ("/api/public", None)
    assert environ("/api/private", "t")["HTTP_AUTHORIZATION"] == "Bearer t"
    assert environ("/api/private", "t")["REQUEST_METHOD"] == "GET"


def test_a_request_answered_200_passes(api: Any, mock_idp: MockIdP, wsgi_app: WSGIHandler) -> None:
    request(wsgi_app, "/api/private", mock_idp.mint())


def test_a_refused_request_stops_the_run(
    api: Any, mock_idp: MockIdP, wsgi_app: WSGIHandler
) -> None:
    with pytest.raises(RuntimeError, match="unexpected answer 401"):
        request(wsgi_app, "/api/private", mock_idp.mint(expires_in=-3600))


def test_each_kind_is_measured_against_public(
    api: Any, mock_idp: MockIdP, minter: IdPMinter, wsgi_app: WSGIHandler
) -> None:
    lines = in_process(minter, mock_idp.mint(), rounds=2, requests_per_round=3)
    assert minter.minted == 6
    assert lines[0] == "in-process request, one WSGI call (median of 2 rounds of 3)"
    assert [line.split("  ")[1].strip() for line in lines[2:]] == [label for label, _ in ROWS]
    assert lines[2].endswith(" 1.00")  # public against itself


def test_fresh_tokens_are_validated_not_waved_through(
    api: Any, mock_idp: MockIdP, wsgi_app: WSGIHandler
) -> None:
    expired = IdPMinter(mock_idp, expires_in=-3600)
    with pytest.raises(RuntimeError, match="unexpected answer 401"):
        in_process(expired, mock_idp.mint(), rounds=1, requests_per_round=2)


#: Microseconds per request of each timed function, round by round: medians 90, 110 and 180,
#: apart from the means, the minimums and the last rounds.
SCRIPT = {
    "public": [100, 70, 90],
    "private_repeated": [110, 120, 100],
    "private_fresh": [200, 150, 180],
}


def test_each_row_is_per_request_the_median_of_its_rounds_and_read_against_public(
    api: Any,
    mock_idp: MockIdP,
    minter: IdPMinter,
    wsgi_app: WSGIHandler,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the timer scripted: microseconds per request, requests/s, and public's median over
    each row's; what each timed function sends is recorded."""
    n = 2
    scripted = {name: iter(us) for name, us in SCRIPT.items()}
    running: list[str | None] = [None]
    sent: list[tuple[str | None, str, str | None]] = []

    def timed(fn: Callable[[], None]) -> float:
        running[0] = fn.__name__
        fn()
        running[0] = None
        return next(scripted[fn.__name__]) * n / 1e6

    def spy(application: Any, path: str, token: str | None) -> None:
        sent.append((running[0], path, token))
        request(application, path, token)

    monkeypatch.setattr(in_process_module, "timed", timed)
    monkeypatch.setattr(in_process_module, "request", spy)
    repeated = mock_idp.mint()
    lines = in_process(minter, repeated, rounds=3, requests_per_round=n)
    assert lines[2:] == [
        f"  {ROWS[0][0]:40s} {90:9.1f} {11111:8d} {1:8.2f}",
        f"  {ROWS[1][0]:40s} {110:9.1f} {9091:8d} {90 / 110:8.2f}",
        f"  {ROWS[2][0]:40s} {180:9.1f} {5556:8d} {0.5:8.2f}",
    ]

    def sends(run: str | None) -> list[tuple[str, str | None]]:
        return [(path, token) for r, path, token in sent if r == run]

    assert sends(None) == [("/api/private", repeated)] * 2  # the JWKS fetched, the token stored
    assert sends("public") == [("/api/public", None)] * n * 3
    assert sends("private_repeated") == [("/api/private", repeated)] * n * 3
    fresh = sends("private_fresh")
    assert {path for path, _ in fresh} == {"/api/private"}
    tokens = {token for _, token in fresh}
    assert len(tokens) == len(fresh) == n * 3  # a token of its own for each request
    assert repeated not in tokens
