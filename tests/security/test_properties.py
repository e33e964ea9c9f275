"""Property-based attacks: random headers, segments and signed claim sets (hypothesis).

Whatever arrives, the API never answers 5xx, and answers 200 only for a token that a small
independent oracle of the README's "What makes a token valid" accepts (RFC 7519 section 4.1,
RFC 9068 section 2.2, RFC 6750 section 3.1).
"""

from __future__ import annotations

import binascii
import json
import string
import time
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mock_idp import MockIdP
from mock_idp.keys import b64url, b64url_decode
from tests.apiexample.helpers import assert_refused

pytestmark = pytest.mark.security

PRIVATE = "/api/private"
SCOPED = "/api/private-scoped"
LEEWAY = 30  # the default AUTH0_LEEWAY
SCOPE = "read:messages"

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

#: WSGI hands Django header values as latin-1 text (PEP 3333).
_LATIN1 = st.characters(min_codepoint=0, max_codepoint=255)
_B64URL = string.ascii_letters + string.digits + "-_"


def assert_never_5xx_or_200(response: Any) -> None:
    assert response.status_code < 500, response.content
    assert response.status_code != 200, response.content


# -- random Authorization values -------------------------------------------------------------------

authorizations = st.one_of(
    st.text(_LATIN1, max_size=200),
    st.builds(
        "{} {}".format,
        st.sampled_from(["Bearer", "bearer", "BEARER", "Basic", "DPoP", ""]),
        st.text(_LATIN1, max_size=300),
    ),
    st.builds(
        "Bearer {}.{}.{}".format,
        st.text(_B64URL, max_size=80),
        st.text(_B64URL, max_size=80),
        st.text(_B64URL, max_size=80),
    ),
)


@FUZZ
@given(value=authorizations)
def test_random_authorization_values_are_refused_with_401(api: Client, value: str) -> None:
    response = api.get(PRIVATE, HTTP_AUTHORIZATION=value)
    assert_never_5xx_or_200(response)
    error = response.json()["error"]
    assert error in {"missing_authorization", "unsupported_token_type", "invalid_token"}
    assert_refused(response, 401, error)


# -- random token segments -------------------------------------------------------------------------

REAL_KID = "<the real kid>"  # replaced by the IdP's signing kid inside the test

#: Any code point, and often a lone surrogate: JSON's \u escapes can carry one (RFC 8259
#: section 8.2). Drawn as numbers, not with ``st.characters()``, whose full range costs a first
#: run 0.9 s.
_any_char = (
    st.characters(max_codepoint=0x7F)
    | st.integers(0x80, 0x10FFFF).map(chr)
    | st.integers(0xD800, 0xDFFF).map(chr)
)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(_any_char, max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(_any_char, max_size=5), inner)
    ),
    max_leaves=8,
)
_headers = st.fixed_dictionaries(
    {
        "alg": st.sampled_from(["RS256", "none", "HS256", "RS512"]),
        "kid": st.sampled_from([REAL_KID, REAL_KID, "other", ""]),
    },
    optional={
        "typ": st.sampled_from(["JWT", "at+jwt", "dpop+jwt"]),
        "crit": st.just(["exp"]),
        "jwk": st.just({"kty": "RSA"}),
    },
)

#: An int is the index of the real token's segment to reuse; a str is a segment as is.
segments = st.one_of(
    st.integers(min_value=0, max_value=2),
    st.text(_B64URL, max_size=60),
    st.binary(max_size=64).map(b64url),
    _json_values.map(lambda value: b64url(json.dumps(value).encode())),
    _headers.map(lambda header: b64url(json.dumps(header).encode())),
)


