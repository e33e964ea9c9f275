"""Serve a ``MockIdP`` through ``responses``: in-process, no sockets.

Every request in ``METHODS`` on the issuer's origin (the default port written or not) goes to
``MockIdP.handle``, so routes, 404/405, faults and hits are exactly those of the real server; as
there, a chunked body is taken and one over 1 MiB is 413 (and recorded). ``responses`` matches
methods by name, so a method outside ``METHODS`` raises ``ConnectionError`` here, where the server
answers it like any other (405 on the IdP's routes). A delay longer than the request's read
timeout raises ``requests.exceptions.ReadTimeout`` at once instead of sleeping.

Mocks a test adds to the ``RequestsMock`` of ``mocked_network`` (a ``/userinfo``, say) answer
their URLs before the IdP does, with ``responses``' usual rules among themselves; the IdP's routes
are never dropped. (``responses``' own registry drops the first of two matching routes once used:
the IdP's catch-all would go, and every later request to the IdP with it.)
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import requests
import responses
from responses import registries

from .http import MAX_REQUEST_BODY, Request, Response, too_large, unread
from .idp import MockIdP

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


DEFAULT_PORTS = {"http": 80, "https": 443}


def read_timeout(timeout: Any) -> float | None:
    """The read timeout out of a ``requests`` ``timeout`` argument: a number, a (connect,
    read) pair, a ``urllib3.Timeout`` or None."""
    if isinstance(timeout, tuple):
        timeout = timeout[1]
    timeout = getattr(timeout, "read_timeout", timeout)  # urllib3.Timeout
    return None if timeout is None else float(timeout)


def origin_pattern(issuer: str) -> re.Pattern[str]:
    """Matches every URL on the issuer's scheme, host and port (the default port optional)."""
    parts = urlsplit(issuer)
    origin = re.escape(f"{parts.scheme}://{parts.netloc}")
    default = DEFAULT_PORTS.get(parts.scheme)
    if parts.port is None and default is not None:
        origin += f"(?::{default})?"
    return re.compile(origin + r"(?:[/?#].*)?\Z")


def _text(value: str | bytes) -> str:
    """A header value as ``http.server`` would read it (requests allows bytes)."""
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _body(prepared: Any) -> bytes:
    """The prepared body as bytes: ``requests`` sends an iterable of chunks chunked."""
    body = prepared.body
    if body is None:
        return b""
    if isinstance(body, (str, bytes, bytearray, memoryview)):
        body = [body]
    return b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in body)


def register(
    idp: MockIdP,
    mock: responses.RequestsMock,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Route every request to the issuer's host on ``mock`` to ``idp``.

    ``mocked_network`` is the ready-made way. A ``RequestsMock`` of your own needs
    ``registry=IdPLastRegistry`` (or no other mock on the issuer's host) and
    ``assert_all_requests_are_fired=False`` (a route per method is added, not all get called).
    """

    def callback(prepared: Any) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(str(prepared.url))
        method = str(prepared.method)
        body = _body(prepared)
        if len(body) > MAX_REQUEST_BODY:
            return _answer(method, unread(idp, method, url.path, too_large()))
        request = Request(
            method=method,
            path=url.path or "/",
            headers={name: _text(value) for name, value in prepared.headers.items()},
            body=body,
            query=url.query,
        )
        response = idp.handle(request)
        if response.delay > 0:
            limit = read_timeout(getattr(prepared, "req_kwargs", {}).get("timeout"))
            if limit is not None and response.delay > limit:
                raise requests.exceptions.ReadTimeout(
                    f"mock_idp: read timed out ({response.delay}s delay > {limit}s timeout)",
                    request=prepared,
                )
            sleep(response.delay)
        return _answer(method, response)

    pattern = origin_pattern(idp.issuer)
    for method in METHODS:
        route = responses.CallbackResponse(
            method=method, url=pattern, callback=callback, content_type=None
        )
        route.mock_idp_route = True  # type: ignore[attr-defined]
        mock.add(route)


def _is_idp_route(route: Any) -> bool:
    return getattr(route, "mock_idp_route", False) is True


class IdPLastRegistry(registries.FirstMatchRegistry):
    """``responses``' registry, but the IdP's routes answer only what no other mock matches,
    and are never dropped. The list of routes is never replaced or reordered."""

    def find(self, request: Any) -> tuple[Any, list[str]]:
        reasons: list[str] = []
        first: int | None = None  # the first of the test's own routes that matches
        idp_route = None
        for index, route in enumerate(self._responses):
            matched, reason = route.matches(request)
            if not matched:
                reasons.append(reason)
            elif _is_idp_route(route):
                if idp_route is None:
                    idp_route = route
            elif first is None:
                first = index
            else:  # two of the test's routes match: responses' rule, the first one goes
                used = self._responses[first].call_count > 0
                dropped = self._responses.pop(first)
                return (route if used else dropped), reasons
        if first is not None:
            return self._responses[first], reasons
        return idp_route, reasons


def _answer(method: str, response: Response) -> tuple[int, dict[str, str], bytes]:
    """``responses``' callback answer, framed as the server frames it: its ``Content-Length``,
    and no body for HEAD (RFC 9110 section 9.3.2). A HEAD answer goes without the length: the
    oldest ``responses`` allowed would read the body it announces, and wait in vain."""
    headers = dict(response.headers)
    if method.upper() == "HEAD":
        return response.status, headers, b""
    if response.content_length is not None:
        headers.setdefault("Content-Length", response.content_length)
    return response.status, headers, response.body


@contextmanager
def mocked_network(
    idp: MockIdP, *, assert_all_requests_are_fired: bool = False
) -> Iterator[responses.RequestsMock]:
    """An active ``RequestsMock`` serving ``idp``; other URLs raise ``ConnectionError``."""
    mock = responses.RequestsMock(assert_all_requests_are_fired=False, registry=IdPLastRegistry)
    with mock:
        register(idp, mock)
        yield mock
        if assert_all_requests_are_fired:  # the test's own routes: the IdP's are a catch-all
            idle = [r for r in mock.registered() if not _is_idp_route(r) and r.call_count == 0]
            if idle:
                raise AssertionError(f"Not all requests have been executed {idle!r}")
