"""Every rule of the README's "What makes a token valid", through the protected route."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from apiexample import conf, signing_keys
from apiexample.errors import InsufficientScope
from apiexample.validator import (
    SIGNATURE_SCHEMES,
    Auth0AccessToken,
    Auth0JWTBearerTokenValidator,
)
from apiexample.views import require_auth
from mock_idp import ControllableClock, KeyPair, KeyState, MockIdP
from mock_idp.keys import b64url
from mock_idp.pytest_plugin import MockIdPKeys
from tests.apiexample.helpers import assert_refused


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_valid_machine_token_is_accepted(call: Any, mock_idp: MockIdP) -> None:
    response = call("/api/private", mock_idp.mint())
    assert response.status_code == 200


def test_valid_user_token_with_audience_list_is_accepted(call: Any, mock_idp: MockIdP) -> None:
    token = mock_idp.mint(user=True, scope="openid read:messages")
    assert call("/api/private-scoped", token).status_code == 200


def test_an_auth0_shaped_key_set_is_accepted(
    call: Any, mock_idp: MockIdP, mock_idp_keys: MockIdPKeys
) -> None:
    """auth0-facts.md: members carry ``x5c`` and ``x5t``; the current and the next key."""
    mock_idp.publish_x5c = True
    mock_idp.keys.add(mock_idp_keys.secondary, KeyState.PUBLISHED)
    members = mock_idp.jwks()["keys"]
    assert len(members) == 2
    assert all({"alg", "kty", "use", "n", "e", "kid", "x5t", "x5c"} <= set(m) for m in members)
    assert call("/api/private", mock_idp.mint()).status_code == 200


@pytest.mark.parametrize(
    "token",
    [
        "abc",
        "a.b",
        "a.b.c.d",
        "a..c",
        "....",
        "a.b.c ",
        "a.b.c\x00",
        "ä.b.c",
        "a.b.c=",
        "eyJhbGciOiJSUzI1NiJ9.e30.",
        "x" * 20000,
    ],
)
def test_only_compact_jws_of_three_segments(call: Any, token: str) -> None:
    assert_refused(call("/api/private", token), 401, "invalid_token")


def test_json_serialised_jws_is_refused(call: Any, mock_idp: MockIdP) -> None:
    header, payload, signature = mock_idp.mint().split(".")
    as_json = json.dumps({"payload": payload, "protected": header, "signature": signature})
    assert_refused(call("/api/private", as_json), 401, "invalid_token")


@pytest.mark.parametrize("alg", ["none", "None", "HS256", "HS512", "RS384", "ES256", "PS256", "x"])
def test_alg_outside_the_allow_list_is_refused_before_any_key(
    call: Any, mock_idp: MockIdP, alg: str
) -> None:
    token = mock_idp.mint(header={"alg": alg})
    assert_refused(call("/api/private", token), 401, "invalid_token")
    assert mock_idp.hit_count() == 0  # no key was fetched to refuse it


@pytest.mark.parametrize("alg", sorted(conf.ASYMMETRIC_ALGORITHMS - {"RS256"}))
def test_other_rsa_algorithms_work_when_allowed(
    call: Any, mock_idp: MockIdP, mock_idp_keys: MockIdPKeys, api_settings: Any, alg: str
) -> None:
    api_settings.AUTH0_ALGORITHMS = f"RS256,{alg}"
    key = mock_idp.keys.add(KeyPair(mock_idp_keys.secondary.private_key, alg=alg))
    assert call("/api/private", mock_idp.mint(key=key)).status_code == 200


def test_every_allowed_algorithm_has_a_signature_scheme() -> None:
    assert set(SIGNATURE_SCHEMES) == conf.ASYMMETRIC_ALGORITHMS


def test_a_key_marked_for_one_alg_does_not_verify_another(
    call: Any, mock_idp: MockIdP, api_settings: Any
) -> None:
    api_settings.AUTH0_ALGORITHMS = "RS256,PS256"
    token = mock_idp.mint(algorithm="PS256")  # signed by the RS256 key, as PS256
    assert_refused(call("/api/private", token), 401, "invalid_token")


def test_a_key_checked_for_one_alg_is_checked_again_for_another(
    call: Any, mock_idp: MockIdP, api_settings: Any
) -> None:
    """joserfc's key rules are remembered per (kid, alg): once the key has verified an RS256
    token, a PS256 one by it is still held to them (found by mutation testing)."""
    api_settings.AUTH0_ALGORITHMS = "RS256,PS256"
    assert call("/api/private", mock_idp.mint()).status_code == 200
    token = mock_idp.mint(algorithm="PS256")  # signed by the RS256 key, as PS256
    assert_refused(call("/api/private", token), 401, "invalid_token")


def test_a_pss_signature_needs_a_salt_the_size_of_the_hash(
    call: Any, mock_idp: MockIdP, mock_idp_keys: MockIdPKeys, api_settings: Any
) -> None:
    """RFC 7518 section 3.5: PS256 uses a 32-byte salt; a salt-free signature is another scheme."""
    api_settings.AUTH0_ALGORITHMS = "RS256,PS256"
    key = mock_idp.keys.add(KeyPair(mock_idp_keys.secondary.private_key, alg="PS256"))
    good = mock_idp.mint(key=key)
    assert call("/api/private", good).status_code == 200
    header, payload, _signature = good.split(".")
    no_salt = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=0)
    assert isinstance(key.private_key, rsa.RSAPrivateKey)
    signature = key.private_key.sign(f"{header}.{payload}".encode(), no_salt, hashes.SHA256())
    salt_free = f"{header}.{payload}.{b64url(signature)}"
    assert_refused(call("/api/private", salt_free), 401, "invalid_token")


@pytest.mark.parametrize(
    ("granted", "required", "allowed"),
    [
        ({"read:messages"}, ["read:messages"], True),
        ({"b"}, ["a", "b"], True),  # a list names alternatives: any one will do
        ({"a"}, ["a", "b"], True),
        ({"c"}, ["a", "b"], False),
        ({"read:messages"}, ["read:messages write:messages"], False),  # one entry: all of them
        ({"read:messages", "write:messages"}, ["read:messages write:messages"], True),
    ],
)
def test_required_scopes_as_authlib_reads_them(
    api_settings: Any, granted: set[str], required: list[str], allowed: bool
) -> None:
    """Authlib's ``require_oauth(["a", "b c"])``: "a", or both "b" and "c" (RFC 6749 3.3)."""
    validator = Auth0JWTBearerTokenValidator()
    claims = {"exp": 4102444800, "iat": 0, "scope": " ".join(sorted(granted))}
    token = Auth0AccessToken(claims, validator.policies().claims, frozenset(granted))
    if allowed:
        validator.validate_token(token, required, None)
    else:
        with pytest.raises(InsufficientScope):
            validator.validate_token(token, required, None)


