"""What the soak run does and what it must observe: settings, phases, traffic mix, expectations.

The phases are fractions of the run, so ``--duration 6`` is the 60 s scenario compressed. The
new key is published a full TTL plus two cooldowns before it signs (as Auth0 publishes its next
key ahead of use), so every worker holds it before any token needs it: from then on a valid
token always has a cached key, and anything but 200 is unexpected. A 503 is designed only where
the README designs it: signing keys that cannot be obtained (the JWKS failing) for a token whose
key the serving worker does not hold.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

ROUTES = {"private": "/api/private", "scoped": "/api/private-scoped"}
SCOPE = "read:messages"

VALID_OLD = "valid_old_key"
VALID_NEW = "valid_new_key"
NO_SCOPE = "no_scope"
EXPIRED = "expired"
FORGED = "forged"
GARBAGE = "garbage"
UNKNOWN_KID = "unknown_kid"
CLASSES = (VALID_OLD, VALID_NEW, NO_SCOPE, EXPIRED, FORGED, GARBAGE, UNKNOWN_KID)
VALID_CLASSES = frozenset({VALID_OLD, VALID_NEW})
#: Share of requests per class; valid traffic moves half to the new key once it signs.
MIX = {VALID_OLD: 40, NO_SCOPE: 10, EXPIRED: 8, FORGED: 14, GARBAGE: 10, UNKNOWN_KID: 18}
#: Named forgeries of ``mock_idp.forgeries`` that leave the IdP's key ring untouched.
FORGERIES = (
    "alg_none",
    "hmac_public_key",
    "hmac_secret",
    "foreign_key",
    "embedded_jwk",
    "jku",
    "x5c",
    "tampered_signature",
    "tampered_payload",
    "wrong_issuer",
    "wrong_audience",
    "future_nbf",
    "missing_kid",
    "unknown_crit",
)
#: Worker memory may grow less than this between the first and the last quarter of the run.
MAX_RSS_GROWTH = 0.10
#: A worker's memory is judged from when it has answered this many requests: its first requests
#: import the views and their libraries, fetch the JWKS and fill caches, which is warm-up, not
#: growth. Under load a worker may answer none of them for seconds.
WARM_REQUESTS = 20


#: How far a fetch's in-flight window reaches beyond the IdP's delay, at least: connecting, the
#: answer's transfer and parse in a busy worker, and the two clocks' reading of one moment.
FETCH_SLACK = 0.25
#: How long before the IdP logs a fetch the worker may hold the key cache's lock, at least: a
#: new session, the deadline's timer thread, connecting and sending.
FETCH_LEAD = 0.15
#: The lead in a run whose cooldown is shorter than a window (``make test``'s 5 s run), whose
#: windows join up anyway: there the lead costs the judgement nothing, and makes room for a
#: fetching thread on a loaded CI. Each step above hands the GIL over, and in a worker whose
#: other threads keep the CPU busy each hand-over can wait a switch interval (5 ms), a wait
#: requests served from held keys never pay: a tox env took 0.27 s with those answered at once.
LOADED_FETCH_LEAD = 0.35


@dataclass(frozen=True)
class SoakConfig:
    """One run's settings; ``for_duration`` derives the cache timings from the duration."""

    duration: float = 60.0
    workers: int = 2
    threads: int = 4
    clients: int = 4
    rate: float = 250.0
    cache_ttl: float = 10.0
    cooldown: float = 2.0
    jwks_timeout: float = 3.0
    warmup: float = 2.0
    seed: int = 7
    fetch_lead: float = FETCH_LEAD

    @classmethod
    def for_duration(cls, duration: float = 60.0, **overrides: Any) -> SoakConfig:
        """TTL duration/6, cooldown duration/30, JWKS timeout duration/20 (1 to 60 s) by
        default; a fetch window's lead ``LOADED_FETCH_LEAD`` when that cooldown is shorter than
        a window."""
        # Imported here: client processes import this module, and must not import Django.
        from apiexample.conf import MAX_JWKS_TIMEOUT

        cooldown = round(duration / 30, 3)
        derived = cls(
            duration=duration,
            cache_ttl=round(duration / 6, 3),
            cooldown=cooldown,
            fetch_lead=FETCH_LEAD if cooldown >= FETCH_LEAD + FETCH_SLACK else LOADED_FETCH_LEAD,
            jwks_timeout=round(min(MAX_JWKS_TIMEOUT, max(1.0, duration / 20)), 3),
            warmup=round(min(2.0, duration / 12), 3),
        )
        config = replace(derived, **{k: v for k, v in overrides.items() if v is not None})
        if not 0 < config.jwks_timeout <= MAX_JWKS_TIMEOUT:
            raise ValueError(f"the JWKS timeout must be > 0 and at most {MAX_JWKS_TIMEOUT} s")
        config.schedule()  # refuse settings the phases cannot honour
        return config

    @property
    def rss_interval(self) -> float:
        """How often worker memory is sampled: ten samples a quarter, at most one a second."""
        return min(1.0, self.duration / 40)

    @property
    def slow_delay(self) -> float:
        """The JWKS delay of the slow phase: within the fetch timeout."""
        return round(self.jwks_timeout / 2, 3)

    @property
    def hung_delay(self) -> float:
        """The JWKS delay of the hung phase: beyond the fetch timeout."""
        return round(self.jwks_timeout * 2, 3)

    def idp_delay(self, phase: str) -> float:
        """How long the IdP holds a JWKS answer during ``phase`` (0 outside the slow phases)."""
        return {"jwks_slow": self.slow_delay, "jwks_hung": self.hung_delay}.get(phase, 0.0)

    def environment(self) -> dict[str, str]:
        """The API's cache settings (the rest is pinned by the runner)."""
        return {
            "AUTH0_JWKS_CACHE_TTL": f"{self.cache_ttl:g}",
            "AUTH0_JWKS_COOLDOWN": f"{self.cooldown:g}",
            "AUTH0_JWKS_TIMEOUT": f"{self.jwks_timeout:g}",
        }

    def schedule(self) -> list[Phase]:
        """The phases, in order; each lasts until the next starts, the last until ``duration``."""
        d = self.duration
        published = 0.12 * d
        rotated = published + self.cache_ttl + 2 * self.cooldown
        down = 0.45 * d
        if rotated >= down - self.cooldown:
            raise ValueError(
                f"duration {d:g}s is too short for TTL {self.cache_ttl:g}s and cooldown "
                f"{self.cooldown:g}s: the new key must be published a TTL and two cooldowns "
                "before it signs, and before the JWKS goes down"
            )
        return [
            Phase("baseline", 0.0, "old key signs"),
            Phase("published", published, "new key published, not signing yet"),
            Phase("rotated", rotated, "new key signs, old key retired (still published)"),
            Phase("jwks_down", down, "JWKS answers 503", degraded=True),
            Phase("recovered", 0.65 * d, "faults cleared"),
            Phase("jwks_slow", 0.75 * d, f"JWKS answers after {self.slow_delay:g}s"),
            Phase("jwks_hung", 0.85 * d, f"JWKS answers after {self.hung_delay:g}s", degraded=True),
            Phase("recovered_2", 0.95 * d, "faults cleared"),
        ]


