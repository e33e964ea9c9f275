"""Which JWKS members are trusted, and the cache: TTL, cooldown, single flight, stale-if-error."""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
import warnings
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from joserfc.jwk import RSAKey

from apiexample import jwks_fetch, signing_keys
from apiexample.jwks_fetch import JWKSFetchError
from apiexample.signing_keys import SigningKeyCache, SigningKeysUnavailable, usable_keys
from mock_idp import ControllableClock, MockIdP
from mock_idp.keys import b64url
from tests.apiexample.helpers import wait_for_refreshes

URL = "https://tenant.example.test/.well-known/jwks.json"


def refresh_as_a_raced_thread(cache: Any, seen_before: Any) -> None:
    """The refresh of a thread that read the key set ``seen_before`` and then waited for the
    lock while another thread's fetch ended: taken as ``_refresh_if_allowed`` takes it, it
    answers the key set as it is now and releases the lock."""
    assert cache._lock.acquire(blocking=False)
    assert cache._refresh_holding_lock(seen_before) is cache._snapshot
    assert not cache._lock.locked()


class CountingLock:
    """The cache's lock, counting the threads that asked to wait for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.asked = 0
        self._count = threading.Lock()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if blocking and timeout != 0:
            with self._count:
                self.asked += 1
        return self._lock.acquire(blocking, timeout)

    def release(self) -> None:
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    def wait_for(self, count: int) -> None:
        deadline = threading.Event()
        for _ in range(500):
            if self.asked >= count:
                return
            deadline.wait(0.01)
        raise AssertionError(f"only {self.asked} of {count} threads reached the lock")


class FakeIdP:
    """A fetch function whose answer and failures the test controls."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.failure: str | None = None
        self.calls = 0
        self.timeouts: list[float] = []
        self.gate: threading.Event | None = None
        self.fetching = threading.Event()

    def __call__(self, url: str, timeout: float) -> dict[str, Any]:
        self.calls += 1
        self.timeouts.append(timeout)
        self.fetching.set()
        if self.gate is not None:
            self.gate.wait(60)  # every test opens it: the bound only stops a hang
        if self.failure:
            raise JWKSFetchError(self.failure)
        return self.document


#: The model-based test's settings: small, so that a few steps cross each bound.
TTL, COOLDOWN, STALE_IF_ERROR = 10, 2, 20


class KeyCacheModel:
    """What ``SigningKeyCache`` answers, one request at a time, each background refresh done
    before the next request: the README's "Signing keys" in a few lines."""

    def __init__(self) -> None:
        self.kids: frozenset[str] = frozenset()  # those of the last key set fetched
        self.fetched_at = -math.inf  # when it was fetched
        self.last_attempt = -math.inf
        self.failed = False  # the last attempt
        self.fetches: list[float] = []

    def fetch(self, now: float, published: frozenset[str] | None) -> None:
        """One attempt; ``published`` is None while the IdP fails."""
        self.fetches.append(now)
        self.last_attempt = now
        self.failed = published is None
        if published is not None:
            self.kids, self.fetched_at = published, now

    def get(self, kid: str, now: float, published: frozenset[str] | None) -> str | None:
        """``kid`` when its key is served, None when the issuer lacks it; raises
        SigningKeysUnavailable."""
        may_fetch = now - self.last_attempt >= COOLDOWN
        age = now - self.fetched_at
        if kid in self.kids and age < TTL + STALE_IF_ERROR:  # at hand: answered at once
            if age >= TTL and may_fetch:
                self.fetch(now, published)  # in the background
            return kid
        if may_fetch:
            self.fetch(now, published)
        if now - self.fetched_at >= TTL + STALE_IF_ERROR:
            raise SigningKeysUnavailable("expired", 0)
        if kid not in self.kids and self.failed:  # could not be checked
            raise SigningKeysUnavailable("unchecked", 0)
        return kid if kid in self.kids else None


def ask(which: str) -> tuple[str, str, int]:
    """The model-based test's request for the ``current``, ``previous``, ``retired`` or an
    ``unknown`` kid."""
    return ("get", which, 0)


def after(seconds: int) -> tuple[str, str, int]:
    return ("advance", "", seconds)


FAIL, RECOVER, ROTATE = ("fail", "", 0), ("recover", "", 0), ("rotate", "", 0)


@pytest.fixture
def jwks(mock_idp: MockIdP) -> dict[str, Any]:
    return mock_idp.jwks()


@pytest.fixture
def clock() -> ControllableClock:
    return ControllableClock(start=1000)


@pytest.fixture
def idp(jwks: dict[str, Any]) -> FakeIdP:
    return FakeIdP(jwks)


@pytest.fixture
def cache(api_settings: Any, clock: ControllableClock, idp: FakeIdP) -> Iterator[SigningKeyCache]:
    cache = SigningKeyCache(URL, clock=clock.now, fetch=idp)
    yield cache
    assert wait_for_refreshes(10), "a refresh started by the test outlived it"


def kid_of(jwks: dict[str, Any]) -> str:
    return str(jwks["keys"][0]["kid"])


