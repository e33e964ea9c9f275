"""The soak run's parts that need no live server: the phases' actions on the IdP, the tokens
the clients send, the phase driver and the access log the report pairs requests with workers by.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from mock_idp import DEFAULT_AUDIENCE, KeyRing, KeyState, MockIdP
from mock_idp.http import JWKS, Hit, Request
from mock_idp.keys import b64url_decode
from mock_idp.pytest_plugin import MockIdPKeys
from soak import runner
from soak.processes import ACCESS_LOG_FORMAT
from soak.report import SoakResult
from soak.scenario import FORGERIES, SCOPE, Phase, SoakConfig

CONFIG = SoakConfig.for_duration(8.0)


def segment(token: str, index: int) -> dict[str, object]:
    decoded = json.loads(b64url_decode(token.split(".")[index]))
    assert isinstance(decoded, dict)
    return decoded


def test_each_phase_does_to_the_idp_what_the_scenario_says(mock_idp_keys: MockIdPKeys) -> None:
    """Without its action a phase would change nothing, and the soak would still pass: an
    outage that never happens tests nothing."""
    old, new = mock_idp_keys.primary, mock_idp_keys.secondary
    idp = MockIdP(keys=KeyRing([(old, KeyState.SIGNING)]), foreign_key=mock_idp_keys.foreign)
    actions = runner._phase_actions(idp, CONFIG, new)
    assert list(actions) == [phase.name for phase in CONFIG.schedule()]
    seen = {}
    for name, action in actions.items():
        action()
        answer = idp.handle(Request("GET", JWKS))
        kids = (
            sorted(key["kid"] for key in json.loads(answer.body)["keys"])
            if answer.status == 200
            else []
        )
        seen[name] = (answer.status, answer.delay, kids, idp.keys.signing_key.kid)
    both = sorted([old.kid, new.kid])
    assert seen == {
        "baseline": (200, 0.0, [old.kid], old.kid),
        "published": (200, 0.0, both, old.kid),
        "rotated": (200, 0.0, both, new.kid),
        "jwks_down": (503, 0.0, [], new.kid),
        "recovered": (200, 0.0, both, new.kid),
        "jwks_slow": (200, CONFIG.slow_delay, both, new.kid),
        "jwks_hung": (200, CONFIG.hung_delay, both, new.kid),
        "recovered_2": (200, 0.0, both, new.kid),
    }


def test_the_pools_hold_tokens_of_each_signer_and_class(mock_idp_keys: MockIdPKeys) -> None:
    old, new, foreign = mock_idp_keys.primary, mock_idp_keys.secondary, mock_idp_keys.foreign
    issuer = "http://127.0.0.1:9/"
    pools = runner.mint_pools(issuer, old, new, foreign)
    kid = {"old": old.kid, "new": new.kid}
    now = time.time()
    for key in ("old", "new"):
        for valid in pools.valid[key]:
            assert segment(valid, 0)["kid"] == kid[key]
            claims = segment(valid, 1)
            assert (claims["iss"], claims["aud"]) == (issuer, DEFAULT_AUDIENCE)
            assert claims["scope"] == SCOPE
            assert int(str(claims["exp"])) > now
        for unscoped in pools.no_scope[key]:
            assert segment(unscoped, 0)["kid"] == kid[key]
            assert SCOPE not in str(segment(unscoped, 1).get("scope", ""))
        for expired in pools.expired[key]:
            assert segment(expired, 0)["kid"] == kid[key]
            assert int(str(segment(expired, 1)["exp"])) < now
        assert [name for name, _token in pools.forged[key]] == list(FORGERIES)
        assert len(pools.valid[key]) == len(set(pools.valid[key])) == runner.TOKENS_PER_POOL
    assert segment(pools.kid_template, 0)["kid"] == old.kid


def test_the_driver_begins_each_phase_at_its_time_in_order() -> None:
    schedule = [Phase("a", 0.0, ""), Phase("b", 0.05, ""), Phase("c", 0.1, "")]
    applied: list[tuple[str, float]] = []

    def action(name: str) -> Callable[[], None]:
        return lambda: applied.append((name, time.monotonic()))

    t0 = time.monotonic()
    began = runner._drive(schedule, t0, {p.name: action(p.name) for p in schedule})
    assert [name for name, _at in applied] == ["a", "b", "c"]
    for phase, (_name, at), begun in zip(schedule, applied, began, strict=True):
        assert t0 + phase.start <= at <= begun  # never early


def test_the_access_log_pairs_each_request_id_with_its_worker(tmp_path: Path) -> None:
    """As gunicorn fills ``ACCESS_LOG_FORMAT``: ``%(p)s`` is ``<pid>``; the readiness polls
    carry no request id (``-``)."""
    lines = [
        ACCESS_LOG_FORMAT % {"p": "<41>", "{x-soak-request}i": "0.3-7", "s": "200", "D": "812"},
        ACCESS_LOG_FORMAT % {"p": "<42>", "{x-soak-request}i": "-", "s": "200", "D": "90"},
        ACCESS_LOG_FORMAT % {"p": "<42>", "{x-soak-request}i": "1.0-0", "s": "401", "D": "77"},
    ]
    log = tmp_path / "access.log"
    log.write_text("\n".join(lines) + "\n")
    assert runner._read_access_log(log) == {"0.3-7": 41, "1.0-0": 42}
    assert runner._read_access_log(tmp_path / "absent.log") == {}


def test_every_jwks_fetch_counts_whatever_it_was_answered() -> None:
    """A fetch refused during the outage still counts against the bound (found by mutation
    testing: counting only the 200s let an API that hammers a failing JWKS pass)."""
    hits = [
        Hit("GET", JWKS, 1000.5, 200),
        Hit("GET", JWKS, 1001.0, 503),
        Hit("GET", JWKS, 1002.0, 0),
        Hit("POST", "/oauth/token", 1003.0, 200),
    ]
    assert runner.jwks_hits(hits, wall_minus_monotonic=1000.0) == [(0.5, 200), (1.0, 503), (2.0, 0)]


def test_a_worker_seen_by_either_witness_counts() -> None:
    """One that served between two RSS samples (only in the access log), or sampled but never
    logged, is a worker of the run: a replaced worker is never missed."""
    assert runner.workers_seen({41, 42}, {"0.1-0": 42, "0.1-1": 43}) == [41, 42, 43]


def test_a_failing_run_keeps_its_logs_and_a_passing_one_drops_them(tmp_path: Path) -> None:
    """The report of a failure says where its logs are (found by mutation testing)."""
    observed = cast(Any, None)  # not read
    for passed, keep, kept in [(True, False, False), (False, False, True), (True, True, True)]:
        logs = tmp_path / f"logs-{passed}-{keep}"
        logs.mkdir()
        (logs / "gunicorn.log").write_text("x")
        result = SoakResult(observed, checks=[("check", passed, "")])
        assert runner.discard_logs_if_passed(result, logs, keep=keep) is result
        assert logs.exists() is kept
