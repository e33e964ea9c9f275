"""``HTTPOnly``: a websocket is refused and the lifespan answered, where Django would raise."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import requests

from apiexample.asgi import application, django_application
from apiexample.asgi_scopes import HTTPOnly
from devtools.processes import api_environment, serving
from mock_idp.server import MockIdPServer
from tests.apiexample.helpers import asgi_http_scope
from tests.apiexample.test_asgi import uvicorn_command


def exchange(scope: dict[str, Any], incoming: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What ``apiexample.asgi.application`` sends for ``scope``, given ``incoming`` in order."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(application(scope, receive, send))
    return sent


def websocket_scope() -> dict[str, Any]:
    return {**asgi_http_scope("/api/private"), "type": "websocket", "scheme": "ws"}


def test_django_alone_raises_for_a_websocket() -> None:
    """Why the wrapper is there: this was a 500 and a traceback under uvicorn[standard]."""
    with pytest.raises(ValueError, match="can only handle ASGI/HTTP connections"):
        asyncio.run(django_application(websocket_scope(), None, None))  # type: ignore[arg-type]


def test_a_websocket_is_closed_before_it_is_accepted() -> None:
    """The server answers the upgrade with 403, and no view runs."""
    sent = exchange(websocket_scope(), [{"type": "websocket.connect"}])
    assert sent == [{"type": "websocket.close"}]


def test_a_websocket_whose_client_left_is_sent_nothing() -> None:
    assert exchange(websocket_scope(), [{"type": "websocket.disconnect", "code": 1006}]) == []


def test_the_lifespan_starts_and_stops_at_once() -> None:
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent = exchange({"type": "lifespan", "asgi": {"version": "3.0"}}, incoming)
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]
    assert incoming == []


def test_http_and_other_scopes_are_passed_on() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    for kind in ("http", "webtransport"):
        asyncio.run(HTTPOnly(app)({"type": kind}, None, None))  # type: ignore[arg-type]
    assert seen == ["http", "webtransport"]


@pytest.mark.live
def test_uvicorn_starts_with_the_lifespan_on(mock_idp_live: MockIdPServer, tmp_path: Path) -> None:
    """``--lifespan on`` fails at start-up unless the application completes it."""

    def command(port: int) -> list[str]:
        return [*uvicorn_command(port), "--lifespan", "on"]

    env = api_environment(mock_idp_live.idp.issuer)
    with serving(command, env, log=tmp_path / "uvicorn.log") as server, requests.Session() as s:
        s.trust_env = False  # straight to 127.0.0.1, whatever proxy the machine sets
        answer = s.get(f"{server.base}/api/public", timeout=30)
    assert answer.status_code == 200
    assert "Application startup complete" in (tmp_path / "uvicorn.log").read_text()
