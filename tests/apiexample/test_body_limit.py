"""``BodyLimit``: a body over the limit is refused (413) before Django reads it, under ASGI."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from apiexample.asgi import application, django_application
from apiexample.body_limit import BodyLimit
from devtools.processes import api_environment, serving
from mock_idp.server import MockIdPServer
from tests.apiexample.helpers import asgi_http_scope
from tests.apiexample.test_asgi import uvicorn_command

#: Django's default DATA_UPLOAD_MAX_MEMORY_SIZE, the limit unless one is given.
LIMIT = 2_621_440


class Exchange:
    """One HTTP request through an ASGI application, as a server makes it: the body arrives
    in ``chunks``; what the application sent, and how often it asked for the body."""

    def __init__(self, chunks: Sequence[bytes], headers: Sequence[tuple[bytes, bytes]] = ()):
        self.chunks = list(chunks)
        self.headers = list(headers)
        self.receives = 0
        self.sent: list[dict[str, Any]] = []

    def scope(self) -> dict[str, Any]:
        return asgi_http_scope("/api/public", self.headers)

    async def receive(self) -> dict[str, Any]:
        self.receives += 1
        if self.receives <= len(self.chunks):
            more = self.receives < len(self.chunks)
            return {
                "type": "http.request",
                "body": self.chunks[self.receives - 1],
                "more_body": more,
            }
        await asyncio.sleep(3600)  # the client waits for the answer: a disconnect comes only then
        raise AssertionError("unreachable")

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def run(self, app: Any = application) -> Exchange:
        asyncio.run(app(self.scope(), self.receive, self.send))
        return self

    @property
    def status(self) -> int:
        starts = [m for m in self.sent if m["type"] == "http.response.start"]
        assert len(starts) == 1, self.sent
        return int(starts[0]["status"])

    def header(self, name: bytes) -> bytes | None:
        """A header of the answer, by its name in lowercase (ASGI's header names are)."""
        start = next(m for m in self.sent if m["type"] == "http.response.start")
        return dict(start["headers"]).get(name)

    def raw_body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent[1:])

    def body(self) -> Any:
        return json.loads(self.raw_body())


def assert_too_large(exchange: Exchange) -> None:
    assert exchange.status == 413
    assert exchange.body()["error"] == "request_too_large"
    assert exchange.header(b"cache-control") == b"no-store"
    assert exchange.header(b"content-type") == b"application/json"
    assert exchange.header(b"connection") == b"close"
    assert exchange.header(b"x-content-type-options") == b"nosniff"  # as SecurityMiddleware's
    assert exchange.header(b"content-length") == b"%d" % len(exchange.raw_body())
    assert exchange.header(b"www-authenticate") is None  # not about credentials


def test_a_declared_length_over_the_limit_is_refused_unread(caplog: Any) -> None:
    with caplog.at_level(logging.INFO, logger="apiexample.body_limit"):
        exchange = Exchange([b"x"], [(b"content-length", str(LIMIT + 1).encode())]).run()
    assert_too_large(exchange)
    assert exchange.receives == 0
    assert "status=413 reason=body_too_large (declared)" in caplog.text


def test_a_streamed_body_is_refused_at_the_chunk_that_passes_the_limit() -> None:
    """No ``Content-Length`` (chunked): Django is told the client left, and answers nothing."""
    chunk = b"x" * 2**20
    exchange = Exchange([chunk] * 10).run()
    assert_too_large(exchange)
    assert exchange.receives == 3  # 3 MiB > 2.5 MiB: the other seven are never asked for


def test_a_body_within_the_limit_reaches_django() -> None:
    exchange = Exchange([b"x" * LIMIT], [(b"content-length", str(LIMIT).encode())]).run()
    assert exchange.status == 200
    assert exchange.body()["message"].startswith("Hello from a public endpoint!")


@pytest.mark.parametrize("declared", [b"", b"-1", b"1e9", b"\xb2"])
def test_a_length_that_is_no_number_is_left_to_the_server(declared: bytes) -> None:
    """uvicorn refuses such a request itself; here it counts as undeclared (the stream rules)."""
    exchange = Exchange([b"x"], [(b"content-length", declared)]).run()
    assert exchange.status == 200


@pytest.mark.parametrize(
    ("declared", "status"),
    [(b"9" * 4301, 413), (b"1" + b"0" * 5000, 413), (b"0" * 5000 + b"12", 200)],
)
def test_a_length_longer_than_int_reads_is_no_500(declared: bytes, status: int) -> None:
    """Python's ``int()`` refuses a string of more than 4,300 digits (ValueError): h11 and
    llhttp refuse such a header, an ASGI server that passes it on must not make it a 500."""
    assert Exchange([b"x"], [(b"content-length", declared)]).run().status == status


