"""Django's request classes, made to survive a ``Content-Type`` whose parameters Django cannot read.

Django reads ``Content-Type`` while it builds the request, before any middleware or view. A
parameter in RFC 2231 form (section 4) naming a charset Python does not know
(``charset*=bogus''utf-8``), or one whose value holds a NUL (``charset*=utf-8''%00``), raises
``ValueError`` there: gunicorn and uvicorn answer 500 with a traceback, on every route. These
classes drop the parameters and keep the media type (RFC 9110 section 8.3.1), as Django itself
drops a plain ``charset`` it does not know. ``apiexample.wsgi`` and ``apiexample.asgi`` install
them (``request_class``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.handlers.asgi import ASGIRequest
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpRequest


def _media_type_alone(request: HttpRequest, meta: Mapping[str, Any]) -> None:
    """The media type of ``meta``'s ``CONTENT_TYPE``, lowercased, and no parameters."""
    request.content_type = str(meta.get("CONTENT_TYPE", "")).partition(";")[0].strip().lower()
    request.content_params = {}


class ContentTypeSafeWSGIRequest(WSGIRequest):
    """``WSGIRequest``, with unreadable ``Content-Type`` parameters dropped."""

    def _set_content_type_params(self, meta: Mapping[str, Any]) -> None:
        try:
            super()._set_content_type_params(meta)  # type: ignore[misc]
        except ValueError:  # UnicodeError too
            _media_type_alone(self, meta)


class ContentTypeSafeASGIRequest(ASGIRequest):
    """``ASGIRequest``, with unreadable ``Content-Type`` parameters dropped."""

    def _set_content_type_params(self, meta: Mapping[str, Any]) -> None:
        try:
            super()._set_content_type_params(meta)  # type: ignore[misc]
        except ValueError:  # UnicodeError too
            _media_type_alone(self, meta)
