"""The ASGI entry point (``apiexample.asgi``, what uvicorn or daphne load) serves the same answers
as WSGI, and a request waiting for the JWKS holds up no other request."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.utils.decorators import method_decorator
from django.views import View

from apiexample.log_redaction import REDACTED
from apiexample.views import require_auth
from devtools.processes import api_environment
from mock_idp import MockIdP
from mock_idp.http import JWKS, Fault
from mock_idp.server import MockIdPServer
from tests.apiexample.helpers import (
    asgi_get,
    assert_refused,
    jwks_fetches,
    log_of_requests_with_a_token,
)


def test_asgi_serves_the_routes_and_their_refusals(api: Any, mock_idp: MockIdP) -> None:
    async def answers() -> list[HttpResponse]:
        return [
            await asgi_get("/api/private-scoped", mock_idp.mint(scope="read:messages")),
            await asgi_get("/api/private-scoped", mock_idp.mint(scope="")),
            await asgi_get("/api/private", mock_idp.forge("alg_none")),
            await asgi_get("/api/private"),
        ]

    scoped, unscoped, forged, missing = asyncio.run(answers())
    assert scoped.status_code == 200
    assert b"read:messages" in scoped.content
    assert_refused(unscoped, 403, "insufficient_scope")
    assert_refused(forged, 401, "invalid_token")
    assert_refused(missing, 401, "missing_authorization")


def test_a_request_waiting_for_the_jwks_holds_up_no_other(api: Any, mock_idp: MockIdP) -> None:
    """Django runs each request's sync view in a thread of its own under ASGI, so a cold key
    fetch (here a slow IdP) delays only the requests that need the keys."""
    mock_idp.inject_fault(JWKS, Fault.slow(1.5))
    token = mock_idp.mint()

    async def fetch_started() -> None:
        while jwks_fetches(mock_idp) == 0:
            await asyncio.sleep(0.01)

    async def public_while_private_waits() -> tuple[bool, HttpResponse, HttpResponse]:
        private = asyncio.create_task(asgi_get("/api/private", token))
        await asyncio.wait_for(fetch_started(), timeout=10)  # the private request is inside it
        public = await asgi_get("/api/public")
        return private.done(), public, await private

    private_was_done, public, private = asyncio.run(public_while_private_waits())
    assert public.status_code == 200
    assert not private_was_done
    assert private.status_code == 200


@require_auth("read:messages")
async def async_scoped(request: HttpRequest) -> JsonResponse:
    """An async view, as a project copying the pattern may write it."""
    return JsonResponse({"sub": request.oauth_token["sub"]})  # type: ignore[attr-defined]


@method_decorator(require_auth("read:messages"), name="dispatch")
class AsyncScoped(View):
    """The same as an async class-based view, protected on ``dispatch``."""

    async def get(self, request: HttpRequest) -> JsonResponse:
        return await async_scoped.__wrapped__(request)  # type: ignore[attr-defined, no-any-return]


urlpatterns = [  # ROOT_URLCONF for the tests below
    path("async-scoped", async_scoped),
    path("async-class", AsyncScoped.as_view()),
]
ASYNC_ROUTES = ["/async-scoped", "/async-class"]


@pytest.mark.parametrize("route", ASYNC_ROUTES)
def test_an_async_view_is_protected_under_asgi(
    api: Any, mock_idp: MockIdP, api_settings: Any, route: str
) -> None:
    api_settings.ROOT_URLCONF = __name__

    async def answers() -> list[HttpResponse]:
        return [
            await asgi_get(route, mock_idp.mint(scope="read:messages", subject="s")),
            await asgi_get(route, mock_idp.mint(scope="")),
            await asgi_get(route),
        ]

    granted, lacking, missing = asyncio.run(answers())
    assert granted.status_code == 200
    assert granted.content == b'{"sub": "s"}'
    assert_refused(lacking, 403, "insufficient_scope")
    assert_refused(missing, 401, "missing_authorization")


@pytest.mark.parametrize("route", ASYNC_ROUTES)
def test_an_async_view_waiting_for_the_jwks_holds_up_no_other_request(
    api: Any, mock_idp: MockIdP, api_settings: Any, route: str
) -> None:
    """Its validation runs in its request's own thread (Django's ASGI handler gives each request
    one), not in a thread every async view shares."""
    api_settings.ROOT_URLCONF = __name__
    mock_idp.inject_fault(JWKS, Fault.slow(0.5))  # the second request takes milliseconds
    token = mock_idp.mint(scope="read:messages")

    async def fetch_started() -> None:
        while jwks_fetches(mock_idp) == 0:
            await asyncio.sleep(0.01)

    async def second_while_first_waits() -> tuple[bool, HttpResponse, HttpResponse]:
        first = asyncio.create_task(asgi_get(route, token))
        await asyncio.wait_for(fetch_started(), timeout=10)  # the first is inside the fetch
        second = await asgi_get(route)  # no token: refused without any key
        return first.done(), second, await first

    first_was_done, second, first = asyncio.run(second_while_first_waits())
    assert_refused(second, 401, "missing_authorization")
    assert not first_was_done
    assert first.status_code == 200


def uvicorn_command(port: int) -> list[str]:
    """``uvicorn apiexample.asgi:application`` as the README has it, on 127.0.0.1:``port``, with
    its most detailed log: each request's ASGI scope (query string included) and messages."""
    app = "apiexample.asgi:application"
    address = ["--host", "127.0.0.1", "--port", str(port)]
    return [sys.executable, "-m", "uvicorn", app, *address, "--log-level", "trace"]


@pytest.mark.live
def test_uvicorn_logs_no_token(mock_idp_live: MockIdPServer, tmp_path: Path) -> None:
    """uvicorn's access log holds the query string, and its formatter unpacks the record's
    arguments; its trace lines hold each request's scope (``apiexample.asgi``)."""
    idp = mock_idp_live.idp
    written = log_of_requests_with_a_token(
        uvicorn_command, api_environment(idp.issuer), idp.mint(), tmp_path / "uvicorn.log"
    )
    assert f'"GET /api/private?access_token={REDACTED} HTTP/1.1" 401 Unauthorized' in written
    assert '"GET /api/private HTTP/1.1" 200 OK' in written
    assert '"GET /docs/basic HTTP/1.1" 404 Not Found' in written
    assert "TRACE" in written


def test_django_s_async_client_takes_the_token_in_headers(api: Any, mock_idp: MockIdP) -> None:
    """As the README says: ``headers=`` reaches the view; ``HTTP_AUTHORIZATION=``, which the
    sync ``Client`` takes, goes into the ASGI scope instead, so the view sees no header."""
    from django.test import AsyncClient

    token = mock_idp.mint()

    async def answers() -> tuple[Any, Any]:
        client = AsyncClient()
        return (
            await client.get("/api/private", headers={"Authorization": f"Bearer {token}"}),
            await client.get("/api/private", HTTP_AUTHORIZATION=f"Bearer {token}"),
        )

    in_headers, in_scope = asyncio.run(answers())
    assert in_headers.status_code == 200
    assert_refused(in_scope, 401, "missing_authorization")
