"""Claims rules (RFC 7519 section 4.1) and granted scopes (RFC 6749 section 3.3)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc.errors import ClaimError, ExpiredTokenError, MissingClaimError
from joserfc.jwt import JWTClaimsRegistry

from apiexample.claims import (
    TIME_CLAIMS,
    ClaimsPolicy,
    _claim_rules,
    copy_claims,
    granted_scopes,
    list_claims,
    parse_payload,
)
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


@pytest.mark.parametrize("name", ["exp", "nbf", "iat"])  # not TIME_CLAIMS: it could lose one
@pytest.mark.parametrize("value", [True, "0"])
def test_a_time_claim_of_the_wrong_type_is_refused_by_us_first(
    policy: ClaimsPolicy, name: str, value: Any
) -> None:
    """Before joserfc's rules (joserfc < 1.8 took ``true`` for a number), so before the
    missing ``sub`` those would report."""
    assert reason(policy, claims(sub=..., **{name: value})) == f"claim_invalid_{name}"


def test_claims_named_like_the_registry_s_attributes_are_ordinary_claims(
    policy: ClaimsPolicy,
) -> None:
    """Only joserfc's ``validate_<claim>`` methods are rules, not the registry's other names."""
    policy.validate(claims(options=1, now="x", leeway=[], check_value=None, essential_keys={}))


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"[]", "claims_not_an_object"),
        (b"not json", "claims_not_json"),
        (b"\xff", "claims_not_json"),
    ],
)
def test_payload_must_be_a_json_object(payload: bytes, expected: str) -> None:
    """The rules themselves are ``jose_json``'s (tests/apiexample/test_jose_json.py)."""
    with pytest.raises(InvalidToken) as refused:
        parse_payload(payload)
    assert refused.value.reason == expected


def test_scope_is_split_on_spaces_only() -> None:
    assert granted_scopes({"scope": "a  b\tc"}) == {"a", "b\tc"}
    assert granted_scopes({"permissions": ["p"], "scope": "s"}) == {"p", "s"}
    assert granted_scopes({}) == frozenset()


def test_validate_returns_the_granted_scopes(policy: ClaimsPolicy) -> None:
    granted = policy.validate(claims(scope="a b", permissions=["c"]))
    assert granted == {"a", "b", "c"}


# -- the same verdicts as joserfc's own JWTClaimsRegistry.validate ---------------------------

_claim_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(NOW - 100, NOW + 100),
    st.floats(NOW - 100, NOW + 100),
    st.sampled_from(["", ISSUER, AUDIENCE, ISSUER.upper(), "c@clients"]),
    st.lists(st.sampled_from([AUDIENCE, ISSUER, "", 1]), max_size=3),
    st.dictionaries(st.just("k"), st.integers(), max_size=1),
)
_claim_names = st.sampled_from(["iss", "aud", "sub", "exp", "nbf", "iat", "jti", "azp", "x"])


def _joserfc_reason(registry: JWTClaimsRegistry, value: dict[str, Any]) -> str | None:
    """What joserfc's own ``validate`` says, in our reason codes (None: accepted)."""
    try:
        registry.validate(value)
    except ExpiredTokenError:
        return "token_expired"
    except MissingClaimError:
        return "claim_missing"
    except ClaimError as exc:
        claim = getattr(exc, "claim", "")
        # joserfc < 1.8 sometimes names the type it wanted ("str"); we name the claim checked
        return f"claim_invalid_{claim if claim in value else '*'}"
    return None


@settings(deadline=None)  # no per-example time limit: CI runs this beside 3 other tox envs
@given(
    changes=st.dictionaries(_claim_names, _claim_values, max_size=4),
    removed=st.sets(_claim_names, max_size=2),
    reverse=st.booleans(),
)
def test_claims_verdicts_match_joserfc_registry(
    changes: dict[str, Any], removed: set[str], reverse: bool
) -> None:
    """``validate`` runs joserfc's rules from a table; it must say what joserfc's registry says,
    down to which claim is reported first, whatever the claims' order."""
    policy = ClaimsPolicy(ISSUER, AUDIENCE, 30, clock=lambda: NOW)
    items = [(k, v) for k, v in claims(**changes).items() if k not in removed]
    value = dict(reversed(items) if reverse else items)
    registry = JWTClaimsRegistry(
        now=lambda: NOW,
        leeway=30,
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": AUDIENCE},
        exp={"essential": True},
        iat={"essential": True},
        sub={"essential": True},
    )
    expected = _joserfc_reason(registry, value)
    try:
        policy.validate(value)
        ours = None
    except InvalidToken as refusal:
        ours = refusal.reason
    wrong_types = [
        name
        for name in TIME_CLAIMS
        if value.get(name) is not None
        and (isinstance(value[name], bool) or not isinstance(value[name], (int, float)))
    ]
    if value.get("jti") is not None and not isinstance(value["jti"], str):
        wrong_types.append("jti")
    if wrong_types:  # refused before joserfc's rules, which joserfc < 1.8 lets through
        assert ours == f"claim_invalid_{wrong_types[0]}"
    elif expected == "claim_invalid_*":
        assert ours is not None
        assert ours.startswith("claim_invalid_")
    else:
        assert ours == expected


