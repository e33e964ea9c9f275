"""The verified-token cache: what a hit needs, what invalidates it, and that nothing else hits."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from apiexample import token_cache
from apiexample.claims import parse_payload
from apiexample.errors import InvalidToken, TemporarilyUnavailable
from apiexample.token_cache import (
    MAX_BYTES,
    PAYLOAD_FOOTPRINT,
    PLAIN_ENTRY_BYTES,
    TokenCache,
    VerifiedToken,
    footprint,
)
from apiexample.token_format import MAX_TOKEN_LENGTH
from apiexample.validator import Auth0JWTBearerTokenValidator
from apiexample.views import require_auth
from mock_idp import ControllableClock, MockIdP
from mock_idp.http import JWKS as JWKS_PATH
from mock_idp.http import Fault
from tests.apiexample.helpers import assert_refused, jwks_fetches, wait_for_refreshes


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ``kid`` of every signature the validator checks: a cache hit adds nothing."""
    seen: list[str] = []
    original = Auth0JWTBearerTokenValidator._verify_signature

    def spy(header: Any, *args: Any) -> Any:
        seen.append(header.kid)
        return original(header, *args)

    monkeypatch.setattr(Auth0JWTBearerTokenValidator, "_verify_signature", staticmethod(spy))
    return seen


@pytest.fixture
def validator() -> Auth0JWTBearerTokenValidator:
    """The validator the views use (its cache is what the requests hit)."""
    found: Auth0JWTBearerTokenValidator = require_auth.get_token_validator("bearer")
    return found


def stored(validator: Auth0JWTBearerTokenValidator, token: str) -> None:
    """Verify ``token`` until the cache holds it: twice (the doorkeeper stores on the second)."""
    for _ in range(2):
        validator.authenticate_token(token)
    tokens = validator.policies().tokens
    assert tokens is not None
    assert tokens.get(token) is not None


def accepted_until_stored(call: Any, token: str) -> None:
    """``stored`` through the API: the token accepted twice on ``/api/private``."""
    for _ in range(2):
        assert call("/api/private", token).status_code == 200


def test_a_repeated_token_is_verified_twice_then_served_from_the_cache(
    call: Any, mock_idp: MockIdP, verifications: list[str]
) -> None:
    token = mock_idp.mint()
    for _ in range(5):
        assert call("/api/private", token).status_code == 200
    assert len(verifications) == 2


def test_a_token_verified_once_is_not_stored(
    validator: Auth0JWTBearerTokenValidator,
    api_settings: Any,
    mock_idp_network: Any,
    mock_idp: MockIdP,
) -> None:
    validator.authenticate_token(mock_idp.mint())
    tokens = validator.policies().tokens
    assert tokens is not None
    assert len(tokens) == 0


def test_single_use_tokens_evict_no_stored_token(
    call: Any, mock_idp: MockIdP, api_settings: Any, verifications: list[str]
) -> None:
    """A client minting a token per request cannot push out the tokens others reuse."""
    api_settings.AUTH0_TOKEN_CACHE_SIZE = 2
    reused = mock_idp.mint()
    accepted_until_stored(call, reused)
    accept_distinct_tokens(call, mock_idp, 10)
    assert len(verifications) == 2 + 10
    assert call("/api/private", reused).status_code == 200
    assert len(verifications) == 12


def accept_distinct_tokens(call: Any, mock_idp: MockIdP, count: int) -> None:
    """``count`` tokens differing only by ``jti``, each sent once and accepted."""
    for n in range(count):
        assert call("/api/private", mock_idp.mint(claims={"jti": str(n)})).status_code == 200


def test_distinct_tokens_are_each_verified(
    call: Any, mock_idp: MockIdP, verifications: list[str]
) -> None:
    accept_distinct_tokens(call, mock_idp, 3)
    assert len(verifications) == 3


def test_size_zero_turns_the_cache_off(
    call: Any, mock_idp: MockIdP, api_settings: Any, verifications: list[str]
) -> None:
    api_settings.AUTH0_TOKEN_CACHE_SIZE = 0
    token = mock_idp.mint()
    for _ in range(3):
        assert call("/api/private", token).status_code == 200
    assert len(verifications) == 3


