"""The soak's client processes: what each request carries, how connections are used, and how
promptly a client stops when the runner fails."""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

from mock_idp.jws import json_bytes
from mock_idp.keys import b64url, b64url_decode
from soak import load
from soak.load import ClientPlan, TokenPools
from soak.scenario import (
    CLASSES,
    EXPIRED,
    FORGED,
    GARBAGE,
    MIX,
    NO_SCOPE,
    ROUTES,
    UNKNOWN_KID,
    VALID_NEW,
    VALID_OLD,
)
from tests.recording_server import recording_server

TEMPLATE = b64url(json_bytes({"alg": "RS256", "kid": "k1", "typ": "at+jwt"})) + ".cGF5.c2ln"
POOLS = TokenPools(
    valid={"old": ["valid-old"], "new": ["valid-new"]},
    no_scope={"old": ["noscope-old"], "new": ["noscope-new"]},
    expired={"old": ["expired-old"], "new": ["expired-new"]},
    forged={"old": [("alg_none", "forged-old")], "new": [("alg_none", "forged-new")]},
    kid_template=TEMPLATE,
)


def plan(port: int, stop_file: Path, *, start_in: float, lasts: float, **kw: float) -> ClientPlan:
    now = time.monotonic()
    return ClientPlan(
        index=0,
        port=port,
        start_at=now + start_in,
        end_at=now + start_in + lasts,
        rotated_at=kw.get("rotated_at", now + 3600),
        rate=kw.get("rate", 200.0),
        seed=7,
        threads=2,
        stop_file=str(stop_file),
        tokens=POOLS,
    )


def test_an_unknown_kid_is_the_template_with_a_random_kid() -> None:
    rng = random.Random(1)
    first, second = (load.unknown_kid_token(TEMPLATE, rng) for _ in range(2))
    header = json.loads(b64url_decode(first.split(".")[0]))
    assert header["kid"].startswith("soak-")
    assert len(header["kid"]) == len("soak-") + 16
    assert {k: v for k, v in header.items() if k != "kid"} == {"alg": "RS256", "typ": "at+jwt"}
    assert first.split(".", 1)[1] == TEMPLATE.split(".", 1)[1]
    assert first != second


def test_garbage_headers_come_in_every_named_kind() -> None:
    rng = random.Random(2)
    drawn = dict(load.garbage_header(rng) for _ in range(500))
    assert len(drawn) == 10
    assert drawn["no_header"] is None
    assert drawn["dots_only"] == "Bearer .."


def test_the_mix_moves_half_the_valid_traffic_to_the_new_key_once_it_signs(
    tmp_path: Path,
) -> None:
    rng = random.Random(3)
    before = plan(1, tmp_path / "stop", start_in=0, lasts=1)
    after = plan(1, tmp_path / "stop", start_in=0, lasts=1, rotated_at=0.0)
    picked_before = Counter(load._pick(before, rng, time.monotonic())[0] for _ in range(2000))
    picked_after = Counter(load._pick(after, rng, time.monotonic())[0] for _ in range(2000))
    assert VALID_NEW not in picked_before
    assert set(picked_before) == set(MIX)
    assert set(picked_after) == set(CLASSES)
    assert 0.5 < picked_after[VALID_NEW] / picked_after[VALID_OLD] < 2


def test_a_request_names_its_forgery_or_key_never_its_token(tmp_path: Path) -> None:
    rng = random.Random(4)
    for _ in range(300):
        token_class, authorization, detail = load._pick(
            plan(1, tmp_path / "stop", start_in=0, lasts=1), rng, time.monotonic()
        )
        if authorization is not None:
            assert detail not in authorization
        if token_class == UNKNOWN_KID:
            assert detail == "random_kid"


def test_a_connection_serves_a_few_requests_then_is_replaced() -> None:
    with recording_server() as recording:
        client = load._Client(recording.port)
        try:
            count = load.REQUESTS_PER_CONNECTION + 1
            statuses = [client.get("/api/private", {}) for _ in range(count)]
        finally:
            client.close()
    assert statuses == [200] * (load.REQUESTS_PER_CONNECTION + 1)
    assert recording.connections == 2


def test_a_connection_the_server_closes_is_replaced() -> None:
    with recording_server() as recording:
        client = load._Client(recording.port)
        try:
            statuses = [client.get(path, {}) for path in ("/close", "/a", "/close", "/b")]
        finally:
            client.close()
    assert statuses == [200] * 4
    assert recording.connections == 3


def test_no_answer_is_status_0() -> None:
    with socket.socket() as bound:  # bound, not listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        assert load._Client(bound.getsockname()[1]).get("/api/private", {}) == 0


def test_a_client_sends_ided_requests_on_both_routes_until_its_end(tmp_path: Path) -> None:
    with recording_server() as recording:
        client_plan = plan(recording.port, tmp_path / "stop", start_in=0, lasts=0.3)
        outcomes = load.run_client(client_plan)
    assert outcomes
    # Its schedule ends at end_at: each thread has one slot per interval until then, however
    # late the machine runs it (a request may leave after end_at, for a slot before it).
    slots = client_plan.rate * (client_plan.end_at - client_plan.start_at) / client_plan.threads
    assert len(outcomes) <= client_plan.threads * (int(slots) + 1)
    assert {o.status for o in outcomes} <= {200, 401}
    ids = [headers[load.REQUEST_ID_HEADER] for _, headers in recording.requests]
    assert sorted(ids) == sorted(o.request_id for o in outcomes)
    assert len(set(ids)) == len(ids)
    # seed 7: each thread's second request goes to the other route than its first
    assert {path for path, _ in recording.requests} == set(ROUTES.values())