def test_a_claim_with_options_but_no_joserfc_rule_still_gets_its_value_checked() -> None:
    """joserfc's registry falls back to ``check_value`` for such a claim; so do our rules."""
    registry = JWTClaimsRegistry(azp={"essential": True, "value": "client"})
    rules = _claim_rules(registry)
    rules["azp"]("client")
    with pytest.raises(ClaimError):
        rules["azp"]("evil")
    assert set(rules) >= {"iss", "aud", "sub", "exp", "nbf", "iat", "azp"}


@pytest.mark.parametrize(
    ("value", "lists"),
    [
        ({"a": "s", "n": 1, "f": 1.5, "b": True, "z": None}, ()),
        ({"aud": ["x", "y"], "permissions": [], "s": "t"}, ("aud", "permissions")),
        ({"aud": ["x", 1, None]}, ("aud",)),
        ({"org": {"id": "o"}}, None),
        ({"aud": [["x"]]}, None),
        ({"aud": [{"x": 1}], "s": "t"}, None),
    ],
)
def test_list_claims_names_lists_of_scalars_only(
    value: dict[str, Any], lists: tuple[str, ...] | None
) -> None:
    assert list_claims(value) == lists


def test_copy_claims_shares_nothing_mutable() -> None:
    original = {"aud": ["x"], "permissions": ["p"], "scope": "s"}
    copy = copy_claims(original, ("aud", "permissions"))
    assert copy == original
    copy["aud"].append("y")
    copy["permissions"].clear()
    copy["scope"] = "changed"
    assert original == {"aud": ["x"], "permissions": ["p"], "scope": "s"}


@pytest.mark.parametrize(
    ("valid_from", "expires_at", "inside"),
    [
        (NOW - 100, NOW + 100, True),
        (NOW - 100, NOW - 29, True),  # expired 29 s ago: within the 30 s leeway
        (NOW - 100, NOW - 30, False),
        (NOW + 30, NOW + 100, True),  # issued 30 s ahead: still within the leeway
        (NOW + 31, NOW + 100, False),
    ],
)
def test_in_window_applies_the_validation_time_rules(
    policy: ClaimsPolicy, valid_from: int, expires_at: int, inside: bool
) -> None:
    assert policy.in_window(valid_from, expires_at) is inside
    # What validation accepts: the claim rules, then the validator's expiry check, which holds
    # RFC 7519 section 4.1.4's "on or after" even where joserfc < 1.8 lets exp == now - leeway by.
    served = claims(iat=valid_from, exp=expires_at)
    try:
        policy.validate(served)
        accepted = not policy.is_expired(served)
    except InvalidToken:
        accepted = False
    assert accepted is inside


def test_a_fractional_exp_is_expired_by_the_fractional_clock() -> None:
    """joserfc compares ``exp`` with ``int(clock())``, ours with the clock itself: exp = T + 0.5
    has expired at T + 0.9 (leeway added), which joserfc's whole-second ``now`` lets by. Found
    by mutation testing: every other test's clock is whole seconds."""
    t = 1_700_000_000
    policy = ClaimsPolicy(ISSUER, AUDIENCE, 30, clock=lambda: t + 30 + 0.9)
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "c@clients", "iat": t - 60, "exp": t + 0.5}
    with pytest.raises(InvalidToken) as refused:
        policy.validate(claims)
    assert refused.value.reason == "token_expired"
    assert policy.is_expired(claims)


def test_a_fractional_iat_is_held_to_the_whole_second_clock_when_served_again() -> None:
    """joserfc compares ``iat`` and ``nbf`` with ``int(clock())``: iat = T + 30.5 is in the
    future at T + 0.7 (leeway 30), and a cached token with it is not served either (found by
    mutation testing)."""
    t = 1_700_000_000
    policy = ClaimsPolicy(ISSUER, AUDIENCE, 30, clock=lambda: t + 0.7)
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "c@clients", "iat": t + 30.5, "exp": t + 90}
    with pytest.raises(InvalidToken) as refused:
        policy.validate(claims)
    assert refused.value.reason == "claim_invalid_iat"
    assert not policy.in_window(t + 30.5, t + 90)


def test_a_fractional_leeway_is_whole_seconds() -> None:
    """joserfc's registry takes whole seconds; ours applies the same leeway (README: "a fraction
    is dropped"), so both rules agree."""
    assert ClaimsPolicy(ISSUER, AUDIENCE, 30.9).leeway == 30