@dataclass(frozen=True)
class Phase:
    """A stretch of the run; ``degraded`` when JWKS fetches fail during it."""

    name: str
    start: float
    what: str
    degraded: bool = False


def expected_statuses(token_class: str, route: str) -> frozenset[int]:
    """The statuses a request of ``token_class`` on ``route`` must get (designed 503s aside)."""
    if token_class in VALID_CLASSES:
        return frozenset({200})
    if token_class == NO_SCOPE:
        return frozenset({200 if route == "private" else 403})
    return frozenset({401})


def degraded_windows(
    phases: Iterable[tuple[Phase, float, float]], config: SoakConfig
) -> list[tuple[float, float]]:
    """Times when a key could not be obtained: degraded phases, plus a cooldown, a fetch and
    the delay the IdP puts on its answer."""
    grace = config.cooldown + config.jwks_timeout
    return [
        (start, end + grace + config.idp_delay(phase.name))
        for phase, start, end in phases
        if phase.degraded
    ]


def fetch_windows(
    jwks_hits: Sequence[float],
    phases: Iterable[tuple[Phase, float, float]],
    config: SoakConfig,
    stalls: Sequence[float] | None = None,
) -> list[tuple[float, float]]:
    """Times a JWKS fetch may have been in flight: from ``config.fetch_lead`` before each hit,
    for the delay the IdP put on it (none while healthy; a hit near a phase change gets the
    longer of the two phases'), at most the fetch timeout, plus ``FETCH_SLACK``.

    A hit's stall (``stalls_at``, in the same order) widens both its margins by as much: on a
    loaded machine the fetching thread waits for the CPU on top of its own work, between taking
    the lock and the IdP's log, and again before letting go.
    """
    delays = [(start, end, config.idp_delay(phase.name)) for phase, start, end in phases]

    def delay_at(t: float) -> float:
        near = [d for start, end, d in delays if start - FETCH_SLACK <= t < end + FETCH_SLACK]
        return min(max(near, default=0.0), config.jwks_timeout)

    if stalls is None:
        stalls = [0.0] * len(jwks_hits)
    return [
        (t - config.fetch_lead - stall, t + delay_at(t) + FETCH_SLACK + stall)
        for t, stall in zip(jwks_hits, stalls, strict=True)
    ]


