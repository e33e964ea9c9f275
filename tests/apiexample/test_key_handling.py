"""Signing-key handling seen from the API (README "Signing keys"), JWKS from the mock IdP.

Each kind of unobtainable key set (503) is a case of the security catalogue (``jwks-*``).
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import pytest

from apiexample import signing_keys
from mock_idp import ControllableClock, KeyState, MockIdP
from mock_idp.http import JWKS as JWKS_PATH
from mock_idp.http import Fault
from tests.apiexample.helpers import assert_refused, jwks_fetches, wait_for_refreshes


def test_keys_are_fetched_lazily_and_once(call: Any, mock_idp: MockIdP) -> None:
    assert jwks_fetches(mock_idp) == 0
    for _ in range(20):
        assert call("/api/private", mock_idp.mint()).status_code == 200
    assert jwks_fetches(mock_idp) == 1


@pytest.mark.parametrize(
    "odd_member",
    [{"kid": ["odd"]}, {"kid": {"k": 1}, "kty": "RSA"}, {"alg": ["RS256"], "kid": "x"}, "text", 7],
)
def test_an_odd_jwks_member_never_breaks_the_good_ones(
    call: Any, mock_idp: MockIdP, odd_member: Any
) -> None:
    document = {"keys": [odd_member, *mock_idp.jwks()["keys"]]}
    mock_idp.inject_fault(JWKS_PATH, Fault(status=200, body=json.dumps(document).encode()))
    assert call("/api/private", mock_idp.mint()).status_code == 200


def test_recovers_by_itself_when_the_idp_does(
    call: Any, mock_idp: MockIdP, api_settings: Any
) -> None:
    api_settings.AUTH0_JWKS_COOLDOWN = 0  # retry at once, so the test needs no clock
    mock_idp.inject_fault(JWKS_PATH, Fault.error(503), times=1)
    refused = call("/api/private", mock_idp.mint())
    assert_refused(refused, 503, "temporarily_unavailable")
    assert refused["Retry-After"] == "1"  # nothing left of the cooldown: at once, i.e. 1 s
    assert call("/api/private", mock_idp.mint()).status_code == 200


def test_failed_fetches_are_rate_limited(call: Any, mock_idp: MockIdP) -> None:
    mock_idp.inject_fault(JWKS_PATH, Fault.error(503))
    for _ in range(10):
        assert call("/api/private", mock_idp.mint()).status_code == 503
    assert jwks_fetches(mock_idp) == 1


def test_a_hung_idp_past_the_ttl_holds_no_request_whose_key_is_at_hand(
    call: Any, mock_idp: MockIdP, key_clock: ControllableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stale-while-revalidate (RFC 5861 section 3): the refresh runs in another thread."""
    cached = mock_idp.mint()
    assert call("/api/private", cached).status_code == 200
    cache = signing_keys.cache_for(mock_idp.jwks_uri)
    fetch, idp_answers = cache._fetch, threading.Event()

    def hung_fetch(url: str, timeout: float) -> dict[str, Any]:
        idp_answers.wait(30)  # the bound only stops a hang should the test fail
        return fetch(url, timeout)

    monkeypatch.setattr(cache, "_fetch", hung_fetch)
    key_clock.advance(601)  # past the TTL
    assert call("/api/private", cached).status_code == 200  # a verified-token cache hit
    assert call("/api/private", mock_idp.mint()).status_code == 200  # a new token, same key
    assert not wait_for_refreshes(0)  # answered while the refresh hangs
    idp_answers.set()
    assert wait_for_refreshes(10)
    assert jwks_fetches(mock_idp) == 2


def test_cached_keys_keep_serving_when_the_idp_goes_down(
    call: Any, mock_idp: MockIdP, key_clock: ControllableClock
) -> None:
    assert call("/api/private", mock_idp.mint()).status_code == 200
    mock_idp.inject_fault(JWKS_PATH, Fault.error(503))
    for _ in range(3):
        key_clock.advance(601)  # past the TTL: each request starts a refresh, which fails
        assert call("/api/private", mock_idp.mint()).status_code == 200
        assert wait_for_refreshes(10)
    assert jwks_fetches(mock_idp) == 4


