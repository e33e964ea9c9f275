"""The IdP's HTTP surface as one pure function, ``handle(idp, request) -> response``.

Every transport (``responses`` callbacks, the threaded server) adapts to these small
dataclasses and nothing else, so all of them serve identical bytes. Served routes:

- ``GET /.well-known/openid-configuration`` (OpenID Connect Discovery 1.0, section 4)
- ``GET /.well-known/jwks.json`` (RFC 7517 section 5)
- ``POST /oauth/token``, client credentials (RFC 6749 section 4.4) with Auth0's parameters

Paths are relative to the issuer. Faults (status, delay, garbage, oversized, HTML, redirect)
can be injected per path, and every hit is recorded.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

if TYPE_CHECKING:
    from .idp import MockIdP

OPENID_CONFIGURATION = "/.well-known/openid-configuration"
JWKS = "/.well-known/jwks.json"
TOKEN = "/oauth/token"
JWKS_CACHE_CONTROL = "public, max-age=15, stale-while-revalidate=15, stale-if-error=86400"
MIB = 1024 * 1024
#: The largest request body a transport takes; a longer one is answered 413 (``too_large``).
MAX_REQUEST_BODY = MIB


@dataclass(frozen=True)
class Request:
    """What a transport received: method, path (its query apart, in ``query``), headers, body."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    query: str = ""

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


@dataclass(frozen=True)
class Response:
    """What a transport must send; it waits ``delay`` seconds first."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_length(self) -> str | None:
        """The ``Content-Length`` every transport sends (RFC 9110 section 8.6), a HEAD's too;
        none for a 204 (section 15.3.5)."""
        return None if self.status == 204 else str(len(self.body))


#: Statuses that carry no content (RFC 9110 sections 15.3.5 and 15.4.5): a fault setting one
#: drops the route's body, which a client would otherwise read in a transport's own way.
NO_CONTENT_STATUSES = frozenset({204, 304})


def json_response(status: int, document: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        status,
        {"Content-Type": "application/json; charset=utf-8", **(headers or {})},
        json.dumps(document).encode("utf-8"),
    )


def error_response(status: int, error: str, description: str, **headers: str) -> Response:
    return json_response(status, {"error": error, "error_description": description}, headers)


@dataclass(frozen=True)
class Hit:
    """One request the IdP received: ``method``, issuer-relative ``path``, clock ``time``."""

    method: str
    path: str
    time: float
    status: int


@dataclass(frozen=True)
class Fault:
    """A change to a route's answer. Unset fields keep the normal answer.

    Build one with the factories (``Fault.error(503)``, ``Fault.slow(5)``, ``Fault.garbage()``,
    ``Fault.oversized()``, ``Fault.html()``, ``Fault.redirect(url)``) or directly; combine with
    ``dataclasses.replace``.
    """

    status: int | None = None
    body: bytes | None = None
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0

    @classmethod
    def error(cls, status: int = 503, **headers: str) -> Fault:
        """An error status with a small JSON body (``Retry-After`` etc. via ``headers``).

        Any 4xx or 5xx status (RFC 9110 sections 15.5-15.6) works, also one outside the
        registry, such as a CDN's 520.
        """
        if not 400 <= status <= 599:
            raise ValueError(f"an error status is 4xx or 5xx, not {status}")
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:  # not registered
            phrase = f"HTTP {status}"
        body = json.dumps({"error": "injected_fault", "error_description": phrase}).encode()
        return cls(status, body, "application/json", headers)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """The normal answer, ``seconds`` late."""
        return cls(delay=seconds)

    @classmethod
    def garbage(cls, status: int = 200) -> Fault:
        """Bytes that are neither UTF-8 nor JSON, labelled as JSON."""
        return cls(status, b"\x89\xff\x00{garbage", "application/json")

    @classmethod
    def oversized(
        cls, size: int = 20 * MIB, status: int = 200, keys: Sequence[Mapping[str, Any]] = ()
    ) -> Fault:
        """A well-formed JSON JWKS holding ``keys`` (pass the IdP's own, ``idp.jwks()["keys"]``,
        so that only its size is wrong), padded to exactly ``size`` bytes (default 20 MiB), or
        unpadded when the keys alone take more."""
        head, tail = b'{"keys": ' + json.dumps(list(keys)).encode() + b', "padding": "', b'"}'
        padding = max(0, size - len(head) - len(tail))
        return cls(status, head + b"A" * padding + tail, "application/json")

    @classmethod
    def html(cls, status: int = 200) -> Fault:
        """An HTML page, as a proxy or captive portal would answer."""
        body = b"<!DOCTYPE html><html><head><title>Oops</title></head><body>Oops</body></html>"
        return cls(status, body, "text/html; charset=utf-8")

    @classmethod
    def redirect(
        cls, location: str = "https://attacker.example/.well-known/jwks.json", status: int = 302
    ) -> Fault:
        """A redirect, by default to another host."""
        return cls(status, b"", None, {"Location": location})

    def apply(self, response: Response) -> Response:
        headers = dict(response.headers)
        if self.content_type is not None:
            headers["Content-Type"] = self.content_type
        headers.update(self.headers)
        status = self.status if self.status is not None else response.status
        body = self.body if self.body is not None else response.body
        return Response(
            status=status,
            headers=headers,
            body=b"" if status in NO_CONTENT_STATUSES else body,
            delay=response.delay + self.delay,
        )


@dataclass(frozen=True)
class Client:
    """A registered client; ``scopes=None`` grants whatever is requested."""

    client_id: str
    client_secret: str
    scopes: tuple[str, ...] | None = None


class Faults:
    """Faults queued per path; each applies to the next ``times`` requests (None: until cleared)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, list[list[Any]]] = {}

    def inject(self, path: str, fault: Fault, times: int | None = None) -> None:
        with self._lock:
            self._queues.setdefault(path, []).append([fault, times])

    def clear(self, path: str | None = None) -> None:
        with self._lock:
            if path is None:
                self._queues.clear()
            else:
                self._queues.pop(path, None)

    def take(self, path: str) -> Fault | None:
        """The fault for this request to ``path``, counting it down."""
        with self._lock:
            queue = self._queues.get(path, [])
            while queue and queue[0][1] == 0:
                queue.pop(0)
            if not queue:
                return None
            entry = queue[0]
            if entry[1] is not None:
                entry[1] -= 1
            fault: Fault = entry[0]
            return fault


