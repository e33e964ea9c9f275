"""Compact shape and header rules, checked before any key is touched."""

from __future__ import annotations

from typing import Any

import pytest

from apiexample.errors import InvalidToken
from apiexample.token_format import MAX_TOKEN_LENGTH, check_compact_shape, check_header

GOOD = {"alg": "RS256", "typ": "JWT", "kid": "k1"}


def reason(check: Any, *args: Any) -> str:
    with pytest.raises(InvalidToken) as caught:
        check(*args)
    return caught.value.reason


def test_a_compact_token_passes() -> None:
    check_compact_shape("aaa.bbb.ccc")
    check_compact_shape("a" * (MAX_TOKEN_LENGTH - 4) + ".b.c")  # exactly the longest taken


def test_the_longest_kid_passes() -> None:
    assert check_header({**GOOD, "kid": "k" * 256}, ["RS256"]) == "k" * 256


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("", "token_empty"),
        ("a" * (MAX_TOKEN_LENGTH + 1), "token_too_large"),
        ("a.b", "token_malformed"),
        ("a.b.", "token_malformed"),
        ("a+b.c.d", "token_malformed"),
        ("a.b.c\n", "token_malformed"),
        ("a..c", "token_malformed"),  # three non-empty segments
        ("a=.b.c", "token_malformed"),  # base64url without padding (RFC 7515 section 2)
        ("a.b.c==", "token_malformed"),
    ],
)
def test_shapes_refused(token: str, expected: str) -> None:
    assert reason(check_compact_shape, token) == expected


def test_header_returns_the_kid() -> None:
    assert check_header(GOOD, ["RS256"]) == "k1"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"alg": "HS256"}, "alg_not_allowed"),
        ({"alg": ["RS256"]}, "alg_not_allowed"),
        ({"typ": "dpop+jwt"}, "typ_not_allowed"),
        ({"typ": None}, "kid_missing"),  # typ null is "absent"; then the kid is missing below
        ({"crit": ["x"]}, "crit_not_understood"),
        ({"b64": False}, "b64_not_supported"),
        ({"kid": ""}, "kid_missing"),
        ({"kid": "k" * 257}, "kid_too_long"),
    ],
)
def test_header_refusals(change: dict[str, Any], expected: str) -> None:
    header = {**GOOD, **change}
    if change == {"typ": None}:
        header.pop("kid")
    assert reason(check_header, header, ["RS256"]) == expected
