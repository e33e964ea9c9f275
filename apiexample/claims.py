"""What the claims of a verified access token must say (RFC 7519 section 4.1, RFC 9068 section 2.2).

``iss`` equals the issuer exactly, ``aud`` is or contains the audience, ``exp``, ``iat`` and
``sub`` are present, and ``exp``/``nbf``/``iat`` hold within one leeway. ``scope`` is a string
of space-separated scopes (RFC 6749 section 3.3); Auth0's RBAC ``permissions`` is a list of
strings. Both are granted scopes.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from joserfc.errors import ClaimError, ExpiredTokenError, MissingClaimError
from joserfc.jwt import JWTClaimsRegistry

from apiexample.errors import InvalidToken
from apiexample.jose_json import NotAJSONObject, parse_object

#: NumericDate claims (RFC 7519 section 2): JSON numbers, which booleans are not.
TIME_CLAIMS = ("exp", "nbf", "iat")


def parse_payload(payload: bytes) -> dict[str, Any]:
    """The JWT Claims Set (RFC 7519 section 7.2 step 10), or ``InvalidToken``."""
    try:
        return parse_object(payload)
    except NotAJSONObject as exc:
        raise InvalidToken(f"claims_{exc.reason}") from exc


#: JSON values that are immutable once parsed (RFC 8259 section 3).
_SCALARS = (str, int, float, bool, type(None))


def list_claims(claims: dict[str, Any]) -> tuple[str, ...] | None:
    """The names of the list-valued claims, if every claim is a JSON scalar or a list of them.

    Claims of that shape are copied for another request by copying those lists alone
    (``copy_claims``); ``None`` means something nests deeper and only parsing gives a copy.
    """
    names = []
    for name, value in claims.items():
        if isinstance(value, list) and all(isinstance(item, _SCALARS) for item in value):
            names.append(name)
        elif not isinstance(value, _SCALARS):
            return None
    return tuple(names)


def copy_claims(claims: dict[str, Any], lists: tuple[str, ...]) -> dict[str, Any]:
    """A copy of ``claims`` sharing nothing mutable with it; ``lists`` from ``list_claims``."""
    copy = dict(claims)
    for name in lists:
        copy[name] = list(copy[name])
    return copy


class ClaimsPolicy:
    """Claim rules for one issuer, audience and leeway; built once, reused for every token."""

    def __init__(
        self, issuer: str, audience: str, leeway: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.leeway = int(leeway)
        self.clock = clock
        self._registry = JWTClaimsRegistry(
            now=lambda: int(self.clock()),
            leeway=self.leeway,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
        )
        self._essential = tuple(sorted(self._registry.essential_keys))
        self._rules = _claim_rules(self._registry)

    def validate(self, claims: dict[str, Any]) -> frozenset[str]:
        """Check ``claims``; return the scopes they grant. Raises ``InvalidToken``.

        The same rules, in the same order, as joserfc's ``JWTClaimsRegistry.validate``: the
        essential claims, then each claim in the token's order through its rule, looked up in
        a table built once instead of by name per claim.
        """
        # Checked here too, so every joserfc release allowed answers alike: joserfc < 1.8 takes
        # True for a number and has no rule for jti (RFC 7519 section 4.1.7: a string).
        for name in TIME_CLAIMS:
            value = claims.get(name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float))
            ):
                raise InvalidToken(f"claim_invalid_{name}")
        jti = claims.get("jti")
        if jti is not None and not isinstance(jti, str):
            raise InvalidToken("claim_invalid_jti")
        rules = self._rules
        name = ""
        try:
            for essential in self._essential:
                if claims.get(essential) is None:
                    raise MissingClaimError(essential)
            for name, value in claims.items():
                rule = rules.get(name)
                if rule is not None:
                    rule(value)
        except ExpiredTokenError as exc:
            raise InvalidToken("token_expired", "The access token has expired.") from exc
        except MissingClaimError as exc:
            raise InvalidToken("claim_missing") from exc
        except ClaimError as exc:  # named after the claim checked: joserfc's naming varies
            raise InvalidToken(f"claim_invalid_{name}") from exc
        # "On or after" exp (RFC 7519 section 4.1.4), as is_expired() and in_window() say:
        # joserfc < 1.8 still accepts a token at exactly exp + leeway.
        if self._expired(claims["exp"], self.clock()):
            raise InvalidToken("token_expired", "The access token has expired.")
        return granted_scopes(claims)

    def is_expired(self, claims: dict[str, Any]) -> bool:
        """``exp`` passed, leeway applied exactly as at validation (RFC 7519 section 4.1.4)."""
        return self._expired(claims["exp"], self.clock())

    def in_window(self, valid_from: float, expires_at: float) -> bool:
        """Whether claims valid from ``valid_from`` (the later of ``iat`` and ``nbf``) until
        ``expires_at`` (``exp``) pass the time rules now, as at validation (RFC 7519 sections
        4.1.4-4.1.6): a verified token served again is held to the same window."""
        now = self.clock()
        return not self._expired(expires_at, now) and valid_from <= int(now) + self.leeway

    def _expired(self, exp: float, now: float) -> bool:
        return bool(exp <= now - self.leeway)


def _claim_rules(registry: JWTClaimsRegistry) -> dict[str, Callable[[Any], None]]:
    """What joserfc's registry runs for a claim: its ``validate_<name>`` (RFC 7519 section 4.1;
    ``jti`` from joserfc 1.8), else ``check_value`` for a claim given options."""
    rules: dict[str, Callable[[Any], None]] = {
        name: functools.partial(registry.check_value, name) for name in registry.options
    }
    for attribute in dir(registry):
        if attribute.startswith("validate_"):
            rules[attribute.removeprefix("validate_")] = getattr(registry, attribute)
    return rules


def granted_scopes(claims: dict[str, Any]) -> frozenset[str]:
    """Scopes from ``scope`` split on spaces only, plus every entry of ``permissions``."""
    scope = claims.get("scope", "")
    permissions = claims.get("permissions", [])
    if not isinstance(scope, str):
        raise InvalidToken("scope_not_a_string")
    if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
        raise InvalidToken("permissions_not_a_list_of_strings")
    granted = set(scope.split(" "))
    granted.discard("")  # runs of spaces
    granted.update(permissions)
    return frozenset(granted)