@pytest.mark.parametrize(
    ("required", "named"),
    [
        (["read:a", "read:b"], "read:a"),  # RFC 6750 section 3.1: the first alternative
        (["", "read:b read:c"], "read:b read:c"),  # an empty alternative is none at all
    ],
)
def test_insufficient_scope_names_the_first_alternative_and_no_empty_one_grants_access(
    api: Any, mock_idp: MockIdP, required: list[str], named: str
) -> None:
    """``require_auth(["", "admin"])`` (a scope read from an unset setting) still needs
    ``admin``: an empty string is left out, not an alternative that every token satisfies."""

    @require_auth(required)
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("secret")

    token = mock_idp.mint(scope="read:c")
    response = view(RequestFactory().get("/x", HTTP_AUTHORIZATION=f"Bearer {token}"))
    assert_refused(response, 403, "insufficient_scope")
    assert f'scope="{named}"' in response["WWW-Authenticate"]


@pytest.mark.parametrize("typ", [None, "JWT", "jwt", "at+jwt", "AT+JWT", "application/at+jwt"])
def test_accepted_typ_values(call: Any, mock_idp: MockIdP, typ: str | None) -> None:
    token = (
        mock_idp.mint(remove_header=["typ"]) if typ is None else mock_idp.mint(header={"typ": typ})
    )
    assert call("/api/private", token).status_code == 200


@pytest.mark.parametrize("typ", ["dpop+jwt", "logout+jwt", "secevent+jwt", "JWE", "", 1])
def test_other_typ_values_are_refused(call: Any, mock_idp: MockIdP, typ: Any) -> None:
    assert_refused(call("/api/private", mock_idp.mint(header={"typ": typ})), 401, "invalid_token")