@pytest.mark.parametrize(
    "header",
    [
        (b"content-length", b" %d " % (LIMIT + 1)),  # blanks around it: still a number
        (b"Content-Length", b"%d" % (LIMIT + 1)),  # from a server that keeps the name's case
    ],
)
def test_a_declared_length_is_read_however_it_is_spelt(header: tuple[bytes, bytes]) -> None:
    exchange = Exchange([b"x"], [header]).run()
    assert_too_large(exchange)
    assert exchange.receives == 0


def test_a_length_of_18_digits_is_read_as_the_number_it_is() -> None:
    """Only a length longer than 18 digits counts as ``sys.maxsize``, whatever the limit."""
    limited = BodyLimit(django_application, limit=10**18)
    assert Exchange([b"x"], [(b"content-length", b"9" * 18)]).run(limited).status == 200
    assert_too_large(Exchange([b"x"], [(b"content-length", b"1" * 19)]).run(limited))


def test_the_limit_follows_data_upload_max_memory_size(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    assert_too_large(Exchange([b"x" * 11]).run())
    assert Exchange([b"x" * 10]).run().status == 200
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None  # Django's "no limit"
    assert Exchange([b"x" * (LIMIT + 1)]).run().status == 200


def test_a_limit_given_wins_over_the_setting(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None
    limited = BodyLimit(django_application, limit=5)
    assert_too_large(Exchange([b"abc", b"def"]).run(limited))
    assert Exchange([b"abcde"]).run(limited).status == 200


def test_a_limit_of_zero_given_refuses_any_body(settings: Any) -> None:
    """``limit=0`` is a limit (no body at all), not "none given": the setting does not apply."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None
    limited = BodyLimit(django_application, limit=0)
    assert_too_large(Exchange([b"x"]).run(limited))
    assert Exchange([b""]).run(limited).status == 200


def test_an_application_that_answered_is_not_answered_for() -> None:
    """A body read after the answer started, past the limit: the answer stands alone."""

    async def answers_then_reads(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        while (await receive())["type"] == "http.request":
            pass
        await send({"type": "http.response.body", "body": b""})

    exchange = Exchange([b"x" * 6, b"y"]).run(BodyLimit(answers_then_reads, limit=5))
    assert exchange.status == 204
    assert len(exchange.sent) == 2


def test_a_client_that_leaves_mid_body_is_not_answered() -> None:
    """A real ``http.disconnect`` under the limit passes through: Django stops, nobody answers."""
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b"x" * 10, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(application(Exchange([]).scope(), receive, send))
    assert sent == []
    assert messages == []


def test_an_application_asking_again_past_the_limit_is_told_again_the_client_left() -> None:
    """The rest of the body is never asked of the server, however often the application asks."""
    told: list[str] = []

    async def asks_twice(scope: Any, receive: Any, send: Any) -> None:
        while (message := await receive())["type"] == "http.request":
            pass
        told.extend([message["type"], (await receive())["type"]])

    exchange = Exchange([b"x" * 6, b"y"]).run(BodyLimit(asks_twice, limit=5))
    assert told == ["http.disconnect", "http.disconnect"]
    assert exchange.receives == 1
    assert_too_large(exchange)


def test_other_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    asyncio.run(BodyLimit(app, limit=0)({"type": "lifespan"}, None, None))  # type: ignore[arg-type]
    assert seen == ["lifespan"]


def chunked_get(base: str, mebibytes: int) -> bytes:
    """What uvicorn at ``base`` answers a chunked ``GET`` of ``mebibytes``, sent whole before
    reading."""
    address = urlsplit(base)
    assert address.port is not None
    with socket.create_connection((address.hostname, address.port), timeout=30) as client:
        client.sendall(
            b"GET /api/public HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"x" * 2**20
        try:
            for _ in range(mebibytes):
                client.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass  # the server answered and closed while the body was still coming
        answer = b""
        # The server closes with the body unread: its kernel resets the connection (RFC 9112
        # section 9.6), and a client that sent it all sees the reset after the answer.
        with contextlib.suppress(ConnectionResetError):
            while block := client.recv(65536):
                answer += block
    return answer


@pytest.mark.live
def test_uvicorn_refuses_a_large_chunked_get(mock_idp_live: MockIdPServer, tmp_path: Path) -> None:
    """The attack as it comes: a chunked ``GET`` whose body would go to a temporary file; 3 MiB
    fits in the sockets' buffers (the client sends it all), 8 MiB here does not."""
    env = api_environment(mock_idp_live.idp.issuer)
    with serving(uvicorn_command, env, log=tmp_path / "uvicorn.log") as server:
        answers = [chunked_get(server.base, size) for size in (3, 8)]
    for answer in answers:
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413 "), head
        assert b"connection: close" in head.lower()
        assert json.loads(body)["error"] == "request_too_large"
