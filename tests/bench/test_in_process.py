"""In-process figures: one WSGI call per request, and anything but 200 stops the run."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler

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
