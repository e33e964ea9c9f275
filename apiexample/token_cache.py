"""A bounded, thread-safe LRU of verified access tokens, keyed by the exact token string.

What RFC 8725 section 3 asks of every token is checked once per token string: a hit still
re-checks ``exp`` (RFC 7519 section 4.1.4, with the leeway) and that the signing key is the
one the issuer's JWKS (RFC 7517 section 5) currently holds.

Verifying an RS256 signature is the dominant cost of a protected request; an API client sends
the same access token many times during its lifetime (Auth0 issues them for 24 hours). This
module only stores and evicts: what a cached entry must still satisfy before it is served
(expiry with leeway, its signing key still the one the key cache holds, the configuration it
was validated under) is the validator's rule, applied on every hit.

Only the exact string is ever looked up: no normalisation, no prefix or segment matching, so a
token differing by one character is a miss and goes through full validation.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, NamedTuple

from joserfc.jwk import RSAKey

from apiexample.claims import copy_claims, list_claims, parse_payload


class VerifiedToken(NamedTuple):
    """What a successful validation established about one token string.

    ``claims`` is a copy of the verified claims set, never handed out: each hit gets its own
    copy (``private_claims``), so a view that mutates ``request.oauth_token`` cannot change
    what later requests see. Claims nesting deeper than lists of scalars are not kept: they
    are parsed again from ``payload``. ``scopes`` are the scopes it grants, immutable. ``key``
    is the very ``RSAKey`` object that verified the signature: the key cache replaces its key
    objects on every successful JWKS fetch, so an identity check tells whether the key set
    changed.
    ``valid_from`` and ``expires_at`` are the claims' ``max(iat, nbf)`` and ``exp``.
    """

    payload: bytes
    claims: dict[str, Any] | None
    lists: tuple[str, ...]
    scopes: frozenset[str]
    kid: str
    key: RSAKey
    valid_from: float
    expires_at: float

    @classmethod
    def of(
        cls, payload: bytes, claims: dict[str, Any], scopes: frozenset[str], kid: str, key: RSAKey
    ) -> VerifiedToken:
        """The entry for ``claims``, parsed from ``payload``; it keeps a copy of its own."""
        valid_from = max(claims["iat"], claims.get("nbf", claims["iat"]))
        lists = list_claims(claims)
        own = None if lists is None else copy_claims(claims, lists)
        return cls(payload, own, lists or (), scopes, kid, key, valid_from, claims["exp"])

    def private_claims(self) -> dict[str, Any]:
        """A copy of the claims for one request: lists copied, or the payload parsed again."""
        if self.claims is None:  # something nests deeper than a list of scalars
            return parse_payload(self.payload)
        return copy_claims(self.claims, self.lists)


class TokenCache:
    """At most ``size`` entries; the least recently used one is evicted first."""

    def __init__(self, size: int) -> None:
        if size <= 0:
            raise ValueError("a token cache needs a positive size")
        self.size = size
        self._entries: OrderedDict[str, VerifiedToken] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token: str) -> VerifiedToken | None:
        with self._lock:
            entry = self._entries.get(token)
            if entry is not None:
                self._entries.move_to_end(token)
            return entry

    def put(self, token: str, entry: VerifiedToken) -> None:
        with self._lock:
            self._entries[token] = entry
            self._entries.move_to_end(token)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def discard(self, token: str, entry: VerifiedToken) -> None:
        """Drop ``token`` if it still maps to ``entry`` (a newer entry is left alone)."""
        with self._lock:
            if self._entries.get(token) is entry:
                del self._entries[token]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
