"""MockIdP.mint: Auth0-shaped defaults, and any claim, header, key or algorithm."""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path
from typing import Any, cast

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jwt.types import Options

from mock_idp import ControllableClock, KeyState, MockIdP
from mock_idp.jws import decode_unverified
from mock_idp.keys import KeyRing, b64url, b64url_decode
from mock_idp.pytest_plugin import MockIdPKeys
from tests.imports import packages_loaded_by
from tests.mock_idp.helpers import NOW


def verify(idp: MockIdP, token: str, **options: Any) -> dict[str, Any]:
    header = jwt.get_unverified_header(token)
    key = jwt.PyJWKSet.from_dict(idp.jwks())[header["kid"]]
    return jwt.decode(
        token,
        key.key,
        algorithms=[header["alg"]],
        audience=options.pop("audience", idp.audience),
        issuer=idp.issuer,
        options=cast(Options, {"verify_exp": False, "verify_iat": False, **options}),
    )


def test_machine_token_defaults(idp: MockIdP) -> None:
    token = idp.mint()
    header, claims, _ = decode_unverified(token)
    assert header == {"alg": "RS256", "typ": "JWT", "kid": idp.keys.signing_key.kid}
    assert claims == {
        "iss": "https://tenant.mock-idp.test/",
        "sub": "mock-idp-client@clients",
        "aud": "https://api.example.test",
        "iat": NOW,
        "exp": NOW + 86400,
        "scope": "",
        "gty": "client-credentials",
        "azp": "mock-idp-client",
    }
    assert verify(idp, token) == claims


def test_machine_token_options(idp: MockIdP) -> None:
    _, claims, _ = decode_unverified(
        idp.mint(
            client_id="abc",
            audience="https://other",
            scope="read:messages write:messages",
            permissions=["read:messages"],
            expires_in=60,
            issued_at=NOW - 10,
        )
    )
    assert claims["sub"] == "abc@clients"
    assert claims["azp"] == "abc"
    assert claims["aud"] == "https://other"
    assert claims["scope"] == "read:messages write:messages"
    assert claims["permissions"] == ["read:messages"]
    assert (claims["iat"], claims["exp"]) == (NOW - 10, NOW + 50)


def test_user_token_defaults(idp: MockIdP) -> None:
    _, claims, _ = decode_unverified(idp.mint(user=True, scope=None))
    assert claims["sub"].startswith("auth0|")
    assert len(claims["sub"]) == len("auth0|") + 24
    assert claims["aud"] == ["https://api.example.test", "https://tenant.mock-idp.test/userinfo"]
    assert claims["scope"] == "openid profile email"
    assert "gty" not in claims
    assert claims["azp"] == "mock-idp-client"


def test_user_token_without_openid_has_the_api_audience_only(idp: MockIdP) -> None:
    """auth0-facts.md: ``{issuer}userinfo`` joins ``aud`` only when ``openid`` was requested."""
    _, claims, _ = decode_unverified(idp.mint(user=True, scope="read:messages"))
    assert claims["aud"] == "https://api.example.test"
    _, claims, _ = decode_unverified(idp.mint(user=True, scope="openid-ish read:messages"))
    assert claims["aud"] == "https://api.example.test"


def test_user_token_with_subject_and_audience_list(idp: MockIdP) -> None:
    aud = ["https://api.example.test", f"{idp.issuer}userinfo"]
    _, claims, _ = decode_unverified(idp.mint(user=True, subject="auth0|42", audience=aud))
    assert (claims["sub"], claims["aud"]) == ("auth0|42", aud)
    idp.default_scope = "read:messages"
    _, claims, _ = decode_unverified(idp.mint(user=True))
    assert claims["scope"] == "openid profile email read:messages"


def test_iat_and_exp_follow_the_clock(idp: MockIdP) -> None:
    assert isinstance(idp.clock, ControllableClock)
    idp.clock.advance(100)
    _, claims, _ = decode_unverified(idp.mint())
    assert (claims["iat"], claims["exp"]) == (NOW + 100, NOW + 100 + 86400)


