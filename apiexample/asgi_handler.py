"""Django's ASGI handler, answering a request it cannot build as the API answers every error.

Django builds an ASGI request before any middleware or view. A query string that is not UTF-8
(raw bytes a server passed on, where RFC 3986 section 3.4 allows only ASCII) fails that, and
Django answers a bare 400 of its own, outside ``handler400``: an empty HTML body, no
``Cache-Control``. Here it is the API's JSON ``invalid_request`` with ``no-store``, as for any
request Django refuses before a view (RFC 9110 section 15.5.1). Under WSGI the query string
reaches Django as text and is read as any other, so only ASGI needs this.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.core.handlers.asgi import ASGIHandler, ASGIRequest
from django.http import HttpResponseBase

from apiexample.errors import BadRequest, error_response
from apiexample.request_classes import ContentTypeSafeASGIRequest


class APIASGIHandler(ASGIHandler):
    """``ASGIHandler`` with the API's request class and its error answers."""

    request_class = ContentTypeSafeASGIRequest  # no 500 on an unreadable Content-Type

    def create_request(
        self, scope: Mapping[str, Any], body_file: IO[bytes]
    ) -> tuple[ASGIRequest, None] | tuple[None, HttpResponseBase]:
        built = super().create_request(scope, body_file)
        refusal = built[1]
        if refusal is not None and refusal.status_code == 400:  # Django's bare one
            return None, error_response(BadRequest())
        return built