@pytest.mark.parametrize(
    "header", [{"crit": ["exp"]}, {"crit": ["b64"], "b64": False}, {"b64": True}]
)
def test_crit_and_b64_are_refused(call: Any, mock_idp: MockIdP, header: dict[str, Any]) -> None:
    assert_refused(call("/api/private", mock_idp.mint(header=header)), 401, "invalid_token")


def test_embedded_keys_are_never_used(call: Any, mock_idp: MockIdP, mock_idp_keys: Any) -> None:
    attacker = mock_idp.foreign_key
    header = {
        "kid": mock_idp.keys.signing_key.kid,
        "jwk": attacker.public_jwk(),
        "jku": "https://attacker.example/jwks.json",
        "x5u": "https://attacker.example/cert.pem",
    }
    token = mock_idp.mint(key=attacker, header=header)
    assert_refused(call("/api/private", token), 401, "invalid_token")


@pytest.mark.parametrize("kid", [None, "", 7, "unknown", "../../etc/passwd", "k" * 300])
def test_kid_must_name_a_published_key(call: Any, mock_idp: MockIdP, kid: Any) -> None:
    token = (
        mock_idp.mint(remove_header=["kid"]) if kid is None else mock_idp.mint(header={"kid": kid})
    )
    assert_refused(call("/api/private", token), 401, "invalid_token")


def test_signature_from_another_key_with_a_real_kid(call: Any, mock_idp: MockIdP) -> None:
    token = mock_idp.mint(key=mock_idp.foreign_key, header={"kid": mock_idp.keys.signing_key.kid})
    assert_refused(call("/api/private", token), 401, "invalid_token")


def test_tampered_payload_is_refused(call: Any, mock_idp: MockIdP) -> None:
    header, _, signature = mock_idp.mint(scope="").split(".")
    forged = json.dumps(mock_idp.claims(scope="read:messages")).encode()
    token = f"{header}.{b64(forged)}.{signature}"
    assert_refused(call("/api/private-scoped", token), 401, "invalid_token")


def test_small_rsa_keys_are_not_trusted(call: Any, mock_idp: MockIdP, mock_idp_keys: Any) -> None:
    weak = mock_idp_keys.rsa_1024
    mock_idp.keys.add(weak)
    token = mock_idp.mint(key=weak)
    assert_refused(call("/api/private", token), 401, "invalid_token")


@pytest.mark.parametrize("header_remembered", [False, True], ids=["new-header", "known-header"])
@pytest.mark.parametrize(
    ("length", "reason"),
    [(1366, "signature_invalid"), (1367, "token_malformed")],
)
def test_signatures_as_long_as_the_largest_kept_key_makes_are_verified(
    call: Any, mock_idp: MockIdP, caplog: Any, length: int, reason: str, header_remembered: bool
) -> None:
    """An 8192-bit key signs 1366 base64url characters; joserfc's bound (1024) stops at 6144
    bits, so the validator raises it to what the JWKS filter keeps. Longer is malformed:
    joserfc says so for a new header, the validator's own bound for a remembered one."""
    assert signing_keys.MAX_RSA_BITS == 8192
    assert signing_keys.MAX_SIGNATURE_LENGTH == 1366  # 1024 bytes, 6 bits a character
    if header_remembered:
        assert call("/api/private", mock_idp.mint()).status_code == 200
    head = mock_idp.mint().rsplit(".", 1)[0]
    with caplog.at_level(logging.INFO, logger="apiexample"):
        assert_refused(call("/api/private", f"{head}.{'A' * length}"), 401, "invalid_token")
    assert f"reason={reason} " in caplog.text


@pytest.mark.parametrize(
    ("claims", "remove"),
    [
        ({"iss": "https://other.example/"}, []),
        ({}, ["iss"]),
        ({"aud": "https://other.api"}, []),
        ({"aud": ["https://other.api", "https://x"]}, []),
        ({}, ["aud"]),
        ({"aud": 7}, []),
        ({}, ["exp"]),
        ({}, ["iat"]),
        ({}, ["sub"]),
        ({"sub": 12}, []),
        ({"exp": "4102444800"}, []),
        ({"scope": ["read:messages"]}, []),
        ({"permissions": "read:messages"}, []),
        ({"permissions": [1]}, []),
    ],
)
def test_claims_that_make_a_token_invalid(
    call: Any, mock_idp: MockIdP, claims: dict[str, Any], remove: list[str]
) -> None:
    token = mock_idp.mint(claims=claims, remove_claims=remove)
    assert_refused(call("/api/private", token), 401, "invalid_token")


