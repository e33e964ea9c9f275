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
from dataclasses import dataclass, field
from typing import Any

from joserfc.jwk import RSAKey

from apiexample.claims import copy_claims, list_claims, parse_payload


@dataclass(slots=True, eq=False)  # eq=False: entries compare by identity
class VerifiedToken:
    """What a successful validation established about one token string.

    ``payload`` is the verified claims set as signed. Each hit gets claims of its own
    (``private_claims``), so a view that mutates ``request.oauth_token`` cannot change what
    later requests see: the first hit parses the payload once more and keeps that parse, later
    hits copy it (its lists of scalars copied too); claims nesting deeper are parsed on every
    hit. A miss pays none of this. ``scopes`` are the scopes it grants, immutable. ``key`` is
    the very ``RSAKey`` object that verified the signature: the key cache replaces its key
    objects on every successful JWKS fetch, so an identity check tells whether the key set
    changed. ``valid_from`` and ``expires_at`` are the claims' ``max(iat, nbf)`` and ``exp``.
    """

    payload: bytes = field(repr=False)  # claims of a bearer token: kept out of any log line
    scopes: frozenset[str]
    kid: str
    key: RSAKey
    valid_from: float
    expires_at: float
    _claims: dict[str, Any] | None = field(default=None, init=False, repr=False)
    # Learnt on the first hit: () until then, the list claims' names, or None when the
    # claims nest deeper than lists of scalars (every hit parses the payload then).
    _lists: tuple[str, ...] | None = field(default=(), init=False, repr=False)

    @classmethod
    def of(
        cls, payload: bytes, claims: dict[str, Any], scopes: frozenset[str], kid: str, key: RSAKey
    ) -> VerifiedToken:
        """The entry for ``claims``, the verified parse of ``payload``."""
        valid_from = max(claims["iat"], claims.get("nbf", claims["iat"]))
        return cls(payload, scopes, kid, key, valid_from, claims["exp"])

    def private_claims(self) -> dict[str, Any]:
        """Claims for one request, sharing nothing mutable with the entry or other requests."""
        claims, lists = self._claims, self._lists
        if claims is not None and lists is not None:
            return copy_claims(claims, lists)
        parsed = parse_payload(self.payload)
        if lists is not None:  # the first hit: learn the shape, keep this parse
            lists = self._lists = list_claims(parsed)
            if lists is not None:
                self._claims = parsed
                return copy_claims(parsed, lists)
        return parsed


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
