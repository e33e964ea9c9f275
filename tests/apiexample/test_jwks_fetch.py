"""Fetching the JWKS defensively: timeouts, size cap, same-origin redirects only."""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
import urllib3

from apiexample import jwks_fetch
from apiexample.fetch_deadline import deadline_session
from apiexample.jwks_fetch import JWKSFetchError, fetch_jwks
from tests.apiexample.helpers import resolving_to_many, unanswered_port
from tests.recording_server import recording_server

URL = "https://tenant.example.test/.well-known/jwks.json"
KEYS: dict[str, Any] = {"keys": []}


@pytest.fixture
def network() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def refusal(url: str = URL, timeout: float = 8.0) -> str:
    with pytest.raises(JWKSFetchError) as caught:
        fetch_jwks(url, timeout)
    return caught.value.reason


def test_returns_the_key_set(network: Any) -> None:
    network.get(URL, json=KEYS)
    assert fetch_jwks(URL) == KEYS


def test_sends_connect_and_read_timeouts(network: Any) -> None:
    network.get(URL, json=KEYS)
    fetch_jwks(URL)
    kwargs = network.calls[0].request.req_kwargs
    connect, read = kwargs["timeout"]
    assert 0 < connect <= jwks_fetch.CONNECT_TIMEOUT
    assert 0 < read <= jwks_fetch.READ_TIMEOUT


def test_with_time_to_spare_the_timeouts_are_3_05_s_to_connect_and_5_s_per_receive(
    network: Any,
) -> None:
    """Just over 3 s to connect (a multiple of TCP's 3 s retransmission, as ``requests``
    advises), 5 s of silence per receive: a slow IdP is not waited for up to the whole 60."""
    network.get(URL, json=KEYS)
    fetch_jwks(URL, 60.0)
    assert network.calls[0].request.req_kwargs["timeout"] == (3.05, 5.0)


def test_timeouts_never_outlast_the_whole_fetch_deadline(network: Any) -> None:
    network.get(URL, json=KEYS)
    fetch_jwks(URL, 0.5)
    connect, read = network.calls[0].request.req_kwargs["timeout"]
    assert 0 < connect <= 0.5
    assert 0 < read <= 0.5


def test_the_connection_is_shut_down_a_grace_after_the_fetch_s_own_deadline(
    network: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's 0.1 s: a fetch ending on time ends on its own, with its own reason."""
    network.get(URL, json=KEYS)
    asked: list[float] = []
    original = deadline_session

    def spy(seconds: float, session_class: type[requests.Session]) -> Any:
        asked.append(seconds)
        return original(seconds, session_class)

    monkeypatch.setattr(jwks_fetch, "deadline_session", spy)
    fetch_jwks(URL, 2.0)
    assert jwks_fetch.HARD_DEADLINE_GRACE == 0.1
    assert asked == [2.0 + 0.1]


def test_the_longest_overrun_is_more_than_the_grace_alone() -> None:
    """A waiter for the fetch (``signing_keys``) must allow for the shutdown taking effect after
    the grace, not the grace alone."""
    assert jwks_fetch.HARD_DEADLINE_GRACE < jwks_fetch.LONGEST_OVERRUN


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"status": 500}, "jwks_http_500"),
        ({"status": 429}, "jwks_http_429"),
        ({"status": 520}, "jwks_http_520"),  # a CDN's own code, outside the registry
        ({"body": "<html>down</html>", "content_type": "text/html"}, "jwks_not_json"),
        ({"body": b"\xff\xfe garbage"}, "jwks_not_json"),
        ({"json": ["not", "an", "object"]}, "jwks_not_a_key_set"),
        ({"json": {"keys": "nope"}}, "jwks_not_a_key_set"),
        ({"body": "[" * 100_000}, "jwks_not_json"),
    ],
)
def test_bad_answers(network: Any, kwargs: dict[str, Any], reason: str) -> None:
    network.get(URL, **kwargs)
    assert refusal() == reason


def test_asks_for_the_body_uncompressed(network: Any) -> None:
    network.get(URL, json=KEYS, headers={"Content-Encoding": "Identity"})
    assert fetch_jwks(URL) == KEYS
    assert network.calls[0].request.headers["Accept-Encoding"] == "identity"
    assert network.calls[0].request.headers["Accept"] == "application/json"


