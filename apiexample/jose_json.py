"""The JSON inside a JWS: one parser for the protected header and the claims set.

Both are JSON objects encoded in UTF-8 (RFC 7515 section 5.2 steps 3-4, RFC 7519 section 7.2
step 10, RFC 8259 section 8.1): no other encoding, no byte order mark, no ``NaN`` or
``Infinity``, and no number too large to be finite (``1e400`` would be a token that never
expires). Duplicate member names keep the last one, as RFC 7515 section 4 allows.
"""

from __future__ import annotations

import json
import math
from typing import Any


class NotAJSONObject(ValueError):
    """``reason`` is ``not_json`` or ``not_an_object``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite number")
    return value


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def parse_object(data: bytes) -> dict[str, Any]:
    """``data`` as a JSON object, or ``NotAJSONObject``."""
    try:
        value = _DECODER.decode(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise NotAJSONObject("not_json") from exc
    if not isinstance(value, dict):
        raise NotAJSONObject("not_an_object")
    return value
