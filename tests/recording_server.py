"""An HTTP/1.1 server on 127.0.0.1 that records what load generators send it.

Every request gets 200 with an empty body, except ``Authorization: Bearer bad`` (401), a path
ending in ``/missing`` (404) and one ending in ``/close`` (200, then the connection is closed).
Connections are kept alive otherwise, so a client's connection reuse can be counted. A
``pace`` delays each answer, so a load generator at full speed costs the suite little CPU.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Recording:
    """What the server saw: the base URL, each request's path and headers, the connections."""

    base: str = ""
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])

    def authorizations(self) -> list[str]:
        """Each request's ``Authorization`` value (empty when it had none), in arrival order."""
        with self.lock:
            return [headers.get("Authorization", "") for _, headers in self.requests]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5  # an idle kept-alive connection ends, so a failing test cannot hang the server
    recording: Recording
    pace: float

    def setup(self) -> None:
        super().setup()
        with self.recording.lock:
            self.recording.connections += 1

    def do_GET(self) -> None:
        with self.recording.lock:
            self.recording.requests.append((self.path, dict(self.headers.items())))
        if self.pace:
            time.sleep(self.pace)
        if self.headers.get("Authorization") == "Bearer bad":
            self.send_response(401)
        else:
            self.send_response(404 if self.path.endswith("/missing") else 200)
        self.send_header("Content-Length", "0")
        if self.path.endswith("/close"):
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that reset its connection (a load generator stopping mid-request) is no
        error worth a traceback in the suite's output; anything else is printed."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


@contextmanager
def recording_server(pace: float = 0.0) -> Iterator[Recording]:
    """Serve until the block ends, each answer ``pace`` seconds after its request; the server's
    threads are joined before it returns."""
    recording = Recording()
    handler = type("Handler", (_Handler,), {"recording": recording, "pace": pace})
    server = _Server(("127.0.0.1", 0), handler)
    server.daemon_threads = False  # server_close() joins the handler threads
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    recording.base = f"http://127.0.0.1:{server.server_port}"
    try:
        yield recording
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
