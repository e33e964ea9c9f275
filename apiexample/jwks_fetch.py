"""Fetching a JSON Web Key Set (RFC 7517 section 5) over HTTPS, defensively.

``requests`` does the I/O (so ``responses`` can stand in for the network in tests), with
connect and read timeouts, an overall deadline that shuts the connection down when it passes
(``apiexample.fetch_deadline``), a size cap, and redirects followed only within the same
origin. The body is asked for and read as sent, never decompressed
(RFC 9110 section 12.5.3 ``identity``): a key set of a few KiB gains nothing from
compression, and a decoder is where a small hostile body becomes a large one.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from apiexample.conf import DEFAULT_JWKS_TIMEOUT, is_acceptable_url
from apiexample.content_length import declared_length
from apiexample.fetch_deadline import deadline_session

CONNECT_TIMEOUT = 3.05
READ_TIMEOUT = 5.0
#: Auth0's JWKS is about 4 KiB; anything far larger is not a key set.
MAX_BYTES = 256 * 1024
MAX_REDIRECTS = 3
#: How long after its deadline a fetch still busy has its connection shut down.
HARD_DEADLINE_GRACE = 0.1
#: The most a ``fetch_jwks`` call lasts past its timeout: the grace, and the shutdown taking effect.
LONGEST_OVERRUN = 2 * HARD_DEADLINE_GRACE
_CHUNK = 16 * 1024


class JWKSFetchError(Exception):
    """The key set could not be obtained; ``reason`` is a short code for the logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _OwnRedirectsSession(requests.Session):
    """A session that leaves redirects to its caller entirely.

    Even with ``allow_redirects=False``, ``Session.send`` prepares the next request of a 3xx
    (``Response.next``), and to free the connection first reads the 3xx's whole body, decoded
    (``Content-Encoding``), before the caller sees a header: no size cap, and a few KiB of
    nested gzip become gigabytes. With no redirect target it looks at no body; ``_fetch``
    follows redirects itself, from the ``Location`` header.
    """

    def get_redirect_target(self, resp: requests.Response) -> None:
        return None


def _same_origin(first: str, second: str) -> bool:
    """Whether a redirect to ``second`` stays where ``first`` is.

    ``second`` must pass the rules of a configured URL first: only then does ``urlsplit`` read
    the host that ``requests`` will connect to (``https://evil.example\\@tenant/`` is refused).
    """
    if not is_acceptable_url(second):
        return False
    a, b = urlsplit(first), urlsplit(second)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


def _read_capped(response: requests.Response, deadline: float) -> bytes:
    """The body as sent, refused past MAX_BYTES or the deadline, however slowly it trickles.

    ``read1`` returns whatever one receive brings, and each receive waits at most for what is
    left of the deadline, so a server sending a byte at a time cannot stretch the fetch.
    """
    if response.headers.get("Content-Encoding", "identity").strip().lower() != "identity":
        raise JWKSFetchError("jwks_content_encoded")
    if declared_length(response.headers.get("Content-Length", "")) > MAX_BYTES:
        raise JWKSFetchError("jwks_too_large")
    raw = response.raw
    body = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise JWKSFetchError("jwks_timeout")
        _limit_next_receive(raw, min(READ_TIMEOUT, remaining))
        try:
            chunk = raw.read1(_CHUNK, decode_content=False)
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise JWKSFetchError("jwks_timeout") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise JWKSFetchError("jwks_unreachable") from exc
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > MAX_BYTES:
            raise JWKSFetchError("jwks_too_large")


def _limit_next_receive(raw: Any, seconds: float) -> None:
    """Make the socket's next receive give up after ``seconds`` (a real connection only)."""
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(seconds)


def _get(session: requests.Session, url: str, deadline: float) -> requests.Response:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise JWKSFetchError("jwks_timeout")
    try:
        return session.get(
            url,
            timeout=(min(CONNECT_TIMEOUT, remaining), min(READ_TIMEOUT, remaining)),
            allow_redirects=False,
            stream=True,
            headers={"Accept": "application/json", "Accept-Encoding": "identity"},
        )
    except requests.Timeout as exc:
        raise JWKSFetchError("jwks_timeout") from exc
    except requests.RequestException as exc:
        raise JWKSFetchError("jwks_unreachable") from exc


def fetch_jwks(url: str, timeout: float = DEFAULT_JWKS_TIMEOUT) -> dict[str, Any]:
    """GET the key set at ``url`` within ``timeout`` seconds in all, or raise JWKSFetchError."""
    deadline = time.monotonic() + timeout
    # The hard deadline comes a little after the one the receives are held to, so that a
    # fetch ending on time ends on its own, with its own reason.
    hard_seconds = timeout + HARD_DEADLINE_GRACE
    with deadline_session(hard_seconds, _OwnRedirectsSession) as (session, hard_deadline):
        # Plain http is allowed on loopback only (conf): through the environment's HTTP_PROXY
        # it would leave the host, and whoever runs the proxy would choose the keys. https
        # keeps the environment's proxy (a CONNECT tunnel; TLS still checks the host).
        session.trust_env = urlsplit(url).scheme != "http"
        try:
            return _fetch(session, url, deadline)
        except JWKSFetchError as exc:
            if hard_deadline.expired:  # the connection was shut down under the fetch
                raise JWKSFetchError("jwks_timeout") from exc
            raise


def _fetch(session: requests.Session, url: str, deadline: float) -> dict[str, Any]:
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        response = _get(session, current, deadline)
        with response:
            if response.is_redirect:
                target = urljoin(current, response.headers.get("Location", ""))
                if not _same_origin(url, target):
                    raise JWKSFetchError("jwks_redirect_off_origin")
                current = target
                continue
            if response.status_code != 200:
                raise JWKSFetchError(f"jwks_http_{response.status_code}")
            body = _read_capped(response, deadline)
        try:
            document = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise JWKSFetchError("jwks_not_json") from exc
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise JWKSFetchError("jwks_not_a_key_set")
        return document
    raise JWKSFetchError("jwks_too_many_redirects")
