"""A bounded, thread-safe LRU of verified access tokens, keyed by the exact token string.

What RFC 8725 section 3 asks of every token is checked by the verifications that store a token
string (two: see the doorkeeper below), not on every use: a hit still re-checks ``exp`` (RFC
7519 section 4.1.4, with the leeway) and that the signing key is the one the issuer's JWKS (RFC
7517 section 5) currently holds.

Verifying an RS256 signature is the dominant cost of a protected request; an API client sends
the same access token many times during its lifetime (Auth0 issues them for 24 hours). This
module only stores and evicts: what a cached entry must still satisfy before it is served
(expiry with leeway, its signing key still the one the key cache holds, the configuration it
was validated under) is the validator's rule, applied on every hit.

Only the exact string is ever looked up: no normalisation, no prefix or segment matching, so a
token differing by one character is a miss and goes through full validation.

Bounded twice: by entries (AUTH0_TOKEN_CACHE_SIZE) and by the memory they hold (``MAX_BYTES``,
estimated per entry by ``footprint``), since an access token with a few hundred RBAC
permissions holds twenty times what a plain one does.

A token is stored on its second verification, not its first (``admits``: a doorkeeper, as in
TinyLFU): the first only leaves the hash of its string among the tokens verified once lately (as
many as the cache could hold, at most: ``doorkeeper_size``). A client that mints a token per
request (which Auth0 advises against, and the bench's fresh-token case) then costs no entry and
no eviction, only a hash of about 70 bytes (once the cache is full and every insert evicts, that
saves 3.4 us of a 124 us request in-process), and cannot push out the tokens of clients that
reuse theirs. A token sent many times pays one more verification, once per process and
configuration; one dropped from the cache as stale (a JWKS fetch replaced its key object) is
stored again on its next verification.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from joserfc.jwk import RSAKey

from apiexample.claims import copy_claims, list_claims, parse_payload

#: The memory the entries may hold in all, as estimated by ``footprint``: 4,096 plain Auth0
#: tokens (about 3 KiB an entry) take a third of it; tokens of 220 permissions of 25 characters
#: (about 60 KiB an entry) stop at about 530 entries instead of taking 230 MiB.
MAX_BYTES = 32 * 1024 * 1024
#: Bytes an entry holds per byte of its payload: the payload itself, and the parse of it kept
#: from the first hit on (measured with tracemalloc: 8-10 for claims of 0 to 220 permissions,
#: the entry's fixed cost included).
PAYLOAD_FOOTPRINT = 9
#: A plain Auth0 access token's ``footprint``, about: ``max_bytes`` holds at most that many
#: entries, so the doorkeeper need not remember more tokens than that.
PLAIN_ENTRY_BYTES = 3 * 1024


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


def footprint(token: str, entry: VerifiedToken) -> int:
    """The memory ``entry`` holds under the key ``token``, estimated in bytes."""
    return len(token) + PAYLOAD_FOOTPRINT * len(entry.payload)


class TokenCache:
    """At most ``size`` entries holding at most ``max_bytes`` (by ``footprint``); the least
    recently used entry is evicted first, and one larger than ``max_bytes`` is never kept."""

    def __init__(self, size: int, max_bytes: int | None = None) -> None:
        if size <= 0 or (max_bytes is not None and max_bytes <= 0):
            raise ValueError("a token cache needs a positive size")
        self.size = size
        self.max_bytes = MAX_BYTES if max_bytes is None else max_bytes
        self.held = 0  # bytes, by footprint
        self._entries: OrderedDict[str, VerifiedToken] = OrderedDict()
        self.doorkeeper_size = max(1, min(size, self.max_bytes // PLAIN_ENTRY_BYTES))
        # Hashes of the token strings verified once lately, ``doorkeeper_size`` at most.
        self._verified_once: set[int] = set()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token: str) -> VerifiedToken | None:
        with self._lock:
            entry = self._entries.get(token)
            if entry is not None:
                self._entries.move_to_end(token)
            return entry

    def admits(self, token: str) -> bool:
        """Whether ``token``, just verified, should be stored: it was verified before, since
        the doorkeeper last filled. A hash collision only stores a verified token one
        verification early; the entries themselves are keyed by the exact string."""
        seen = hash(token)  # computed by get() already: a str keeps its hash
        with self._lock:
            if seen in self._verified_once:
                self._verified_once.discard(seen)
                return True
            self._remember(seen)
            return False

    def _remember(self, seen: int) -> None:
        """Note a token's hash in the doorkeeper, emptied when full; the lock is held."""
        if len(self._verified_once) >= self.doorkeeper_size:
            self._verified_once.clear()
        self._verified_once.add(seen)

    def put(self, token: str, entry: VerifiedToken) -> None:
        weight = footprint(token, entry)
        if weight > self.max_bytes:
            return
        with self._lock:
            replaced = self._entries.pop(token, None)
            if replaced is not None:
                self.held -= footprint(token, replaced)
            self._entries[token] = entry
            self.held += weight
            while len(self._entries) > self.size or self.held > self.max_bytes:
                evicted, old = self._entries.popitem(last=False)
                self.held -= footprint(evicted, old)

    def discard(self, token: str, entry: VerifiedToken) -> None:
        """Drop ``token`` if it still maps to ``entry`` (a newer entry is left alone). The
        doorkeeper keeps it: verified again (after a JWKS fetch replaced its key object), it is
        stored at once."""
        with self._lock:
            if self._entries.get(token) is entry:
                del self._entries[token]
                self.held -= footprint(token, entry)
                self._remember(hash(token))