def test_issuer_must_match_exactly(call: Any, mock_idp: MockIdP) -> None:
    without_slash = mock_idp.issuer.rstrip("/")
    token = mock_idp.mint(claims={"iss": without_slash})
    assert_refused(call("/api/private", token), 401, "invalid_token")


def test_audience_list_containing_ours_is_accepted(call: Any, mock_idp: MockIdP) -> None:
    assert mock_idp.audience is not None
    token = mock_idp.mint(audience=["https://other.api", mock_idp.audience])
    assert call("/api/private", token).status_code == 200


class TestOneLeewayForAllTimes:
    """``exp``, ``nbf`` and ``iat`` get the same leeway (AUTH0_LEEWAY, default 30 s)."""

    def test_expired_within_leeway_is_accepted(self, call: Any, mock_idp: MockIdP) -> None:
        assert call("/api/private", mock_idp.mint(expires_in=-20)).status_code == 200

    @pytest.mark.parametrize(("after_exp", "accepted"), [(29, True), (30, False), (31, False)])
    def test_exp_plus_the_leeway_is_the_first_refused_second(
        self,
        api_settings: Any,
        mock_idp_network: Any,
        mock_idp: MockIdP,
        token_clock: ControllableClock,
        after_exp: int,
        accepted: bool,
    ) -> None:
        """RFC 7519 section 4.1.4: "on or after" exp (plus the leeway), in the validation
        itself and not only in Authlib's later ``is_expired()``: joserfc < 1.8 took it."""
        from apiexample.errors import InvalidToken
        from apiexample.views import require_auth

        token = mock_idp.mint(expires_in=60)
        token_clock.advance(60 + after_exp)
        validator = require_auth.get_token_validator("bearer")
        if accepted:
            validator.authenticate_token(token)
        else:
            with pytest.raises(InvalidToken) as refused:
                validator.authenticate_token(token)
            assert refused.value.reason == "token_expired"

    def test_expired_beyond_leeway_is_refused(self, call: Any, mock_idp: MockIdP) -> None:
        assert_refused(call("/api/private", mock_idp.mint(expires_in=-40)), 401, "invalid_token")

    @pytest.mark.parametrize("claim", ["nbf", "iat"])
    def test_future_within_leeway_is_accepted(
        self, call: Any, mock_idp: MockIdP, token_clock: ControllableClock, claim: str
    ) -> None:
        token = mock_idp.mint(claims={claim: int(token_clock.now()) + 20})
        assert call("/api/private", token).status_code == 200

    @pytest.mark.parametrize("claim", ["nbf", "iat"])
    def test_future_beyond_leeway_is_refused(
        self, call: Any, mock_idp: MockIdP, token_clock: ControllableClock, claim: str
    ) -> None:
        token = mock_idp.mint(claims={claim: int(token_clock.now()) + 120})
        assert_refused(call("/api/private", token), 401, "invalid_token")

    def test_leeway_setting_applies(self, call: Any, mock_idp: MockIdP, api_settings: Any) -> None:
        api_settings.AUTH0_LEEWAY = 0
        assert_refused(call("/api/private", mock_idp.mint(expires_in=-2)), 401, "invalid_token")

    def test_is_expired_honours_the_leeway(self, call: Any, mock_idp: MockIdP) -> None:
        from apiexample.claims import ClaimsPolicy

        now = 1_000_000.0
        policy = ClaimsPolicy("https://i/", "a", 30, clock=lambda: now)
        token = Auth0AccessToken({"exp": now - 10, "scope": ""}, policy)
        assert not token.is_expired()
        assert Auth0AccessToken({"exp": now - 31, "scope": ""}, policy).is_expired()