def test_the_least_recently_used_token_is_evicted(
    call: Any, mock_idp: MockIdP, api_settings: Any, verifications: list[str]
) -> None:
    api_settings.AUTH0_TOKEN_CACHE_SIZE = 2
    first, second, third = (mock_idp.mint(claims={"jti": str(n)}) for n in range(3))
    for token in (first, second):
        accepted_until_stored(call, token)
    assert call("/api/private", first).status_code == 200  # a hit: second is the least recent
    accepted_until_stored(call, third)  # evicts second
    assert len(verifications) == 6
    assert call("/api/private", first).status_code == 200
    assert len(verifications) == 6
    assert call("/api/private", second).status_code == 200
    assert len(verifications) == 7


def mutations(token: str) -> dict[str, str]:
    header, payload, signature = token.split(".")
    last = signature[-1]
    return {
        "trailing_char": token + "A",
        "trailing_dot": token + ".",
        "trailing_space": token + " ",
        "trailing_newline": token + "\n",
        "leading_space": " " + token,
        "last_char_dropped": token[:-1],
        "last_char_changed": token[:-1] + ("B" if last != "B" else "C"),
        "non_canonical_last_char": token[:-1] + chr(ord(last) + 1),
        "first_char_changed": ("f" if token[0] != "f" else "g") + token[1:],
        "payload_char_changed": f"{header}.{payload[:-1]}{'A' if payload[-1] != 'A' else 'B'}"
        f".{signature}",
        "padded": token + "==",
        "upper_cased": token.upper(),
    }


@pytest.mark.parametrize("mutation", list(mutations("a.b.c")))
def test_no_other_token_string_ever_hits(
    validator: Auth0JWTBearerTokenValidator,
    api_settings: Any,
    mock_idp_network: Any,
    mock_idp: MockIdP,
    verifications: list[str],
    mutation: str,
) -> None:
    token = mock_idp.mint()
    stored(validator, token)
    validator.authenticate_token(token)
    assert len(verifications) == 2
    other = mutations(token)[mutation]
    with pytest.raises(InvalidToken):
        validator.authenticate_token(other)
    tokens = validator.policies().tokens
    assert tokens is not None
    assert tokens.get(other) is None
    assert len(tokens) == 1


def test_cached_tokens_are_refused_once_expired(
    validator: Auth0JWTBearerTokenValidator,
    api_settings: Any,
    mock_idp_network: Any,
    mock_idp: MockIdP,
    token_clock: ControllableClock,
    verifications: list[str],
) -> None:
    token = mock_idp.mint(expires_in=60)
    stored(validator, token)
    token_clock.advance(60 + 29)  # expired, but within the 30 s leeway
    validator.authenticate_token(token)
    assert len(verifications) == 2
    token_clock.advance(1)  # exp is now a full leeway ago
    with pytest.raises(InvalidToken) as refused:
        validator.authenticate_token(token)
    assert refused.value.reason == "token_expired"
    assert len(verifications) == 3  # the entry was not served: full validation said no


@pytest.mark.parametrize(
    ("times", "step_back", "reason"),
    [
        ({}, 120, "claim_invalid_iat"),
        # valid from iat even when nbf is earlier: the later of the two counts
        ({"nbf": -100}, 120, "claim_invalid_iat"),
        # valid from nbf (20 s ahead, within the 30 s leeway) though iat is long past
        ({"iat": -100, "nbf": 20}, 40, "claim_invalid_nbf"),
    ],
)
def test_cached_tokens_are_refused_before_their_time(
    validator: Auth0JWTBearerTokenValidator,
    api_settings: Any,
    mock_idp_network: Any,
    mock_idp: MockIdP,
    token_clock: ControllableClock,
    times: dict[str, int],
    step_back: int,
    reason: str,
) -> None:
    now = int(token_clock.now())
    token = mock_idp.mint(claims={name: now + offset for name, offset in times.items()})
    stored(validator, token)
    token_clock.advance(-step_back)  # the server's clock stepped back
    with pytest.raises(InvalidToken) as refused:
        validator.authenticate_token(token)
    assert refused.value.reason == reason


