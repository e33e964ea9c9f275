"""The JSON of a JWS header or claims set: a UTF-8 JSON object of finite numbers."""

from __future__ import annotations

import json

import pytest

from apiexample.jose_json import NotAJSONObject, parse_object

DOCUMENT = {"alg": "RS256", "kid": "k", "n": 1.5, "list": [1, None, True]}


def test_a_utf8_json_object_parses() -> None:
    assert parse_object(json.dumps(DOCUMENT).encode()) == DOCUMENT
    assert parse_object('{"name": "é"}'.encode()) == {"name": "é"}


def test_the_last_duplicate_member_wins() -> None:
    """RFC 7515 section 4 allows a parser that keeps the lexically last member."""
    assert parse_object(b'{"alg": "none", "alg": "RS256"}') == {"alg": "RS256"}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32", "utf-8-sig", "latin-1"])
def test_other_encodings_are_not_json(encoding: str) -> None:
    data = json.dumps({"alg": "RS256", "x": "ÿ"}, ensure_ascii=False).encode(encoding)
    with pytest.raises(NotAJSONObject) as refused:
        parse_object(data)
    assert refused.value.reason == "not_json"


@pytest.mark.parametrize(
    "data",
    [b'{"n": NaN}', b'{"n": Infinity}', b'{"n": -Infinity}', b'{"n": 1e400}', b'{"n": -1e400}'],
)
def test_numbers_must_be_finite(data: bytes) -> None:
    with pytest.raises(NotAJSONObject, match="not_json"):
        parse_object(data)


@pytest.mark.parametrize("data", [b"", b"not json", b"{", b"[" * 50_000, b'{"a": 1} x'])
def test_what_is_not_json(data: bytes) -> None:
    with pytest.raises(NotAJSONObject, match="not_json"):
        parse_object(data)


@pytest.mark.parametrize("data", [b"[]", b"1", b'"alg"', b"null", b"true"])
def test_json_that_is_not_an_object(data: bytes) -> None:
    with pytest.raises(NotAJSONObject) as refused:
        parse_object(data)
    assert refused.value.reason == "not_an_object"
