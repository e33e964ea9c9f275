"""The real server: 127.0.0.1, threaded, interruptible delays, clean shutdown."""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import socket
import threading
import time
from http import HTTPStatus
from typing import cast

import pytest
import requests
import responses

from mock_idp import Fault, MockIdP, Request
from mock_idp import server as server_module
from mock_idp.http import JWKS, MAX_REQUEST_BODY, TOKEN
from mock_idp.pytest_plugin import MockIdPKeys
from mock_idp.server import MockIdPServer, _Handler, _Server, is_loopback

pytestmark = pytest.mark.live


def test_serves_the_surface_with_its_own_url_as_issuer(mock_idp_live: MockIdPServer) -> None:
    assert mock_idp_live._server is not None
    assert mock_idp_live._server.server_address[0] == "127.0.0.1"  # bound to loopback only
    url = mock_idp_live.url
    assert url.startswith("http://127.0.0.1:")
    assert url.endswith("/")
    assert mock_idp_live.port > 0
    assert mock_idp_live.idp.issuer == url
    discovery = requests.get(url + ".well-known/openid-configuration", timeout=30).json()
    assert discovery["issuer"] == url
    assert discovery["jwks_uri"] == url + ".well-known/jwks.json"
    jwks = requests.get(discovery["jwks_uri"], timeout=30)
    assert jwks.json() == mock_idp_live.idp.jwks()
    assert jwks.headers["Content-Length"] == str(len(jwks.content))
    token = requests.post(
        discovery["token_endpoint"],
        data={"grant_type": "client_credentials", "client_id": "a"},
        timeout=30,
    )
    assert token.status_code == 200
    assert requests.head(url + ".well-known/jwks.json", timeout=30).content == b""
    assert requests.put(url + ".well-known/jwks.json", timeout=30).status_code == 405
    assert requests.get(url + "nope", timeout=30).status_code == 404
    assert mock_idp_live.idp.hit_count(JWKS, method="GET") == 1


def test_slow_request_does_not_block_others_and_stop_does_not_hang(
    mock_idp_keys: MockIdPKeys,
) -> None:
    server = MockIdPServer(mock_idp_keys.idp()).start()
    idp = server.idp
    idp.inject_fault(JWKS, Fault.slow(3600), times=1)
    outcome: list[str] = []
    arrived = threading.Event()

    def slow_client() -> None:
        try:
            requests.get(idp.jwks_uri, timeout=30)
        except requests.exceptions.ConnectionError:
            outcome.append("dropped")

    client = threading.Thread(target=slow_client)
    client.start()
    while idp.hit_count(JWKS) == 0:  # the slow request has reached the handler
        arrived.wait(0.01)
    assert requests.get(idp.jwks_uri, timeout=30).status_code == 200  # not blocked
    server.stop()
    client.join(timeout=10)
    assert not client.is_alive()
    assert outcome == ["dropped"]
    server.stop()  # idempotent


def test_keep_issuer_and_lifecycle_errors(mock_idp_keys: MockIdPKeys) -> None:
    idp = mock_idp_keys.idp("https://tenant.mock-idp.test/")
    server = MockIdPServer(idp, keep_issuer=True)
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url
    with server:
        assert idp.issuer == "https://tenant.mock-idp.test/"
        with pytest.raises(RuntimeError, match="already running"):
            server.start()
        response = requests.get(server.url + ".well-known/jwks.json", timeout=30)
        assert response.json() == idp.jwks()


