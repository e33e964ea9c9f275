"""Assertions shared by the API's tests."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
import requests
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.http import HttpResponse

# At collection, as test modules import this: its django.setup() sets Django up again,
# logging included, whose handlers would keep a test's captured stream if imported in a test.
from apiexample.asgi import application
from apiexample.signing_keys import REFRESH_THREAD_NAME
from apiexample.wsgi import application as wsgi_application
from devtools.processes import serving
from mock_idp import MockIdP
from mock_idp.http import JWKS as JWKS_PATH


def wait_for_refreshes(timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for every background JWKS refresh (of any key cache,
    forgotten ones too); whether all have ended."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread.name == REFRESH_THREAD_NAME:
            thread.join(max(0.0, deadline - time.monotonic()))
    return not any(t.name == REFRESH_THREAD_NAME and t.is_alive() for t in threading.enumerate())


@contextmanager
def without_closing_old_connections() -> Iterator[None]:
    """Around calls to a WSGI application, as gunicorn makes them: Django's request signals
    without closing database connections, as its test client sends them (the API has none, and
    pytest-django refuses database access to a test that did not ask for it)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def wsgi_call(environ: dict[str, Any]) -> HttpResponse:
    """One request through ``apiexample.wsgi.application``, as gunicorn calls it, read back
    into an ``HttpResponse``; ``environ`` completed with wsgiref's defaults (``Host``:
    ``testserver`` unless it names one)."""
    environ = {"HTTP_HOST": "testserver", **environ}
    setup_testing_defaults(environ)
    started: list[tuple[str, list[tuple[str, str]]]] = []
    with without_closing_old_connections():
        answer = wsgi_application(
            environ, lambda status, headers, *_: started.append((status, headers))
        )
        body = b"".join(answer)
        answer.close()
    status, headers = started[0]
    response = HttpResponse(body, status=int(status.split()[0]))
    for name, value in headers:
        response[name] = value
    return response


@contextmanager
def unanswered_port() -> Iterator[int]:
    """A port on 127.0.0.1 whose connects hang: its listener's accept queue is full, so Linux
    drops every new SYN, as a host behind a black hole does."""
    listener = socket.socket()
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(4):
            filler = socket.socket()
            fillers.append(filler)
            filler.setblocking(False)
            with suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
        with pytest.raises(TimeoutError), socket.create_connection(("127.0.0.1", port), 0.2):
            pass  # the port does hang
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def resolving_to_many(monkeypatch: pytest.MonkeyPatch, host: str, count: int) -> None:
    """Make ``host`` resolve to ``count`` addresses, each of them 127.0.0.1."""
    resolve = socket.getaddrinfo

    def many(name: Any, *args: Any, **kwargs: Any) -> Any:
        if name == host:
            return resolve("127.0.0.1", *args, **kwargs) * count
        return resolve(name, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", many)


def jwks_fetches(idp: MockIdP) -> int:
    return idp.hit_count(JWKS_PATH)


def assert_refused(response: Any, status: int, error: str) -> None:
    """Status, ``error`` code, the ``WWW-Authenticate`` challenge and no-store, all at once."""
    assert response.status_code == status, response.content
    assert json.loads(response.content)["error"] == error  # a test client's or a view's answer
    assert response["Cache-Control"] == "no-store"
    challenge = response.get("WWW-Authenticate")
    if status == 503:
        assert challenge is None
        assert int(response["Retry-After"]) >= 1
    elif error in {"missing_authorization", "unsupported_token_type"}:
        assert challenge == 'Bearer realm="api"'
    else:
        assert challenge is not None
        assert challenge.startswith(f'Bearer error="{error}"')


def log_of_requests_with_a_token(
    command: Callable[[int], Sequence[str]], env: Mapping[str, str], token: str, log: Path
) -> str:
    """What a server ``command(port)`` logs (stdout and stderr, into ``log``) for three requests:
    ``token`` as an ``access_token`` query parameter, which the API refuses as carrying none
    (RFC 6750 section 2.3 is not served); ``token`` in the ``Authorization`` header, accepted;
    ``/docs/basic``, a path ending in a scheme's name. No part of the token is in the log, and
    every record was formatted."""
    with serving(command, env, log=log) as server, requests.Session() as session:
        session.trust_env = False  # straight to 127.0.0.1, whatever proxy the machine sets
        private = f"{server.base}/api/private"
        refused = session.get(private, params={"access_token": token}, timeout=30)
        assert refused.status_code == 401, refused.content
        assert refused.json()["error"] == "missing_authorization"
        assert refused.headers["WWW-Authenticate"] == 'Bearer realm="api"'
        accepted = session.get(private, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert accepted.status_code == 200, accepted.content
        assert session.get(f"{server.base}/docs/basic", timeout=30).status_code == 404
        # A request's log line comes after its answer (runserver writes it once the response is
        # sent): stopping the server at once could lose it.
        deadline = time.monotonic() + 10
        while "/docs/basic" not in log.read_text("utf-8", errors="replace"):
            assert time.monotonic() < deadline, "the server never logged the last request"
            time.sleep(0.01)
    written = log.read_text("utf-8", errors="replace")
    assert "--- Logging error ---" not in written  # the filter left a record its formatter reads
    for segment in token.split("."):
        assert segment not in written
    return written


def asgi_http_scope(path: str, headers: Sequence[tuple[bytes, bytes]] = ()) -> dict[str, Any]:
    """The ASGI 3.0 HTTP scope of a ``GET path`` to ``testserver``, as an ASGI server makes it."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def asgi_get(
    path: str, token: str | None = None, *, content_type: str | None = None, query: bytes = b""
) -> HttpResponse:
    """One GET through ``apiexample.asgi.application`` as an ASGI server makes it, read back
    into an ``HttpResponse`` for the usual assertions; ``query`` is the raw query string."""
    headers = []
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode("latin-1")))
    if content_type is not None:
        headers.append((b"content-type", content_type.encode("latin-1")))
    scope = asgi_http_scope(path, headers)
    scope["query_string"] = query
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    incoming.put_nowait({"type": "http.request", "body": b"", "more_body": False})
    sent: list[Mapping[str, Any]] = []

    async def send(message: Mapping[str, Any]) -> None:
        sent.append(message)

    await application(scope, incoming.get, send)  # waits for a disconnect only after the answer
    start, *body = sent
    response = HttpResponse(b"".join(m.get("body", b"") for m in body), status=start["status"])
    for name, value in start["headers"]:
        response[name.decode("latin-1")] = value.decode("latin-1")
    return response
