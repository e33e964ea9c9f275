"""Fixtures for the API tests: the API trusts the per-test mock IdP, served via ``responses``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from apiexample import signing_keys
from apiexample.views import require_auth
from mock_idp import ControllableClock, MockIdP
from tests.apiexample.helpers import wait_for_refreshes


@pytest.fixture(autouse=True)
def _fresh_key_caches() -> Iterator[None]:
    """Every test starts with no fetched key set, whatever the previous one did, and leaves no
    refresh running in another thread (it would fetch after the test's mocks are gone)."""
    signing_keys.reset_caches()
    yield
    ended = wait_for_refreshes(timeout=10)
    signing_keys.reset_caches()
    assert ended, "a JWKS refresh started by this test was still running 10 s after it"


#: The documented defaults, so that a developer's environment or .env file never changes a test.
DOCUMENTED_DEFAULTS = {
    "AUTH0_ALGORITHMS": "RS256",
    "AUTH0_LEEWAY": "30",
    "AUTH0_JWKS_CACHE_TTL": "600",
    "AUTH0_JWKS_COOLDOWN": "30",
    "AUTH0_JWKS_TIMEOUT": "8",
    "AUTH0_JWKS_STALE_IF_ERROR": "86400",
    "AUTH0_TOKEN_CACHE_SIZE": "4096",
    "CORS_ALLOWED_ORIGINS": [],
}


@pytest.fixture(autouse=True)
def _documented_defaults(settings: Any) -> None:
    for name, value in DOCUMENTED_DEFAULTS.items():
        setattr(settings, name, value)


@pytest.fixture
def api_settings(settings: Any, mock_idp: MockIdP) -> Any:
    """Django settings pointing the validator at the mock IdP (Auth0's defaults otherwise)."""
    settings.AUTH0_DOMAIN = ""
    settings.AUTH0_ISSUER = mock_idp.issuer
    settings.AUTH0_AUDIENCE = mock_idp.audience
    settings.AUTH0_JWKS_URL = ""
    settings.AUTH0_ALGORITHMS = "RS256"
    return settings


@pytest.fixture
def api(api_settings: Any, mock_idp_network: Any) -> Iterator[Client]:
    """A Django test client for the API, its JWKS served by the mock IdP via ``responses``.

    A JWKS refresh the test left running in another thread must end while the mocked network
    and the settings are still in place (``_fresh_key_caches`` ends after them).
    """
    yield Client()
    assert wait_for_refreshes(timeout=10), "a JWKS refresh outlived the test"


Call = Callable[..., Any]


@pytest.fixture
def call(api: Client) -> Call:
    """``call(path, token=None, scheme="Bearer", **extra)``: GET ``path`` with a bearer token."""

    def get(path: str, token: str | None = None, scheme: str = "Bearer", **extra: Any) -> Any:
        if token is not None:
            extra["HTTP_AUTHORIZATION"] = f"{scheme} {token}"
        return api.get(path, **extra)

    return get


@pytest.fixture
def tenant(settings: Any) -> Any:
    """Settings of a real Auth0 tenant, as a user of the quickstart would write them."""
    settings.AUTH0_DOMAIN = "example.us.auth0.com"
    settings.AUTH0_AUDIENCE = "https://api.example.com"
    settings.AUTH0_ISSUER = ""
    settings.AUTH0_JWKS_URL = ""
    return settings


@pytest.fixture
def key_clock(mock_idp: MockIdP, api_settings: Any) -> ControllableClock:
    """The clock of the API's key cache, frozen; tokens keep real time."""
    clock = ControllableClock()
    clock.freeze()
    signing_keys.cache_for(mock_idp.jwks_uri).clock = clock.now
    return clock


@pytest.fixture
def token_clock(mock_idp: MockIdP, monkeypatch: pytest.MonkeyPatch) -> ControllableClock:
    """One frozen clock for the tokens the mock IdP mints and for the views' validator, so a
    test moves time exactly where it says and no real second ever counts."""
    clock = mock_idp.clock
    assert isinstance(clock, ControllableClock)
    clock.freeze()
    monkeypatch.setattr(require_auth.get_token_validator("bearer"), "clock", clock.now)
    return clock