class TestScopes:
    def test_get_scope_lists_what_scope_and_permissions_grant(self) -> None:
        """Authlib's token API: one space-separated string, in a stable order."""
        from apiexample.claims import ClaimsPolicy

        policy = ClaimsPolicy("https://i/", "a", 30)
        claims = {"scope": "write:b  read:a", "permissions": ["read:c", "read:a"]}
        assert Auth0AccessToken(claims, policy).get_scope() == "read:a read:c write:b"

    @pytest.mark.parametrize(
        "scope",
        [
            "read:messages",
            "openid read:messages",
            "read:messages write:messages",
            "a  read:messages",
        ],
    )
    def test_whole_scope_in_the_list_grants(self, call: Any, mock_idp: MockIdP, scope: str) -> None:
        assert call("/api/private-scoped", mock_idp.mint(scope=scope)).status_code == 200

    @pytest.mark.parametrize(
        "scope",
        [
            "read:message",
            "read:messagesX",
            "xread:messages",
            "READ:MESSAGES",
            "read:messages\tx",
            "a\u00a0read:messages",
            "a\u3000read:messages",
            "",
        ],
    )
    def test_anything_else_does_not(self, call: Any, mock_idp: MockIdP, scope: str) -> None:
        response = call("/api/private-scoped", mock_idp.mint(scope=scope))
        assert_refused(response, 403, "insufficient_scope")

    def test_rbac_permissions_grant(self, call: Any, mock_idp: MockIdP) -> None:
        token = mock_idp.mint(scope="", permissions=["read:messages"])
        assert call("/api/private-scoped", token).status_code == 200

    def test_permissions_without_it_do_not(self, call: Any, mock_idp: MockIdP) -> None:
        token = mock_idp.mint(scope="", permissions=["read:message", "write:messages"])
        assert_refused(call("/api/private-scoped", token), 403, "insufficient_scope")


def test_foreign_issuer_keys_in_another_tenant(call: Any, mock_idp_keys: Any) -> None:
    other_tenant = MockIdP(
        "https://other-tenant.example/",
        keys=[mock_idp_keys.secondary],
        audience="https://api.example.test",
    )
    assert_refused(call("/api/private", other_tenant.mint()), 401, "invalid_token")


def test_ec_keys_in_the_jwks_are_skipped(call: Any, mock_idp: MockIdP, mock_idp_keys: Any) -> None:
    ec: KeyPair = mock_idp_keys.ec_p256
    mock_idp.keys.add(ec)
    assert call("/api/private", mock_idp.mint()).status_code == 200
    assert_refused(call("/api/private", mock_idp.mint(key=ec)), 401, "invalid_token")


@pytest.mark.parametrize(
    "header",
    [{"jku": 1}, {"x5c": "not-a-list"}, {"cty": 1}, {"jwk": "not-a-key"}, {"typ": None}],
)
def test_malformed_registered_header_members_are_refused_before_any_key(
    call: Any, mock_idp: MockIdP, header: dict[str, Any], caplog: Any
) -> None:
    with caplog.at_level(logging.INFO, logger="apiexample"):
        assert_refused(call("/api/private", mock_idp.mint(header=header)), 401, "invalid_token")
    assert "reason=header_invalid " in caplog.text  # joserfc's rule, not a crash
    assert mock_idp.hit_count() == 0


