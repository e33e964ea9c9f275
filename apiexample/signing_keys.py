"""The issuer's signing keys: which JWKS members to trust, and a cache around fetching them.

Members (RFC 7517 section 4) are kept only when they are RSA public keys of at least 2048
bits meant for signatures with a ``kid``; symmetric, private, malformed or duplicated members
are skipped without breaking the rest. The cache follows the README's "Signing keys":
fetched lazily, trusted for a TTL, at most one fetch attempt per cooldown (an unknown ``kid``
cannot turn into load on the IdP), one fetch shared by concurrent misses, stale-if-error for a
bounded time, and stale-while-revalidate: once the TTL has run out, a request whose key is at
hand is answered with it while the refresh runs in another thread (RFC 5861 sections 3-4), so
a slow or hung IdP never holds a request that can be answered.
"""

from __future__ import annotations

import base64
import logging
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from joserfc.jwk import RSAKey

from apiexample import conf
from apiexample.jwks_fetch import LONGEST_OVERRUN, JWKSFetchError, fetch_jwks
from apiexample.token_format import BASE64URL

logger = logging.getLogger(__name__)

MIN_RSA_BITS = 2048
#: The public exponent is odd and below 2**256 (FIPS 186-5 section A.1.1); Auth0's is 65537.
#: A verify costs more the longer the exponent: a hostile 2047-bit one made it 60 times slower.
MAX_RSA_EXPONENT = 2**256
#: Larger keys are skipped: a verify costs more the longer the modulus. Auth0 signs with 2048.
MAX_RSA_BITS = 8192
#: base64url characters (6 bits each, RFC 4648 section 5) of the longest signature a kept key
#: makes: joserfc's own bound, 1024, would refuse every token of a key over 6144 bits.
MAX_SIGNATURE_LENGTH = math.ceil(MAX_RSA_BITS / 6)
#: The name of the thread that refreshes a key set past its TTL while requests go on.
REFRESH_THREAD_NAME = "jwks-refresh"
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class SigningKeysUnavailable(Exception):
    """No key set could be obtained; ``retry_after`` says when the next attempt may happen."""

    def __init__(self, reason: str, retry_after: float) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def _integer(member: dict[str, Any], name: str) -> int:
    """A JWK integer member (RFC 7518 section 6.3.1: base64url, big-endian); 0 when absent.

    ValueError when it holds a character outside base64url (RFC 4648 section 5), which the
    decoder would skip.
    """
    value = member.get(name)
    if not isinstance(value, str):
        return 0
    if not BASE64URL.fullmatch(value):
        raise ValueError(f"{name} is not base64url")
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    return int.from_bytes(raw, "big")


def _skip_reason(member: Any, algorithms: Iterable[str]) -> str | None:
    if not isinstance(member, dict):
        return "not_an_object"
    if member.get("kty") != "RSA":
        return "not_rsa"
    if _PRIVATE_MEMBERS & member.keys():
        return "private_members"
    if member.get("use", "sig") != "sig":
        return "not_for_signing"
    if not isinstance(member.get("kid"), str) or not member["kid"]:
        return "no_kid"
    alg = member.get("alg")
    if "alg" in member and not (isinstance(alg, str) and alg in algorithms):
        return "alg_not_allowed"
    try:
        bits, exponent = _integer(member, "n").bit_length(), _integer(member, "e")
    except ValueError:
        return "malformed"
    if bits < MIN_RSA_BITS:
        return "too_small"
    if bits > MAX_RSA_BITS:
        return "too_large"
    if not (exponent % 2 and 3 <= exponent < MAX_RSA_EXPONENT):
        return "bad_exponent"
    return None


