"""The API's error answers, rendered in exactly one place: the protected views' (RFC 6750
section 3), and those Django gives itself (an unknown path, a refused ``Host``, a crashed view).

Each error is a small declarative class: ``error`` code, ``status_code``, ``description``,
and what its ``WWW-Authenticate`` challenge carries. ``reason`` is a short machine-readable
code for the logs; it never contains token material.
"""

from __future__ import annotations

import math
import re

from authlib.oauth2.base import OAuth2Error
from django.http import JsonResponse

from apiexample.conf import DEFAULT_JWKS_COOLDOWN

REALM = "api"
#: ``Retry-After`` when the delay given is not a number of seconds (a misconfigured cooldown).
FALLBACK_RETRY_AFTER = DEFAULT_JWKS_COOLDOWN
_LOGGED_KID_LENGTH = 64
#: Characters of a ``kid`` logged escaped (CWE-117: a hostile kid such as ``x reason=ok`` must
#: not read as fields of the log line): all but letters, digits and ``._~+/-``.
_KID_ESCAPED = re.compile(r"[^A-Za-z0-9._~+/-]")


def _escape(character: re.Match[str]) -> str:
    r"""``\uXXXX``, or ``\UXXXXXXXX`` beyond the Basic Multilingual Plane, as Python writes."""
    code = ord(character.group())
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


class BearerError(OAuth2Error):  # type: ignore[misc]
    """Base of every error the protected views answer with."""

    error = "invalid_request"
    status_code = 400
    description = "The request is malformed."
    #: Whether the ``WWW-Authenticate`` challenge names the error (RFC 6750 section 3.1).
    challenge_has_error = True

    def __init__(self, reason: str, description: str | None = None) -> None:
        super().__init__(description=description or self.description)
        self.reason = reason
        #: The token's ``kid`` as logged: quoted and shortened, ``-`` until the header is read.
        self.kid = "-"

    def for_kid(self, kid: str | None) -> BearerError:
        if kid is not None:
            self.kid = f"'{_KID_ESCAPED.sub(_escape, kid[:_LOGGED_KID_LENGTH])}'"
        return self

    def challenge_params(self) -> list[tuple[str, str]]:
        if not self.challenge_has_error:
            return [("realm", REALM)]
        return [("error", self.error), ("error_description", self.description), ("realm", REALM)]

    def response_headers(self) -> dict[str, str]:
        params = ", ".join(f'{name}="{value}"' for name, value in self.challenge_params())
        return {"WWW-Authenticate": f"Bearer {params}"}


class MissingAuthorization(BearerError):
    """No bearer credentials at all: the challenge carries no error code (RFC 6750 section 3.1)."""

    error = "missing_authorization"
    status_code = 401
    description = "The request carries no bearer access token."
    challenge_has_error = False


class UnsupportedTokenType(MissingAuthorization):
    """Credentials under another scheme (``Basic``...): to a bearer API that is no credentials."""

    error = "unsupported_token_type"
    description = "Only the Bearer authorization scheme is accepted."


class InvalidRequest(BearerError):
    """More than one way of passing the token (RFC 6750 sections 2 and 3.1)."""

    error = "invalid_request"
    status_code = 400
    description = "The access token must be sent in the Authorization header only."


class InvalidToken(BearerError):
    """Malformed, forged, expired or not meant for us (RFC 6750 section 3.1)."""

    error = "invalid_token"
    status_code = 401
    description = "The access token is invalid."


class InsufficientScope(BearerError):
    """A valid token that lacks the scope the route needs (RFC 6750 section 3.1)."""

    error = "insufficient_scope"
    status_code = 403
    description = "The access token does not grant the scope this resource needs."

    def __init__(self, scope: str) -> None:
        super().__init__("insufficient_scope")
        self.scope = scope

    def challenge_params(self) -> list[tuple[str, str]]:
        return [
            ("error", self.error),
            ("scope", self.scope),
            ("error_description", self.description),
            ("realm", REALM),
        ]


class TemporarilyUnavailable(BearerError):
    """Signing keys cannot be obtained, or the validator is misconfigured: fail closed."""

    error = "temporarily_unavailable"
    status_code = 503
    description = "The signing keys needed to check the access token are unavailable."

    def __init__(self, reason: str, retry_after: float, description: str | None = None) -> None:
        super().__init__(reason, description)
        finite = math.isfinite(retry_after)
        self.retry_after = max(1, math.ceil(retry_after)) if finite else FALLBACK_RETRY_AFTER

    def response_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class RequestError(BearerError):
    """An error Django answers itself, outside the protected views: the same JSON body, and no
    ``WWW-Authenticate`` challenge, which concerns credentials only."""

    def __init__(self) -> None:
        super().__init__(self.error)

    def response_headers(self) -> dict[str, str]:
        return {}


class BadRequest(RequestError):
    """A request Django refuses before any view: a ``Host`` not in ``ALLOWED_HOSTS``..."""


class NotFound(RequestError):
    """No such route (RFC 9110 section 15.5.5); routes have no trailing slash."""

    error = "not_found"
    status_code = 404
    description = "No such resource."


class ContentTooLarge(RequestError):
    """A request body over the limit, refused before it is read (RFC 9110 section 15.5.14)."""

    error = "request_too_large"
    status_code = 413
    description = "The request body is larger than this API accepts."


class ServerError(RequestError):
    """A view that crashed (RFC 9110 section 15.6.1): never ``require_auth``, which fails closed."""

    error = "server_error"
    status_code = 500
    description = "The server failed to answer the request."


def error_response(error: BearerError) -> JsonResponse:
    """The one place an error becomes an HTTP response: JSON body, ``no-store`` caching."""
    response = JsonResponse(
        {"error": error.error, "error_description": error.description}, status=error.status_code
    )
    for name, value in error.response_headers().items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response
