"""The bench's floor app: our signature step and nothing else, so never a validator to serve."""

from __future__ import annotations

import pytest
import requests

from apiexample import wsgi
from apiexample.views import require_auth
from bench.floor_app import create_application
from bench.under_load import FLOOR_APP
from devtools.processes import api_environment, api_server
from mock_idp import DEFAULT_AUDIENCE, MockIdP
from mock_idp.server import MockIdPServer
from tests.apiexample.conftest import Call
from tests.apiexample.helpers import assert_refused


@pytest.fixture
def floor(monkeypatch: pytest.MonkeyPatch, call: Call) -> Call:
    """``call`` against the API as the floor app serves it; the real protector is back after."""
    monkeypatch.setattr(require_auth, "acquire_bearer_token", require_auth.acquire_bearer_token)
    assert create_application() is wsgi.application
    return call


def test_a_validly_signed_token_passes_whatever_its_claims(floor: Call, mock_idp: MockIdP) -> None:
    expired_elsewhere = mock_idp.mint(audience="https://other.example", expires_in=-3600)
    assert floor("/api/private-scoped", expired_elsewhere).status_code == 200


def test_the_signature_is_still_checked(floor: Call, mock_idp: MockIdP) -> None:
    kid = mock_idp.keys.signing_key.kid
    forged = mock_idp.mint(key=mock_idp.foreign_key, header={"kid": kid})
    assert_refused(floor("/api/private", forged), 401, "invalid_token")


def test_a_header_is_checked_once_as_ours_checks_it(floor: Call, mock_idp: MockIdP) -> None:
    """Ours runs the header rules once per distinct header: a floor running them on every
    request would be slower than the signature alone, and flatter ours against it."""
    token = mock_idp.mint()
    policies = require_auth.get_token_validator("bearer").policies()
    policies.headers.clear()
    assert floor("/api/private", token).status_code == 200
    assert token.split(".")[0] in policies.headers


def test_the_public_route_is_the_api_s(floor: Call) -> None:
    assert floor("/api/public").json()["message"].startswith("Hello from a public endpoint")


@pytest.mark.live
def test_gunicorn_serves_it_as_the_bench_starts_it(mock_idp_live: MockIdPServer) -> None:
    idp = mock_idp_live.idp
    options = ("--workers", "1", "--worker-class", "sync")
    with api_server(api_environment(idp.issuer), *options, app=FLOOR_APP) as server:
        base = server.base
        expired = idp.mint(audience=DEFAULT_AUDIENCE, expires_in=-3600)
        answer = requests.get(
            f"{base}/api/private", headers={"Authorization": f"Bearer {expired}"}, timeout=15
        )
    assert answer.status_code == 200
