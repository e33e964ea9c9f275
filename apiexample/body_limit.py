"""``BodyLimit``: ASGI middleware answering 413 (RFC 9110 section 15.5.14) to a request body
over a limit, before Django reads it.

Django's ASGI handler reads the whole body before it routes the request (into memory, then a
temporary file), whatever the route and however large, and uvicorn sets no limit: one chunked
``GET`` could fill the disk. Under WSGI, gunicorn reads a body only when a view asks for it.

The limit is ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (Django's 2.5 MiB by default; ``None`` turns it
off) unless one is given: the API's routes take no body, and a form the protector reads for an
``access_token`` is held to that setting by Django anyway. A project that takes uploads, whose
file data that setting leaves out, gives its own (``BodyLimit(application, limit=...)``).
"""

from __future__ import annotations

import logging

from django.conf import settings

from apiexample.asgi_types import ASGIApp, Message, Receive, Scope, Send
from apiexample.content_length import declared_length
from apiexample.errors import ContentTooLarge, error_response

logger = logging.getLogger(__name__)


class BodyLimit:
    """Wraps an ASGI application; HTTP requests only (a websocket's messages are not a body)."""

    def __init__(self, app: ASGIApp, limit: int | None = None) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit if self.limit is not None else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if scope["type"] != "http" or limit is None:
            await self.app(scope, receive, send)
            return
        if _declared_length(scope) > limit:  # refused unread (RFC 9110 section 8.6)
            await _refuse(send, "declared")
            return
        body = _LimitedBody(receive, send, limit)
        await self.app(scope, body.receive, body.send)
        if body.over and not body.answered:
            await _refuse(send, "streamed")


class _LimitedBody:
    """``receive`` counting the body's bytes: past the limit, the application is told the
    client went away (Django then stops reading and answers nothing), and the rest is unread."""

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self._receive, self._send, self._limit = receive, send, limit
        self.received = 0
        self.over = self.answered = False

    async def receive(self) -> Message:
        if self.over:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self._limit:
                self.over = True
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.answered = True
        await self._send(message)


def _declared_length(scope: Scope) -> int:
    """The ``Content-Length`` the client declared, 0 when absent (``declared_length``; uvicorn
    refuses one that is no number before the application sees it)."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            return declared_length(value.decode("latin-1"))
    return 0


async def _refuse(send: Send, how: str) -> None:
    """The API's JSON error answer; ``Connection: close``, so the unread body goes with it."""
    logger.info("request refused: status=413 reason=body_too_large (%s)", how)
    response = error_response(ContentTooLarge())
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.items()]
    headers += [
        (b"content-length", b"%d" % len(response.content)),
        (b"x-content-type-options", b"nosniff"),  # as SecurityMiddleware, which it never reaches
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": response.content})