def test_expired_cached_token_is_refused_through_the_api_and_leaves_the_cache(
    call: Any,
    mock_idp: MockIdP,
    token_clock: ControllableClock,
    validator: Auth0JWTBearerTokenValidator,
) -> None:
    token = mock_idp.mint(expires_in=60)
    accepted_until_stored(call, token)
    tokens = validator.policies().tokens
    assert tokens is not None
    assert tokens.get(token) is not None
    token_clock.advance(3600)
    assert_refused(call("/api/private", token), 401, "invalid_token")
    assert tokens.get(token) is None  # a replayed expired token holds no slot


def test_the_scope_is_checked_on_every_request(
    call: Any, mock_idp: MockIdP, verifications: list[str]
) -> None:
    token = mock_idp.mint(scope="write:messages")
    accepted_until_stored(call, token)
    for _ in range(2):
        assert_refused(call("/api/private-scoped", token), 403, "insufficient_scope")
    assert len(verifications) == 2


def test_a_key_rotated_out_invalidates_its_tokens(
    call: Any, mock_idp: MockIdP, mock_idp_keys: Any, key_clock: ControllableClock
) -> None:
    old = mock_idp.mint()
    accepted_until_stored(call, old)
    mock_idp.keys.rotate(mock_idp_keys.secondary)
    mock_idp.keys.remove(mock_idp_keys.primary.kid)
    key_clock.advance(601)  # the TTL passes: the next use of any key starts a refetch
    assert call("/api/private", old).status_code == 200  # answered with the keys at hand
    assert wait_for_refreshes(10)
    assert_refused(call("/api/private", old), 401, "invalid_token")
    assert call("/api/private", mock_idp.mint()).status_code == 200
    assert jwks_fetches(mock_idp) == 2


def test_a_jwks_refetch_sends_cached_tokens_through_validation_once(
    call: Any, mock_idp: MockIdP, key_clock: ControllableClock, verifications: list[str]
) -> None:
    token = mock_idp.mint()
    accepted_until_stored(call, token)
    key_clock.advance(601)
    assert call("/api/private", token).status_code == 200  # starts the refetch: still a hit
    assert wait_for_refreshes(10)
    for _ in range(3):  # verified again once: a new key object is not the one stored with it
        assert call("/api/private", token).status_code == 200
    assert jwks_fetches(mock_idp) == 2
    assert len(verifications) == 3


def test_a_stale_but_servable_key_set_still_counts_as_current(
    call: Any, mock_idp: MockIdP, key_clock: ControllableClock, verifications: list[str]
) -> None:
    token = mock_idp.mint()
    accepted_until_stored(call, token)
    mock_idp.inject_fault(JWKS_PATH, Fault.error(503))
    key_clock.advance(601)  # the refresh fails; the fetched keys keep serving
    for _ in range(3):
        assert call("/api/private", token).status_code == 200
        assert wait_for_refreshes(10)
    assert len(verifications) == 2
    assert jwks_fetches(mock_idp) == 2  # one refresh attempt, then the cooldown


def test_keys_that_cannot_be_obtained_any_more_give_503_for_cached_tokens(
    call: Any, mock_idp: MockIdP, api_settings: Any, key_clock: ControllableClock
) -> None:
    api_settings.AUTH0_JWKS_STALE_IF_ERROR = 60
    token = mock_idp.mint()
    accepted_until_stored(call, token)
    mock_idp.inject_fault(JWKS_PATH, Fault.error(503))
    key_clock.advance(601 + 60)  # past the TTL and the stale-if-error window
    assert_refused(call("/api/private", token), 503, "temporarily_unavailable")


def test_a_cache_hit_needing_unobtainable_keys_is_refused_by_the_validator(
    validator: Auth0JWTBearerTokenValidator,
    api_settings: Any,
    mock_idp_network: Any,
    mock_idp: MockIdP,
    key_clock: ControllableClock,
) -> None:
    api_settings.AUTH0_JWKS_STALE_IF_ERROR = 0
    api_settings.AUTH0_JWKS_COOLDOWN = 0  # a second lookup would mean a second fetch
    token = mock_idp.mint()
    stored(validator, token)
    mock_idp.inject_fault(JWKS_PATH, Fault.error(503))
    key_clock.advance(601)
    with pytest.raises(TemporarilyUnavailable) as refused:
        validator.authenticate_token(token)
    assert refused.value.kid == repr(mock_idp.keys.signing_key.kid)
    assert jwks_fetches(mock_idp) == 2  # one failed refresh: the hit did not ask twice