@pytest.mark.parametrize("header_remembered", [False, True], ids=["new-header", "known-header"])
@pytest.mark.parametrize(("segment", "reason"), [(1, "token_malformed"), (2, "signature_invalid")])
def test_non_canonical_base64url_is_refused(
    call: Any, mock_idp: MockIdP, caplog: Any, segment: int, reason: str, header_remembered: bool
) -> None:
    """Unused low bits set in the last character: a lenient decoder reads the same bytes.
    Refused by our decoder, before the signature for the payload; a known header skips
    joserfc's own check of the segments, so ours is the only one then."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for n in range(8):  # find a token whose segment has unused bits in its last character
        token = mock_idp.mint(claims={"n": "x" * n})
        parts = token.split(".")
        if len(parts[segment]) % 4 in {2, 3}:
            break
    if header_remembered:
        assert call("/api/private", token).status_code == 200
    last = parts[segment][-1]
    parts[segment] = parts[segment][:-1] + alphabet[alphabet.index(last) + 1]
    with caplog.at_level(logging.INFO, logger="apiexample"):
        assert_refused(call("/api/private", ".".join(parts)), 401, "invalid_token")
    assert f"reason={reason} " in caplog.text


def test_policies_are_built_once_per_configuration(api_settings: Any) -> None:
    from apiexample.validator import Auth0JWTBearerTokenValidator

    validator = Auth0JWTBearerTokenValidator()
    first = validator.policies()
    assert validator.policies() is first
    validator.clock = lambda: 0.0  # read through validator.now: no rebuild needed
    assert validator.policies() is first
    api_settings.AUTH0_LEEWAY = 5
    assert validator.policies() is not first


def test_only_verified_headers_are_remembered(call: Any, mock_idp: MockIdP) -> None:
    from apiexample.views import require_auth

    forged = mock_idp.mint(key=mock_idp.foreign_key, header={"kid": mock_idp.keys.signing_key.kid})
    assert_refused(call("/api/private", forged), 401, "invalid_token")
    policies = require_auth.get_token_validator("bearer").policies()
    assert policies.headers == {}
    token = mock_idp.mint()
    assert call("/api/private", token).status_code == 200
    assert list(policies.headers) == [token.split(".")[0]]
    assert_refused(call("/api/private", forged), 401, "invalid_token")  # same header, still no


def test_remembered_headers_are_bounded(call: Any, mock_idp: MockIdP) -> None:
    from apiexample.validator import MAX_REMEMBERED_HEADERS
    from apiexample.views import require_auth

    for n in range(MAX_REMEMBERED_HEADERS):
        assert call("/api/private", mock_idp.mint(header={"x-n": n})).status_code == 200
    policies = require_auth.get_token_validator("bearer").policies()
    assert len(policies.headers) == MAX_REMEMBERED_HEADERS  # all kept up to the bound
    assert call("/api/private", mock_idp.mint(header={"x-n": "one more"})).status_code == 200
    assert len(policies.headers) == 1  # then started afresh


def test_checked_keys_are_bounded(call: Any, mock_idp: MockIdP) -> None:
    import dataclasses

    from apiexample.validator import MAX_REMEMBERED_HEADERS
    from apiexample.views import require_auth

    token = mock_idp.mint()
    assert call("/api/private", token).status_code == 200
    policies = require_auth.get_token_validator("bearer").policies()
    header = policies.header(token, token.split(".")[0])
    key = signing_keys.cache_for(policies.config.jwks_url).get(header.kid)
    assert key is not None
    for n in range(MAX_REMEMBERED_HEADERS + 1):
        policies.check_key(dataclasses.replace(header, kid=f"kid-{n}"), key)
        assert 0 < len(policies.checked_keys) <= MAX_REMEMBERED_HEADERS


def test_validate_token_refuses_an_expired_token_itself(
    api_settings: Any, mock_idp: MockIdP, mock_idp_network: Any
) -> None:
    """Authlib calls ``validate_token`` after ``authenticate_token``, which already refuses an
    expired token; it checks again for a token it did not make (RFC 6750 section 3.1)."""
    from apiexample.errors import InvalidToken
    from apiexample.validator import Auth0JWTBearerTokenValidator

    clock = ControllableClock(start=mock_idp.clock.now())
    mock_idp.clock = clock
    validator = Auth0JWTBearerTokenValidator(clock=clock.now)
    token = validator.authenticate_token(mock_idp.mint(expires_in=60))
    validator.validate_token(token, None, None)
    clock.advance(3600)
    with pytest.raises(InvalidToken) as refused:
        validator.validate_token(token, None, None)
    assert refused.value.reason == "token_expired"
    assert refused.value.kid == repr(mock_idp.keys.signing_key.kid)


def test_a_header_over_joserfc_s_bound_is_malformed_and_logged_with_its_kid(
    call: Any, mock_idp: MockIdP, caplog: Any
) -> None:
    """Our header rules pass it; joserfc's size bound (512 characters) refuses it. The refusal
    still names the ``kid`` it gave (found by mutation testing)."""
    token = mock_idp.mint(header={"x-pad": "p" * 400})
    assert len(token.split(".")[0]) > 512
    with caplog.at_level(logging.INFO, logger="apiexample"):
        assert_refused(call("/api/private", token), 401, "invalid_token")
    refusal = next(r.getMessage() for r in caplog.records if "auth refused" in r.getMessage())
    assert "reason=token_malformed " in refusal
    assert f"kid={mock_idp.keys.signing_key.kid!r} " in refusal
