"""A hard deadline for one HTTP fetch made with ``requests``: at the deadline, every connection
the fetch opened is shut down, whatever it is waiting for.

Timeouts on each receive bound how long a peer may stay silent, not how long it may keep
talking: one sending a header line (or a TLS record byte) every few seconds holds a fetch for
ever. ``deadline_session`` gives a ``requests.Session`` whose connections register a duplicate
of their socket as they open, before any TLS handshake; a timer shuts those down at the
deadline, which ends any receive at once. Opening one is bounded too: a host with several
addresses is tried one address at a time, each connect given at most what is left of the
deadline, and none once it has passed (urllib3 gives each address the whole connect timeout).
Name resolution is not covered (``getaddrinfo`` cannot be interrupted), nor are connections
through a SOCKS proxy (their pools are the SOCKS library's own).

Only the connection classes change; ``requests.adapters.HTTPAdapter.send`` is untouched, so
``responses`` still stands in for the network.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import requests
import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.poolmanager import pool_classes_by_scheme as DEFAULT_POOL_CLASSES
from urllib3.util.connection import allowed_gai_family

logger = logging.getLogger(__name__)

_active = threading.local()


class Deadline:
    """Shuts down the sockets given to ``watch`` once ``seconds`` have passed; ``expired``
    tells whether it did. Use as a context manager: leaving it stops the timer."""

    def __init__(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self.expired = False
        self._ends_at = time.monotonic() + seconds
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        try:
            self._timer.start()
        except RuntimeError as exc:  # "can't start new thread": the per-receive timeouts remain
            logger.warning("fetch deadline not armed (%s): receives are bounded one by one", exc)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        with self._lock:
            for watched in self._sockets:
                watched.close()
            self._sockets.clear()

    def remaining(self) -> float:
        """Seconds until the deadline, 0 once it has passed."""
        return max(0.0, self._ends_at - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        """Keep a duplicate of ``sock``: a TLS wrapper detaches the original, not the dup."""
        try:
            watched = sock.dup()
        except OSError:  # out of descriptors: nobody else holds ``sock`` yet
            sock.close()
            raise
        with self._lock:
            self._sockets.append(watched)
            if self.expired:
                _shut_down(watched)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for watched in self._sockets:
                _shut_down(watched)


def _shut_down(sock: socket.socket) -> None:
    with suppress(OSError):  # already closed by the peer or by the fetch
        sock.shutdown(socket.SHUT_RDWR)


class _WatchedHTTPConnection(HTTPConnection):
    """Hands its new socket to the fetch's deadline before using it (a TLS one: before the
    handshake)."""

    def _new_conn(self) -> socket.socket:
        deadline: Deadline | None = getattr(_active, "deadline", None)
        if deadline is None:
            return super()._new_conn()
        sock = self._connect_within(deadline)
        deadline.watch(sock)
        return sock

    def _connect_within(self, deadline: Deadline) -> socket.socket:
        """urllib3's own connect, to one of the host's addresses at a time, each given at most
        what is left of ``deadline``; a ``ConnectTimeoutError`` once it has passed."""
        try:
            found = socket.getaddrinfo(
                self._dns_host, self.port, allowed_gai_family(), socket.SOCK_STREAM
            )
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        except UnicodeError:  # a label IDNA refuses: urllib3 says so in its own words
            return super()._new_conn()
        if not found:  # nothing to try: urllib3's own error for that
            return super()._new_conn()
        host, connect_timeout = self._dns_host, self.timeout
        failure: Exception | None = None
        try:
            for address in (str(info[4][0]) for info in found):  # each, as urllib3 does
                left = deadline.remaining()
                if left <= 0:
                    break
                self._dns_host = address
                if isinstance(connect_timeout, (int, float)):
                    self.timeout = min(connect_timeout, left)
                else:  # no timeout of its own: the deadline's
                    self.timeout = left
                try:
                    return super()._new_conn()
                except (ConnectTimeoutError, NewConnectionError) as exc:
                    failure = exc
        finally:
            self._dns_host, self.timeout = host, connect_timeout
        if failure is not None and deadline.remaining() > 0:
            raise failure
        raise ConnectTimeoutError(
            self, f"Connection to {self.host} timed out (the fetch's deadline)"
        )


class _WatchedHTTPSConnection(_WatchedHTTPConnection, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOL_CLASSES = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(requests.adapters.HTTPAdapter):
    """``HTTPAdapter`` whose pools (direct, or through an HTTP proxy) use watched connections."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _use_watched_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> urllib3.PoolManager:
        manager: urllib3.PoolManager = super().proxy_manager_for(proxy, **kwargs)
        _use_watched_pools(manager)
        return manager


def _use_watched_pools(manager: urllib3.PoolManager) -> None:
    if manager.pool_classes_by_scheme is DEFAULT_POOL_CLASSES:  # a SOCKS manager keeps its own
        manager.pool_classes_by_scheme = _WATCHED_POOL_CLASSES


@contextmanager
def deadline_session(
    seconds: float, session_class: type[requests.Session] = requests.Session
) -> Iterator[tuple[requests.Session, Deadline]]:
    """A session (a ``session_class``) whose connections are shut down ``seconds`` from now,
    and its ``Deadline``."""
    with Deadline(seconds) as deadline, session_class() as session:
        for prefix in ("http://", "https://"):
            session.mount(prefix, _WatchedAdapter())
        _active.deadline = deadline
        try:
            yield session, deadline
        finally:
            _active.deadline = None