class TestUsableKeys:
    def test_keeps_rsa_signing_keys(self, jwks: dict[str, Any]) -> None:
        assert set(usable_keys(jwks, ["RS256"])) == {kid_of(jwks)}

    @pytest.mark.parametrize("algorithms", [["RS256", "PS256"], ["PS256", "RS256"]])
    def test_a_member_without_alg_gets_the_first_allowed(
        self, jwks: dict[str, Any], algorithms: list[str]
    ) -> None:
        """RFC 8725 section 3.1: each key is used with exactly one algorithm."""
        member = {k: v for k, v in jwks["keys"][0].items() if k != "alg"}
        assert usable_keys({"keys": [member]}, algorithms)[kid_of(jwks)].alg == algorithms[0]
        assert usable_keys(jwks, ["PS256", "RS256"])[kid_of(jwks)].alg == "RS256"  # its own

    def test_keeps_a_member_without_use(self, jwks: dict[str, Any]) -> None:
        """RFC 7517 section 4.2: ``use`` is optional; the README takes it absent or ``sig``."""
        member = {k: v for k, v in jwks["keys"][0].items() if k != "use"}
        assert set(usable_keys({"keys": [member]}, ["RS256"])) == {kid_of(jwks)}

    @pytest.mark.parametrize(
        ("change", "reason"),
        [
            ({"kty": "oct", "k": "c2VjcmV0"}, "not_rsa"),
            ({"kty": None}, "not_rsa"),
            ({"use": "enc"}, "not_for_signing"),
            ({"d": "AQAB"}, "private_members"),
            ({"kid": ""}, "no_kid"),
            ({"kid": 5}, "no_kid"),
            ({"alg": "HS256"}, "alg_not_allowed"),
            ({"n": "AQAB"}, "too_small"),
            ({"n": None}, "too_small"),
            ({"n": "!!!"}, "malformed"),
            ({"n": "A"}, "malformed"),
            ({"e": 12}, "bad_exponent"),
            ({"kid": ["a", "list"]}, "no_kid"),
            ({"kid": {"an": "object"}}, "no_kid"),
            ({"alg": ["RS256"]}, "alg_not_allowed"),
            ({"kty": ["RSA"]}, "not_rsa"),
            ({"use": {"sig": True}}, "not_for_signing"),
            # joserfc's own parameter checks raise its KeyParameterError, not ValueError
            ({"x5t": 5}, "malformed"),
            ({"key_ops": "verify"}, "malformed"),
        ],
    )
    def test_skips_a_bad_member_and_keeps_the_rest(
        self,
        jwks: dict[str, Any],
        mock_idp_keys: Any,
        change: dict[str, Any],
        reason: str,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Each member skipped is counted under the rule it broke (``None`` removes one)."""
        good = mock_idp_keys.secondary.public_jwk()
        bad = {k: v for k, v in {**jwks["keys"][0], **change}.items() if v is not None}
        kept = usable_keys({"keys": [bad, good]}, ["RS256"])
        assert set(kept) == {good["kid"]}
        assert f"jwks members skipped: {{'{reason}': 1}}" in caplog.text

    def test_a_key_set_with_nothing_to_skip_logs_nothing(
        self, jwks: dict[str, Any], caplog: pytest.LogCaptureFixture
    ) -> None:
        assert set(usable_keys(jwks, ["RS256"])) == {kid_of(jwks)}
        assert not caplog.records

    @pytest.mark.parametrize("part", ["d", "p", "q", "dp", "dq", "qi", "oth", "k"])
    def test_skips_a_member_showing_any_private_part(
        self, jwks: dict[str, Any], mock_idp_keys: Any, part: str, caplog: Any
    ) -> None:
        """RFC 7518 sections 6.3.2 and 6.4.1: each of them is private; a key set holds none."""
        good = mock_idp_keys.secondary.public_jwk()
        leaking = {**jwks["keys"][0], part: "AQAB"}
        assert set(usable_keys({"keys": [leaking, good]}, ["RS256"])) == {good["kid"]}
        assert "{'private_members': 1}" in caplog.text  # not skipped for another reason

    def test_skips_non_objects_and_missing_kid(
        self, jwks: dict[str, Any], caplog: pytest.LogCaptureFixture
    ) -> None:
        member = dict(jwks["keys"][0])
        del member["kid"]
        assert usable_keys({"keys": ["x", None, 3, member]}, ["RS256"]) == {}
        assert "{'no_kid': 1, 'not_an_object': 3}" in caplog.text

    def test_skips_every_member_sharing_a_kid(
        self, jwks: dict[str, Any], mock_idp_keys: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        twin = {**mock_idp_keys.secondary.public_jwk(), "kid": kid_of(jwks)}
        assert usable_keys({"keys": [jwks["keys"][0], twin]}, ["RS256"]) == {}
        assert "jwks members skipped: {'duplicate_kid': 2}" in caplog.text  # both, not one

    @pytest.mark.parametrize("other", ["oct", "ec", "use_enc", "rsa_1024", "private"])
    def test_a_kid_shared_with_a_member_skipped_anyway_keeps_the_key(
        self, jwks: dict[str, Any], mock_idp_keys: Any, other: str, caplog: Any
    ) -> None:
        """RFC 7517 section 4.5: keys of different types may share a ``kid``."""
        real = jwks["keys"][0]
        sharing = {
            "oct": {"kty": "oct", "k": "c2VjcmV0"},
            "ec": mock_idp_keys.ec_p256.public_jwk(),
            "use_enc": {**mock_idp_keys.secondary.public_jwk(), "use": "enc"},
            "rsa_1024": mock_idp_keys.rsa_1024.public_jwk(),
            "private": {**mock_idp_keys.secondary.public_jwk(), "d": "AQAB"},
        }[other]
        kept = usable_keys({"keys": [{**sharing, "kid": real["kid"]}, real]}, ["RS256"])
        assert set(kept) == {real["kid"]}
        assert "duplicate_kid" not in caplog.text

    @pytest.mark.parametrize(
        ("bits", "skipped"),
        [(2047, "too_small"), (2048, None), (8192, None), (8193, "too_large"),
         (16384, "too_large")],
    )  # fmt: skip
    def test_keys_from_2048_to_8192_bits_are_kept(
        self, jwks: dict[str, Any], bits: int, skipped: str | None, caplog: Any
    ) -> None:
        modulus = (1 << (bits - 1)) | 1  # an odd number of exactly ``bits`` bits
        member = {**jwks["keys"][0], "n": b64url(modulus.to_bytes((bits + 7) // 8, "big"))}
        assert bool(usable_keys({"keys": [member]}, ["RS256"])) is (skipped is None)
        if skipped is None:
            assert not caplog.records
        else:
            assert f"jwks members skipped: {{'{skipped}': 1}}" in caplog.text

    @pytest.mark.parametrize(
        ("exponent", "kept"),
        [(65537, True), (3, True), (2**256 - 1, True), (2**256 + 1, False), (1, False),
         (65536, False), (2**2047 + 1, False)],
    )  # fmt: skip
    def test_public_exponents_are_odd_and_below_2_to_the_256(
        self, jwks: dict[str, Any], exponent: int, kept: bool, caplog: Any
    ) -> None:
        """FIPS 186-5 section A.1.1; a 2047-bit exponent made every verify 60 times slower."""
        encoded = b64url(exponent.to_bytes((exponent.bit_length() + 7) // 8, "big"))
        member = {**jwks["keys"][0], "e": encoded}
        assert bool(usable_keys({"keys": [member]}, ["RS256"])) is kept
        assert ("bad_exponent" in caplog.text) is not kept

    def test_skips_small_and_ec_keys(self, mock_idp_keys: Any) -> None:
        members = [mock_idp_keys.rsa_1024.public_jwk(), mock_idp_keys.ec_p256.public_jwk()]
        assert usable_keys({"keys": members}, ["RS256"]) == {}


class TestCache:
    def test_nothing_is_fetched_until_needed(self, cache: SigningKeyCache, idp: FakeIdP) -> None:
        assert idp.calls == 0

    def test_a_fetch_is_logged_with_its_count_of_keys_and_url(
        self, cache: Any, jwks: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.INFO, logger="apiexample"):
            cache.get(kid_of(jwks))
        assert f"jwks fetched: 1 usable keys from {URL}" in caplog.text

    def test_a_thread_that_raced_another_s_fetch_to_the_lock_shares_its_result(
        self, cache: Any, idp: FakeIdP, jwks: Any, api_settings: Any
    ) -> None:
        """It read the key set before the other fetch ended: no second fetch for it, even
        where the cooldown would allow one."""
        api_settings.AUTH0_JWKS_COOLDOWN = 0
        seen_before = cache._snapshot
        cache.get(kid_of(jwks))
        refresh_as_a_raced_thread(cache, seen_before)
        assert idp.calls == 1

    def test_fetches_once_within_the_ttl(
        self, cache: Any, idp: FakeIdP, jwks: Any, clock: Any
    ) -> None:
        for _ in range(5):
            assert cache.get(kid_of(jwks)) is not None
            clock.advance(100)
        assert idp.calls == 1
        clock.advance(99)  # 599 s after the fetch: still within the 600 s TTL
        cache.get(kid_of(jwks))
        assert idp.calls == 1
        clock.advance(1)  # 600 s: the TTL has run out
        assert cache.get(kid_of(jwks)) is not None  # answered; the refresh runs meanwhile
        assert wait_for_refreshes(10)
        assert idp.calls == 2

    def test_unknown_kid_refetches_at_most_once_per_cooldown(
        self, cache: Any, idp: FakeIdP, jwks: Any, clock: Any
    ) -> None:
        cache.get(kid_of(jwks))
        clock.advance(31)
        for n in range(1000):
            assert cache.get(f"unknown-{n}") is None
        assert idp.calls == 2
        clock.advance(29)
        cache.get("unknown-again")
        assert idp.calls == 2
        clock.advance(1)
        cache.get("unknown-again")
        assert idp.calls == 3

    def test_a_rotated_key_is_picked_up_after_the_cooldown(
        self, cache: Any, idp: FakeIdP, jwks: Any, clock: Any, mock_idp_keys: Any
    ) -> None:
        cache.get(kid_of(jwks))
        new = mock_idp_keys.secondary.public_jwk()
        idp.document = {"keys": [*jwks["keys"], new]}
        clock.advance(30)
        assert cache.get(new["kid"]) is not None

    def test_cold_start_failure_is_unavailable_with_retry_after(
        self, cache: Any, idp: FakeIdP, jwks: Any, clock: Any
    ) -> None:
        idp.failure = "jwks_http_503"
        with pytest.raises(SigningKeysUnavailable) as caught:
            cache.get(kid_of(jwks))
        assert caught.value.reason == "jwks_http_503"
        assert caught.value.retry_after == 30
        clock.advance(10)
        with pytest.raises(SigningKeysUnavailable) as again:
            cache.get(kid_of(jwks))
        assert again.value.retry_after == 20
        assert idp.calls == 1  # failures are rate-limited too

    def test_the_cooldown_runs_from_the_end_of_a_fetch_that_outlasted_it(
        self, api_settings: Any, clock: Any, jwks: Any
    ) -> None:
        """A hung IdP (here 45 s, past the 30 s cooldown): requests queued behind its fetch
        get 503 at once, instead of each starting a fetch of its own."""
        fetches: list[str] = []

        def hung_idp(url: str, timeout: float) -> dict[str, Any]:
            fetches.append(url)
            clock.advance(45)
            raise JWKSFetchError("jwks_timeout")

        cache = SigningKeyCache(URL, clock=clock.now, fetch=hung_idp)
        for _ in range(3):
            with pytest.raises(SigningKeysUnavailable) as caught:
                cache.get(kid_of(jwks))
            assert caught.value.retry_after == 30
        assert len(fetches) == 1
        clock.advance(30)
        with pytest.raises(SigningKeysUnavailable):
            cache.get(kid_of(jwks))
        assert len(fetches) == 2

    @pytest.mark.parametrize(
        "error",
        [
            ValueError("invalid literal for int() with base 10: '²'"),
            UnicodeDecodeError("utf-8", b"\xe9", 0, 1, "unexpected end of data"),  # a .reason
        ],
    )
    def test_any_other_failure_is_logged_under_one_code(
        self, api_settings: Any, clock: Any, jwks: Any, error: Exception, caplog: Any
    ) -> None:
        def failing(url: str, timeout: float) -> dict[str, Any]:
            raise error

        cache = SigningKeyCache(URL, clock=clock.now, fetch=failing)
        with pytest.raises(SigningKeysUnavailable) as caught:
            cache.get(kid_of(jwks))
        assert caught.value.reason == "jwks_malformed"
        assert "jwks refresh failed: reason=jwks_malformed " in caplog.text

    def test_a_failure_is_a_warning_while_keys_serve_an_error_once_per_attempt_after(
        self, cache: Any, idp: FakeIdP, jwks: Any, clock: Any, caplog: Any
    ) -> None:
        """Protected requests get 503 then, and Django logs none of them (they are marked
        logged): found by review, an outage had left no ERROR anywhere."""
        cache.get(kid_of(jwks))
        idp.failure = "jwks_http_500"
        clock.advance(601)
        with caplog.at_level(logging.WARNING, logger="apiexample.signing_keys"):
            assert cache.get(kid_of(jwks)) is not None  # stale keys serve
            assert wait_for_refreshes(10)
            clock.advance(86_400)  # past stale-if-error: nothing at hand any more
            for _ in range(20):
                with pytest.raises(SigningKeysUnavailable):
                    cache.get(kid_of(jwks))
        failures = [r for r in caplog.records if "jwks refresh failed" in r.getMessage()]
        assert [r.levelname for r in failures] == ["WARNING", "ERROR"]
        # While stale keys serve, the warning names no 503.
        assert failures[0].getMessage() == f"jwks refresh failed: reason=jwks_http_500 url={URL}"
        assert failures[1].getMessage().endswith("(no keys at hand: protected requests get 503)")

    def test_recovers_by_itself(self, cache: Any, idp: FakeIdP, jwks: Any, clock: Any) -> None:
        idp.failure = "jwks_unreachable"
        with pytest.raises(SigningKeysUnavailable):
            cache.get(kid_of(jwks))
        idp.failure = None
        clock.advance(30)
        assert cache.get(kid_of(jwks)) is not None

    def test_empty_key_set_is_a_failure(self, cache: Any, idp: FakeIdP, jwks: Any) -> None:
        idp.document = {"keys": []}
        with pytest.raises(SigningKeysUnavailable) as caught:
            cache.get(kid_of(jwks))
        assert caught.value.reason == "jwks_no_usable_keys"

    def test_stale_keys_serve_while_refresh_fails_then_expire(
        self, cache: Any, idp: FakeIdP, jwks: Any, clock: Any
    ) -> None:
        cache.get(kid_of(jwks))
        idp.failure = "jwks_http_500"
        clock.advance(601)
        assert cache.get(kid_of(jwks)) is not None
        assert wait_for_refreshes(10)
        assert idp.calls == 2
        assert cache.get(kid_of(jwks)) is not None  # refresh failed: stale keys keep serving
        clock.advance(86_400 - 1)
        with pytest.raises(SigningKeysUnavailable):
            cache.get(kid_of(jwks))

    def test_stale_if_error_runs_from_the_end_of_the_ttl(
        self, cache: Any, idp: FakeIdP, jwks: Any, clock: Any
    ) -> None:
        """README: keys are served for ``AUTH0_JWKS_STALE_IF_ERROR`` past their TTL, not past
        their fetch (RFC 5861 section 4)."""
        cache.get(kid_of(jwks))
        idp.failure = "jwks_http_500"
        clock.advance(600 + 86_400 - 1)  # 86 999 s after the fetch, past 86 400 from it
        assert cache.get(kid_of(jwks)) is not None
        assert wait_for_refreshes(10)
        assert idp.calls == 2

    def test_stale_if_error_is_the_setting(
        self, cache: Any, idp: FakeIdP, jwks: Any, clock: Any, api_settings: Any
    ) -> None:
        api_settings.AUTH0_JWKS_STALE_IF_ERROR = 100
        cache.get(kid_of(jwks))
        idp.failure = "jwks_http_500"
        clock.advance(600 + 99)  # 99 s past the TTL: the failed refresh leaves the keys serving
        assert cache.get(kid_of(jwks)) is not None
        assert wait_for_refreshes(10)
        clock.advance(1)  # 100 s past the TTL
        with pytest.raises(SigningKeysUnavailable):
            cache.get(kid_of(jwks))

    def test_without_stale_if_error_keys_past_the_ttl_wait_for_the_refresh(
        self, cache: Any, idp: FakeIdP, jwks: Any, clock: Any, api_settings: Any
    ) -> None:
        """README: stale-while-revalidate serves within the stale-if-error window; with it 0,
        a request past the TTL fetches in its own thread, and a failure is its 503."""
        api_settings.AUTH0_JWKS_STALE_IF_ERROR = 0
        cache.get(kid_of(jwks))
        clock.advance(601)
        idp.failure = "jwks_http_500"
        with pytest.raises(SigningKeysUnavailable):
            cache.get(kid_of(jwks))
        assert idp.calls == 2  # made by the request itself, before it answered
        idp.failure = None
        clock.advance(30)  # the cooldown
        assert cache.get(kid_of(jwks)) is not None
        assert idp.calls == 3

    def test_a_raced_thread_does_not_fetch_again_after_a_failure_within_the_cooldown(
        self, cache: Any, idp: FakeIdP, jwks: Any
    ) -> None:
        """A failed fetch leaves the key set as it was: the thread that took the lock after it
        must still see the cooldown, else a failing IdP gets two fetches at once."""
        idp.failure = "jwks_http_503"
        seen_before = cache._snapshot
        with pytest.raises(SigningKeysUnavailable):
            cache.get(kid_of(jwks))
        refresh_as_a_raced_thread(cache, seen_before)
        assert idp.calls == 1

    def test_without_a_thread_for_the_refresh_stale_keys_serve_when_it_fails(
        self, cache: Any, idp: FakeIdP, jwks: Any, clock: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The request refreshes itself and the IdP fails: the key at hand still serves, as it
        does when the refresh runs in another thread."""
        key = cache.get(kid_of(jwks))
        clock.advance(601)
        idp.failure = "jwks_http_500"

        def no_thread(thread: threading.Thread) -> None:
            raise RuntimeError("can't start new thread")

        monkeypatch.setattr(threading.Thread, "start", no_thread)
        assert cache.get(kid_of(jwks)) is key
        assert idp.calls == 2

    def test_a_key_published_while_the_request_checks_is_served(
        self, cache: Any, idp: FakeIdP, jwks: Any, mock_idp_keys: Any
    ) -> None:
        """A fetch seen in flight may end before the key set is read: the key it brought is
        served, not refused as ``jwks_refreshing`` (the lock is read before the key set)."""
        cache.get(kid_of(jwks))
        new = mock_idp_keys.secondary.public_jwk()
        fetched = usable_keys({"keys": [*jwks["keys"], new]}, ["RS256"])

        class EndingLock(CountingLock):
            """Held by a fetch in flight; the fetch publishes its key set as ``get`` checks."""

            def __init__(self) -> None:
                super().__init__()
                self._lock.acquire()

            def locked(self) -> bool:
                if sys._getframe(1).f_code.co_name == "get":
                    cache._snapshot = signing_keys.KeySetSnapshot(fetched, cache.clock())
                return True

        cache._lock = EndingLock()
        assert cache.get(new["kid"]) is fetched[new["kid"]]
        assert idp.calls == 1

    def test_concurrent_misses_share_one_fetch(
        self, cache: Any, idp: FakeIdP, jwks: Any, api_settings: Any
    ) -> None:
        api_settings.AUTH0_JWKS_COOLDOWN = 0  # each waiter could fetch again: it must not
        lock = cache._lock = CountingLock()
        idp.gate = threading.Event()
        results: list[Any] = []
        threads = [
            threading.Thread(target=lambda: results.append(cache.get(kid_of(jwks))))
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        lock.wait_for(7)  # all eight missed; seven wait while the first one fetches
        idp.gate.set()
        for thread in threads:
            thread.join(30)
            assert not thread.is_alive()
        assert idp.calls == 1
        assert len(results) == 8
        assert all(key is not None for key in results)
        # Every waiter gave the lock back: else no fetch could ever happen again in this
        # process (no rotation seen, an unknown kid answered 503 for ever).
        assert not lock.locked()
        assert cache.get("a-kid-not-in-the-set") is None
        assert idp.calls == 2

    def test_requests_waiting_for_a_failed_fetch_share_its_failure(
        self, cache: Any, idp: FakeIdP, jwks: Any, api_settings: Any
    ) -> None:
        """With a cooldown shorter than the fetch, a waiter could fetch again after the first
        one failed, and answer after twice the fetch timeout."""
        api_settings.AUTH0_JWKS_COOLDOWN = 0
        lock = cache._lock = CountingLock()
        idp.gate = threading.Event()
        idp.failure = "jwks_http_503"
        reasons: list[str] = []

        def ask() -> None:
            try:
                cache.get(kid_of(jwks))
            except SigningKeysUnavailable as exc:
                reasons.append(exc.reason)

        threads = [threading.Thread(target=ask) for _ in range(4)]
        for thread in threads:
            thread.start()
        lock.wait_for(3)  # three wait while the first one fetches
        idp.gate.set()
        for thread in threads:
            thread.join(30)
            assert not thread.is_alive()
        assert reasons == ["jwks_http_503"] * 4
        assert idp.calls == 1
        assert not lock.locked()

    def test_unknown_kid_while_refresh_fails_is_unavailable_not_unknown(
        self, cache: Any, idp: FakeIdP, jwks: Any, clock: Any
    ) -> None:
        cache.get(kid_of(jwks))
        idp.failure = "jwks_http_503"
        clock.advance(30)
        with pytest.raises(SigningKeysUnavailable) as caught:
            cache.get("a-new-key-we-could-not-fetch")
        assert caught.value.reason == "jwks_http_503"
        assert cache.get(kid_of(jwks)) is not None  # known keys keep serving meanwhile
        idp.failure = None
        clock.advance(30)
        assert cache.get("a-new-key-we-could-not-fetch") is None  # checked: really unknown

    def test_requests_that_can_be_answered_never_wait_for_a_slow_fetch(
        self, cache: Any, idp: FakeIdP, jwks: Any, clock: Any, api_settings: Any
    ) -> None:
        api_settings.AUTH0_JWKS_TIMEOUT = 60  # what a waiting request would wait for
        key = cache.get(kid_of(jwks))
        clock.advance(601)  # stale: the next request starts a refresh, and the IdP hangs
        idp.gate = threading.Event()
        idp.fetching.clear()
        answers: list[Any] = []

        def ask() -> None:
            answers.append(cache.get(kid_of(jwks)))  # starts the refresh, answered at once
            answers.append(idp.fetching.wait(30))  # the refresh is under way, holding the lock
            answers.append(cache.get(kid_of(jwks)))  # the next request: answered at once too
            try:
                cache.get("unknown")  # cannot be checked yet: answered at once as well
            except SigningKeysUnavailable as exc:
                answers.append(exc.reason)
                answers.append(exc.retry_after)  # retry once the fetch has had its time

        asker = threading.Thread(target=ask)
        asker.start()
        asker.join(30)  # a request waiting for the fetch would wait its whole timeout (60 s)
        assert not asker.is_alive(), "a request that could be answered waited for the fetch"
        assert answers == [key, True, key, "jwks_refreshing", 60]
        assert not wait_for_refreshes(0)  # the IdP still hangs
        idp.gate.set()
        assert wait_for_refreshes(30)
        assert cache.get("unknown") is None
        assert idp.calls == 2

    def test_without_a_thread_for_the_refresh_the_request_refreshes_itself(
        self,
        cache: Any,
        idp: FakeIdP,
        jwks: Any,
        clock: Any,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        cache.get(kid_of(jwks))
        clock.advance(601)

        def no_thread(thread: threading.Thread) -> None:
            raise RuntimeError("can't start new thread")

        monkeypatch.setattr(threading.Thread, "start", no_thread)
        assert cache.get(kid_of(jwks)) is not None
        assert idp.calls == 2  # fetched in the request, as before stale-while-revalidate
        assert "jwks refresh thread not started (can't start new thread)" in caplog.text
        assert not cache._lock.locked()
        clock.advance(29)  # within the cooldown and the new TTL: no attempt, no thread wanted
        assert cache.get(kid_of(jwks)) is not None
        assert idp.calls == 2

    def test_no_refresh_thread_is_started_while_the_cooldown_forbids_a_fetch(
        self, cache: Any, idp: FakeIdP, jwks: Any, clock: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        cache.get(kid_of(jwks))
        idp.failure = "jwks_http_500"
        clock.advance(601)
        assert cache.get(kid_of(jwks)) is not None  # starts a refresh, which fails
        assert wait_for_refreshes(10)
        started: list[str] = []
        start = threading.Thread.start

        def counted(thread: threading.Thread) -> None:
            started.append(thread.name)
            start(thread)

        monkeypatch.setattr(threading.Thread, "start", counted)
        for _ in range(3):  # stale keys serve; the cooldown (30 s) forbids another attempt
            assert cache.get(kid_of(jwks)) is not None
            clock.advance(9)
        assert started == []
        assert not cache._lock.locked()
        clock.advance(3)  # 30 s after the failed attempt
        assert cache.get(kid_of(jwks)) is not None
        assert started == [signing_keys.REFRESH_THREAD_NAME]
        assert wait_for_refreshes(10)
        assert idp.calls == 3

    def test_each_fetch_is_given_the_jwks_timeout_setting(
        self, cache: Any, idp: FakeIdP, jwks: Any, api_settings: Any
    ) -> None:
        api_settings.AUTH0_JWKS_TIMEOUT = "2.5"
        cache.get(kid_of(jwks))
        assert idp.timeouts == [2.5]

    def test_settings_are_read_at_call_time(
        self, cache: Any, idp: FakeIdP, jwks: Any, clock: Any, api_settings: Any
    ) -> None:
        cache.get(kid_of(jwks))
        api_settings.AUTH0_JWKS_CACHE_TTL = 40
        clock.advance(41)
        cache.get(kid_of(jwks))
        assert wait_for_refreshes(10)
        assert idp.calls == 2

    @settings(
        deadline=None,  # no per-example limit: CI runs 4 tox envs at once
        max_examples=150,
        # api_settings and jwks hold for every example; the clock, IdP and cache are made anew
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        st.lists(
            st.tuples(
                st.sampled_from(["get", "get", "get", "advance", "advance", "fail", "recover",
                                 "rotate"]),
                # the issuer's key set at generation g holds k{g} and k{g - 1}
                st.sampled_from(["current", "previous", "retired", "unknown"]),
                # sums land on the cooldown (2), the TTL (10) and TTL + stale-if-error (30)
                st.sampled_from([1, 2, 3, 8, 10, 20]),
            ),
            min_size=10,
            max_size=60,
        )
    )  # fmt: skip
    # Pinned besides: the TTL's end (10 s), the cooldown's (2 s), stale-if-error's (30 s after
    # the fetch), a rotation picked up and a retired key seen gone, an unknown kid while the IdP
    # fails then recovers.
    @example([ask("current"), after(8), ask("current"), after(2), ask("current"), ask("current")])
    @example([ask("current"), after(1), ask("unknown"), after(1), ask("unknown"),
              ask("unknown"), after(2), ask("unknown")])  # fmt: skip
    @example([ask("current"), FAIL, after(10), ask("current"), after(8), ask("current"), after(10),
              ask("current"), after(1), ask("current"), after(1), ask("current")])  # fmt: skip
    @example([ask("current"), ROTATE, ask("current"), after(2), ask("current"), ROTATE, ROTATE,
              ask("retired"), after(2), ask("previous"), ask("retired")])  # fmt: skip
    @example([ask("current"), FAIL, after(2), ask("unknown"), RECOVER, ask("unknown"),
              ask("current"), after(2), ask("unknown")])  # fmt: skip
    def test_behaves_as_its_model_through_ttl_cooldown_failures_and_rotations(
        self, api_settings: Any, jwks: Any, operations: list[tuple[str, str, int]]
    ) -> None:
        """Model-based, one request at a time, each background refresh ended before the next
        (``wait_for_refreshes``): every answer (a key, None or SigningKeysUnavailable) and
        every fetch, at its time, as ``KeyCacheModel`` has them. The model is exact, not a
        bound, even for stale-while-revalidate: the clock stands still while the refresh
        thread runs, so its fetch happens at the request's time and the cooldown counts from
        it. Concurrent requests are left to the threaded tests above.

        Checked besides from the fetches themselves, whatever the model says: no two
        attempts within a cooldown, whatever asked (so a flood of unknown kids costs one per
        cooldown); none for a key fetched within the TTL; a key served always within, and
        only within, TTL + stale-if-error of a fetch that brought it, unless this request's
        own fetch did; the current kid served, and an unknown one answered None, whenever
        the IdP answers and the cooldown allows an attempt (a rotation needs no restart);
        nothing raised but SigningKeysUnavailable, with the IdP's reason and what is left of
        the cooldown."""
        api_settings.AUTH0_JWKS_CACHE_TTL = TTL
        api_settings.AUTH0_JWKS_COOLDOWN = COOLDOWN
        api_settings.AUTH0_JWKS_STALE_IF_ERROR = STALE_IF_ERROR
        member = jwks["keys"][0]
        clock = ControllableClock(start=1000)
        idp = FakeIdP({})
        generation = 0

        def published() -> frozenset[str]:
            return frozenset({f"k{generation}", f"k{generation - 1}"} - {"k-1"})

        def publish() -> None:
            idp.document = {"keys": [{**member, "kid": kid} for kid in sorted(published())]}

        attempts: list[tuple[float, frozenset[str] | None]] = []  # when, and what it brought

        def fetch(url: str, timeout: float) -> dict[str, Any]:
            attempts.append((clock.now(), None if idp.failure else published()))
            return idp(url, timeout)

        publish()
        cache = SigningKeyCache(URL, clock=clock.now, fetch=fetch)
        model = KeyCacheModel()
        for operation, which, seconds in operations:
            now = clock.now()
            if operation == "advance":
                clock.advance(seconds)
            elif operation == "fail":
                idp.failure = "jwks_http_503"
            elif operation == "recover":
                idp.failure = None
            elif operation == "rotate":
                generation += 1
                publish()
            else:
                offset = {"current": 0, "previous": 1, "retired": 2}.get(which)
                kid = "never-published" if offset is None else f"k{generation - offset}"
                successes = [(at, kids) for at, kids in attempts if kids is not None]
                last_success, kids_before = successes[-1] if successes else (-math.inf, frozenset())
                may_attempt = not attempts or now - attempts[-1][0] >= COOLDOWN
                calls_before = len(attempts)
                try:
                    answer: Any = cache.get(kid)
                except SigningKeysUnavailable as exc:  # anything else fails the test
                    answer = exc
                assert wait_for_refreshes(10)
                try:
                    expected: Any = model.get(kid, now, None if idp.failure else published())
                except SigningKeysUnavailable as exc:
                    expected = exc
                if isinstance(expected, SigningKeysUnavailable):
                    assert isinstance(answer, SigningKeysUnavailable), (kid, answer)
                    assert answer.reason == "jwks_http_503"
                    assert answer.retry_after == COOLDOWN - (now - attempts[-1][0])
                elif expected is None:
                    assert answer is None
                else:
                    assert isinstance(answer, RSAKey), (kid, answer)
                    assert answer.kid == kid
                # From the fetches themselves, whatever the model says:
                age = now - last_success
                if kid in kids_before and age < TTL:
                    assert len(attempts) == calls_before  # fresh: no fetch
                if kid in kids_before and age < TTL + STALE_IF_ERROR:
                    assert isinstance(answer, RSAKey)  # keys at hand keep serving
                if isinstance(answer, RSAKey) and not (
                    kid in kids_before and age < TTL + STALE_IF_ERROR
                ):
                    assert attempts[-1] == (now, published())  # brought by this request's fetch
                if may_attempt and not idp.failure:
                    if which == "current":
                        assert isinstance(answer, RSAKey)  # a rotated key: no restart
                    elif which == "unknown":
                        assert answer is None
            assert [at for at, _ in attempts] == model.fetches
            assert all(b - a >= COOLDOWN for (a, _), (b, _) in pairwise(attempts))


def test_a_forked_child_starts_without_key_sets(api_settings: Any) -> None:
    """A refresh in flight at the fork holds a lock no thread of the child would release."""
    cache = signing_keys.cache_for(URL)
    cache._lock.acquire()  # as a refresh in flight does
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads running
            pid = os.fork()
        if pid == 0:  # the child: report and leave at once, whatever happens
            code = 1
            try:
                fresh = signing_keys.cache_for(URL)
                code = 0 if fresh is not cache and not fresh._lock.locked() else 3
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert signing_keys.cache_for(URL) is cache  # the parent keeps its key sets
    finally:
        cache._lock.release()


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("AUTH0_DOMAIN", "another-tenant.example"),
        ("AUTH0_ISSUER", "https://another-tenant.example/"),
        ("AUTH0_JWKS_URL", "https://another-tenant.example/jwks.json"),
        ("AUTH0_ALGORITHMS", "PS256"),
    ],
)
def test_each_setting_naming_the_trusted_keys_forgets_fetched_ones(
    settings: Any, setting: str, value: str
) -> None:
    first = signing_keys.cache_for(URL)
    setattr(settings, setting, value)
    assert signing_keys.cache_for(URL) is not first


def test_a_change_of_trusted_issuer_forgets_fetched_keys(settings: Any) -> None:
    first = signing_keys.cache_for(URL)
    settings.AUTH0_JWKS_COOLDOWN = "5"  # not about which keys to trust: kept
    assert signing_keys.cache_for(URL) is first
    settings.AUTH0_ISSUER = "https://another-tenant.example/"
    second = signing_keys.cache_for(URL)
    assert second is not first
    settings.AUTH0_ALGORITHMS = "PS256"  # a key without alg is stamped with the first allowed
    assert signing_keys.cache_for(URL) is not second


def test_caches_are_per_url_and_resettable() -> None:
    first = signing_keys.cache_for(URL)
    assert signing_keys.cache_for(URL) is first
    assert signing_keys.cache_for(URL + "?other") is not first
    signing_keys.reset_caches()
    assert signing_keys.cache_for(URL) is not first


class _GivingUpLock:
    """The cache's lock, held by a fetch in flight; a request waiting for it gives up at once,
    as if the wait had run out, and the time it would have waited is recorded."""

    def __init__(self, inner: Any = None) -> None:
        self._lock = inner or threading.Lock()
        self.waits: list[float] = []

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not blocking:
            return bool(self._lock.acquire(blocking=False))
        self.waits.append(timeout)
        return False

    def release(self) -> None:
        self._lock.release()

    def locked(self) -> bool:
        return bool(self._lock.locked())


@pytest.mark.parametrize(
    ("cooldown", "elapsed", "retry_after"),
    [(30, 10, 20), (5, 7, 0)],  # the fetch in flight may outlast the cooldown: never negative
)
def test_a_cold_request_that_gave_up_waiting_retries_after_the_cooldown_left(
    api_settings: Any, mock_idp: MockIdP, cooldown: int, elapsed: int, retry_after: float
) -> None:
    """The cooldown runs from the start of the fetch in flight; the wait is the fetch's
    timeout and the most a fetch overruns it (``LONGEST_OVERRUN``)."""
    api_settings.AUTH0_JWKS_COOLDOWN = cooldown
    jwks = mock_idp.jwks()
    clock = ControllableClock(start=1000)
    idp = FakeIdP(jwks)
    idp.gate = threading.Event()
    cache = SigningKeyCache(URL, clock=clock.now, fetch=idp)
    lock = cache._lock = _GivingUpLock()  # type: ignore[assignment]
    first = threading.Thread(target=cache.get, args=(kid_of(jwks),))
    first.start()
    try:
        assert idp.fetching.wait(10)
        clock.advance(elapsed)
        with pytest.raises(SigningKeysUnavailable) as caught:
            cache.get(kid_of(jwks))
    finally:
        idp.gate.set()
        first.join(10)
    assert (caught.value.reason, caught.value.retry_after) == ("jwks_unavailable", retry_after)
    assert lock.waits == [8 + jwks_fetch.LONGEST_OVERRUN]
    assert idp.calls == 1


def test_a_request_that_gave_up_before_any_attempt_retries_after_a_whole_cooldown(
    api_settings: Any,
) -> None:
    """The lock taken but the fetch not begun: no attempt to count from, so the whole
    cooldown, never a ``Retry-After`` of 0 that would bring the client straight back."""
    cache = SigningKeyCache(URL, fetch=FakeIdP({"keys": []}))
    lock = cache._lock = _GivingUpLock()  # type: ignore[assignment]
    assert lock.acquire(blocking=False)  # as a refresh about to fetch holds it
    with pytest.raises(SigningKeysUnavailable) as caught:
        cache.get("any")
    assert caught.value.retry_after == 30


def test_two_requests_creating_a_url_s_cache_at_once_share_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both found no cache and queued for the lock: the second takes the first one's, else
    the URL would have two caches, and two fetches."""
    waiting = threading.Semaphore(0)

    class QueueingLock:
        def __init__(self) -> None:
            self._lock = threading.Lock()

        def __enter__(self) -> None:
            waiting.release()
            self._lock.acquire()

        def __exit__(self, *exc_info: object) -> None:
            self._lock.release()

    lock = QueueingLock()
    monkeypatch.setattr(signing_keys, "_caches_lock", lock)
    lock._lock.acquire()  # both threads find no cache, then queue behind this
    caches: list[SigningKeyCache] = []
    threads = [
        threading.Thread(target=lambda: caches.append(signing_keys.cache_for(URL)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for _ in threads:
        assert waiting.acquire(timeout=10)
    lock._lock.release()
    for thread in threads:
        thread.join(10)
    assert len(caches) == 2
    assert caches[0] is caches[1] is signing_keys.cache_for(URL)


class _WatchedLock:
    """A lock that says when a thread starts waiting for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.waited_for = threading.Event()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self._lock.acquire(blocking=False):
            return True
        if not blocking:
            return False
        self.waited_for.set()
        return self._lock.acquire(timeout=timeout)

    def release(self) -> None:
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()


def test_a_cold_miss_waits_for_the_fetch_in_flight_within_the_cooldown(
    api_settings: Any, mock_idp: MockIdP
) -> None:
    """Under the default cooldown, a request arriving while the first fetch runs may not start
    another: it waits for that one, and is not answered 503 at once (found by mutation testing:
    the other concurrency tests run with a cooldown of 0)."""
    jwks = mock_idp.jwks()
    kid = jwks["keys"][0]["kid"]
    gate, fetching = threading.Event(), threading.Event()

    def fetch(url: str, timeout: float) -> dict[str, Any]:
        fetching.set()
        assert gate.wait(30)
        return jwks

    cache = SigningKeyCache("https://tenant.example.test/jwks", fetch=fetch)
    lock = cache._lock = _WatchedLock()  # type: ignore[assignment]
    results: list[Any] = []

    def ask() -> None:
        try:
            results.append(cache.get(kid))
        except Exception as exc:
            results.append(exc)

    first = threading.Thread(target=ask)
    first.start()
    assert fetching.wait(10)
    second = threading.Thread(target=ask)
    second.start()
    waited = lock.waited_for.wait(10)  # the second request waits for the first one's fetch
    gate.set()
    for thread in (first, second):
        thread.join(30)
    assert waited
    assert len(results) == 2
    assert all(r is not None and not isinstance(r, Exception) for r in results), results


def test_the_background_refresh_thread_is_a_daemon(api_settings: Any, mock_idp: MockIdP) -> None:
    """A hung IdP never keeps the process from exiting."""
    jwks = mock_idp.jwks()
    kid = jwks["keys"][0]["kid"]
    clock = ControllableClock(start=1000)
    gate = threading.Event()
    calls = []

    def fetch(url: str, timeout: float) -> dict[str, Any]:
        calls.append(url)
        if len(calls) > 1:
            gate.wait(30)
        return jwks

    cache = SigningKeyCache("https://tenant.example.test/jwks", clock=clock.now, fetch=fetch)
    assert cache.get(kid) is not None
    clock.advance(601)  # past the TTL: served at once, refreshed in another thread
    assert cache.get(kid) is not None
    refreshers = [t for t in threading.enumerate() if t.name == signing_keys.REFRESH_THREAD_NAME]
    gate.set()
    assert refreshers
    assert all(t.daemon for t in refreshers)
    assert wait_for_refreshes(10)


def test_a_forked_child_gets_a_lock_of_its_own() -> None:
    """A lock held at the fork (another thread creating a cache) is never released in the
    child."""
    held = signing_keys._caches_lock
    held.acquire()
    try:
        signing_keys._forget_in_forked_child()
        assert signing_keys._caches_lock is not held
        assert not signing_keys._caches_lock.locked()
    finally:
        held.release()
