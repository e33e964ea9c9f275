"""Serve a ``MockIdP`` through ``responses``: in-process, no sockets.

Every method on the issuer's origin goes to ``MockIdP.handle``, so routes, 404/405, faults
and hits are exactly those of the real server. A delay longer than the request's read timeout
raises ``requests.exceptions.ReadTimeout`` at once instead of sleeping.
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

from .http import Request
from .idp import MockIdP

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def read_timeout(timeout: Any) -> float | None:
    """The read timeout out of a ``requests`` ``timeout`` argument (number, pair or None)."""
    if isinstance(timeout, tuple):
        timeout = timeout[1]
    return None if timeout is None else float(timeout)


def origin_pattern(issuer: str) -> re.Pattern[str]:
    """Matches every URL on the issuer's scheme, host and port."""
    parts = urlsplit(issuer)
    return re.compile(re.escape(f"{parts.scheme}://{parts.netloc}") + r"(?:[/?#].*)?\Z")


def register(
    idp: MockIdP,
    mock: responses.RequestsMock,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Route every request to the issuer's host on ``mock`` to ``idp``."""

    def callback(prepared: Any) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(str(prepared.url))
        body = prepared.body or b""
        request = Request(
            method=str(prepared.method),
            path=url.path or "/",
            headers=dict(prepared.headers),
            body=body.encode("utf-8") if isinstance(body, str) else bytes(body),
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
        return response.status, dict(response.headers), response.body

    pattern = origin_pattern(idp.issuer)
    for method in METHODS:
        mock.add_callback(method, pattern, callback=callback, content_type=None)


@contextmanager
def mocked_network(
    idp: MockIdP, *, assert_all_requests_are_fired: bool = False
) -> Iterator[responses.RequestsMock]:
    """An active ``RequestsMock`` serving ``idp``; other URLs raise ``ConnectionError``."""
    mock = responses.RequestsMock(assert_all_requests_are_fired=assert_all_requests_are_fired)
    with mock:
        register(idp, mock)
        yield mock