@pytest.mark.parametrize(
    "change",
    [
        {"AUTH0_AUDIENCE": "https://other.api.example"},
        {"AUTH0_ISSUER": "https://other-tenant.example/"},
        {"AUTH0_ALGORITHMS": "PS256"},
        {"AUTH0_LEEWAY": 0},
    ],
)
def test_entries_validated_under_other_settings_are_never_served(
    call: Any,
    mock_idp: MockIdP,
    api_settings: Any,
    verifications: list[str],
    change: dict[str, Any],
) -> None:
    api_settings.AUTH0_JWKS_URL = mock_idp.jwks_uri  # keys stay reachable whatever changes
    token = mock_idp.mint(expires_in=-10)  # expired, within the default leeway
    accepted_until_stored(call, token)
    for name, value in change.items():
        setattr(api_settings, name, value)
    assert_refused(call("/api/private", token), 401, "invalid_token")


def test_misconfiguration_fails_closed_for_cached_tokens(
    call: Any, mock_idp: MockIdP, api_settings: Any
) -> None:
    token = mock_idp.mint()
    accepted_until_stored(call, token)
    api_settings.AUTH0_ALGORITHMS = "RS256,HS256"
    assert_refused(call("/api/private", token), 503, "temporarily_unavailable")
    api_settings.AUTH0_ALGORITHMS = "RS256"
    api_settings.AUTH0_AUDIENCE = ""
    assert_refused(call("/api/private", token), 503, "temporarily_unavailable")