@FUZZ
@given(parts=st.lists(segments, min_size=1, max_size=5))
def test_random_segments_never_pass_unless_they_are_the_real_token(
    api: Client, mock_idp: MockIdP, parts: list[int | str]
) -> None:
    real = mock_idp.mint()
    real_parts = real.split(".")
    token = ".".join(
        real_parts[part] if isinstance(part, int) else _with_real_kid(part, mock_idp)
        for part in parts
    )
    response = api.get(PRIVATE, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code < 500, response.content
    if token.split(".") == real_parts:
        assert response.status_code == 200
    else:
        assert_refused(response, 401, "invalid_token")


def _with_real_kid(segment: str, idp: MockIdP) -> str:
    """A generated header segment, with the placeholder kid replaced by the real one."""
    try:
        decoded = json.loads(b64url_decode(segment))
    except (ValueError, binascii.Error):
        return segment
    if not isinstance(decoded, dict) or decoded.get("kid") != REAL_KID:
        return segment
    return b64url(json.dumps({**decoded, "kid": idp.keys.signing_key.kid}).encode())


# -- random claim sets, signed with the real key ---------------------------------------------------


class Missing:
    """The claim is left out."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = Missing()


@dataclass(frozen=True)
class Offset:
    """A NumericDate ``seconds`` from now, as an int or a float."""

    seconds: int
    as_float: bool = False


ISSUER = "<issuer>"
AUDIENCE = "<audience>"


def _offsets(*seconds: int) -> st.SearchStrategy[Offset]:
    return st.builds(Offset, st.sampled_from(seconds), st.booleans())


#: Values that keep a claim set valid (times at least 10 s away from every leeway boundary).
VALID: dict[str, st.SearchStrategy[Any]] = {
    "iss": st.just(ISSUER),
    "aud": st.sampled_from([AUDIENCE, [AUDIENCE], ["https://x.example", AUDIENCE]]),
    "exp": _offsets(-20, 60, 7200),
    "iat": _offsets(-7200, -60, 20),
    "nbf": st.one_of(st.just(MISSING), _offsets(-60, 20)),
    "sub": st.sampled_from(["auth0|6553da60a54af58e", "client@clients"]),
    "scope": st.sampled_from([MISSING, "", SCOPE, f"openid {SCOPE}", "openid"]),
    "permissions": st.sampled_from([MISSING, [], [SCOPE], ["x"]]),
}
_times = st.one_of(
    _offsets(-7200, -60, -40, -20, 20, 40, 60, 7200),
    st.sampled_from(["tomorrow", None, True, [1], MISSING]),
)
#: Any value, valid or not, for a claim picked for mutation.
ANY: dict[str, st.SearchStrategy[Any]] = {
    "iss": st.sampled_from([ISSUER + "x", "https://attacker.example/", 1, None, MISSING]),
    "aud": st.sampled_from([[AUDIENCE, 5], "x", [], ["x"], 5, [[AUDIENCE]], None, MISSING]),
    "exp": _times,
    "iat": _times,
    "nbf": _times,
    "sub": st.sampled_from(["", 5, None, ["x"], MISSING]),
    "scope": st.sampled_from([f"{SCOPE}:all", f"a\t{SCOPE}", [SCOPE], None, 5]),
    "permissions": st.sampled_from([SCOPE, [1], None, {SCOPE: True}, [SCOPE, 1]]),
}


@st.composite
def claim_sets(draw: st.DrawFn) -> dict[str, Any]:
    """A valid claim set with up to three claims replaced by any value."""
    spec = {name: draw(strategy) for name, strategy in VALID.items()}
    for name in draw(st.lists(st.sampled_from(sorted(ANY)), max_size=3, unique=True)):
        spec[name] = draw(ANY[name])
    return spec


def materialise(spec: dict[str, Any], idp: MockIdP, now: float) -> dict[str, Any]:
    """The claim set a spec stands for, with real issuer, audience and times."""
    values = {ISSUER: idp.issuer, ISSUER + "x": idp.issuer + "x", AUDIENCE: idp.audience}

    def resolve(value: Any) -> Any:
        if isinstance(value, Offset):
            return int(now) + value.seconds + (0.5 if value.as_float else 0)
        if isinstance(value, list):
            return [resolve(item) for item in value]
        return values.get(value, value) if isinstance(value, str) else value

    return {name: resolve(value) for name, value in spec.items() if value is not MISSING}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def oracle(claims: dict[str, Any], issuer: str, audience: str, now: float) -> str:
    """``valid``, ``lacks_scope`` or ``invalid``: the README's rules, written independently."""
    aud = claims.get("aud")
    checks = [
        claims.get("iss") == issuer,
        aud == audience
        or (isinstance(aud, list) and audience in aud and all(isinstance(a, str) for a in aud)),
        _number(claims.get("exp")) and claims["exp"] > now - LEEWAY,
        _number(claims.get("iat")) and claims["iat"] <= now + LEEWAY,
        "nbf" not in claims or (_number(claims["nbf"]) and claims["nbf"] <= now + LEEWAY),
        isinstance(claims.get("sub"), str) and claims["sub"] != "",
        isinstance(claims.get("scope", ""), str),
        isinstance(claims.get("permissions", []), list)
        and all(isinstance(p, str) for p in claims.get("permissions", [])),
    ]
    if not all(checks):
        return "invalid"
    granted = set(claims.get("scope", "").split(" ")) | set(claims.get("permissions", []))
    return "valid" if SCOPE in granted else "lacks_scope"


@settings(FUZZ, max_examples=250)
@given(spec=claim_sets())
def test_random_signed_claim_sets_follow_the_oracle(
    api: Client, mock_idp: MockIdP, spec: dict[str, Any]
) -> None:
    now = time.time()
    claims = materialise(spec, mock_idp, now)
    token = mock_idp.mint(payload=json.dumps(claims).encode())
    response = api.get(SCOPED, HTTP_AUTHORIZATION=f"Bearer {token}")
    expected = oracle(claims, mock_idp.issuer, mock_idp.audience or "", now)
    event(f"oracle: {expected}")
    if expected == "valid":
        assert response.status_code == 200, (claims, response.content)
    elif expected == "lacks_scope":
        assert_refused(response, 403, "insufficient_scope")
    else:
        assert_refused(response, 401, "invalid_token")
