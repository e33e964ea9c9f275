"""pytest fixtures for the mock IdP.

Enable it in a ``conftest.py`` (or with ``-p mock_idp.pytest_plugin``)::

    pytest_plugins = ["mock_idp.pytest_plugin"]

    def test_private(client, mock_idp, mock_idp_network, mint_token):
        token = mint_token(scope="read:messages")          # valid, Auth0-shaped
        forged = mock_idp.forge("alg_none", alg="nOnE")      # any forgery by name
        response = client.get("/api/private", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 200

    def test_socket(mock_idp_live):
        requests.get(mock_idp_live.url + ".well-known/jwks.json", timeout=5)

Fixtures: ``mock_idp_keys`` (session: keys generated once), ``mock_idp`` (a fresh ``MockIdP``
per test: issuer ``https://tenant.mock-idp.test/``, audience ``https://api.example.test``,
frozen-able ``ControllableClock`` as ``mock_idp.clock``), ``mock_idp_network`` (an active
``responses.RequestsMock`` serving it; other URLs raise ``ConnectionError``), ``mint_token``
(``mock_idp.mint``) and ``mock_idp_live`` (a real server on 127.0.0.1, stopped at teardown;
an IdP of its own, issuer its URL: mint and inject faults through ``mock_idp_live.idp``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from .clock import ControllableClock
from .idp import DEFAULT_AUDIENCE, DEFAULT_ISSUER, MockIdP
from .keys import KeyPair, KeyRing, KeyState
from .server import MockIdPServer

if TYPE_CHECKING:  # only mock_idp_network needs responses installed
    import responses


@dataclass(frozen=True)
class MockIdPKeys:
    """Keys generated once per session and shared by every test's IdP."""

    primary: KeyPair  # RSA-2048, published and signing
    secondary: KeyPair  # RSA-2048, not in the ring: for rotation tests
    foreign: KeyPair  # RSA-2048, never published: for forgeries
    rsa_1024: KeyPair  # too weak, for negative tests
    ec_p256: KeyPair  # EC P-256, for ES256 tests

    @classmethod
    def generate(cls) -> MockIdPKeys:
        return cls(
            primary=KeyPair.rsa(),
            secondary=KeyPair.rsa(),
            foreign=KeyPair.rsa(),
            rsa_1024=KeyPair.rsa(1024, allow_weak=True),
            ec_p256=KeyPair.ec("P-256"),
        )

    def idp(self, issuer: str = DEFAULT_ISSUER, **kwargs: Any) -> MockIdP:
        """A fresh IdP: ``primary`` signing, ``foreign`` as the attacker's key."""
        kwargs.setdefault("audience", DEFAULT_AUDIENCE)
        kwargs.setdefault("clock", ControllableClock())
        return MockIdP(
            issuer,
            keys=KeyRing([(self.primary, KeyState.SIGNING)]),
            foreign_key=self.foreign,
            **kwargs,
        )


@pytest.fixture(scope="session")
def mock_idp_keys() -> MockIdPKeys:
    """Pre-generated keys (RSA generation costs ~40 ms a key)."""
    return MockIdPKeys.generate()


@pytest.fixture
def mock_idp(mock_idp_keys: MockIdPKeys) -> MockIdP:
    """A fresh IdP per test: its own key states, clock, faults and hits."""
    return mock_idp_keys.idp()


@pytest.fixture
def mock_idp_network(mock_idp: MockIdP) -> Iterator[responses.RequestsMock]:
    """``requests`` to the issuer's host reach ``mock_idp``; add other mocks to the yield (they
    answer their URLs first, on the issuer's host too, and the IdP keeps every other route)."""
    from .responses_adapter import mocked_network

    with mocked_network(mock_idp) as mock:
        yield mock


@pytest.fixture
def mint_token(mock_idp: MockIdP) -> Callable[..., str]:
    """``mint_token(**kwargs)`` is ``mock_idp.mint(**kwargs)``."""
    return mock_idp.mint


@pytest.fixture
def mock_idp_live(
    mock_idp_keys: MockIdPKeys, request: pytest.FixtureRequest
) -> Iterator[MockIdPServer]:
    """A real server on 127.0.0.1 (random port) whose issuer is its own URL: an IdP of its own,
    reached through ``mock_idp_live.idp`` (``mock_idp`` and ``mint_token`` are another one).
    A test using ``mock_idp_network`` too reaches it through that mock's passthrough."""
    with MockIdPServer(mock_idp_keys.idp()) as server:
        if "mock_idp_network" in request.fixturenames:
            request.getfixturevalue("mock_idp_network").add_passthru(server.url)
        yield server
