"""The hard deadline of one fetch: sockets shut down when it passes, whatever they wait for.

Receives here block without any timeout of their own, so only the deadline can end them; each
is joined with a bound that only stops a hang should the test fail.
"""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator
from typing import cast

import pytest
import requests
import urllib3
from requests.adapters import HTTPAdapter

from apiexample import fetch_deadline
from apiexample.fetch_deadline import Deadline, deadline_session
from tests.apiexample.helpers import resolving_to_many, unanswered_port


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, peer = socket.socketpair()
    with ours, peer:
        yield ours, peer


def assert_receive_ends(sock: socket.socket) -> None:
    """A receive on ``sock``, which blocks until something shuts the connection down."""
    received: list[bytes] = []
    receiver = threading.Thread(target=lambda: received.append(sock.recv(1)), daemon=True)
    receiver.start()
    receiver.join(10)
    assert not receiver.is_alive(), "the receive outlived the deadline"
    assert received == [b""]


@pytest.mark.parametrize("detached", [False, True], ids=["socket", "detached_as_tls_does"])
def test_a_receive_on_a_watched_socket_ends_at_the_deadline(
    pair: tuple[socket.socket, socket.socket], detached: bool
) -> None:
    ours, _ = pair
    with Deadline(0.2) as deadline:
        deadline.watch(ours)
        if detached:  # ssl.wrap_socket detaches the socket object it wraps: the dup still holds
            with socket.socket(fileno=ours.detach()) as wrapper:
                assert_receive_ends(wrapper)
        else:
            assert_receive_ends(ours)
        assert deadline.expired