def test_claims_set_overridden_and_removed(idp: MockIdP) -> None:
    token = idp.mint(
        claims={"scope": ["not", "a", "string"], "nbf": NOW, "custom": {"a": None}},
        remove_claims=["azp", "gty", "absent"],
    )
    _, claims, _ = decode_unverified(token)
    assert claims["scope"] == ["not", "a", "string"]
    assert claims["nbf"] == NOW
    assert claims["custom"] == {"a": None}
    assert "azp" not in claims
    assert "gty" not in claims


def test_header_set_and_removed(idp: MockIdP) -> None:
    token = idp.mint(header={"typ": "at+jwt", "kid": None, "x": 1}, remove_header=["alg"])
    header, _, _ = decode_unverified(token)
    assert header == {"typ": "at+jwt", "kid": None, "x": 1}


def test_any_key_including_unpublished(idp: MockIdP, mock_idp_keys: MockIdPKeys) -> None:
    foreign = mock_idp_keys.foreign
    token = idp.mint(key=foreign)
    assert decode_unverified(token)[0]["kid"] == foreign.kid
    assert foreign.kid not in {k["kid"] for k in idp.jwks()["keys"]}
    claims = jwt.decode(
        token,
        foreign.public_key,
        algorithms=["RS256"],
        audience=idp.audience,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["iss"] == idp.issuer


def test_algorithm_and_hmac_secret(idp: MockIdP, mock_idp_keys: MockIdPKeys) -> None:
    token = idp.mint(algorithm="PS256")
    assert decode_unverified(token)[0]["alg"] == "PS256"
    assert verify(idp, token)["sub"] == "mock-idp-client@clients"

    token = idp.mint(key=b"secret")
    header, _, signature = decode_unverified(token)
    assert header == {"alg": "HS256", "typ": "JWT"}
    signing_input = token.rpartition(".")[0].encode()
    assert signature == hmac.new(b"secret", signing_input, hashlib.sha256).digest()

    token = idp.mint(key=mock_idp_keys.ec_p256)
    assert decode_unverified(token)[0]["alg"] == "ES256"


def test_signature_and_payload_overrides(idp: MockIdP) -> None:
    token = idp.mint(signature=b"\x00" * 4, payload=b"raw payload")
    assert token.split(".")[1] == b64url(b"raw payload")
    assert decode_unverified(token.replace(token.split(".")[1], b64url(b"{}")))[2] == b"\0" * 4


def test_protected_override_signs_the_header_bytes_verbatim(idp: MockIdP) -> None:
    header = '{"alg":"RS256","kid":"k"}'.encode("utf-16")
    token = idp.mint(protected=header)
    signing_input, _, signature = token.rpartition(".")
    assert signing_input.split(".")[0] == b64url(header)
    private = idp.keys.signing_key.private_key
    assert isinstance(private, rsa.RSAPrivateKey)
    private.public_key().verify(  # raises unless it signed these bytes
        b64url_decode(signature), signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_no_audience_is_an_error() -> None:
    idp = MockIdP(keys=KeyRing(), audience=None)
    with pytest.raises(ValueError, match="no audience"):
        idp.claims()


def test_issuer_always_gets_a_trailing_slash(mock_idp: MockIdP) -> None:
    mock_idp.issuer = "https://example.test"
    assert mock_idp.issuer == "https://example.test/"
    assert mock_idp.jwks_uri == "https://example.test/.well-known/jwks.json"
    assert mock_idp.token_endpoint == "https://example.test/oauth/token"


def test_constructor_defaults_and_key_lists(mock_idp_keys: MockIdPKeys) -> None:
    idp = MockIdP(keys=[mock_idp_keys.primary, mock_idp_keys.secondary])
    assert idp.keys.signing_key is mock_idp_keys.primary
    assert idp.keys.state(mock_idp_keys.secondary.kid) is KeyState.PUBLISHED
    assert idp.issuer == "https://tenant.mock-idp.test/"
    assert idp.audience == "https://api.example.test"
    assert repr(idp) == "MockIdP(issuer='https://tenant.mock-idp.test/', keys=2)"


def test_generated_keys_and_lazy_foreign_key() -> None:
    idp = MockIdP()
    assert len(idp.keys) == 1
    foreign = idp.foreign_key
    assert foreign is idp.foreign_key
    assert foreign.kid not in idp.keys


def test_save_and_load(tmp_path: Path, mock_idp: MockIdP, mock_idp_keys: MockIdPKeys) -> None:
    mock_idp.keys.add(mock_idp_keys.secondary)
    mock_idp.save(tmp_path / "keys.json")
    loaded = MockIdP.load(tmp_path / "keys.json", issuer=mock_idp.issuer)
    assert loaded.jwks() == mock_idp.jwks()
    assert verify(loaded, mock_idp.mint())["iss"] == mock_idp.issuer
    assert verify(mock_idp, loaded.mint())["iss"] == mock_idp.issuer


def test_rotation_through_the_idp(mock_idp: MockIdP, mock_idp_keys: MockIdPKeys) -> None:
    old = mock_idp.mint()
    mock_idp.keys.add(mock_idp_keys.secondary)
    mock_idp.keys.rotate()
    new = mock_idp.mint()
    assert decode_unverified(new)[0]["kid"] == mock_idp_keys.secondary.kid
    assert verify(mock_idp, old)  # retired key still published
    assert verify(mock_idp, new)
    mock_idp.keys.remove(mock_idp_keys.primary.kid)
    with pytest.raises(KeyError):
        verify(mock_idp, old)


def test_x5c_publication(mock_idp: MockIdP) -> None:
    mock_idp.publish_x5c = True
    assert "x5c" in mock_idp.jwks()["keys"][0]


def test_the_package_needs_no_django() -> None:
    """``mock_idp`` has no Django dependency; every module imports without it."""
    every_module = (
        "import importlib, pkgutil, mock_idp\n"
        "for m in pkgutil.walk_packages(mock_idp.__path__, 'mock_idp.'):\n"
        "    if m.name != 'mock_idp.__main__':\n"
        "        importlib.import_module(m.name)"
    )
    assert packages_loaded_by(every_module, among=("django", "apiexample")) == []


# -- pinned by a mutation run of mock_idp ---------------------------------------------------


def test_iat_is_floored(idp: MockIdP) -> None:
    idp.clock.freeze(NOW + 0.7)  # type: ignore[attr-defined]
    assert decode_unverified(idp.mint())[1]["iat"] == NOW


def test_empty_permissions_are_kept(idp: MockIdP) -> None:
    assert decode_unverified(idp.mint(permissions=[]))[1]["permissions"] == []


def test_claims_in_auth0_order(idp: MockIdP) -> None:
    claims = decode_unverified(idp.mint())[1]
    assert list(claims) == ["iss", "sub", "aud", "iat", "exp", "scope", "gty", "azp"]


def test_an_empty_signature_stays_empty(idp: MockIdP) -> None:
    assert idp.mint(signature=b"").endswith(".")


def test_a_clock_given_to_the_idp_is_the_one_it_reads() -> None:
    class Fixed:
        def now(self) -> float:
            return 1_000_000.5

    idp = MockIdP(clock=Fixed())
    assert decode_unverified(idp.mint())[1]["iat"] == 1_000_000
    assert decode_unverified(idp.forge("expired", by=10))[1]["exp"] == 1_000_000 - 10


def test_register_client_returns_the_client(mock_idp: MockIdP) -> None:
    client = mock_idp.register_client("abc", "s", ["read:messages"])
    assert (client.client_id, client.client_secret, client.scopes) == (
        "abc",
        "s",
        ("read:messages",),
    )


def test_the_readme_s_tour_runs_as_written() -> None:
    """README, "mock_idp: a local Auth0 tenant": its Python block, run as a reader would."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("## mock_idp: a local Auth0 tenant") :]
    block = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert block is not None
    names: dict[str, Any] = {}
    exec(compile(block.group(1), "README.md", "exec"), names)  # noqa: S102 (our own README)
    assert decode_unverified(names["odd"])[1]["exp"] is None  # None is written as null
    first_kid = decode_unverified(names["token"])[0]["kid"]
    assert names["idp"].keys.state(first_kid) is KeyState.RETIRED  # the block ran to its end


def test_discovery_points_at_the_jwks_and_token_endpoint_under_the_issuer(
    mock_idp: MockIdP,
) -> None:
    mock_idp.issuer = "https://host.test/tenant"
    document = mock_idp.openid_configuration()
    assert document["issuer"] == "https://host.test/tenant/"
    assert document["jwks_uri"] == "https://host.test/tenant/.well-known/jwks.json"
    assert document["token_endpoint"] == "https://host.test/tenant/oauth/token"


def test_the_discovery_document_is_auth0_s(mock_idp: MockIdP) -> None:
    """Every member, as an Auth0 tenant publishes them (OpenID Connect Discovery 1.0 section
    3 requires ``subject_types_supported`` among them; found by mutation testing: only four
    members were checked)."""
    mock_idp.issuer = "https://host.test/"
    assert mock_idp.openid_configuration() == {
        "issuer": "https://host.test/",
        "authorization_endpoint": "https://host.test/authorize",
        "token_endpoint": "https://host.test/oauth/token",
        "device_authorization_endpoint": "https://host.test/oauth/device/code",
        "userinfo_endpoint": "https://host.test/userinfo",
        "mfa_challenge_endpoint": "https://host.test/mfa/challenge",
        "jwks_uri": "https://host.test/.well-known/jwks.json",
        "registration_endpoint": "https://host.test/oidc/register",
        "revocation_endpoint": "https://host.test/oauth/revoke",
        "scopes_supported": ["openid", "profile", "offline_access", "name", "email"],
        "response_types_supported": ["code", "token", "id_token", "code token"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["public"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS384", "PS256"],
        "id_token_signing_alg_values_supported": ["HS256", "RS256", "PS256"],
        "claims_supported": mock_idp.openid_configuration()["claims_supported"],
        "request_uri_parameter_supported": False,
        "request_parameter_supported": False,
        "end_session_endpoint": "https://host.test/oidc/logout",
    }
    assert {"sub", "iss", "aud", "exp", "iat"} <= set(
        mock_idp.openid_configuration()["claims_supported"]
    )


def test_routes_live_under_the_issuer_s_path_and_its_slash(mock_idp: MockIdP) -> None:
    """``/tenantX...`` is not under ``/tenant/`` (found by mutation testing)."""
    mock_idp.issuer = "https://host.test/tenant/"
    assert mock_idp.relative_path("/tenant/.well-known/jwks.json") == "/.well-known/jwks.json"
    assert mock_idp.relative_path("/tenantX.well-known/jwks.json") is None
    assert mock_idp.relative_path("/tenant") is None
    assert mock_idp.relative_path("/.well-known/jwks.json") is None


@pytest.mark.parametrize("issuer", ["http://[::1:8001/", "https://tenant]/"])
def test_an_issuer_no_url_parser_reads_is_refused_at_once(mock_idp: MockIdP, issuer: str) -> None:
    """Refused when set, not on every request: each would have raised while being routed,
    and the server hung up without an answer (found by review)."""
    with pytest.raises(ValueError, match=f"^issuer {re.escape(repr(issuer))} is not a URL: "):
        MockIdP(issuer, keys=mock_idp.keys)
    before = mock_idp.issuer
    with pytest.raises(ValueError, match="is not a URL"):
        mock_idp.issuer = issuer
    assert mock_idp.issuer == before
    assert mock_idp.relative_path("/.well-known/jwks.json") == "/.well-known/jwks.json"


def test_paths_outside_the_issuer_s_path_are_not_the_idp_s(mock_idp: MockIdP) -> None:
    mock_idp.issuer = "https://host.test/tenant/"
    assert mock_idp.relative_path("/tenant/.well-known/jwks.json") == "/.well-known/jwks.json"
    assert mock_idp.relative_path("/.well-known/jwks.json") is None
    assert mock_idp.relative_path("/other/oauth/token") is None
