"""The suite is offline: pytest-socket (pyproject ``addopts``) refuses non-loopback connections.

Only IP literals are used, so even a broken guard would cause no DNS lookup; and the attempt is
made only once the guard is seen in place, so a broken guard fails here without sending a packet.
"""

from __future__ import annotations

import contextlib
import socket
import warnings
from collections.abc import Iterator

import pytest
import requests
from pytest_socket import SocketConnectBlockedError

TEST_NET = "192.0.2.1"  # RFC 5737 documentation range: routed nowhere


@contextlib.contextmanager
def blocked() -> Iterator[None]:
    """Expect pytest-socket's refusal of a connection to ``TEST_NET``.

    pytest-socket >= 0.8 also warns, which ``filterwarnings = error`` would turn into the error.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(SocketConnectBlockedError, match=f'host "{TEST_NET}"'):
            yield


@pytest.fixture
def guard() -> None:
    """Fail (without touching the network) unless ``socket.connect`` is pytest-socket's guard."""
    assert socket.socket.connect.__module__ == "pytest_socket", "pytest-socket guard not active"


def test_loopback_only_is_configured(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.getoption("--disable-socket") is True
    allowed = set(pytestconfig.getoption("--allow-hosts").split(","))
    assert allowed == {"127.0.0.1", "::1", "localhost"}


@pytest.mark.usefixtures("guard")
def test_raw_connect_to_a_non_loopback_address_is_refused() -> None:
    with blocked():
        socket.create_connection((TEST_NET, 443), timeout=1)


@pytest.mark.usefixtures("guard")
def test_requests_to_a_non_loopback_address_is_refused() -> None:
    with blocked():
        requests.get(f"http://{TEST_NET}/", timeout=1)


@pytest.mark.usefixtures("guard")
def test_loopback_connections_still_work() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=1):
            conn, _ = server.accept()
            conn.close()
