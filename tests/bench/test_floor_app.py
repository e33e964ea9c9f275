"""The bench's floor app: our signature step and nothing else, so never a validator to serve."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.test import Client

from apiexample import signing_keys, wsgi
from apiexample.views import require_auth
from bench.floor_app import create_application
from bench.run import FLOOR_APP
from devtools.processes import api_environment, api_server
from mock_idp import DEFAULT_AUDIENCE, MockIdP
from mock_idp.server import MockIdPServer
from tests.apiexample.helpers import assert_refused


@pytest.fixture
def floor(
    monkeypatch: pytest.MonkeyPatch, settings: Any, mock_idp: MockIdP, mock_idp_network: Any
) -> Iterator[Client]:
    """The API as the floor app serves it; the real protector is back after the test."""
    settings.AUTH0_DOMAIN = ""
    settings.AUTH0_ISSUER = mock_idp.issuer
    settings.AUTH0_AUDIENCE = mock_idp.audience
    settings.AUTH0_JWKS_URL = ""
    signing_keys.reset_caches()
    monkeypatch.setattr(require_auth, "acquire_bearer_token", require_auth.acquire_bearer_token)
    assert create_application() is wsgi.application
    yield Client()
    signing_keys.reset_caches()


def test_a_validly_signed_token_passes_whatever_its_claims(
    floor: Client, mock_idp: MockIdP
) -> None:
    expired_elsewhere = mock_idp.mint(audience="https://other.example", expires_in=-3600)
    response = floor.get("/api/private-scoped", HTTP_AUTHORIZATION=f"Bearer {expired_elsewhere}")
    assert response.status_code == 200


def test_the_signature_is_still_checked(floor: Client, mock_idp: MockIdP) -> None:
    kid = mock_idp.keys.signing_key.kid
    forged = mock_idp.mint(key=mock_idp.foreign_key, header={"kid": kid})
    response = floor.get("/api/private", HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert_refused(response, 401, "invalid_token")


def test_the_public_route_is_the_api_s(floor: Client) -> None:
    assert floor.get("/api/public").json()["message"].startswith("Hello from a public endpoint")


@pytest.mark.live
def test_gunicorn_serves_it_as_the_bench_starts_it(mock_idp_live: MockIdPServer) -> None:
    idp = mock_idp_live.idp
    options = ("--workers", "1", "--worker-class", "sync")
    with api_server(api_environment(idp.issuer), *options, app=FLOOR_APP) as base:
        expired = idp.mint(audience=DEFAULT_AUDIENCE, expires_in=-3600)
        answer = requests.get(
            f"{base}/api/private", headers={"Authorization": f"Bearer {expired}"}, timeout=15
        )
    assert answer.status_code == 200