@pytest.mark.parametrize("encoding", ["identity ", " identity", "\tIDENTITY "])
def test_identity_with_whitespace_around_it_is_still_identity(network: Any, encoding: str) -> None:
    """A field value's surrounding whitespace is no part of it (RFC 9110 section 5.5)."""
    network.get(URL, json=KEYS, headers={"Content-Encoding": encoding})
    assert fetch_jwks(URL) == KEYS


@pytest.mark.parametrize("encoding", ["gzip", "gzip, gzip", "deflate", "br", "x-unknown"])
def test_a_compressed_body_is_refused_undecoded(network: Any, encoding: str) -> None:
    """No decoder ever runs: a 1 KiB gzip body could hold 1 MiB of key set, or a bomb."""
    bomb = gzip.compress(b'{"keys": [' + b" " * (64 * jwks_fetch.MAX_BYTES) + b"]}")
    network.get(URL, body=bomb, headers={"Content-Encoding": encoding})
    assert refusal() == "jwks_content_encoded"


def test_declared_oversized_body_is_refused_unread(network: Any) -> None:
    network.get(URL, body="{}", headers={"Content-Length": str(20 * 1024 * 1024)})
    assert refusal() == "jwks_too_large"


def test_streamed_oversized_body_is_cut(network: Any) -> None:
    network.get(URL, body=b" " * (jwks_fetch.MAX_BYTES + 1))
    assert refusal() == "jwks_too_large"


@pytest.mark.parametrize("declared", [False, True], ids=["streamed", "declared"])
def test_the_cap_is_the_documented_256_kib_exactly(network: Any, declared: bool) -> None:
    assert jwks_fetch.MAX_BYTES == 256 * 1024  # the README's figure
    body = b'{"keys": []}'
    headers = {"Content-Length": str(jwks_fetch.MAX_BYTES)} if declared else {}
    network.get(URL, body=body + b" " * (jwks_fetch.MAX_BYTES - len(body)), headers=headers)
    assert fetch_jwks(URL) == KEYS


@pytest.mark.parametrize("declared", ["\u00b2", "1e9", "-1", " "])
def test_a_content_length_that_is_no_ascii_number_is_read_as_undeclared(
    network: Any, declared: str
) -> None:
    """Only ASCII digits declare a length (RFC 9110 section 8.6): ``"\u00b2".isdigit()`` holds but
    ``int()`` refuses it, which once made a crash of this fetch instead of a read."""
    network.get(URL, json=KEYS, headers={"Content-Length": declared})
    assert fetch_jwks(URL) == KEYS


def test_a_declared_length_one_over_the_cap_is_refused_unread(network: Any) -> None:
    network.get(URL, body="{}", headers={"Content-Length": str(jwks_fetch.MAX_BYTES + 1)})
    assert refusal() == "jwks_too_large"


def test_a_declared_length_of_5000_digits_is_too_large_not_a_crash(network: Any) -> None:
    """``int()`` refuses more than 4,300 digits: that ValueError left the fetch, and the key
    cache reported ``jwks_malformed`` instead."""
    network.get(URL, body="{}", headers={"Content-Length": "9" * 5000})
    assert refusal() == "jwks_too_large"


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (requests.ConnectTimeout(), "jwks_timeout"),
        (requests.ReadTimeout(), "jwks_timeout"),
        (requests.ConnectionError(), "jwks_unreachable"),
        (requests.exceptions.InvalidHeader(), "jwks_unreachable"),  # no ConnectionError
        (requests.exceptions.ChunkedEncodingError(), "jwks_unreachable"),
    ],
)
def test_network_failures(network: Any, error: Exception, reason: str) -> None:
    network.get(URL, body=error)
    assert refusal() == reason


def test_same_origin_redirect_is_followed(network: Any) -> None:
    network.get(URL, status=302, headers={"Location": "/keys"})
    network.get("https://tenant.example.test/keys", json=KEYS)
    assert fetch_jwks(URL) == KEYS