def test_tokens_too_large_for_the_memory_bound_are_verified_every_time(
    call: Any, mock_idp: MockIdP, verifications: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = mock_idp.mint()
    permissions = [f"read:resource-{n}" for n in range(220)]
    large = mock_idp.mint(claims={"permissions": permissions})
    monkeypatch.setattr(token_cache, "MAX_BYTES", 16 * 1024)  # plain ~3 KiB, large ~46 KiB
    for _ in range(3):
        assert call("/api/private", plain).status_code == 200
        assert call("/api/private", large).status_code == 200
    assert len(verifications) == 2 + 3  # the plain token twice, the large one every time


def test_a_view_changing_its_token_does_not_change_the_cache(
    validator: Auth0JWTBearerTokenValidator,
    api_settings: Any,
    mock_idp_network: Any,
    mock_idp: MockIdP,
) -> None:
    token = mock_idp.mint(scope="a", permissions=["p"])
    for _ in range(2):  # misses, the second stored: the view gets the validated parse
        first = validator.authenticate_token(token)
        first["scope"] = "read:messages"
        first["permissions"].append("read:messages")
    for _ in range(3):  # the first hit parses again and keeps it, later hits copy that
        again = validator.authenticate_token(token)
        assert again["scope"] == "a"
        assert again["permissions"] == ["p"]
        assert again.scopes == {"a", "p"}
        again["permissions"].append("read:messages")
        again["aud"] = "changed"


def test_a_view_changing_a_nested_claim_does_not_change_the_cache(
    validator: Auth0JWTBearerTokenValidator,
    api_settings: Any,
    mock_idp_network: Any,
    mock_idp: MockIdP,
) -> None:
    """Claims nesting deeper than lists of scalars are parsed again for every hit."""
    token = mock_idp.mint(claims={"https://example.test/org": {"roles": ["viewer"]}})
    for _ in range(2):  # misses, the second stored
        first = validator.authenticate_token(token)
        first["https://example.test/org"]["roles"].append("admin")
    for _ in range(2):
        again = validator.authenticate_token(token)
        assert again["https://example.test/org"] == {"roles": ["viewer"]}
        again["https://example.test/org"]["roles"].clear()
    entry = validator.policies().tokens.get(token)  # type: ignore[union-attr]
    assert entry is not None
    assert entry.private_claims() is not entry.private_claims()


def test_concurrent_requests_share_one_consistent_cache(
    validator: Auth0JWTBearerTokenValidator,
    api_settings: Any,
    mock_idp_network: Any,
    mock_idp: MockIdP,
) -> None:
    api_settings.AUTH0_TOKEN_CACHE_SIZE = 8
    tokens = [mock_idp.mint(claims={"jti": str(n)}) for n in range(16)]
    failures: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for round_ in range(20):
                n = (offset + round_) % len(tokens)
                assert validator.authenticate_token(tokens[n])["jti"] == str(n)
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    cache = validator.policies().tokens
    assert cache is not None
    assert len(cache) <= 8


class TestTokenCache:
    @staticmethod
    def entry(n: int = 0) -> VerifiedToken:
        return VerifiedToken(b"{}", frozenset(), f"kid-{n}", object(), 0.0, 1.0)  # type: ignore[arg-type]

    @pytest.mark.parametrize(("size", "max_bytes"), [(0, None), (-1, None), (1, 0), (1, -1)])
    def test_needs_a_positive_size(self, size: int, max_bytes: int | None) -> None:
        with pytest.raises(ValueError, match="positive"):
            TokenCache(size, max_bytes)

    def test_the_smallest_size_and_budget_work(self) -> None:
        cache = TokenCache(1, max_bytes=1)
        cache.put("t", self.entry())  # larger than one byte: not kept
        assert len(cache) == 0
        cache = TokenCache(1)
        cache.put("one", self.entry(1))
        cache.put("two", self.entry(2))
        assert [cache.get("one"), len(cache)] == [None, 1]

    def test_admits_a_token_on_its_second_verification_only(self) -> None:
        cache = TokenCache(4)
        assert [cache.admits("t"), cache.admits("t")] == [False, True]
        assert cache.admits("t") is False  # admitted tokens leave the doorkeeper
        assert cache.admits("other") is False

    def test_a_discarded_token_is_admitted_at_once(self) -> None:
        cache = TokenCache(4)
        entry, kept = self.entry(1), self.entry(2)
        cache.put("t", entry)
        cache.discard("t", entry)
        assert cache.admits("t") is True
        cache.put("u", kept)
        cache.discard("u", self.entry(3))  # not its entry: "u" stays, and stays unknown
        assert cache.get("u") is kept
        assert cache.admits("u") is False

    def test_the_doorkeeper_remembers_at_most_size_tokens(self) -> None:
        cache = TokenCache(2)
        assert [cache.admits("a"), cache.admits("b")] == [False, False]
        assert cache.admits("c") is False  # full: forgets a and b, remembers c
        assert cache.admits("a") is False
        assert cache.admits("c") is True

    def test_the_doorkeeper_remembers_no_more_tokens_than_the_bytes_could_hold(self) -> None:
        """Found by review: with a size of a million, its hashes held 66 MiB past the 32 MiB."""
        cache = TokenCache(10**6)
        assert cache.doorkeeper_size == MAX_BYTES // PLAIN_ENTRY_BYTES
        for n in range(cache.doorkeeper_size + 100):
            cache.admits(str(n))
        assert len(cache._verified_once) <= cache.doorkeeper_size
        small = TokenCache(100, max_bytes=2 * PLAIN_ENTRY_BYTES)
        assert [small.admits(t) for t in ("a", "b", "c", "a")] == [False, False, False, False]
        assert TokenCache(100, max_bytes=1).doorkeeper_size == 1

    def test_exact_strings_only(self) -> None:
        cache = TokenCache(4)
        entry = self.entry()
        cache.put("a.b.c", entry)
        assert cache.get("a.b.c") is entry
        for other in ["a.b.c ", "a.b.C", "A.b.c", "a.b", "a.b.c.", ""]:
            assert cache.get(other) is None

    def test_bounded_lru(self) -> None:
        cache = TokenCache(2)
        cache.put("one", self.entry(1))
        cache.put("two", self.entry(2))
        assert cache.get("one") is not None
        cache.put("three", self.entry(3))
        assert cache.get("two") is None
        assert cache.get("one") is not None
        assert len(cache) == 2

    @staticmethod
    def sized(payload_bytes: int) -> VerifiedToken:
        payload = b"x" * payload_bytes
        return VerifiedToken(payload, frozenset(), "kid", object(), 0.0, 1.0)  # type: ignore[arg-type]

    @staticmethod
    def assert_held_is_the_sum(cache: TokenCache) -> None:
        entries = list(cache._entries.items())
        assert cache.held == sum(footprint(token, entry) for token, entry in entries)
        assert cache.held <= cache.max_bytes

    def test_the_memory_held_is_bounded_too(self) -> None:
        assert footprint("t1", self.sized(50)) == 2 + PAYLOAD_FOOTPRINT * 50
        cache = TokenCache(100, max_bytes=2 * footprint("t1", self.sized(50)))
        cache.put("t1", self.sized(50))
        cache.put("t2", self.sized(50))
        assert cache.get("t1") is not None  # t2 is now the least recently used
        cache.put("t3", self.sized(50))
        assert [cache.get(t) is not None for t in ("t1", "t2", "t3")] == [True, False, True]
        self.assert_held_is_the_sum(cache)
        cache.put("t4", self.sized(100))  # as much as two: both others leave
        assert len(cache) == 1
        self.assert_held_is_the_sum(cache)

    def test_replacing_and_discarding_keep_the_count_of_bytes(self) -> None:
        cache = TokenCache(4, max_bytes=10_000)
        small, large = self.sized(10), self.sized(100)
        cache.put("t", small)
        cache.put("t", large)
        self.assert_held_is_the_sum(cache)
        cache.discard("t", small)  # not the entry any more: kept
        assert cache.held == footprint("t", large)
        cache.discard("t", large)
        assert cache.held == 0

    def test_an_entry_larger_than_the_budget_is_never_kept(self) -> None:
        cache = TokenCache(4, max_bytes=footprint("t", self.sized(100)) - 1)
        cache.put("small", self.sized(10))
        cache.put("t", self.sized(100))
        assert cache.get("t") is None
        assert cache.get("small") is not None  # and it evicted nothing
        self.assert_held_is_the_sum(cache)

    def test_an_entry_of_exactly_the_budget_is_kept(self) -> None:
        cache = TokenCache(4, max_bytes=footprint("t", self.sized(100)))
        cache.put("t", self.sized(100))
        assert cache.get("t") is not None
        self.assert_held_is_the_sum(cache)

    def test_an_entry_shows_no_claims_in_its_repr(self) -> None:
        """Entries hold a bearer token's claims, which stay out of any log line."""
        entry = VerifiedToken(
            b'{"sub":"auth0|secret-subject","email":"someone@example.com"}',
            frozenset(),
            "kid",
            object(),  # type: ignore[arg-type]
            0.0,
            1.0,
        )
        for _ in range(2):  # before the first hit, and holding the parse kept by it
            assert "secret-subject" not in repr(entry)
            assert "someone@example.com" not in repr(entry)
            entry.private_claims()

    def test_discard_leaves_a_newer_entry(self) -> None:
        cache = TokenCache(2)
        old, new = self.entry(1), self.entry(2)
        cache.put("t", old)
        cache.put("t", new)
        cache.discard("t", old)
        assert cache.get("t") is new
        cache.discard("t", new)
        assert cache.get("t") is None
        cache.discard("t", new)  # already gone: nothing happens

    def test_threads_never_exceed_the_size(self) -> None:
        cache = TokenCache(32)
        entry = self.entry()

        def work(offset: int) -> None:
            for n in range(2000):
                name = str((offset * 7 + n) % 100)
                cache.admits(name)
                cache.put(name, entry)
                cache.get(name)
                cache.discard(str(n % 100), entry)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(cache) <= 32
        assert len(cache._verified_once) <= cache.doorkeeper_size == 32
        self.assert_held_is_the_sum(cache)

    def test_admits_waits_for_the_lock(self) -> None:
        """The doorkeeper's look-up and its update are one step under the cache's lock."""
        cache = TokenCache(4)
        answered = threading.Event()

        def admit() -> None:
            cache.admits("t")
            answered.set()

        with cache._lock:
            worker = threading.Thread(target=admit)
            worker.start()
            assert not answered.wait(0.1)
        worker.join(5)
        assert answered.is_set()

    @settings(deadline=None, max_examples=120)  # no per-example limit: CI runs 4 tox envs at once
    @given(
        st.lists(
            st.tuples(
                st.sampled_from(["get", "put", "put", "discard", "discard_stale"]),
                st.sampled_from("abcde"),
                # payload bytes: four small entries overflow the size first, two of 5 and one
                # of 2 the bytes first; 12 make an entry too large to keep
                st.sampled_from([0, 1, 2, 5, 11, 12]),
            ),
            min_size=20,
            max_size=80,
        )
    )
    # Pinned besides: the entry bound with a hit moving "a" last, and the byte bound.
    @example([*(("put", t, 0) for t in "abc"), ("get", "a", 0), ("put", "d", 0), ("get", "b", 0)])
    @example([("put", "a", 5), ("put", "b", 5), ("put", "c", 2), ("get", "a", 0)])
    def test_behaves_as_a_least_recently_used_map_bounded_twice(
        self, operations: list[tuple[str, str, int]]
    ) -> None:
        """Model-based: every answer as from an ordered map that a hit moves to the end and
        that drops from the front while over ``size`` entries or ``max_bytes`` (by footprint)."""
        size, max_bytes = 3, 100  # one-letter tokens: 1 + 9 bytes per payload byte an entry
        cache = TokenCache(size, max_bytes)
        model: OrderedDict[str, VerifiedToken] = OrderedDict()
        for operation, token, payload_size in operations:
            entry = VerifiedToken(b"x" * payload_size, frozenset(), "kid", object(), 0.0, 1.0)  # type: ignore[arg-type]
            if operation == "get":
                assert cache.get(token) is model.get(token)
                if token in model:
                    model.move_to_end(token)
            elif operation == "put":
                cache.put(token, entry)
                if footprint(token, entry) <= max_bytes:
                    model.pop(token, None)
                    model[token] = entry
                    while (
                        len(model) > size or sum(footprint(*i) for i in model.items()) > max_bytes
                    ):
                        model.popitem(last=False)
            elif operation == "discard" and token in model:
                cache.discard(token, model.pop(token))
            else:  # an entry the cache does not hold for this token: nothing is dropped
                cache.discard(token, entry)
            assert len(cache) == len(model)
            assert cache.held == sum(footprint(*item) for item in model.items())


def test_only_the_first_hit_parses_a_shallow_payload(monkeypatch: pytest.MonkeyPatch) -> None:
    """Later hits copy the parse the first one kept (found by mutation testing: parsing on
    every hit gave the same claims, only slower)."""
    payload = b'{"exp": 2, "iat": 1, "aud": ["a"], "scope": "s"}'
    entry = VerifiedToken.of(payload, json.loads(payload), frozenset({"s"}), "kid", object())  # type: ignore[arg-type]
    parses: list[bytes] = []

    def counting(raw: bytes) -> dict[str, Any]:
        parses.append(raw)
        return parse_payload(raw)

    monkeypatch.setattr(token_cache, "parse_payload", counting)
    hits = [entry.private_claims() for _ in range(3)]
    assert len(parses) == 1
    assert all(hit == json.loads(payload) for hit in hits)
    assert hits[1]["aud"] is not hits[2]["aud"]


def _token_of_length(mock_idp: MockIdP, length: int) -> str:
    """A valid token exactly ``length`` characters long (a filler claim, a padded header)."""
    for pad in range(4):
        base = len(mock_idp.mint(claims={"f": ""}, header={"p": "y" * pad}))
        start = max(0, (length - base) * 3 // 4 - 8)
        for filler in range(start, start + 16):
            token = mock_idp.mint(claims={"f": "x" * filler}, header={"p": "y" * pad})
            if len(token) == length:
                return token
    raise AssertionError(f"no token of {length} characters")


def test_a_token_of_the_longest_length_is_cached(
    api_settings: Any, mock_idp_network: Any, mock_idp: MockIdP, verifications: list[str]
) -> None:
    """Found by mutation testing: ``<`` for ``<=`` in the validator's length check survived."""
    validator = Auth0JWTBearerTokenValidator()
    token = _token_of_length(mock_idp, MAX_TOKEN_LENGTH)
    for _ in range(3):
        validator.authenticate_token(token)
    assert len(verifications) == 2
