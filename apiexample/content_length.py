"""A message's declared ``Content-Length`` (RFC 9110 section 8.6), read as one rule everywhere."""

from __future__ import annotations

import sys

#: Digits ``int()`` always takes: past 4,300 it raises ``ValueError``; 18 fit any limit in use.
MAX_DIGITS = 18


def declared_length(value: str) -> int:
    """``value`` as a length: 0 when it is not one decimal number of ASCII digits (as if
    undeclared), ``sys.maxsize`` when it has more than ``MAX_DIGITS`` significant digits."""
    text = value.strip()
    if not (text.isascii() and text.isdigit()):
        return 0
    digits = text.lstrip("0") or "0"
    return int(digits) if len(digits) <= MAX_DIGITS else sys.maxsize