def test_a_new_key_during_an_outage_is_503_not_invalid(
    call: Any, mock_idp: MockIdP, mock_idp_keys: Any, key_clock: ControllableClock
) -> None:
    assert call("/api/private", mock_idp.mint()).status_code == 200
    mock_idp.inject_fault(JWKS_PATH, Fault.error(503))
    mock_idp.keys.add(mock_idp_keys.secondary, KeyState.PUBLISHED)
    key_clock.advance(30)
    new = mock_idp.mint(key=mock_idp_keys.secondary)
    assert_refused(call("/api/private", new), 503, "temporarily_unavailable")
    assert call("/api/private", mock_idp.mint()).status_code == 200
    mock_idp.clear_faults()
    key_clock.advance(30)
    assert call("/api/private", new).status_code == 200


def test_a_rotated_key_is_accepted_without_restart(
    call: Any, mock_idp: MockIdP, mock_idp_keys: Any, api_settings: Any
) -> None:
    api_settings.AUTH0_JWKS_COOLDOWN = 0
    old = mock_idp.mint()
    assert call("/api/private", old).status_code == 200
    mock_idp.keys.add(mock_idp_keys.secondary, KeyState.PUBLISHED)
    mock_idp.keys.rotate(mock_idp_keys.secondary)  # new key signs, old one retired
    new = mock_idp.mint()
    assert call("/api/private", new).status_code == 200
    assert call("/api/private", old).status_code == 200  # retired keys stay published
    assert jwks_fetches(mock_idp) == 2


def test_an_unknown_kid_flood_costs_one_fetch_per_cooldown(
    call: Any, mock_idp: MockIdP, key_clock: ControllableClock
) -> None:
    assert call("/api/private", mock_idp.mint()).status_code == 200
    for second in range(90):  # 90 s of 5 unknown kids a second
        key_clock.advance(1)
        for n in range(5):
            token = mock_idp.mint(header={"kid": f"unknown-{second}-{n}"})
            assert_refused(call("/api/private", token), 401, "invalid_token")
    assert jwks_fetches(mock_idp) == 1 + 3  # the first fetch, then one per 30 s cooldown


def test_misconfiguration_fails_closed(call: Any, mock_idp: MockIdP, api_settings: Any) -> None:
    api_settings.AUTH0_ALGORITHMS = "RS256,HS256"
    assert_refused(call("/api/private", mock_idp.mint()), 503, "temporarily_unavailable")
    api_settings.AUTH0_ALGORITHMS = "RS256"
    api_settings.AUTH0_AUDIENCE = ""
    assert_refused(call("/api/private", mock_idp.mint()), 503, "temporarily_unavailable")
    assert jwks_fetches(mock_idp) == 0


@pytest.mark.parametrize(
    ("cooldown", "retry_after"), [("45", "45"), ("0", "1"), ("-1", "30"), (10**400, "30")]
)
def test_misconfiguration_asks_clients_to_retry_after_the_cooldown(
    call: Any, mock_idp: MockIdP, api_settings: Any, caplog: Any, cooldown: Any, retry_after: str
) -> None:
    """A cooldown that is itself misconfigured (E007: negative, or an int no float holds)
    falls back to 30 s, never to 1 s; a cooldown of 0 is valid: retry at once (1 s, the least
    ``Retry-After`` says)."""
    api_settings.AUTH0_ALGORITHMS = "RS256,HS256"
    api_settings.AUTH0_JWKS_COOLDOWN = cooldown
    with caplog.at_level(logging.INFO, logger="apiexample"):
        response = call("/api/private", mock_idp.mint())
    assert_refused(response, 503, "temporarily_unavailable")
    assert response["Retry-After"] == retry_after
    assert "reason=misconfigured " in caplog.text


def test_key_rules_are_checked_again_for_a_refetched_key_with_the_same_kid(
    call: Any, mock_idp: MockIdP, api_settings: Any, key_clock: ControllableClock
) -> None:
    """joserfc's key rules are remembered per key object: a refetch builds new objects."""
    api_settings.AUTH0_ALGORITHMS = "RS256,PS256"  # a new configuration: a new key cache
    signing_keys.cache_for(mock_idp.jwks_uri).clock = key_clock.now
    assert call("/api/private", mock_idp.mint()).status_code == 200
    member = {**mock_idp.keys.signing_key.public_jwk(), "alg": "PS256"}  # same kid, now PS256
    body = json.dumps({"keys": [member]}).encode()
    mock_idp.inject_fault(JWKS_PATH, Fault(status=200, body=body, content_type="application/json"))
    key_clock.advance(601)  # past the TTL: the next request starts a refetch
    assert call("/api/private", mock_idp.mint()).status_code == 200  # the keys at hand
    assert wait_for_refreshes(10)
    assert_refused(call("/api/private", mock_idp.mint()), 401, "invalid_token")