def test_client_hanging_up_is_not_an_error(
    mock_idp_live: MockIdPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    mock_idp_live.idp.inject_fault(JWKS, Fault.oversized(), times=1)
    with requests.get(mock_idp_live.idp.jwks_uri, timeout=30, stream=True) as response:
        next(response.iter_content(1024))
    # a complete request after the hang-up still works, and nothing was printed
    assert requests.get(mock_idp_live.idp.jwks_uri, timeout=30).status_code == 200
    assert capsys.readouterr().err == ""


def test_request_body_is_read(mock_idp_live: MockIdPServer) -> None:
    mock_idp_live.idp.register_client("abc", "s")
    ok = requests.post(
        mock_idp_live.idp.token_endpoint,
        json={"grant_type": "client_credentials", "client_id": "abc", "client_secret": "s"},
        timeout=30,
    )
    assert ok.status_code == 200


def test_unregistered_error_status_goes_out_as_set(mock_idp_live: MockIdPServer) -> None:
    mock_idp_live.idp.inject_fault(JWKS, Fault.error(520), times=1)
    answer = requests.get(mock_idp_live.url + JWKS.lstrip("/"), timeout=30)
    assert answer.status_code == 520
    assert answer.json()["error_description"] == "HTTP 520"


def assert_malformed_body(server: MockIdPServer, request: bytes) -> None:
    """``request`` sent as raw bytes gets 400 ``invalid_request`` (RFC 9112 sections 6-7)."""
    with socket.create_connection((server.host, server.port), timeout=30) as connection:
        connection.sendall(request)
        answer = connection.makefile("rb").read()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 400 ")
    assert json.loads(body)["error"] == "invalid_request"
    assert [(h.method, h.path, h.status) for h in server.idp.hits] == [
        ("POST", "/oauth/token", 400)
    ]


@pytest.mark.parametrize("chunk", [b"zz", b"-5", b""])
def test_a_chunk_size_that_is_no_hex_number_gets_400(
    mock_idp_live: MockIdPServer, chunk: bytes
) -> None:
    head = b"POST /oauth/token HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert_malformed_body(mock_idp_live, head + chunk + b"\r\nabcde\r\n0\r\n\r\n")


@pytest.mark.parametrize("length", ["abc", "1.5", "0x10"])
def test_a_content_length_that_is_no_number_gets_400(
    mock_idp_live: MockIdPServer, length: str
) -> None:
    request = f"POST /oauth/token HTTP/1.0\r\nContent-Length: {length}\r\n\r\n".encode()
    assert_malformed_body(mock_idp_live, request)


def test_stop_hangs_up_on_clients_that_sent_nothing(mock_idp_keys: MockIdPKeys) -> None:
    """An idle or half-sent connection would hold ``stop()`` for the read timeout (10 s)."""
    server = MockIdPServer(mock_idp_keys.idp()).start()
    idle = socket.create_connection((server.host, server.port), timeout=30)
    half = socket.create_connection((server.host, server.port), timeout=30)
    half.sendall(b"POST /oauth/token HTTP/1.0\r\nContent-Length: 10\r\n\r\n")
    requests.get(server.idp.jwks_uri, timeout=30)  # both accepted by now: one request after
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    stopper.join(8)
    try:
        assert not stopper.is_alive(), "stop() waited for idle connections"
    finally:
        stopper.join(30)
        idle.close()
        half.close()


def test_default_idp_and_ipv6_url_formatting() -> None:
    server = MockIdPServer(MockIdP(keys=[]), host="::1")
    if not socket.has_ipv6:  # pragma: no cover - depends on the host
        pytest.skip("no IPv6")
    try:
        server.start()
    except OSError:  # pragma: no cover - IPv6 disabled on the host
        pytest.skip("::1 not available")
    try:
        assert server.url.startswith("http://[::1]:")
        assert requests.get(server.url + ".well-known/jwks.json", timeout=30).json() == {"keys": []}
    finally:
        server.stop()
    assert MockIdPServer().idp.issuer  # a fresh IdP when none is given


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),  # noqa: S104 - every interface: refused
        ("::", False),
        ("", False),  # every interface too, to socketserver
        ("10.0.0.1", False),
        ("LOCALHOST", True),
        ("LOCALHOST.", False),
    ],
)
def test_only_loopback_hosts_are_served(host: str, loopback: bool) -> None:
    """The IdP mints valid tokens for whoever asks, so it listens nowhere else."""
    assert is_loopback(host) is loopback
    if not loopback:
        with pytest.raises(ValueError, match="serves on loopback only"):
            MockIdPServer(host=host)


