"""Serve a ``MockIdP`` over a real socket, on 127.0.0.1, from a background thread.

Threaded (a slow fault does not block other requests) and HTTP/1.0 (one request per
connection). Injected delays wait on an event that ``stop()`` sets, so shutdown never hangs.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from .http import Request, Response, error_response
from .idp import MockIdP

MAX_REQUEST_BODY = 1024 * 1024


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handler threads
    block_on_close = True

    def __init__(self, address: tuple[str, int], owner: MockIdPServer) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.owner = owner
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up early (e.g. on a size cap) are not errors worth printing."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"
    timeout = 10.0
    server_version = "mock_idp"
    sys_version = ""

    def _dispatch(self) -> None:
        owner = self.server.owner
        url = urlsplit(self.path)
        try:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_REQUEST_BODY)
        except ValueError:  # RFC 9110 section 8.6: a Content-Length that is not a number
            self._send(error_response(400, "invalid_request", "Content-Length is not a number."))
            return
        request = Request(
            method=self.command,
            path=url.path or "/",
            headers=dict(self.headers.items()),
            body=self.rfile.read(length) if length > 0 else b"",
            query=url.query,
        )
        response = owner.idp.handle(request)
        if response.delay > 0 and owner.stopping.wait(response.delay):
            return  # shutting down: drop the connection
        self._send(response)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: hits are recorded on the IdP instead."""


class MockIdPServer:
    """A ``MockIdP`` on a real socket. Use as a context manager, or ``start()``/``stop()``.

    ``url`` is the base URL (``http://127.0.0.1:PORT/``). Unless ``keep_issuer`` is true the
    IdP's issuer becomes that URL, so discovery and tokens point back at this server.
    """

    def __init__(
        self,
        idp: MockIdP | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        keep_issuer: bool = False,
    ) -> None:
        self.idp = idp if idp is not None else MockIdP()
        self.host = host
        self.port = port
        self.keep_issuer = keep_issuer
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the server is not running")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self) -> MockIdPServer:
        if self._server is not None:
            raise RuntimeError("the server is already running")
        self.stopping.clear()
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        if not self.keep_issuer:
            self.idp.issuer = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"mock_idp server {self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake delayed requests, and join every thread."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()
        self._server = self._thread = None

    def __enter__(self) -> MockIdPServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