class HitLog:
    """Every request received, in order; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: list[Hit] = []

    def record(self, hit: Hit) -> None:
        with self._lock:
            self._hits.append(hit)

    def all(self) -> list[Hit]:
        with self._lock:
            return list(self._hits)

    def count(self, path: str | None = None, method: str | None = None) -> int:
        return sum(
            1
            for hit in self.all()
            if (path is None or hit.path == path) and (method is None or hit.method == method)
        )

    def clear(self) -> None:
        with self._lock:
            self._hits.clear()


def too_large() -> Response:
    """What every transport answers to a body over ``MAX_REQUEST_BODY`` (RFC 9110 15.5.14)."""
    return error_response(413, "invalid_request", "The request body is over 1 MiB.")


def handle(idp: MockIdP, request: Request) -> Response:
    """Answer ``request`` as the IdP would, with any injected fault, and record the hit.

    Leading slashes collapse into one, as CPython's ``http.server`` does, so that every
    transport routes ``//path`` alike. Whatever goes wrong inside (no key in the SIGNING
    state, say) is a 500 JSON answer, recorded like any other: a test double must answer.
    """
    relative, path = _paths(idp, request.path)
    fault = idp.faults.take(path)
    try:
        response = _route(idp, relative, request)
    except Exception as exc:  # reported to the caller, never raised into it
        response = error_response(500, "server_error", f"mock_idp: {type(exc).__name__}: {exc}")
    if fault is not None:
        response = fault.apply(response)
    return _recorded(idp, request.method, path, response)


def unread(idp: MockIdP, method: str, path: str, response: Response) -> Response:
    """A transport's own answer to a request whose body it would not read (413, 400): no route
    runs and no fault applies, but the hit is recorded like any other."""
    return _recorded(idp, method, _paths(idp, path)[1], response)


def _paths(idp: MockIdP, path: str) -> tuple[str | None, str]:
    """The path relative to the issuer (None: elsewhere on its host), and the one to record."""
    given = "/" + path.lstrip("/")
    relative = idp.relative_path(given)
    return relative, relative if relative is not None else given


def _recorded(idp: MockIdP, method: str, path: str, response: Response) -> Response:
    idp.hit_log.record(Hit(method, path, idp.clock.now(), response.status))
    return response


def _route(idp: MockIdP, path: str | None, request: Request) -> Response:
    handlers = _ROUTES.get(path) if path is not None else None
    if handlers is None:
        return json_response(404, {"statusCode": 404, "error": "Not Found", "message": "Not Found"})
    method = request.method  # case-sensitive (RFC 9110 section 9.1): "get" is not GET
    if method not in handlers:
        allow = ", ".join(handlers)
        return json_response(
            405,
            {"statusCode": 405, "error": "Method Not Allowed", "message": "Method Not Allowed"},
            {"Allow": allow},
        )
    return handlers[method](idp, request)


def _openid_configuration(idp: MockIdP, _request: Request) -> Response:
    return json_response(200, idp.openid_configuration())


def _jwks(idp: MockIdP, _request: Request) -> Response:
    return json_response(200, idp.jwks(), {"Cache-Control": JWKS_CACHE_CONTROL})


def _token_parameters(request: Request) -> dict[str, Any]:
    content_type = (request.header("Content-Type") or "").lower()
    if content_type.startswith("application/json"):
        document = json.loads(request.body.decode("utf-8"))
        if not isinstance(document, dict):
            raise ValueError("the JSON body must be an object")
        return document
    return dict(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """``client_secret_basic`` credentials (RFC 6749 section 2.3.1), if sent.

    Percent-decoded, with ``+`` kept as is: RFC 6749 has clients form-encode each part (``+``
    for a space), but most send them raw (``requests``' ``auth=(id, secret)`` does), and an
    Auth0 client secret never holds ``+`` or a space, so this reads both kinds alike.
    """
    authorization = request.header("Authorization") or ""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    client_id, _, secret = decoded.partition(":")
    return unquote(client_id), unquote(secret)


def _secret_bytes(secret: str) -> bytes:
    """A secret as bytes to compare; JSON's ``\\u`` escapes can carry lone surrogates."""
    return secret.encode("utf-8", "surrogatepass")


def _token(idp: MockIdP, request: Request) -> Response:
    no_store = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    try:
        params = _token_parameters(request)
        basic = _basic_credentials(request)
    except (ValueError, RecursionError, binascii.Error):  # UnicodeDecodeError is a ValueError
        return error_response(400, "invalid_request", "Malformed request", **no_store)
    if basic is not None:
        params.setdefault("client_id", basic[0])
        params.setdefault("client_secret", basic[1])
    strings = {k: v for k, v in params.items() if isinstance(v, str)}
    grant_type = strings.get("grant_type")
    if not grant_type:
        return error_response(
            400, "invalid_request", "Missing required parameter: grant_type", **no_store
        )
    if grant_type != "client_credentials":
        return error_response(
            400,
            "unsupported_grant_type",
            f"Grant type '{grant_type}' not allowed for the client.",
            **no_store,
        )
    client_id = strings.get("client_id", "")
    client = idp.clients.get(client_id)
    if not client_id or (
        idp.clients
        and (
            client is None
            or not hmac.compare_digest(
                _secret_bytes(client.client_secret), _secret_bytes(strings.get("client_secret", ""))
            )
        )
    ):
        return error_response(401, "access_denied", "Unauthorized", **no_store)
    audience = strings.get("audience") or idp.audience
    if not audience:
        return error_response(
            403,
            "access_denied",
            "No audience parameter was provided, and no default audience has been configured",
            **no_store,
        )
    scope = _granted_scope(strings.get("scope"), client, idp.default_scope)
    token = idp.mint(client_id=client_id, audience=audience, scope=scope)
    body = {
        "access_token": token,
        "scope": scope,
        "expires_in": idp.expires_in,
        "token_type": "Bearer",
    }
    return json_response(200, body, no_store)


def _granted_scope(requested: str | None, client: Client | None, default: str) -> str:
    """Requested scopes, narrowed to the client's grant if it has one (Auth0's behaviour)."""
    if client is None or client.scopes is None:
        return default if requested is None else requested
    if not requested:
        return " ".join(client.scopes)
    return " ".join(s for s in requested.split() if s in client.scopes)


_Handler = Callable[["MockIdP", Request], Response]
_ROUTES: dict[str, dict[str, _Handler]] = {
    OPENID_CONFIGURATION: {"GET": _openid_configuration},
    JWKS: {"GET": _jwks},
    TOKEN: {"POST": _token},
}

__all__ = [
    "JWKS",
    "OPENID_CONFIGURATION",
    "TOKEN",
    "Client",
    "Fault",
    "Faults",
    "Hit",
    "HitLog",
    "Request",
    "Response",
    "handle",
]
