"""``HTTPOnly``: an ASGI wrapper answering the connections Django's handler refuses by raising.

Django's ASGI handler serves ``http`` scopes only and raises ``ValueError`` for any other. Behind
uvicorn with a websocket library (``uvicorn[standard]``), a websocket upgrade to any path was a
500 with a traceback; ``uvicorn --lifespan on`` would not start. Here a websocket is closed
before it is accepted, which the server answers with HTTP 403 (ASGI's websocket protocol), and
the lifespan's startup and shutdown complete at once: the API has nothing to set up.
"""

from __future__ import annotations

from apiexample.asgi_types import ASGIApp, Receive, Scope, Send


class HTTPOnly:
    """Wraps an ASGI application serving HTTP; any other scope type is passed on to it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await _refuse_websocket(receive, send)
        elif scope["type"] == "lifespan":
            await _lifespan(receive, send)
        else:
            await self.app(scope, receive, send)


async def _refuse_websocket(receive: Receive, send: Send) -> None:
    """Closed before it is accepted: the server answers the upgrade request with 403."""
    if (await receive())["type"] == "websocket.connect":
        await send({"type": "websocket.close"})


async def _lifespan(receive: Receive, send: Send) -> None:
    """Startup and shutdown, each complete as soon as asked."""
    while True:
        kind = (await receive())["type"]
        if kind == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif kind == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
