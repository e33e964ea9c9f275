"""Serve a ``MockIdP`` over a real socket, on 127.0.0.1, from a background thread.

Threaded (a slow fault does not block other requests) and HTTP/1.0 (one request per
connection). Injected delays wait on an event that ``stop()`` sets, so shutdown never hangs.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from .http import MAX_REQUEST_BODY, MIB, Request, Response, error_response, too_large, unread
from .idp import MockIdP

#: How much of an over-long body the server still reads before answering 413.
DRAIN_LIMIT = 16 * MIB


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handler threads
    block_on_close = True
    #: The listen backlog. socketserver's 5 drops the SYNs of clients connecting at once, and
    #: a dropped SYN is retried after 1 s, then 3 s: past the API's 3.05 s connect timeout.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], owner: MockIdPServer) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.owner = owner
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def hang_up_on_everyone(self) -> None:
        """End every open connection, so a client that sent nothing yet (or half a request)
        does not hold ``server_close()`` for the handler's read timeout."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)

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
        try:
            url = urlsplit(self.path)
        except ValueError:  # an absolute-form target whose host does not parse: "http://[/x"
            self._refuse(_path_of(self.path), "The request target is malformed.")
            return
        try:
            body = self._read_body()
        except ValueError:  # RFC 9112 sections 6.3 and 7.1: a length or chunk size not a number
            self._refuse(url.path, "The request body is malformed.")
            return
        if body is None:
            self._refuse(url.path, too_large())
            return
        request = Request(
            method=self.command,
            path=url.path or "/",
            headers=dict(self.headers.items()),
            body=body,
            query=url.query,
        )
        response = owner.idp.handle(request)
        if response.delay > 0 and owner.stopping.wait(response.delay):
            return  # shutting down: drop the connection
        self._send(response)

    def _refuse(self, path: str, answer: str | Response, method: str | None = None) -> None:
        """Answer without reading the request further, and close: a 400 ``invalid_request``
        saying ``answer``, or ``answer`` itself. The hit is recorded; no route runs."""
        if isinstance(answer, str):
            answer = error_response(400, "invalid_request", answer)
        self.close_connection = True
        self._send(unread(self.server.owner.idp, method or self.command, path, answer))

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """``http.server``'s own refusals of what it cannot parse (RFC 9112 sections 3 and 5:
        a request line that is too long or not three words, an unknown HTTP version, a header
        field over its 64 KiB): answered in JSON and recorded like the IdP's own, with the
        method and the target's path as far as they were read ("" and "/" when not). A
        request line of one or two words is answered as HTTP/0.9: the body alone."""
        words = getattr(self, "requestline", "").split()
        method, target = [*words, "", ""][:2]
        if len(words) >= 3:  # a version it refused still gets a status line (RFC 9110 15.6.6)
            self.request_version = self.protocol_version
        answer = error_response(int(code), "invalid_request", message or HTTPStatus(code).phrase)
        self._refuse(_path_of(target), answer, method)

    def _read_body(self) -> bytes | None:
        """The body (RFC 9112 section 6): by Content-Length, or chunked; None when it is over
        ``MAX_REQUEST_BODY``. A long body is read to its end (up to ``DRAIN_LIMIT``) first, so
        the client can read the 413 instead of a reset connection."""
        codings = self.headers.get_all("Transfer-Encoding")
        if codings is not None:
            listed = [c.strip().lower() for c in ",".join(codings).split(",")]
            if [coding for coding in listed if coding] != ["chunked"]:  # RFC 9110 5.6.1.2
                raise ValueError("a transfer coding other than chunked alone")
            return self._read_chunked()
        length = _content_length(self.headers.get_all("Content-Length") or [])
        if length <= MAX_REQUEST_BODY:
            return self.rfile.read(length) if length else b""
        left = min(length, DRAIN_LIMIT)
        while left > 0 and (data := self.rfile.read(min(left, 65536))):
            left -= len(data)
        return None

    def _read_chunked(self) -> bytes | None:
        body = bytearray()
        while size := _chunk_size(self.rfile.readline(1024)):
            if len(body) + size > MAX_REQUEST_BODY:
                return None
            body += self.rfile.read(size)
            self.rfile.readline(1024)  # the CRLF after the chunk
        trailer_left = DRAIN_LIMIT  # trailer fields, up to the empty line: read, never endless
        while (line := self.rfile.readline(1024)).strip():
            trailer_left -= len(line)
            if trailer_left < 0:
                raise ValueError("trailer fields without end")
        return bytes(body)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.content_length is not None:
            self.send_header("Content-Length", response.content_length)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def __getattr__(self, name: str) -> Any:
        """``do_<METHOD>`` for every method: the IdP answers each (405 on its routes)."""
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: hits are recorded on the IdP instead."""


def _chunk_size(line: bytes) -> int:
    """A chunk's size (RFC 9112 section 7.1): hexadecimal digits alone, before any extension;
    ``ValueError`` for anything ``int(..., 16)`` would take besides (``0x5``, ``+5``, ``1_0``)."""
    digits = line.split(b";")[0].strip()
    if not digits or digits.strip(b"0123456789abcdefABCDEF"):
        raise ValueError("a chunk size that is not hexadecimal digits")
    return int(digits, 16)


def _content_length(values: list[str]) -> int:
    """A body's length (RFC 9112 section 6.3 step 5): one decimal number, said once or the same
    in every field; 0 without any. ``ValueError`` for anything else (``+5``, ``1_0``, two
    different lengths), which ``int()`` alone would have taken or chosen from."""
    lengths = {length.strip() for value in values for length in value.split(",")}
    if not lengths:
        return 0
    (length,) = lengths  # ValueError when they differ
    if not (length.isascii() and length.isdigit()):
        raise ValueError("a Content-Length that is not a decimal number")
    return int(length)


def _path_of(target: str) -> str:
    """The path of a request target (RFC 9112 section 3.2), or all before its query when it is
    an absolute URL whose host does not parse. Leading slashes collapse into one first, as
    ``http.server`` does: ``//x`` is a path, not a host."""
    if target.startswith("//"):
        target = "/" + target.lstrip("/")
    try:
        return urlsplit(target).path
    except ValueError:
        return target.partition("?")[0]


def is_loopback(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or a loopback address (RFC 6890 section 2.2).

    The IdP mints valid tokens for whoever asks, so it never listens anywhere else.
    """
    if host.lower() == "localhost":  # apiexample.conf.is_loopback_host says the same
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
        if not is_loopback(host):
            raise ValueError(f"serves on loopback only (127.0.0.0/8, ::1, localhost), not {host!r}")
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
        if not is_loopback(str(self._server.server_address[0])):  # "localhost" resolved elsewhere
            self._server.server_close()
            self._server = None
            raise ValueError(f"{self.host!r} is not a loopback address here")
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
        server.hang_up_on_everyone()
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
