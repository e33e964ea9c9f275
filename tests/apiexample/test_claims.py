"""Claims rules (RFC 7519 section 4.1) and granted scopes (RFC 6749 section 3.3)."""

from __future__ import annotations

from typing import Any

import pytest

from apiexample.claims import ClaimsPolicy, granted_scopes, parse_payload
from apiexample.errors import InvalidToken

NOW = 1_700_000_000
ISSUER = "https://tenant.example/"
AUDIENCE = "https://api.example"


@pytest.fixture
def policy() -> ClaimsPolicy:
    return ClaimsPolicy(ISSUER, AUDIENCE, 30, clock=lambda: NOW)


def claims(**changes: Any) -> dict[str, Any]:
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "c@clients", "iat": NOW, "exp": NOW + 60}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def reason(policy: ClaimsPolicy, value: dict[str, Any]) -> str:
    with pytest.raises(InvalidToken) as caught:
        policy.validate(value)
    return caught.value.reason


def test_valid_claims_pass(policy: ClaimsPolicy) -> None:
    policy.validate(claims())


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"exp": NOW - 31}, "token_expired"),
        ({"exp": ...}, "claim_missing"),
        ({"iat": ...}, "claim_missing"),
        ({"sub": ...}, "claim_missing"),
        ({"iss": ...}, "claim_missing"),
        ({"aud": ...}, "claim_missing"),
        ({"iss": ISSUER.upper()}, "claim_invalid_iss"),
        ({"aud": [AUDIENCE + "/"]}, "claim_invalid_aud"),
        ({"nbf": NOW + 31}, "claim_invalid_nbf"),
        ({"iat": NOW + 31}, "claim_invalid_iat"),
        ({"exp": True}, "claim_invalid_exp"),
        ({"iat": False}, "claim_invalid_iat"),
        ({"nbf": "0"}, "claim_invalid_nbf"),
        ({"exp": [NOW + 60]}, "claim_invalid_exp"),
        ({"scope": 1}, "scope_not_a_string"),
        ({"permissions": {"read:messages": True}}, "permissions_not_a_list_of_strings"),
    ],
)
def test_refusals(policy: ClaimsPolicy, changes: dict[str, Any], expected: str) -> None:
    assert reason(policy, claims(**changes)) == expected


@pytest.mark.parametrize(
    "payload",
    [
        b"[]",
        b"1",
        b"not json",
        b'{"exp": NaN}',
        b'{"exp": Infinity}',
        b'{"exp": 1e400}',
        b'{"exp": -1e400}',
        b"\xff",
        b"[" * 50_000,
    ],
)
def test_payload_must_be_a_json_object_of_numbers(payload: bytes) -> None:
    with pytest.raises(InvalidToken):
        parse_payload(payload)


def test_scope_is_split_on_spaces_only() -> None:
    assert granted_scopes({"scope": "a  b\tc"}) == {"a", "b\tc"}
    assert granted_scopes({"permissions": ["p"], "scope": "s"}) == {"p", "s"}
    assert granted_scopes({}) == frozenset()