@pytest.mark.parametrize(
    "location",
    [
        "https://evil.example/jwks.json",
        "http://tenant.example.test/jwks.json",
        "https://tenant.example.test:8443/jwks.json",
        # urlsplit reads tenant.example.test; requests connects to evil.example
        "https://evil.example\\@tenant.example.test/jwks.json",
        "https://evil.example\\\\@tenant.example.test/jwks.json",
    ],
)
def test_redirect_to_another_origin_is_refused(network: Any, location: str) -> None:
    network.get(URL, status=301, headers={"Location": location})
    assert refusal() == "jwks_redirect_off_origin"


def test_redirect_loops_end(network: Any) -> None:
    network.get(URL, status=302, headers={"Location": URL})
    assert refusal() == "jwks_too_many_redirects"


@pytest.mark.parametrize("hops", [3, 4])
def test_redirects_are_followed_up_to_the_limit(network: Any, hops: int) -> None:
    """Three redirects are followed, a fourth is refused."""
    assert jwks_fetch.MAX_REDIRECTS == 3
    network.get(URL, status=302, headers={"Location": "/r1"})
    for n in range(1, hops):
        network.get(
            f"https://tenant.example.test/r{n}", status=302, headers={"Location": f"/r{n + 1}"}
        )
    network.get(f"https://tenant.example.test/r{hops}", json=KEYS)
    if hops <= 3:
        assert fetch_jwks(URL) == KEYS
    else:
        assert refusal() == "jwks_too_many_redirects"


def test_a_relative_redirect_resolves_against_the_url_that_sent_it(network: Any) -> None:
    """RFC 9110 section 10.2.2: a reference relative to the target URI of that request."""
    network.get(URL, status=302, headers={"Location": "/v2/keys"})
    network.get("https://tenant.example.test/v2/keys", status=302, headers={"Location": "jwks"})
    network.get("https://tenant.example.test/v2/jwks", json=KEYS)
    assert fetch_jwks(URL) == KEYS


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("https://localhost/jwks.json", "http://localhost/jwks.json"),
        ("https://127.0.0.1:8443/jwks.json", "http://127.0.0.1:8443/jwks.json"),
        ("http://127.0.0.1:8443/jwks.json", "https://127.0.0.1:8443/jwks.json"),
    ],
)
def test_a_redirect_changing_only_the_scheme_is_off_origin(
    network: Any, url: str, location: str
) -> None:
    """On loopback, where both schemes pass the URL rules, the scheme still counts: an https
    key set is never taken from plain http (RFC 6454 section 4: scheme, host and port)."""
    network.get(url, status=302, headers={"Location": location})
    network.get(location, json=KEYS)
    assert refusal(url) == "jwks_redirect_off_origin"


def test_only_200_is_a_key_set(network: Any) -> None:
    network.get(URL, json=KEYS, status=203)
    assert refusal() == "jwks_http_203"


def test_spent_deadline_fails_without_a_request(network: Any) -> None:
    assert refusal(timeout=0) == "jwks_timeout"
    assert len(network.calls) == 0


