"""``require_auth``: Authlib's Django ``ResourceProtector``, made to never answer 500.

Reads the bearer token from the ``Authorization`` header only (RFC 6750 section 2.1), refuses
a second way of sending it (section 2, ``invalid_request``), turns every failure into one of
the errors of ``apiexample.errors`` and logs it with a reason code, never token material.
Protects sync and async views alike; a protected answer varies on ``Authorization`` (RFC 9110
section 12.5.5).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from authlib.integrations.django_oauth2 import ResourceProtector
from authlib.oauth2 import OAuth2Error
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.http.request import RawPostDataException
from django.utils.cache import patch_vary_headers
from django.views import View as DjangoView

from apiexample.errors import (
    BearerError,
    InvalidRequest,
    InvalidToken,
    MissingAuthorization,
    UnsupportedTokenType,
    error_response,
)

logger = logging.getLogger(__name__)

View = Callable[..., Any]


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


#: The only body that carries a token parameter (RFC 6750 section 2.2).
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def _access_token_parameter(request: HttpRequest) -> bool:
    """An ``access_token`` query or form parameter too (RFC 6750 sections 2.2 and 2.3).

    Parameters are parsed only when there can be some: most requests carry none. A body is
    read only when form-encoded, in any method with a body (section 2.2): a multipart upload
    is left for the view, which may set its own upload handlers or read ``request.body``.

    The query is read as percent-encoded UTF-8 (RFC 3986 section 2.5), as Django's ASGI request
    reads it: under WSGI, ``request.GET`` decodes it in the charset the body's ``Content-Type``
    names, in which ``access_token`` may read as other characters (``charset=utf-16``).
    """
    try:
        query = request.META.get("QUERY_STRING")
        if query and "access_token" in QueryDict(query):
            return True
        if request.method in ("GET", "HEAD") or request.content_type != FORM_CONTENT_TYPE:
            return False
        if request.method == "POST":
            return "access_token" in request.POST
        return "access_token" in QueryDict(request.body, encoding=request.encoding)
    except RawPostDataException:  # a middleware already read the body: not ours to parse
        return False
    # Too many fields, a body over Django's limit (SuspiciousOperation); a charset Django refuses
    # (BadRequest) or Python has no codec for (LookupError: "charset=base64"), or that fails.
    except (SuspiciousOperation, BadRequest, LookupError, UnicodeError) as exc:
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
        """``scopes``: one string needs all its space-separated scopes; a list, any one of its
        strings (RFC 6750 section 3.1 names the first in ``insufficient_scope``).

        The view is marked CSRF-exempt: a bearer token is no ambient credential a browser sends
        by itself (and Django 4.2's ``csrf_exempt`` would make an async view sync). Under
        ``method_decorator`` this runs on every request, on the bound method.
        """
        if callable(scopes):  # ``@require_auth`` on a view, without its parentheses
            raise TypeError(
                'require_auth needs its scopes: write @require_auth(None) or @require_auth("scope")'
            )
        required = [scopes] if isinstance(scopes, str) else list(scopes or [])

        def decorator(view: View) -> View:
            if iscoroutinefunction(view) or _is_async_class_view(view):
                authorize_in_thread = sync_to_async(self.authorize)  # it may wait on the JWKS

                @functools.wraps(view)
                async def protected_async(request: HttpRequest, *args: Any, **kw: Any) -> Any:
                    refusal = await authorize_in_thread(_request_of(request, view), required)
                    if refusal is not None:
                        return refusal
                    return _varies_on_authorization(await view(request, *args, **kw))

                protected_async.csrf_exempt = True  # type: ignore[attr-defined]
                return protected_async

            @functools.wraps(view)
            def protected(request: HttpRequest, *args: Any, **kw: Any) -> Any:
                refusal = self.authorize(_request_of(request, view), required)
                if refusal is not None:
                    return refusal
                return _varies_on_authorization(view(request, *args, **kw))

            protected.csrf_exempt = True  # type: ignore[attr-defined]
            return protected

        return decorator

    def authorize(self, request: HttpRequest, required: list[str]) -> HttpResponse | None:
        """Set ``request.oauth_token``, or return the refusal to answer with."""
        try:
            request.oauth_token = self.acquire_bearer_token(request, required)  # type: ignore[attr-defined]
        except BearerError as error:
            return self.refuse(request, error)
        except OAuth2Error as error:  # Authlib's own, should a future version raise one
            return self.refuse(request, InvalidToken(f"authlib_{error.error}"))
        except Exception as exc:  # never a 500: fail closed, and say why in the log
            logger.error("token validation crashed: %s", type(exc).__name__)
            return self.refuse(request, InvalidToken("validator_error"))
        return None

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
        response = error_response(error)
        # Logged above, with its reason. Django's own mark (django.utils.log.log_response), so it
        # does not log it again: it logs a 5xx at ERROR, which mails ADMINS (synchronously, in
        # the request) once per 503 while the IdP is down.
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response


def _request_of(request: Any, view: View) -> HttpRequest:
    """``request``, or a ``TypeError`` that says how to decorate a class-based view's method
    (which gets the view first). A request wrapper (DRF's ``Request``) passes as it is."""
    if isinstance(request, DjangoView):
        raise TypeError(
            f"{view.__qualname__} got the view, not a request: decorate a class-based view's "
            "method with django.utils.decorators.method_decorator"
        )
    return request  # type: ignore[no-any-return]


def _is_async_class_view(view: View) -> bool:
    """``dispatch`` (or another method) of an async class-based view, as ``method_decorator``
    passes it on each request: a ``partial`` of the method bound to the view instance."""
    instance = getattr(getattr(view, "func", None), "__self__", None)
    return isinstance(instance, DjangoView) and instance.view_is_async


def _varies_on_authorization(response: Any) -> Any:
    """Say the answer depends on ``Authorization`` (RFC 9110 section 12.5.5), so that a cache
    in front (Django 4.2's ``cache_page``, a proxy) never serves it to another client."""
    if not isinstance(response, HttpResponseBase):  # a view's own mistake, for Django to report
        return response
    if response.get("Vary"):  # patch_vary_headers alone is slower, and after an empty Vary
        patch_vary_headers(response, ("Authorization",))  # leaves ", Authorization"
    else:
        response["Vary"] = "Authorization"
    return response
