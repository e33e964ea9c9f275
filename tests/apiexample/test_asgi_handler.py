"""A request Django's ASGI handler cannot build is answered as the API answers any refused
request (``apiexample.asgi_handler``), and every other request is built as before."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from mock_idp import MockIdP
from tests.apiexample.helpers import asgi_get


@pytest.mark.parametrize("path", ["/api/private", "/api/public", "/no/such/route"])
def test_a_query_string_that_is_not_utf8_is_a_json_400(
    api: Any, mock_idp: MockIdP, path: str
) -> None:
    """Raw bytes a server passed on (uvicorn's httptools parser does): Django cannot decode them
    and refuses the request before any view, as the API's ``invalid_request``, never cached."""
    token = mock_idp.mint(scope="read:messages")
    response = asyncio.run(asgi_get(path, token, query=b"x=\xff"))
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["error"] == "invalid_request"
    assert response["Cache-Control"] == "no-store"
    assert "WWW-Authenticate" not in response  # not a credentials problem: no view ran


@pytest.mark.parametrize("query", [b"x=%FF", "x=\N{LATIN SMALL LETTER E WITH ACUTE}".encode()])
def test_a_utf8_or_percent_encoded_query_is_read_as_before(
    api: Any, mock_idp: MockIdP, query: bytes
) -> None:
    response = asyncio.run(asgi_get("/api/private", mock_idp.mint(), query=query))
    assert response.status_code == 200, response.content


def test_a_token_in_a_query_that_is_not_utf8_is_not_read(
    api: Any, mock_idp: MockIdP, caplog: pytest.LogCaptureFixture
) -> None:
    """The request is refused whole, before any view: not decoded leniently and served (the
    token in its query would be a 400 ``invalid_request`` of the protector's, or a 401). Django
    logs its warning as before."""
    token = mock_idp.mint(scope="read:messages")
    query = b"access_token=" + token.encode() + b"&x=\xff"
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = asyncio.run(asgi_get("/api/private-scoped", query=query))
    assert response.status_code == 400, response.content
    assert json.loads(response.content)["error"] == "invalid_request"
    assert "WWW-Authenticate" not in response  # the protector's 400 would carry a challenge
    assert "UnicodeDecodeError" in caplog.text
