"""A declared ``Content-Length``, read alike by the ASGI body limit and the JWKS fetch."""

from __future__ import annotations

import sys

import pytest

from apiexample.content_length import MAX_DIGITS, declared_length


@pytest.mark.parametrize(
    ("value", "length"),
    [
        ("0", 0),
        ("42", 42),
        (" 42 ", 42),  # blanks around a field value are not part of it (RFC 9110 section 5.5)
        ("00042", 42),
        ("9" * MAX_DIGITS, int("9" * MAX_DIGITS)),
        ("1" + "0" * MAX_DIGITS, sys.maxsize),  # one digit more: larger than any limit
        ("9" * 5000, sys.maxsize),  # int() would raise past 4,300 digits
        ("0" * 5000 + "7", 7),  # leading zeros are no size
    ],
)
def test_a_decimal_number_is_its_length(value: str, length: int) -> None:
    assert declared_length(value) == length


@pytest.mark.parametrize("value", ["", " ", "-1", "+1", "1e9", "0x10", "\u00b2", "\u0663", "1 2"])
def test_anything_else_reads_as_undeclared(value: str) -> None:
    """Only ASCII digits: ``"\u00b2".isdigit()`` and ``"\u0663".isdigit()`` hold, ``int()``
    refuses the first and takes the second as 3."""
    assert declared_length(value) == 0