def test_a_deadline_reached_exactly_is_spent_before_the_request(
    network: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No time left is no time: a timeout of 0 would mean no timeout to ``requests``."""
    network.get(URL, json=KEYS)
    monkeypatch.setattr("apiexample.jwks_fetch.time.monotonic", lambda: 100.0)
    assert refusal(timeout=0) == "jwks_timeout"
    assert len(network.calls) == 0


def test_slow_drip_hits_the_deadline(network: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    network.get(URL, body=b'{"keys": []}' + b" " * 40_000)
    ticks = iter(range(0, 1000, 5))
    monkeypatch.setattr("apiexample.jwks_fetch.time.monotonic", lambda: float(next(ticks)))
    assert refusal(timeout=8) == "jwks_timeout"


@pytest.mark.parametrize(
    "error",
    [urllib3.exceptions.ProtocolError("connection reset"), ConnectionResetError(104, "reset")],
    ids=["urllib3", "socket"],
)
def test_a_body_failing_mid_read_is_unreachable(
    network: Any, monkeypatch: Any, error: Exception
) -> None:
    network.get(URL, json=KEYS)

    def broken(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(urllib3.response.HTTPResponse, "read1", broken)
    assert refusal() == "jwks_unreachable"


def test_a_receive_that_times_out_ends_the_fetch_at_once(network: Any, monkeypatch: Any) -> None:
    """A silent peer: the receive gives up after its timeout, and the fetch with it."""
    network.get(URL, json=KEYS)
    receives: list[int] = []

    def silent(self: Any, *args: Any, **kwargs: Any) -> Any:
        receives.append(1)
        raise urllib3.exceptions.ReadTimeoutError(None, URL, "Read timed out.")  # type: ignore[arg-type]

    monkeypatch.setattr(urllib3.response.HTTPResponse, "read1", silent)
    assert refusal() == "jwks_timeout"
    assert len(receives) == 1


class _Socket:
    def __init__(self) -> None:
        self.timeouts: list[float] = []

    def settimeout(self, seconds: float) -> None:
        self.timeouts.append(seconds)


class _Body:
    """``response.raw`` of a real connection: its socket, and a body arriving in two parts."""

    def __init__(self) -> None:
        self.connection = type("Connection", (), {"sock": _Socket()})()
        self.parts = [b'{"keys": ', b"[]}", b""]

    def read1(self, amount: int, decode_content: bool) -> bytes:
        return self.parts.pop(0)


@pytest.mark.parametrize(("left", "expected"), [(60.0, jwks_fetch.READ_TIMEOUT), (2.0, 2.0)])
def test_each_receive_waits_at_most_what_is_left_of_the_deadline(
    monkeypatch: Any, left: float, expected: float
) -> None:
    monkeypatch.setattr("apiexample.jwks_fetch.time.monotonic", lambda: 100.0)
    response = requests.Response()
    response.raw = body = _Body()
    assert jwks_fetch._read_capped(response, 100.0 + left) == b'{"keys": []}'
    assert body.connection.sock.timeouts == [expected] * 3


def test_a_deadline_reached_exactly_ends_the_read_without_a_receive(monkeypatch: Any) -> None:
    """With no time left the next receive would get a timeout of 0 (a non-blocking socket):
    the fetch ends as a timeout instead."""
    monkeypatch.setattr("apiexample.jwks_fetch.time.monotonic", lambda: 100.0)
    response = requests.Response()
    response.raw = body = _Body()
    with pytest.raises(JWKSFetchError) as caught:
        jwks_fetch._read_capped(response, 100.0)
    assert caught.value.reason == "jwks_timeout"
    assert body.connection.sock.timeouts == []
    assert len(body.parts) == 3


class _WholeBody(_Body):
    """A body that has all arrived: each receive gets as much of it as it asks for."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.data = data
        self.receives = 0

    def read1(self, amount: int, decode_content: bool) -> bytes:
        self.receives += 1
        chunk, self.data = self.data[:amount], self.data[amount:]
        return chunk


def test_a_key_set_of_a_few_kib_is_read_in_one_receive() -> None:
    """Receives ask for 16 KiB, not a byte at a time (Auth0's key set is about 4 KiB)."""
    document = b'{"keys": []}' + b" " * (16 * 1024 - 12)
    response = requests.Response()
    response.raw = body = _WholeBody(document)
    assert jwks_fetch._read_capped(response, time.monotonic() + 60) == document
    assert body.receives == 2  # the key set, then the end of the body


#: What a peer sends before it trickles, and the byte it then sends every 50 ms, for ever: each
#: receive gets something, so only a deadline on the whole fetch ends it (a header line may be
#: 64 KiB long, a status line too).
TRICKLES = {
    "body": (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
        b" ",
    ),
    "status_line": (b"HTTP/1.1 200 ", b"O"),
    "header": (b"HTTP/1.1 200 OK\r\nX-Pad: ", b"a"),
    # Cut short, the others read as a complete answer; this one as no HTTP at all: the deadline
    # must still be the reason given.
    "not_http": (b"", b"H"),
}


@pytest.fixture(params=sorted(TRICKLES))
def trickling_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """A JWKS endpoint on 127.0.0.1 that never finishes answering: see ``TRICKLES``."""
    prefix, drip = TRICKLES[request.param]
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.settimeout(5)
            connection.recv(4096)
            connection.sendall(prefix)
            while not stop.wait(0.05):
                try:
                    connection.sendall(drip)
                except OSError:
                    return  # the client gave up, as it should

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/.well-known/jwks.json"
    finally:
        stop.set()
        listener.close()
        thread.join(5)


def test_without_a_thread_for_the_deadline_a_fetch_still_works(
    network: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def no_thread(timer: threading.Timer) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Timer, "start", no_thread)
    network.get(URL, json=KEYS)
    assert fetch_jwks(URL) == KEYS
    assert "fetch deadline not armed (can't start new thread)" in caplog.text


def test_a_trickling_answer_cannot_outlast_the_deadline(trickling_server: str) -> None:
    reasons: list[str] = []
    fetch = threading.Thread(target=lambda: reasons.append(refusal(trickling_server, 0.3)))
    fetch.start()
    fetch.join(10)  # not a timing assertion: without a deadline this fetch never returns
    assert not fetch.is_alive(), "the fetch outlived its deadline"
    assert reasons == ["jwks_timeout"]


@pytest.fixture
def redirect_with_an_endless_body() -> Iterator[str]:
    """A JWKS URL on 127.0.0.1 answering 302 to ``/keys`` with a gzip body that never ends
    (10 MB declared, a few bytes sent), then the key set at ``/keys`` on a new connection."""
    held: list[socket.socket] = []
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    bomb = gzip.compress(b"\0" * 100_000)[:64]

    def serve() -> None:
        with contextlib.suppress(OSError):  # the listener closed: the test is over
            first, _ = listener.accept()
            held.append(first)
            first.recv(4096)
            first.sendall(
                b"HTTP/1.1 302 Found\r\nLocation: /keys\r\nContent-Encoding: gzip\r\n"
                b"Content-Length: 10000000\r\n\r\n" + bomb
            )
            second, _ = listener.accept()
            with second:
                second.recv(4096)
                body = json.dumps(KEYS).encode()
                second.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                    + body
                )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/.well-known/jwks.json"
    finally:
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes an accept still waiting
        listener.close()
        for connection in held:
            connection.close()
        thread.join(5)