#: How near a JWKS hit a request's wait tells of the load its fetch met: the load of that
#: moment, so one slow answer elsewhere in the run widens no other hit's window.
STALL_REACH = 0.5
#: The most a stall widens each margin of a window. Past it the windows of the 60 s run (about a
#: fetch a second; lead, slack and twice this make 1 s) would join up, and an API answering 503
#: to every unknown kid could pass; a machine that loaded is too slow to judge by.
MAX_STALL = 0.3


def stalls_at(jwks_hits: Sequence[float], waits: Iterable[tuple[float, float]]) -> list[float]:
    """Per hit, how long the API was held up by nothing but its load around it: the longest of
    ``waits`` (sent, done) in flight within ``STALL_REACH`` of it, at most ``MAX_STALL``; 0 when
    none was.

    ``waits`` are valid tokens whose key the worker already held, answered 200 while the IdP
    answered at once. Such a request never waits for a fetch (the key is at hand, past the TTL
    too), so its latency is waiting for the CPU; a fetch's own threads can be held up as long.
    """
    spans = sorted(waits)
    sent_times = [sent for sent, _done in spans]
    longest = max((done - sent for sent, done in spans), default=0.0)
    stalls = []
    for t in jwks_hits:
        first = bisect.bisect_left(sent_times, t - STALL_REACH - longest)
        last = bisect.bisect_right(sent_times, t + STALL_REACH)
        near = (done - sent for sent, done in spans[first:last] if done >= t - STALL_REACH)
        stalls.append(min(max(near, default=0.0), MAX_STALL))
    return stalls


def may_be_designed_503(
    token_class: str,
    sent: float,
    done: float,
    windows: Iterable[tuple[float, float]],
    worker_holds_key: bool,
    in_flight: Iterable[tuple[float, float]] = (),
) -> bool:
    """Whether the README designs a 503 here: keys unobtainable for a token whose key is not held.

    Unknown kids never have a held key, and cannot be checked while a refresh fails or is still
    running (``in_flight``); forged, expired and garbage tokens are refused on their own (no key
    or a held one), and a valid token whose key the worker holds must be served.
    """
    if token_class not in VALID_CLASSES and token_class != UNKNOWN_KID:
        return False
    if token_class in VALID_CLASSES and worker_holds_key:
        return False
    if token_class == UNKNOWN_KID:
        windows = [*windows, *in_flight]
    return in_flight_during(sent, done, windows)


def in_flight_during(sent: float, done: float, windows: Iterable[tuple[float, float]]) -> bool:
    """Whether a request sent at ``sent`` and answered at ``done`` overlaps any of ``windows``."""
    return any(sent < end and done > start for start, end in windows)
