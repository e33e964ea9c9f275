"""What an access token must look like before any key is touched.

Only the JWS Compact Serialization (RFC 7515 section 7.1) is accepted: three base64url
segments, nothing else. The protected header is then held to RFC 8725: ``alg`` from the
allow-list (section 3.1), an explicit ``typ`` when present (section 3.11, RFC 9068 section
2.1), no ``crit`` we do not understand (RFC 7515 section 4.1.11), a ``kid`` to look the key up
by. ``jwk``, ``jku``, ``x5u`` and ``x5c`` are never read: keys come from the issuer's JWKS only.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from apiexample.errors import InvalidToken

#: Generous for Auth0 tokens (a few hundred permissions); bounds work on hostile input
#: (CVE-2025-61920: unbounded header and signature segments).
MAX_TOKEN_LENGTH = 16 * 1024
MAX_KID_LENGTH = 256
ACCEPTED_TYPES = frozenset({"jwt", "at+jwt", "application/at+jwt"})

_BASE64URL_CHAR = "[A-Za-z0-9_-]"  # RFC 4648 section 5; JWS drops the padding (RFC 7515 section 2)
#: base64url text, possibly empty.
BASE64URL = re.compile(f"{_BASE64URL_CHAR}*")
_COMPACT_JWS = re.compile(rf"{_BASE64URL_CHAR}+\.{_BASE64URL_CHAR}+\.{_BASE64URL_CHAR}+")


def check_compact_shape(token: str) -> None:
    """Three non-empty base64url segments, and not too long (RFC 7515 section 7.1)."""
    if not token:
        raise InvalidToken("token_empty")
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("token_too_large")
    if not _COMPACT_JWS.fullmatch(token):
        raise InvalidToken("token_malformed")


def check_header(header: dict[str, Any], algorithms: Collection[str]) -> str:
    """Apply the header rules and return the ``kid`` to look the key up by."""
    if header.get("alg") not in algorithms:
        raise InvalidToken("alg_not_allowed")
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in ACCEPTED_TYPES):
        raise InvalidToken("typ_not_allowed")
    if "crit" in header:
        raise InvalidToken("crit_not_understood")
    if "b64" in header:
        raise InvalidToken("b64_not_supported")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidToken("kid_missing")
    if len(kid) > MAX_KID_LENGTH:
        raise InvalidToken("kid_too_long")
    return kid
