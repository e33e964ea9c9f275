"""Tokens from every transport verify with PyJWT against the JWKS that transport serves."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
import responses

from mock_idp import MockIdP
from mock_idp.cli import main
from mock_idp.server import MockIdPServer

AUDIENCE = "https://api.example.test"


def verify(token: str, jwks: dict[str, Any], issuer: str) -> dict[str, Any]:
    """What a correct RS256 resource server does (keys from a JWKS dict, not PyJWKClient)."""
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(token)["kid"]]
    return jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        audience=AUDIENCE,
        issuer=issuer,
        options={"require": ["exp", "iat", "sub", "iss", "aud"]},
    )


def test_core_mint(mock_idp: MockIdP) -> None:
    claims = verify(mock_idp.mint(scope="read:messages"), mock_idp.jwks(), mock_idp.issuer)
    assert claims["scope"] == "read:messages"
    assert verify(mock_idp.mint(user=True), mock_idp.jwks(), mock_idp.issuer)["sub"]


def test_token_endpoint_through_responses(
    mock_idp: MockIdP, mock_idp_network: responses.RequestsMock
) -> None:
    discovery = requests.get(
        mock_idp.issuer + ".well-known/openid-configuration", timeout=30
    ).json()
    answer = requests.post(
        discovery["token_endpoint"],
        data={
            "grant_type": "client_credentials",
            "client_id": "m2m",
            "client_secret": "s",
            "audience": AUDIENCE,
            "scope": "read:messages",
        },
        timeout=30,
    ).json()
    jwks = requests.get(discovery["jwks_uri"], timeout=30).json()
    claims = verify(answer["access_token"], jwks, discovery["issuer"])
    assert (claims["sub"], claims["scope"]) == ("m2m@clients", "read:messages")


@pytest.mark.live
def test_token_endpoint_through_the_live_server(mock_idp_live: MockIdPServer) -> None:
    base = mock_idp_live.url
    answer = requests.post(
        base + "oauth/token",
        json={"grant_type": "client_credentials", "client_id": "m2m", "audience": AUDIENCE},
        timeout=30,
    ).json()
    jwks = requests.get(base + ".well-known/jwks.json", timeout=30).json()
    assert verify(answer["access_token"], jwks, base)["iss"] == base


@pytest.mark.live
def test_cli_token_against_the_live_server_with_the_same_keys(
    tmp_path: Path, mock_idp_live: MockIdPServer
) -> None:
    keys = tmp_path / "keys.json"
    mock_idp_live.idp.save(keys)
    out = io.StringIO()
    issuer = mock_idp_live.url
    main(["token", "--keys", str(keys), "--issuer", issuer, "--audience", AUDIENCE], out)
    jwks = requests.get(issuer + ".well-known/jwks.json", timeout=30).json()
    assert verify(out.getvalue().strip(), jwks, issuer)["aud"] == AUDIENCE
