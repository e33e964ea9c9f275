"""The load: client processes sending the traffic mix at a steady rate until a deadline.

Each client process runs a few threads, each sending its share of the rate on its own
schedule, so one slow answer does not stop the traffic. Each thread keeps an HTTP/1.1
connection for a few requests, then opens a new one, so the kernel spreads connections over
the gunicorn workers. Every request carries an ``X-Soak-Request`` id that gunicorn's access
log pairs with the worker's pid. Times are ``time.monotonic()``, one clock for every process.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import threading
import time
from dataclasses import dataclass, field
from typing import NamedTuple

from mock_idp.jws import json_bytes
from mock_idp.keys import b64url, b64url_decode
from soak.scenario import (
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

REQUEST_ID_HEADER = "X-Soak-Request"
REQUESTS_PER_CONNECTION = 20
CLIENT_TIMEOUT = 60.0
#: How often a waiting thread looks for the runner's stop file.
STOP_POLL = 0.1


class Outcome(NamedTuple):
    """One request: when it was sent and answered, what it carried, what it got (0: no answer)."""

    sent: float
    done: float
    token_class: str
    route: str
    status: int
    request_id: str
    detail: str  # which key or forgery; never the token


@dataclass(frozen=True)
class TokenPools:
    """Pre-minted tokens per class and signing key (``old``/``new``), and forgery names."""

    valid: dict[str, list[str]]
    no_scope: dict[str, list[str]]
    expired: dict[str, list[str]]
    forged: dict[str, list[tuple[str, str]]]
    #: A token whose header the clients re-encode with a fresh random ``kid`` per request.
    kid_template: str


@dataclass(frozen=True)
class ClientPlan:
    """What one client process does: where, from when to when, how fast, with which tokens."""

    index: int
    port: int
    start_at: float
    end_at: float
    rotated_at: float
    rate: float
    seed: int
    threads: int
    #: Created by the runner when it fails: the clients stop at once.
    stop_file: str
    tokens: TokenPools = field(repr=False)


def unknown_kid_token(template: str, rng: random.Random) -> str:
    """``template`` with a fresh random ``kid`` in its header (the signature no longer matches)."""
    header_segment, _, rest = template.partition(".")
    header = json.loads(b64url_decode(header_segment))
    header["kid"] = f"soak-{rng.getrandbits(64):016x}"
    return b64url(json_bytes(header)) + "." + rest


def garbage_header(rng: random.Random) -> tuple[str, str | None]:
    """A nonsense ``Authorization`` header (or none at all), named."""
    noise = b64url(rng.randbytes(rng.randrange(8, 96)))
    choices: list[tuple[str, str | None]] = [
        ("no_header", None),
        ("empty_bearer", "Bearer "),
        ("not_a_jwt", f"Bearer {noise}"),
        ("three_noise_segments", f"Bearer {noise[:10]}.{noise[10:30]}.{noise[30:]}"),
        ("basic_scheme", f"Basic {noise}"),
        ("other_scheme", f"Token {noise}"),
        ("dots_only", "Bearer .."),
        ("long_noise", "Bearer " + "A" * rng.randrange(1000, 4000)),
        ("json_not_jws", 'Bearer {"alg":"none"}'),
        ("lowercase_scheme_spaces", f"bearer   {noise}.{noise}.{noise}"),
    ]
    return rng.choice(choices)


class _Client:
    """One connection at a time to the API, replaced every few requests or after an error."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection: http.client.HTTPConnection | None = None
        self.used = 0

    def get(self, path: str, headers: dict[str, str]) -> int:
        """GET ``path``; a reused connection the server closed is retried once on a fresh one."""
        for _attempt in range(2):
            fresh = self.connection is None
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=CLIENT_TIMEOUT
                )
                self.used = 0
            try:
                self.connection.request("GET", path, headers=headers)
                response = self.connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                self.close()
                if fresh:
                    return 0
                continue
            self.used += 1
            if response.will_close or self.used >= REQUESTS_PER_CONNECTION:
                self.close()
            return response.status
        return 0  # pragma: no cover - the second attempt always uses a fresh connection

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _pick(plan: ClientPlan, rng: random.Random, now: float) -> tuple[str, str | None, str]:
    """The next request's class, ``Authorization`` header and detail."""
    rotated = now >= plan.rotated_at
    weights = dict(MIX)
    if rotated:  # half of the valid traffic now carries tokens of the new signer
        weights[VALID_NEW] = weights[VALID_OLD] // 2
        weights[VALID_OLD] -= weights[VALID_NEW]
    token_class = rng.choices(list(weights), list(weights.values()))[0]
    key = "new" if rotated and rng.random() < 0.5 else "old"
    tokens = plan.tokens
    if token_class in (VALID_OLD, VALID_NEW):
        key = "new" if token_class == VALID_NEW else "old"
        return token_class, f"Bearer {rng.choice(tokens.valid[key])}", f"{key}_key"
    if token_class == NO_SCOPE:
        return token_class, f"Bearer {rng.choice(tokens.no_scope[key])}", f"{key}_key"
    if token_class == EXPIRED:
        return token_class, f"Bearer {rng.choice(tokens.expired[key])}", f"{key}_key"
    if token_class == FORGED:
        name, token = rng.choice(tokens.forged[key])
        return token_class, f"Bearer {token}", name
    if token_class == GARBAGE:
        name, header = garbage_header(rng)
        return token_class, header, name
    return UNKNOWN_KID, f"Bearer {unknown_kid_token(tokens.kid_template, rng)}", "random_kid"


def _wait_until(deadline: float, stop_file: str) -> bool:
    """Sleep until ``deadline``; False, at once, if ``stop_file`` exists or appears meanwhile."""
    while not os.path.exists(stop_file):
        left = deadline - time.monotonic()
        if left <= 0:
            return True
        time.sleep(min(left, STOP_POLL))
    return False


def _send_loop(plan: ClientPlan, thread: int, outcomes: list[Outcome]) -> None:
    """One thread's share of the client's rate; a slow answer delays only this thread."""
    rng = random.Random(f"{plan.seed}/{thread}")
    client = _Client(plan.port)
    interval = plan.threads / plan.rate
    next_at = plan.start_at + rng.random() * interval
    sent_count = 0
    try:
        while next_at < plan.end_at and _wait_until(next_at, plan.stop_file):
            # A thread that falls behind does not burst to catch up.
            next_at = max(next_at + interval, time.monotonic() - 1.0)
            route = rng.choice(list(ROUTES))
            token_class, authorization, detail = _pick(plan, rng, time.monotonic())
            request_id = f"{plan.index}.{thread}-{sent_count}"
            sent_count += 1
            headers = {REQUEST_ID_HEADER: request_id}
            if authorization is not None:
                headers["Authorization"] = authorization
            sent = time.monotonic()
            status = client.get(ROUTES[route], headers)
            outcomes.append(
                Outcome(sent, time.monotonic(), token_class, route, status, request_id, detail)
            )
    finally:
        client.close()


def run_client(plan: ClientPlan) -> list[Outcome]:
    """Send the mix at ``plan.rate`` requests/s from ``start_at`` until ``end_at``.

    The rate is shared by ``plan.threads`` threads, so that requests keep arriving while some
    wait: the load is close to open-loop as long as threads are free.
    """
    outcomes: list[Outcome] = []
    threads = [
        threading.Thread(target=_send_loop, args=(plan, n, outcomes), name=f"soak client {n}")
        for n in range(plan.threads)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