def usable_keys(document: dict[str, Any], algorithms: Sequence[str]) -> dict[str, RSAKey]:
    """The members of a JWKS document that may verify our tokens, by ``kid``.

    A ``kid`` shared by two usable members names neither: which one signed would be
    ambiguous. Members skipped for another reason do not count, since RFC 7517 section 4.5
    lets keys of different types, or uses, share a ``kid``.
    """
    ordered = tuple(algorithms)
    allowed = frozenset(ordered)
    found: dict[str, list[RSAKey]] = {}
    skipped: Counter[str] = Counter()
    for member in document.get("keys", []):
        try:
            reason = _skip_reason(member, allowed)
            if reason is None:
                # Each key verifies exactly one algorithm (RFC 8725 section 3.1): a member that
                # does not say which is given the first allowed, and joserfc holds it to that.
                stamped = member if "alg" in member else {**member, "alg": ordered[0]}
                key = RSAKey.import_key(stamped)  # before the kid is recorded: it may raise
                found.setdefault(member["kid"], []).append(key)
        except Exception:  # a hostile member must never break the others (nor the request)
            reason = "malformed"
        if reason is not None:
            skipped[reason] += 1
    keys: dict[str, RSAKey] = {}
    for kid, candidates in found.items():
        if len(candidates) == 1:
            keys[kid] = candidates[0]
        else:
            skipped["duplicate_kid"] += len(candidates)
    if skipped:
        logger.warning("jwks members skipped: %s", dict(sorted(skipped.items())))
    return keys


@dataclass(frozen=True)
class KeySetSnapshot:
    """One fetched key set; replaced whole, so readers never need the lock."""

    keys: dict[str, RSAKey] = field(default_factory=dict)
    fetched_at: float | None = None


class SigningKeyCache:
    """Keys of one JWKS URL, refreshed on TTL expiry or an unknown ``kid``."""

    def __init__(
        self,
        url: str,
        clock: Callable[[], float] = time.monotonic,
        fetch: Callable[[str, float], dict[str, Any]] = fetch_jwks,
    ) -> None:
        self.url = url
        self.clock = clock
        self._fetch = fetch
        self._snapshot = KeySetSnapshot()
        self._last_attempt: float | None = None
        self._last_failure = ""
        self._lock = threading.Lock()  # held while a fetch is in flight, by whichever thread

    def get(self, kid: str) -> RSAKey | None:
        """The key named ``kid``, or None when the issuer's current key set lacks it.

        Raises SigningKeysUnavailable when no usable key set is at hand, and when ``kid`` is
        unknown but the key set could not be checked for it: the last refresh failed, or one
        is still running. A key at hand is served at once, past the TTL too (the refresh then
        runs in another thread); an unknown ``kid`` waits for its own fetch only, and only a
        request with no usable key set at all waits for a fetch running in another thread.
        """
        snapshot = self._snapshot
        key = snapshot.keys.get(kid)
        if key is not None:
            if self._is_fresh(snapshot):
                return key
            if self._is_servable(snapshot) and self._refresh_in_background(snapshot):
                return key
        snapshot = self._refresh_if_allowed(snapshot, wait=not self._is_servable(snapshot))
        if not self._is_servable(snapshot):
            raise SigningKeysUnavailable(
                self._last_failure or "jwks_unavailable", self._retry_after()
            )
        # Read before the snapshot: a fetch may end meanwhile. The lock may be a background
        # refresh's, taken a moment before that thread has checked the cooldown.
        in_flight = self._lock.locked()
        key = self._snapshot.keys.get(kid)
        if key is None and self._last_failure:
            raise SigningKeysUnavailable(self._last_failure, self._retry_after())
        if key is None and in_flight:
            raise SigningKeysUnavailable("jwks_refreshing", conf.current().jwks_timeout)
        return key

    def _is_fresh(self, snapshot: KeySetSnapshot) -> bool:
        return (
            snapshot.fetched_at is not None
            and self.clock() - snapshot.fetched_at < conf.current().jwks_cache_ttl
        )

    def _is_servable(self, snapshot: KeySetSnapshot) -> bool:
        if snapshot.fetched_at is None:
            return False
        limit = conf.current().jwks_cache_ttl + conf.current().jwks_stale_if_error
        return self.clock() - snapshot.fetched_at < limit

    def _may_attempt(self) -> bool:
        return (
            self._last_attempt is None
            or self.clock() - self._last_attempt >= conf.current().jwks_cooldown
        )

    def _retry_after(self) -> float:
        """What is left of the cooldown (none, once it has run out)."""
        if self._last_attempt is None:
            return conf.current().jwks_cooldown
        return max(0.0, conf.current().jwks_cooldown - (self.clock() - self._last_attempt))

    def _refresh_if_allowed(self, seen: KeySetSnapshot, wait: bool) -> KeySetSnapshot:
        """Fetch unless the cooldown forbids it; a fetch in flight is shared, not repeated.

        A request that waited for another thread's fetch takes its outcome, failure included:
        fetching again once the cooldown allows would make it wait twice the fetch timeout.
        """
        if not self._may_attempt() and not self._lock.locked():
            return self._snapshot  # the common case of an unknown-kid flood: no lock taken
        if self._lock.acquire(blocking=False):
            return self._refresh_holding_lock(seen)
        if wait and self._lock.acquire(timeout=conf.current().jwks_timeout + LONGEST_OVERRUN):
            self._lock.release()  # the fetch it waited for has ended
        return self._snapshot

    def _refresh_in_background(self, seen: KeySetSnapshot) -> bool:
        """Refresh in another thread, unless the cooldown forbids it or a fetch is in flight.

        False when no thread could be started: the caller refreshes itself, as for an unknown
        ``kid`` (so the cooldown still applies, and a removed key is still seen gone).
        """
        if not self._may_attempt():
            return True
        refresher = threading.Thread(
            target=self._refresh_holding_lock, args=(seen,), name=REFRESH_THREAD_NAME, daemon=True
        )
        if not self._lock.acquire(blocking=False):
            return True
        try:
            refresher.start()
        except RuntimeError as exc:  # "can't start new thread"
            self._lock.release()
            logger.warning("jwks refresh thread not started (%s): refreshing in the request", exc)
            return False
        return True

    def _refresh_holding_lock(self, seen: KeySetSnapshot) -> KeySetSnapshot:
        """Fetch, the lock already taken (by this thread or for it); release it when done."""
        try:
            # Another thread may have fetched since ``seen`` was read: share its result.
            if self._snapshot is not seen or not self._may_attempt():
                return self._snapshot
            self._last_attempt = self.clock()
            try:
                config = conf.current()
                keys = usable_keys(self._fetch(self.url, config.jwks_timeout), config.algorithms)
                if not keys:
                    raise JWKSFetchError("jwks_no_usable_keys")
            except Exception as exc:  # whatever went wrong, the keys could not be obtained
                # Only our own reasons are codes: a UnicodeDecodeError has a ``reason`` too.
                failure = exc.reason if isinstance(exc, JWKSFetchError) else "jwks_malformed"
                self._last_failure = failure
                # With no keys at hand, protected requests get 503 until a fetch succeeds: the
                # outage's one ERROR per attempt (the refusals themselves are logged at INFO).
                servable = self._is_servable(self._snapshot)
                logger.log(
                    logging.WARNING if servable else logging.ERROR,
                    "jwks refresh failed: reason=%s url=%s%s",
                    failure,
                    self.url,
                    "" if servable else " (no keys at hand: protected requests get 503)",
                )
                return self._snapshot
            finally:
                # The cooldown runs from the attempt's end too: after a fetch that outlasted
                # it (a hung IdP), each request queued behind it would start another.
                self._last_attempt = self.clock()
            self._snapshot = KeySetSnapshot(keys, self.clock())
            self._last_failure = ""
            logger.info("jwks fetched: %d usable keys from %s", len(keys), self.url)
            return self._snapshot
        finally:
            self._lock.release()