def test_a_request_that_got_no_answer_is_recorded_as_status_0(tmp_path: Path) -> None:
    """So the report judges it (unexpected for every class): a worker dropping connections fails
    the soak (found by mutation testing: nothing recorded what ``get`` returned)."""
    with socket.socket() as bound:  # bound, not listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        client_plan = plan(bound.getsockname()[1], tmp_path / "stop", start_in=0, lasts=0.2)
        outcomes = load.run_client(client_plan)
    assert outcomes
    assert {o.status for o in outcomes} == {0}


def test_a_stop_file_ends_a_client_still_waiting_to_start(tmp_path: Path) -> None:
    stop = tmp_path / "stop"
    outcomes: list[list[load.Outcome]] = []
    with recording_server() as recording:
        port = recording.port
        client = threading.Thread(
            target=lambda: outcomes.append(load.run_client(plan(port, stop, start_in=60, lasts=1))),
            daemon=True,
        )
        client.start()
        stop.touch()
        client.join(30)  # not a timing assertion: without the check it would wait a minute
        assert not client.is_alive(), "the client kept waiting after the stop file appeared"
    assert outcomes == [[]]
    assert recording.requests == []


def test_each_class_carries_a_token_of_its_own_pool_and_of_both_keys_once_rotated(
    tmp_path: Path,
) -> None:
    """What the report expects of a class is what its requests carry: a valid token for
    ``valid_*``, the no-scope pool for ``no_scope``, and so on; after the rotation the refused
    classes carry tokens of both signers, before it of the old one only."""
    garbage_names = {
        name for name, _header in (load.garbage_header(random.Random(n)) for n in range(200))
    }
    pools = {
        VALID_OLD: POOLS.valid["old"],
        VALID_NEW: POOLS.valid["new"],
        NO_SCOPE: [*POOLS.no_scope["old"], *POOLS.no_scope["new"]],
        EXPIRED: [*POOLS.expired["old"], *POOLS.expired["new"]],
        FORGED: [token for key in ("old", "new") for _name, token in POOLS.forged[key]],
    }
    for rotated_at, keys in [(3600.0, {"old_key"}), (0.0, {"old_key", "new_key"})]:
        client_plan = plan(1, tmp_path / "stop", start_in=0, lasts=1, rotated_at=rotated_at)
        rng = random.Random(5)
        details: dict[str, set[str]] = defaultdict(set)
        for _ in range(1000):
            token_class, authorization, detail = load._pick(client_plan, rng, 1800.0)
            details[token_class].add(detail)
            if token_class in pools:
                assert authorization is not None
                assert authorization.removeprefix("Bearer ") in pools[token_class], token_class
            elif token_class == UNKNOWN_KID:
                assert authorization is not None
                token = authorization.removeprefix("Bearer ")
                assert token.split(".", 1)[1] == TEMPLATE.split(".", 1)[1]
                assert token != TEMPLATE
            else:
                assert token_class == GARBAGE
                assert detail in garbage_names
                assert (authorization is None) is (detail == "no_header")
        for token_class in (NO_SCOPE, EXPIRED):
            assert details[token_class] == keys, token_class
        if "new_key" in keys:
            assert details[VALID_NEW] == {"new_key"}
        assert details[VALID_OLD] == {"old_key"}
        assert details[FORGED] == {"alg_none"}


def test_the_new_key_signs_from_the_rotation_s_very_moment(tmp_path: Path) -> None:
    client_plan = plan(1, tmp_path / "stop", start_in=0, lasts=1, rotated_at=100.0)
    rng = random.Random(6)
    picked = {load._pick(client_plan, rng, 100.0)[0] for _ in range(200)}
    assert VALID_NEW in picked


def test_a_failed_request_on_a_fresh_connection_is_not_sent_again() -> None:
    """Only a reused connection the server may have closed meanwhile is retried; a fresh one
    that fails is no answer (a second try would send the same request id twice)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        accepted: list[int] = []

        def close_each() -> None:
            listener.settimeout(0.05)
            while len(accepted) < 2 and not done.is_set():
                try:
                    connection, _ = listener.accept()
                except TimeoutError:
                    continue
                accepted.append(1)
                connection.close()  # no answer

        done = threading.Event()
        server = threading.Thread(target=close_each)
        server.start()
        try:
            client = load._Client(listener.getsockname()[1])
            assert client.get("/api/private", {}) == 0
        finally:
            done.set()
            server.join()
    assert accepted == [1]


def test_a_thread_that_falls_behind_does_not_burst_to_catch_up() -> None:
    """A schedule begun 5 s ago: the missed slots are dropped but for the last second's."""
    with recording_server() as recording:
        late = plan(recording.port, Path("/nonexistent/stop"), start_in=-5.0, lasts=5.2, rate=100.0)
        outcomes = load.run_client(late)
    per_thread = (0.2 + 1.0) * late.rate / late.threads  # the last second's slots, and the rest
    assert len(outcomes) <= late.threads * (int(per_thread) + 2)
