"""Django's request classes, made to survive a ``Content-Type`` whose parameters Django cannot read.

Django reads ``Content-Type`` while it builds the request, before any middleware or view, and
whatever its parser raises there escapes the handler's error handling: gunicorn and uvicorn
answer 500 with a traceback, on every route. Parameters in RFC 2231 form (section 4) raise: a
charset Python does not know (``charset*=bogus''utf-8``), ``ValueError``, ``BadRequest`` from
Django 6.1 on (on Django 4.2 only with a percent-escape in the value, as ``LookupError``, an empty
charset too: ``charset*=''%41``); a ``charset`` whose value holds a NUL (``charset*=utf-8''%00``),
``ValueError`` from ``codecs.lookup`` on every release; continuations (section 3) the standard
library's ``email`` package cannot order, under Django 5.0 and later (``x*; x*1``,
``TypeError``). These classes drop the parameters and keep the media type (RFC 9110 section
8.3.1), as Django itself drops a plain ``charset`` it does not know.
``apiexample.wsgi`` and ``apiexample.asgi_handler`` install them (``request_class``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.handlers.asgi import ASGIRequest
from django.core.handlers.wsgi import WSGIRequest


class ContentTypeParamsDropped:
    """Mixin for a Django request class: unreadable ``Content-Type`` parameters dropped."""

    content_type: str | None
    content_params: dict[str, str] | None

    def _set_content_type_params(self, meta: Mapping[str, Any]) -> None:
        try:
            super()._set_content_type_params(meta)  # type: ignore[misc]
        # Any exception: the parser (Django's, over the standard library's) raises several kinds
        # across versions, and none may escape, as the request is built outside the handler.
        except Exception:
            self.content_type = str(meta.get("CONTENT_TYPE", "")).partition(";")[0].strip().lower()
            self.content_params = {}


class ContentTypeSafeWSGIRequest(ContentTypeParamsDropped, WSGIRequest):
    """``WSGIRequest``, with unreadable ``Content-Type`` parameters dropped."""


class ContentTypeSafeASGIRequest(ContentTypeParamsDropped, ASGIRequest):
    """``ASGIRequest``, with unreadable ``Content-Type`` parameters dropped."""
