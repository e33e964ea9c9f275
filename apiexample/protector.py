"""``require_auth``: Authlib's Django ``ResourceProtector``, made to never answer 500.

Reads the bearer token from the ``Authorization`` header only (RFC 6750 section 2.1), refuses
a second way of sending it (section 2, ``invalid_request``), turns every failure into one of
the errors of ``apiexample.errors`` and logs it with a reason code, never token material.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from authlib.integrations.django_oauth2 import ResourceProtector
from authlib.oauth2 import OAuth2Error
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse

from apiexample.errors import (
    BearerError,
    InvalidRequest,
    InvalidToken,
    MissingAuthorization,
    UnsupportedTokenType,
    error_response,
)

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


def bearer_token(request: HttpRequest) -> str:
    """The token of ``Authorization: Bearer <token>``; the scheme is case-insensitive.

    Only spaces and tabs surround a field value (RFC 9110 section 5.5): any other character,
    whitespace to Python (``\\x85``, ``\\xa0``) included, belongs to the scheme or the token.
    """
    header = str(request.META.get("HTTP_AUTHORIZATION", "")).strip(" \t")
    if not header:
        raise MissingAuthorization("no_credentials")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer":
        raise UnsupportedTokenType("not_bearer")
    if _access_token_parameter(request):
        raise InvalidRequest("token_in_two_places")
    return credentials.strip(" ")


def _access_token_parameter(request: HttpRequest) -> bool:
    """An ``access_token`` query or form parameter too (RFC 6750 sections 2.2 and 2.3).

    Parameters are parsed only when there are some: most requests carry none.
    """
    try:
        if request.META.get("QUERY_STRING") and "access_token" in request.GET:
            return True
        return request.method == "POST" and "access_token" in request.POST
    except SuspiciousOperation as exc:  # too many fields, a malformed body...
        raise InvalidRequest(
            "malformed_parameters", "The request parameters are malformed."
        ) from exc


class Auth0ResourceProtector(ResourceProtector):  # type: ignore[misc]
    """Use as ``@require_auth(None)`` or ``@require_auth("read:messages")``."""

    def acquire_bearer_token(self, request: HttpRequest, scopes: list[str]) -> Any:
        validator = self.get_token_validator("bearer")
        token = validator.authenticate_token(bearer_token(request))
        validator.validate_token(token, scopes, request)
        return token

    def __call__(self, scopes: str | list[str] | None = None) -> Callable[[View], View]:
        required = [scopes] if isinstance(scopes, str) else list(scopes or [])

        def decorator(view: View) -> View:
            @functools.wraps(view)
            def protected(request: HttpRequest, *args: Any, **kw: Any) -> HttpResponse:
                try:
                    request.oauth_token = self.acquire_bearer_token(request, required)  # type: ignore[attr-defined]
                except BearerError as error:
                    return self.refuse(request, error)
                except OAuth2Error as error:  # Authlib's own, should a future version raise one
                    return self.refuse(request, InvalidToken(f"authlib_{error.error}"))
                except Exception as exc:  # never a 500: fail closed, and say why in the log
                    logger.error("token validation crashed: %s", type(exc).__name__)
                    return self.refuse(request, InvalidToken("validator_error"))
                return view(request, *args, **kw)

            return protected

        return decorator

    @staticmethod
    def refuse(request: HttpRequest, error: BearerError) -> HttpResponse:
        logger.info(
            "auth refused: status=%s reason=%s kid=%s path=%s",
            error.status_code,
            error.reason,
            error.kid,
            request.path,
            extra={"reason": error.reason},  # for log handlers that keep fields apart
        )
        return error_response(error)
