"""A ``Content-Type`` whose parameters Django cannot read is no 500 (SPEC: no request, whatever
its headers, gets any other 5xx): through the WSGI and the ASGI entry points, as gunicorn and
uvicorn call them, since Django reads the header while building the request, before any
middleware or view."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.exceptions import BadRequest
from django.http import HttpResponse

from apiexample.request_classes import ContentTypeParamsDropped, ContentTypeSafeWSGIRequest
from mock_idp import MockIdP
from tests.apiexample.helpers import asgi_get, assert_refused, wsgi_call

#: RFC 2231 parameters Django's ``parse_header_parameters`` raises on: an unknown charset, and a
#: charset name holding a NUL (``codecs.lookup`` refuses it), ``ValueError`` (section 4); an
#: unknown or empty charset with a percent-escape, ``LookupError`` on Django 4.2 (section 4);
#: continuations the ``email`` package cannot order, ``TypeError`` on Django 5.0+ (section 3).
UNREADABLE_CONTENT_TYPES = [
    "text/plain; charset*=bogus''utf-8",
    "text/plain; charset*=utf-8''utf-8%00",
    "application/x-www-form-urlencoded; charset*=utf-8''%00",
    "text/plain; charset*=bogus''%41",
    "text/plain; charset*=''%41",
    "text/plain; x*; x*1",
]


def wsgi_get(path: str, content_type: str, token: str | None = None) -> HttpResponse:
    """One GET through ``apiexample.wsgi.application``, as gunicorn calls it."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "CONTENT_TYPE": content_type,
        "wsgi.input": io.BytesIO(b""),
    }
    if token is not None:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return wsgi_call(environ)


def asgi_get_now(path: str, content_type: str, token: str | None = None) -> HttpResponse:
    """The same GET through ``apiexample.asgi.application``, as uvicorn calls it."""
    return asyncio.run(asgi_get(path, token, content_type=content_type))


@pytest.mark.parametrize("get", [wsgi_get, asgi_get_now], ids=["wsgi", "asgi"])
@pytest.mark.parametrize("content_type", UNREADABLE_CONTENT_TYPES)
def test_unreadable_content_type_parameters_are_dropped_not_a_500(
    api: Any, mock_idp: MockIdP, get: Any, content_type: str
) -> None:
    """The media type is kept and its parameters dropped, as Django drops a plain ``charset``
    it does not know: each route answers as it would without them."""
    assert get("/api/public", content_type).status_code == 200
    refused = get("/api/private", content_type, mock_idp.forge("alg_none"))
    assert_refused(refused, 401, "invalid_token")
    scoped = get("/api/private-scoped", content_type, mock_idp.mint(scope="read:messages"))
    assert scoped.status_code == 200


FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("content_type", "media_type"),
    [
        ("text/plain; charset*=bogus''%41", "text/plain"),
        (" Application/X-WWW-Form-URLencoded ; charset*=utf-8''%00", FORM),
    ],
)  # fmt: skip
def test_the_media_type_is_kept_lowercased_and_the_parameters_dropped(
    content_type: str, media_type: str
) -> None:
    """RFC 9110 section 8.3.1: the type and subtype are case-insensitive, and what the parser
    refused was only the parameters (Django raises on each of these, from 4.2 to 6.1)."""
    environ: dict[str, Any] = {"CONTENT_TYPE": content_type, "wsgi.input": io.BytesIO(b"")}
    setup_testing_defaults(environ)
    request = ContentTypeSafeWSGIRequest(environ)
    assert (request.content_type, request.content_params) == (media_type, {})


class _Django61Parser:
    """A request base class parsing ``Content-Type`` as Django 6.1 does: ``BadRequest``."""

    def _set_content_type_params(self, meta: Mapping[str, Any]) -> None:
        raise BadRequest("Content-Type parameters")


class _Django61Request(ContentTypeParamsDropped, _Django61Parser):
    pass


def test_django_6_1_s_bad_request_is_handled_as_a_value_error() -> None:
    """From Django 6.1 the same header raises ``BadRequest``, as far from the handler."""
    request = _Django61Request()
    request._set_content_type_params({"CONTENT_TYPE": "Text/Plain; charset*=bogus''utf-8"})
    assert (request.content_type, request.content_params) == ("text/plain", {})