_caches: dict[str, SigningKeyCache] = {}
_caches_lock = threading.Lock()


def cache_for(url: str) -> SigningKeyCache:
    """The process-wide cache for ``url`` (created on first use: nothing happens at import)."""
    cache = _caches.get(url)
    if cache is None:
        with _caches_lock:
            cache = _caches.setdefault(url, SigningKeyCache(url))
    return cache


def reset_caches() -> None:
    """Forget every fetched key set."""
    with _caches_lock:
        _caches.clear()


def _forget_in_forked_child() -> None:
    """A forked child starts with no key set: a refresh in flight at the fork holds a lock that
    no thread of the child would ever release (nor would one holding ``_caches_lock``)."""
    global _caches_lock
    _caches_lock = threading.Lock()
    _caches.clear()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_forget_in_forked_child)


#: Settings that change which keys are trusted: a change forgets every fetched key set, so
#: tests that each point the API at a fresh mock IdP (often under the same URL) never share keys.
_KEY_SETTINGS = frozenset({"AUTH0_DOMAIN", "AUTH0_ISSUER", "AUTH0_JWKS_URL", "AUTH0_ALGORITHMS"})


@receiver(setting_changed)
def _forget_keys(setting: str = "", **kwargs: Any) -> None:
    if setting in _KEY_SETTINGS:
        reset_caches()