def test_a_socket_watched_after_the_deadline_is_shut_down_at_once(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, _ = pair
    with Deadline(0) as deadline:
        deadline._timer.join(10)
        assert deadline.expired
        ours.settimeout(10)  # should the test fail
        deadline.watch(ours)
        assert ours.recv(1) == b""


def test_leaving_in_time_stops_the_timer_and_leaves_the_connection_alone(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, peer = pair
    with Deadline(60) as deadline:
        deadline.watch(ours)
    deadline._timer.join(10)
    assert not deadline._timer.is_alive()
    assert not deadline.expired
    assert deadline._sockets == []  # the duplicates are closed
    peer.sendall(b"x")
    assert ours.recv(1) == b"x"


def test_the_session_watches_connections_only_while_it_is_open() -> None:
    with deadline_session(60) as (session, deadline):
        assert fetch_deadline._active.deadline is deadline
        adapter = cast(HTTPAdapter, session.get_adapter("https://tenant.example.test/"))
        manager = adapter.poolmanager
        pool = manager.connection_from_url("https://tenant.example.test/")
        assert issubclass(pool.ConnectionCls, fetch_deadline._WatchedHTTPConnection)
        assert issubclass(pool.ConnectionCls, urllib3.connection.HTTPSConnection)
        plain = manager.connection_from_url("http://127.0.0.1:8001/")
        assert issubclass(plain.ConnectionCls, fetch_deadline._WatchedHTTPConnection)
    assert fetch_deadline._active.deadline is None


def test_connections_through_an_http_proxy_are_watched_too() -> None:
    with deadline_session(60) as (session, _):
        adapter = cast(HTTPAdapter, session.get_adapter("https://tenant.example.test/"))
        manager = adapter.proxy_manager_for("http://127.0.0.1:3128")
        assert manager.pool_classes_by_scheme is fetch_deadline._WATCHED_POOL_CLASSES


def test_a_manager_with_pools_of_its_own_keeps_them() -> None:
    """A SOCKS proxy manager has its own pool classes, which know how to reach the proxy."""
    manager = urllib3.PoolManager()
    own = {"http": urllib3.HTTPConnectionPool, "https": urllib3.HTTPSConnectionPool}
    manager.pool_classes_by_scheme = own
    fetch_deadline._use_watched_pools(manager)
    assert manager.pool_classes_by_scheme is own


def test_a_socket_that_cannot_be_watched_is_closed_not_leaked(
    pair: tuple[socket.socket, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    ours, _ = pair

    def no_descriptor(sock: socket.socket) -> socket.socket:
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(socket.socket, "dup", no_descriptor)
    with Deadline(60) as deadline, pytest.raises(OSError, match="Too many open files"):
        deadline.watch(ours)
    assert ours.fileno() == -1


def test_the_timer_runs_for_the_seconds_asked_and_never_holds_the_process() -> None:
    """The deadline is the one given (no slack added), and a fetch still running at exit
    does not keep the process alive for its timer."""
    deadline = Deadline(0.25)
    assert deadline._timer.interval == 0.25
    assert deadline._timer.daemon


def test_a_send_the_peer_never_reads_ends_at_the_deadline(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    """Both directions are shut down: a request the peer never reads (its buffer full) holds
    the fetch as surely as an answer that never comes."""
    ours, _ = pair
    failures: list[OSError] = []

    def send() -> None:
        try:
            ours.sendall(b"x" * (64 * 1024 * 1024))
        except OSError as exc:
            failures.append(exc)

    with Deadline(0.2) as deadline:
        deadline.watch(ours)
        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        sender.join(10)
        assert not sender.is_alive(), "the send outlived the deadline"
    assert len(failures) == 1


def test_a_socket_already_disconnected_does_not_spare_the_others(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    """Shutting down a socket that is no longer connected fails (ENOTCONN): the deadline goes
    on to the others, and a socket watched after it passed is refused without an error."""
    ours, _ = pair
    with socket.socket() as unconnected, Deadline(0.2) as deadline:
        deadline.watch(unconnected)
        deadline.watch(ours)
        assert_receive_ends(ours)
        deadline.watch(unconnected)  # after the deadline: shut down at once, quietly


class _RecordingLock:
    """The deadline's lock, recording which of its methods took it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.takers: set[str] = set()

    def __enter__(self) -> None:
        self._lock.acquire()
        self.takers.add(sys._getframe(1).f_code.co_name)

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()


def test_watching_expiring_and_leaving_each_hold_the_lock(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    """The timer's thread shuts sockets down while the fetch's thread adds and closes them:
    a socket watched as the deadline passes must be shut down by one or the other, and none
    closed under a shutdown."""
    ours, _ = pair
    deadline = Deadline(0.2)
    lock = deadline._lock = _RecordingLock()  # type: ignore[assignment]
    with deadline:
        deadline.watch(ours)
        assert_receive_ends(ours)
    assert lock.takers == {"watch", "_expire", "__exit__"}


@pytest.mark.parametrize("timeout", [(3.0, 3.0), None], ids=["timeout-3s", "no-timeout"])
def test_a_host_whose_addresses_all_hang_is_given_up_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch, timeout: tuple[float, float] | None
) -> None:
    """urllib3 gives each of a host's addresses the whole connect timeout, and the socket reached
    the deadline only once connected (found by review: an 8 s fetch to 4 silent addresses took
    12 s). Here 40 addresses at 3 s each would take 2 minutes; the deadline is 0.3 s, and the
    join's bound only stops a hang should the test fail.

    Each connect is given what is left of the deadline at most (a request without a timeout of
    its own too, which urllib3 would let wait forever), and none is tried once it has passed.
    """
    raised: list[BaseException] = []
    connect_timeouts: list[float | None] = []
    create_connection = urllib3.util.connection.create_connection

    def recording_create_connection(
        address: object, timeout: object, *args: object, **kw: object
    ) -> socket.socket:
        connect_timeouts.append(timeout if isinstance(timeout, (int, float)) else None)
        return create_connection(address, timeout, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(urllib3.util.connection, "create_connection", recording_create_connection)

    def fetch(port: int) -> None:
        with deadline_session(0.3) as (session, _):
            try:
                session.get(f"http://idp.many.test:{port}/", timeout=timeout)
            except requests.RequestException as exc:
                raised.append(exc)

    with unanswered_port() as port:
        resolving_to_many(monkeypatch, "idp.many.test", 40)
        fetching = threading.Thread(target=fetch, args=(port,), daemon=True)
        fetching.start()
        fetching.join(10)
        assert not fetching.is_alive(), "the connects outlived the deadline"
    assert len(raised) == 1
    assert isinstance(raised[0], requests.ConnectTimeout)
    assert connect_timeouts, "no connect was tried"
    assert all(t is not None and 0 < t <= 0.3 for t in connect_timeouts), connect_timeouts


def test_remaining_counts_down_to_zero() -> None:
    with Deadline(60) as deadline:
        assert 59 < deadline.remaining() <= 60
    assert Deadline(0).remaining() == 0


def test_a_host_name_idna_refuses_is_reported_as_urllib3_reports_it() -> None:
    """A label over 63 characters: urllib3's ``LocationParseError``, as without the deadline's
    address-by-address connect (found by review: it had become a bare ``UnicodeError``)."""
    with (
        deadline_session(5) as (session, _),
        pytest.raises(urllib3.exceptions.LocationParseError),
    ):
        session.get(f"http://{'a' * 64}.example/", timeout=(1.0, 1.0))


def test_a_name_resolving_to_nothing_is_reported_as_urllib3_reports_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not a timeout: nothing was tried (urllib3: "getaddrinfo returns an empty list")."""
    resolve = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **k: [] if host == "idp.none.test" else resolve(host, *a, **k),
    )
    with deadline_session(5) as (session, _), pytest.raises(requests.ConnectionError) as raised:
        session.get("http://idp.none.test/", timeout=(1.0, 1.0))
    assert not isinstance(raised.value, requests.ConnectTimeout)