def test_a_redirect_s_body_is_never_read(redirect_with_an_endless_body: str) -> None:
    """``requests`` reads a 3xx's whole body, decoded and uncapped, even when told not to
    follow it: here that body never ends, so reading it would end the fetch at its deadline
    (a few KiB of nested gzip instead would be gigabytes)."""
    assert fetch_jwks(redirect_with_an_endless_body, timeout=5) == KEYS


def test_an_https_key_set_goes_through_the_environment_s_proxy(
    network: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """https keeps the environment's proxy (a CONNECT tunnel; TLS still checks the host): a
    host whose only way out is a proxy can still fetch its keys."""
    for name in ("NO_PROXY", "no_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.test:3128")
    network.get(URL, json=KEYS)
    assert fetch_jwks(URL) == KEYS
    proxies = network.calls[0].request.req_kwargs["proxies"]
    assert proxies.get("https") == "http://proxy.example.test:3128"


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
def test_a_plain_http_key_set_is_never_fetched_through_a_proxy(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """Plain http is for loopback only: a proxy from the environment would take the fetch off
    the host, and whoever runs it would choose the keys."""
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with recording_server() as proxy, recording_server() as issuer:
        monkeypatch.setenv(variable, proxy.base)
        with contextlib.suppress(JWKSFetchError):  # its empty 200 is no key set: not the point
            fetch_jwks(f"{issuer.base}/.well-known/jwks.json", 5)
    assert proxy.requests == []
    assert [path for path, _headers in issuer.requests] == ["/.well-known/jwks.json"]


def test_an_idp_whose_addresses_all_hang_is_a_timeout_within_the_fetch_s_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """However many addresses the IdP's host has (README: "a fetch still running 0.1 s later
    has its connection shut down"); the join's bound only stops a hang should the test fail."""
    reasons: list[str] = []

    def fetch(port: int) -> None:
        try:
            fetch_jwks(f"http://idp.many.test:{port}/.well-known/jwks.json", timeout=0.5)
        except JWKSFetchError as exc:
            reasons.append(exc.reason)

    with unanswered_port() as port:
        resolving_to_many(monkeypatch, "idp.many.test", 40)  # 40 x 0.5 s without the deadline
        fetching = threading.Thread(target=fetch, args=(port,), daemon=True)
        fetching.start()
        fetching.join(10)
        assert not fetching.is_alive(), "the connects outlived the fetch's timeout"
    assert reasons == ["jwks_timeout"]