def test_a_name_bound_to_an_address_off_loopback_is_closed_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``localhost`` passes by name; what it bound to is checked too (a hosts file may say
    anything)."""
    from mock_idp import server as server_module

    monkeypatch.setattr(server_module, "is_loopback", lambda host: host == "localhost")
    server = MockIdPServer(MockIdP(keys=[]), host="localhost")
    with pytest.raises(ValueError, match="not a loopback address here"):
        server.start()
    assert server._server is None  # closed: server.url raises "not running"


@pytest.mark.parametrize(("method", "status"), [("TRACE", 405), ("PROPFIND", 405), ("get", 405)])
def test_any_method_is_answered_by_the_idp_and_recorded(
    mock_idp_live: MockIdPServer, method: str, status: int
) -> None:
    """Sent as written (``requests`` would upper-case ``get``): methods are case-sensitive."""
    connection = http.client.HTTPConnection(mock_idp_live.host, mock_idp_live.port, timeout=30)
    try:
        connection.request(method, JWKS)
        answer = connection.getresponse()
        assert answer.status == status
        assert answer.getheader("Allow") == "GET"
    finally:
        connection.close()
    assert mock_idp_live.idp.hit_count(JWKS, method) == 1


# -- pinned by a mutation run of mock_idp ---------------------------------------------------


def raw(server: MockIdPServer, request: bytes, timeout: float = 5) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=timeout) as connection:
        connection.sendall(request)
        return connection.makefile("rb").read()


def test_a_negative_content_length_reads_nothing(mock_idp_live: MockIdPServer) -> None:
    answer = raw(mock_idp_live, b"POST /oauth/token HTTP/1.0\r\nContent-Length: -1\r\n\r\n", 3)
    assert answer.startswith(b"HTTP/1.0 400 ")


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: +5",
        b"Content-Length: 1_0",
        b"Content-Length: \xd9\xa5",  # an Arabic-Indic five, a digit to str.isdigit
        b"Content-Length: 3\r\nContent-Length: 50",
        b"Content-Length: 3, 50",
        b"Transfer-Encoding: xchunked",
        b"Transfer-Encoding: gzip, chunked",
    ],
)
def test_a_body_framed_otherwise_than_rfc_9112_says_is_a_400(
    mock_idp_live: MockIdPServer, framing: bytes
) -> None:
    """Lengths ``int()`` reads though HTTP does not, two lengths, a coding that merely contains
    ``chunked`` (found by review: each had been read as some length, or as chunked)."""
    request = b"POST /oauth/token HTTP/1.0\r\n" + framing + b"\r\n\r\n" + b"x" * 50
    answer = raw(mock_idp_live, request, 3)
    assert answer.startswith(b"HTTP/1.0 400 "), answer[:80]
    assert b"The request body is malformed." in answer


@pytest.mark.parametrize("size", [b"0x5", b"+5", b"5_0", b" ", b"-1"])
def test_a_chunk_size_that_is_not_hexadecimal_digits_is_a_400(
    mock_idp_live: MockIdPServer, size: bytes
) -> None:
    """RFC 9112 section 7.1: ``int(..., 16)`` takes these; HTTP does not (found by review)."""
    request = b"POST /oauth/token HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n" + size
    answer = raw(mock_idp_live, request + b"\r\nabcde\r\n0\r\n\r\n", 3)
    assert answer.startswith(b"HTTP/1.0 400 "), answer[:80]
    assert b"The request body is malformed." in answer


@pytest.mark.parametrize("codings", [b"chunked, ", b", chunked", b"Chunked"])
def test_empty_elements_of_the_coding_list_are_ignored(
    mock_idp_live: MockIdPServer, codings: bytes
) -> None:
    """RFC 9110 section 5.6.1.2: a list's empty elements are no codings (found by review: the
    stricter framing had refused them)."""
    body = b"grant_type=client_credentials&client_id=nobody"
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    head = b"POST /oauth/token HTTP/1.0\r\nTransfer-Encoding: " + codings + b"\r\n\r\n"
    answer = raw(mock_idp_live, head + chunked)
    assert answer.startswith(b"HTTP/1.0 200 "), answer[:80]


def test_the_same_length_said_twice_is_one_length(mock_idp_live: MockIdPServer) -> None:
    body = b"grant_type=client_credentials&client_id=nobody"
    framing = b"Content-Length: %d\r\nContent-Length: %d, %d" % ((len(body),) * 3)
    answer = raw(mock_idp_live, b"POST /oauth/token HTTP/1.0\r\n" + framing + b"\r\n\r\n" + body)
    assert answer.startswith(b"HTTP/1.0 200 "), answer[:80]  # no client registered: any goes
    assert b'"access_token"' in answer


def _exact_body(size: int) -> bytes:
    head = b"grant_type=client_credentials&client_id=a&pad="
    return head + b"A" * (size - len(head))


def test_a_body_of_exactly_1_mib_is_taken(
    mock_idp: MockIdP, mock_idp_network: responses.RequestsMock, mock_idp_live: MockIdPServer
) -> None:
    mock_idp_network.add_passthru(mock_idp_live.url)
    for idp in (mock_idp, mock_idp_live.idp):
        answer = requests.post(
            idp.token_endpoint,
            data=_exact_body(MAX_REQUEST_BODY),
            timeout=30,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 200


def test_a_chunked_body_of_exactly_1_mib_is_taken(mock_idp_live: MockIdPServer) -> None:
    """The same limit as a ``Content-Length`` body, in two chunks (found by mutation testing:
    the chunked read's bound could be off by one byte)."""
    body = _exact_body(MAX_REQUEST_BODY)
    half = len(body) // 2
    request = (
        b"POST /oauth/token HTTP/1.0\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
        + b"%x\r\n%s\r\n" % (half, body[:half])
        + b"%x\r\n%s\r\n" % (len(body) - half, body[half:])
        + b"0\r\n\r\n"
    )
    assert raw(mock_idp_live, request, 30).startswith(b"HTTP/1.0 200 ")
    assert [(h.path, h.status) for h in mock_idp_live.idp.hits] == [(TOKEN, 200)]


def test_trailer_fields_are_read(mock_idp_live: MockIdPServer) -> None:
    mock_idp_live.idp.inject_fault(TOKEN, Fault.oversized(8 * 1024 * 1024), times=1)
    body = b"grant_type=client_credentials&client_id=a"
    trailer = b"".join(b"X-Pad-%d: %s\r\n" % (n, b"A" * 500) for n in range(400))
    request = (
        b"POST /oauth/token HTTP/1.0\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
        + b"%x\r\n" % len(body)
        + body
        + b"\r\n0\r\n"
        + trailer
        + b"\r\n"
    )
    answer = raw(mock_idp_live, request, 30)
    assert len(answer.partition(b"\r\n\r\n")[2]) == 8 * 1024 * 1024


def test_head_gets_no_body(mock_idp_live: MockIdPServer) -> None:
    answer = raw(mock_idp_live, b"HEAD /.well-known/jwks.json HTTP/1.0\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 405 ")
    assert body == b""


def test_stop_joins_the_handler_threads(mock_idp_keys: MockIdPKeys) -> None:
    server = MockIdPServer(mock_idp_keys.idp()).start()
    entered, finished = threading.Event(), threading.Event()
    handle = server.idp.handle

    def slow_handle(request: Request):  # type: ignore[no-untyped-def]
        entered.set()
        time.sleep(0.5)
        try:
            return handle(request)
        finally:
            finished.set()

    server.idp.handle = slow_handle  # type: ignore[method-assign]

    def get() -> None:
        with contextlib.suppress(requests.exceptions.ConnectionError):  # stop() hangs up on it
            requests.get(server.idp.jwks_uri, timeout=30)

    client = threading.Thread(target=get)
    client.start()
    assert entered.wait(10)
    server.stop()
    assert finished.is_set()
    client.join(30)


def test_a_chunk_size_of_minus_one_gets_400(mock_idp_live: MockIdPServer) -> None:
    request = (
        b"POST /oauth/token HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nabcde\r\n0\r\n\r\n"
    )
    assert raw(mock_idp_live, request, 5).startswith(b"HTTP/1.0 400 ")


def test_transfer_encoding_is_case_insensitive(mock_idp_live: MockIdPServer) -> None:
    body = b"grant_type=client_credentials&client_id=a"
    request = (
        b"POST /oauth/token HTTP/1.0\r\nTransfer-Encoding: Chunked\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
        + b"%x\r\n" % len(body)
        + body
        + b"\r\n0\r\n\r\n"
    )
    assert raw(mock_idp_live, request).startswith(b"HTTP/1.0 200 ")


def test_an_over_long_body_is_drained_so_the_413_arrives(
    mock_idp_live: MockIdPServer,
) -> None:
    body = b"A" * (8 * 1024 * 1024)
    head = b"POST /oauth/token HTTP/1.0\r\nContent-Length: %d\r\n\r\n" % len(body)
    assert raw(mock_idp_live, head + body, 30).startswith(b"HTTP/1.0 413 ")


@pytest.mark.parametrize("target", [b"http://[/x", b"http://a]/x?q=1"])
def test_a_target_whose_host_does_not_parse_gets_400(
    mock_idp_live: MockIdPServer, target: bytes
) -> None:
    address = (mock_idp_live.host, mock_idp_live.port)
    with socket.create_connection(address, timeout=30) as connection:
        connection.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = connection.makefile("rb").read()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 400 ")
    assert json.loads(body)["error"] == "invalid_request"
    path = "/" + target.decode().partition("?")[0]  # recorded as every path is, from a "/"
    assert [(h.method, h.path, h.status) for h in mock_idp_live.idp.hits] == [("GET", path, 400)]


@pytest.mark.parametrize(
    ("request_bytes", "status", "method", "path"),
    [
        (b"GET /.well-known/jwks.json HTTP/1.0\r\nX-Pad: " + b"a" * 70_000 + b"\r\n\r\n",
         431, "GET", JWKS),
        (b"GET /.well-known/jwks.json?x=1 HTTP/9.9\r\n\r\n", 505, "GET", JWKS),
        (b"GET //.well-known/jwks.json HTTP/9.9\r\n\r\n", 505, "GET", JWKS),
        (b"GET ///.well-known/jwks.json HTTP/9.9\r\n\r\n", 505, "GET", JWKS),
        (b"GET /a b HTTP/1.0\r\n\r\n", 400, "GET", "/a"),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.0\r\n\r\n", 414, "", "/"),
    ],
)  # fmt: skip
def test_what_http_server_cannot_parse_is_answered_in_json_and_recorded(
    mock_idp_live: MockIdPServer, request_bytes: bytes, status: int, method: str, path: str
) -> None:
    """Before, ``http.server`` answered these itself, in HTML, and no hit was recorded."""
    head, _, body = raw(mock_idp_live, request_bytes).partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.0 {status} ".encode())
    assert b"Content-Type: application/json" in head
    assert json.loads(body)["error"] == "invalid_request"
    hits = [(h.method, h.path, h.status) for h in mock_idp_live.idp.hits]
    assert hits == [(method, path, status)]
    assert type(mock_idp_live.idp.hits[0].status) is int  # as every other hit's


@pytest.mark.parametrize(
    ("request_bytes", "description"),
    [
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.0\r\n\r\n", HTTPStatus(414).phrase),  # no message
        (b"GET / HTTP/1.0\r\nX-Pad: " + b"a" * 70_000 + b"\r\n\r\n", "Line too long"),
    ],
)
def test_what_http_server_cannot_parse_is_described_by_its_message_or_else_the_status(
    mock_idp_live: MockIdPServer, request_bytes: bytes, description: str
) -> None:
    body = raw(mock_idp_live, request_bytes).partition(b"\r\n\r\n")[2]
    assert json.loads(body)["error_description"] == description


@pytest.mark.parametrize(
    ("request_line", "method", "path"),
    [(b"POST /oauth/token", "POST", "/oauth/token"), (b"GET", "GET", "/")],
)
def test_a_request_line_of_fewer_words_http_server_refuses_is_recorded_too(
    mock_idp_live: MockIdPServer, request_line: bytes, method: str, path: str
) -> None:
    """Read as HTTP/0.9 (which has only GET), answered as HTTP/0.9: the body alone."""
    answer = raw(mock_idp_live, request_line + b"\r\n")
    assert json.loads(answer)["error"] == "invalid_request"
    assert [(h.method, h.path, h.status) for h in mock_idp_live.idp.hits] == [(method, path, 400)]


def test_clients_connecting_at_once_all_get_in(mock_idp_keys: MockIdPKeys) -> None:
    """The kernel queues 100 connections nobody has accepted yet; socketserver's default
    backlog (5) would drop the rest of the SYNs, retried only after a second."""
    server = _Server(("127.0.0.1", 0), MockIdPServer(mock_idp_keys.idp()))  # never accepts
    address = cast("tuple[str, int]", server.server_address[:2])  # an AF_INET server's
    clients: list[socket.socket] = []
    try:
        for _ in range(100):
            clients.append(socket.create_connection(address, timeout=2))
    finally:
        for client in clients:
            client.close()
        server.server_close()
    assert len(clients) == 100


def test_chunks_over_1_mib_together_get_413(mock_idp_live: MockIdPServer) -> None:
    """The limit is on the body, not on each chunk: 1 MiB, then one byte more is announced."""
    request = (
        b"POST /oauth/token HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n" % MAX_REQUEST_BODY
        + b"A" * MAX_REQUEST_BODY
        + b"\r\n1\r\n"
    )
    with socket.create_connection((mock_idp_live.host, mock_idp_live.port), timeout=30) as client:
        client.sendall(request)
        client.shutdown(socket.SHUT_WR)  # the byte never comes: the 413 must not wait for it
        answer = client.makefile("rb").read()
    assert answer.startswith(b"HTTP/1.0 413 ")
    assert [(h.path, h.status) for h in mock_idp_live.idp.hits] == [(TOKEN, 413)]


def test_a_chunked_body_is_read_to_the_end_of_its_trailer_fields() -> None:
    """Trailer fields left unread would reset the connection (RST) under the answer."""
    handler = _Handler.__new__(_Handler)  # only its rfile is read
    handler.rfile = io.BytesIO(b"5\r\nabcde\r\n0\r\nX-A: 1\r\nX-B: 2\r\n\r\nNEXT")
    assert handler._read_chunked() == b"abcde"
    assert handler.rfile.read() == b"NEXT"


def test_trailer_fields_without_end_are_malformed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A client sending trailer lines without end would hold a handler thread for good."""
    monkeypatch.setattr(server_module, "DRAIN_LIMIT", 100)
    handler = _Handler.__new__(_Handler)
    handler.rfile = io.BytesIO(b"5\r\nabcde\r\n0\r\n" + b"X-Pad: 12345678\r\n" * 7 + b"\r\n")
    with pytest.raises(ValueError, match="without end"):
        handler._read_chunked()
