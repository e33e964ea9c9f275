"""``Auth0JWTBearerTokenValidator``: Authlib's JWT bearer validator, made to check Auth0 tokens.

The pipeline for one token string, cheapest refusal first (RFC 8725 section 3):
compact shape and size -> protected header (``alg`` allow-list, ``typ``, ``crit``, ``kid``)
-> key from the issuer's JWKS -> signature (joserfc) -> claims (joserfc registry plus our
scope rules). Every refusal is an ``InvalidToken`` with a reason code; a key set that cannot
be obtained is ``TemporarilyUnavailable``. Settings are read per request through
``conf.current()``, so ``override_settings`` works and misconfiguration fails closed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from authlib.oauth2.rfc7523 import JWTBearerToken, JWTBearerTokenValidator
from joserfc import jws
from joserfc.errors import JoseError

from apiexample import conf
from apiexample.claims import ClaimsPolicy, granted_scopes, parse_payload
from apiexample.errors import (
    REALM,
    BearerError,
    InsufficientScope,
    InvalidToken,
    TemporarilyUnavailable,
)
from apiexample.signing_keys import SigningKeysUnavailable, cache_for
from apiexample.token_format import check_compact_shape, check_header

logger = logging.getLogger(__name__)


class Auth0AccessToken(JWTBearerToken):  # type: ignore[misc]
    """Verified claims; expiry and scopes follow the validator's policy, leeway included."""

    def __init__(self, claims: dict[str, Any], policy: ClaimsPolicy) -> None:
        super().__init__(claims)
        self.policy = policy
        self.scopes = granted_scopes(claims)

    def is_expired(self) -> bool:
        return self.policy.is_expired(self)

    def get_scope(self) -> str:
        return " ".join(sorted(self.scopes))


class _Policies:
    """What one configuration needs per token: built once, reused for every request."""

    def __init__(self, config: conf.Auth0Config, clock: Callable[[], float]) -> None:
        self.config = config
        self.jws_registry = jws.JWSRegistry(
            algorithms=list(config.algorithms), strict_check_header=False
        )
        self.claims = ClaimsPolicy(config.issuer, config.audience, config.leeway, clock)


class Auth0JWTBearerTokenValidator(JWTBearerTokenValidator):  # type: ignore[misc]
    """Validates Auth0 access tokens against the configured issuer's JWKS."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        super().__init__(public_key=None, realm=REALM)
        self.clock = clock
        self._policies: _Policies | None = None

    def now(self) -> float:
        """Current time from ``self.clock``, which tests may replace."""
        return self.clock()

    def policies(self) -> _Policies:
        config = conf.current()
        policies = self._policies
        if (
            policies is None
            or policies.config is not config
            or policies.claims.clock is not self.clock
        ):
            if config.problems:
                logger.error(
                    "auth0 settings are invalid: %s",
                    ", ".join(problem.id for problem in config.problems),
                )
                raise TemporarilyUnavailable(
                    "misconfigured",
                    config.jwks_cooldown if config.jwks_cooldown >= 0 else 30,
                    "The API's token validation is misconfigured.",
                )
            policies = self._policies = _Policies(config, self.now)
        return policies

    def authenticate_token(self, token_string: str) -> Auth0AccessToken:
        """Verify ``token_string`` and return its claims, or raise a BearerError."""
        policies = self.policies()
        check_compact_shape(token_string)
        try:
            obj = jws.extract_compact(token_string.encode("ascii"), registry=policies.jws_registry)
        except (JoseError, ValueError) as exc:
            raise InvalidToken("token_malformed") from exc
        kid = check_header(obj.headers(), policies.config.algorithms)
        try:
            return self._verify(obj, kid, policies)
        except BearerError as error:
            raise error.for_kid(kid) from error.__cause__

    def _verify(self, obj: jws.CompactSignature, kid: str, policies: _Policies) -> Auth0AccessToken:
        try:
            key = cache_for(policies.config.jwks_url).get(kid)
        except SigningKeysUnavailable as exc:
            raise TemporarilyUnavailable(exc.reason, exc.retry_after) from exc
        if key is None:
            raise InvalidToken("kid_unknown")
        try:
            verified = jws.validate_compact(obj, key, registry=policies.jws_registry)
        except (JoseError, ValueError) as exc:
            raise InvalidToken("signature_invalid") from exc
        if not verified:
            raise InvalidToken("signature_invalid")
        claims = parse_payload(obj.payload)
        policies.claims.validate(claims)
        return Auth0AccessToken(claims, policies.claims)

    def validate_token(
        self, token: Auth0AccessToken | None, scopes: Iterable[str] | None, request: Any
    ) -> None:
        """Expiry (leeway included) and scope (RFC 6750 section 3.1 ``insufficient_scope``)."""
        if token is None or token.is_expired():
            raise InvalidToken("token_expired", "The access token has expired.")
        alternatives = [r for r in scopes or () if r]
        if alternatives and not any(set(r.split()) <= token.scopes for r in alternatives):
            raise InsufficientScope(alternatives[0])
