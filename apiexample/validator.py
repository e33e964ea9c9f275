"""``Auth0JWTBearerTokenValidator``: Authlib's JWT bearer validator, made to check Auth0 tokens.

The pipeline for one token string, cheapest refusal first (RFC 8725 section 3):
compact shape and size -> protected header (``alg`` allow-list, ``typ``, ``crit``, ``kid``)
-> key from the issuer's JWKS -> signature -> claims (joserfc registry plus our scope rules).
Every refusal is an ``InvalidToken`` with a reason code; a key set that cannot be obtained is
``TemporarilyUnavailable``. Settings are read per request through ``conf.current()``, so
``override_settings`` works and misconfiguration fails closed.

Per configuration, three things are remembered (``_Policies``): protected headers that already
passed every header rule and headed a verified token (the issuer uses a handful; only a
successful verification adds one, so forged headers never take a slot), the key objects that
passed joserfc's key rules for an algorithm (both bounded by ``MAX_REMEMBERED_HEADERS``), and
verified tokens (``apiexample.token_cache``, AUTH0_TOKEN_CACHE_SIZE; stored on their second
verification, so single-use tokens take no slot). A cached token is served
only while it has not expired and its signing key is still the one the key cache holds; a
configuration change builds new ``_Policies``, so nothing validated under the old settings is
ever served.
"""

from __future__ import annotations

import binascii
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc7523 import JWTBearerToken, JWTBearerTokenValidator
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwa import JWSAlgModel
from joserfc.jwk import RSAKey

from apiexample import conf
from apiexample.claims import ClaimsPolicy, granted_scopes, parse_payload
from apiexample.errors import (
    FALLBACK_RETRY_AFTER,
    REALM,
    BearerError,
    InsufficientScope,
    InvalidToken,
    TemporarilyUnavailable,
)
from apiexample.jose_json import parse_object
from apiexample.signing_keys import MAX_SIGNATURE_LENGTH, SigningKeysUnavailable, cache_for
from apiexample.token_cache import TokenCache, VerifiedToken
from apiexample.token_format import MAX_TOKEN_LENGTH, check_compact_shape, check_header

logger = logging.getLogger(__name__)

#: Distinct protected headers, and checked (kid, alg) keys, remembered per configuration; an
#: issuer signs with one header per key (and ``typ``), so this is never reached in practice.
MAX_REMEMBERED_HEADERS = 64


class Auth0AccessToken(JWTBearerToken):  # type: ignore[misc]
    """Verified claims; expiry and scopes follow the validator's policy, leeway included.

    ``kid`` names the key that verified them, for the log line of a later refusal.
    """

    __slots__ = ("kid", "policy", "scopes")  # so setting them never creates the instance dict

    def __init__(
        self,
        claims: dict[str, Any],
        policy: ClaimsPolicy,
        scopes: frozenset[str] | None = None,
        kid: str | None = None,
    ) -> None:
        super().__init__(claims)
        self.policy = policy
        self.scopes = granted_scopes(claims) if scopes is None else scopes
        self.kid = kid

    def is_expired(self) -> bool:
        return self.policy.is_expired(self)

    def get_scope(self) -> str:
        return " ".join(sorted(self.scopes))


@dataclass(frozen=True)
class _Header:
    """A protected header that passed every rule: the key to look up and the algorithm."""

    kid: str
    alg: JWSAlgModel
    scheme: tuple[padding.AsymmetricPadding, hashes.HashAlgorithm]


def _pss(digest: hashes.HashAlgorithm) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)


#: How each algorithm of ``conf.ASYMMETRIC_ALGORITHMS`` verifies (RFC 7518 sections 3.3 and
#: 3.5): RS* is PKCS #1 v1.5, PS* is PSS with MGF1 and a salt the size of the hash.
SIGNATURE_SCHEMES: dict[str, tuple[padding.AsymmetricPadding, hashes.HashAlgorithm]] = {
    "RS256": (padding.PKCS1v15(), hashes.SHA256()),
    "RS384": (padding.PKCS1v15(), hashes.SHA384()),
    "RS512": (padding.PKCS1v15(), hashes.SHA512()),
    "PS256": (_pss(hashes.SHA256()), hashes.SHA256()),
    "PS384": (_pss(hashes.SHA384()), hashes.SHA384()),
    "PS512": (_pss(hashes.SHA512()), hashes.SHA512()),
}


class _Policies:
    """What one configuration needs per token: built once, reused for every request."""

    def __init__(self, config: conf.Auth0Config, clock: Callable[[], float]) -> None:
        self.config = config
        self.jws_registry = jws.JWSRegistry(
            algorithms=list(config.algorithms), strict_check_header=False
        )
        self.jws_registry.max_signature_length = MAX_SIGNATURE_LENGTH
        self.claims = ClaimsPolicy(config.issuer, config.audience, config.leeway, clock)
        self.headers: dict[str, _Header] = {}
        self.checked_keys: dict[tuple[str, str], RSAKey] = {}
        self.tokens = TokenCache(config.token_cache_size) if config.token_cache_size else None

    def header(self, token_string: str, header_segment: str) -> _Header:
        """The checked header of ``token_string``: remembered, or decoded and checked now."""
        header = self.headers.get(header_segment)
        if header is not None:
            return header
        try:
            # UTF-8 JSON only (RFC 7515 section 5.2 step 3): joserfc's own parse would guess
            # UTF-16 or UTF-32 and take a byte order mark or NaN.
            fields = parse_object(_b64decode(header_segment))
        except ValueError as exc:
            raise InvalidToken("token_malformed") from exc
        # Our rules first, so a refusal names the rule; then joserfc's own checks, its segment
        # size limits included, as a second line. All run once per distinct header.
        kid = check_header(fields, self.config.algorithms)
        try:
            jws.extract_compact(token_string.encode("ascii"), registry=self.jws_registry)
        except (JoseError, ValueError) as exc:
            raise InvalidToken("token_malformed").for_kid(kid) from exc
        try:
            self.jws_registry.check_header(fields)  # joserfc: registered header member types
        except (JoseError, ValueError) as exc:  # "jku": 1, "x5c": "x", "typ": null...
            raise InvalidToken("header_invalid").for_kid(kid) from exc
        alg = self.jws_registry.get_alg(fields["alg"])  # allowed, so registered (conf, E005)
        return _Header(kid, alg, SIGNATURE_SCHEMES[alg.name])

    def remember_header(self, header_segment: str, header: _Header) -> None:
        if len(self.headers) >= MAX_REMEMBERED_HEADERS:
            self.headers.clear()
        self.headers[header_segment] = header

    def check_key(self, header: _Header, key: RSAKey) -> None:
        """joserfc's rules for ``key`` verifying ``header.alg``; once per key object and alg.

        ``use`` absent or ``sig``, an RSA key, the JWK's own ``alg`` (when it has one) equal to
        the header's (``signing_keys`` gives a member without one the first allowed), and
        ``key_ops`` (when present) allowing ``verify``.
        """
        remembered = (header.kid, header.alg.name)
        if self.checked_keys.get(remembered) is key:
            return
        header.alg.check_key(key)
        key.check_key_op("verify")
        if len(self.checked_keys) >= MAX_REMEMBERED_HEADERS:
            self.checked_keys.clear()
        self.checked_keys[remembered] = key


#: The last character of a canonical base64url string with 2 or 3 characters in its last
#: quantum: the unused low bits must be zero (RFC 4648 section 3.5), as joserfc requires.
_CANONICAL_LAST = {2: frozenset("AQgw"), 3: frozenset("AEIMQUYcgkosw048")}
_URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def _b64decode(segment: str) -> bytes:
    """A base64url segment (RFC 7515 section 2) of a token that passed ``check_compact_shape``.

    Only canonical encodings decode, so one byte string has exactly one spelling in a token.
    """
    remainder = len(segment) % 4
    if remainder and (remainder == 1 or segment[-1] not in _CANONICAL_LAST[remainder]):
        raise ValueError("not canonical base64url")
    return binascii.a2b_base64(segment.encode("ascii").translate(_URLSAFE_TO_STANDARD) + b"==")


def _decode_segment(segment: str) -> bytes:
    try:
        return _b64decode(segment)
    except ValueError as exc:
        raise InvalidToken("token_malformed") from exc


class Auth0JWTBearerTokenValidator(JWTBearerTokenValidator):  # type: ignore[misc]
    """Validates Auth0 access tokens against the configured issuer's JWKS."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        super().__init__(public_key=None, realm=REALM)
        self.clock = clock
        self._policies: _Policies | None = None
        self._reported: conf.Auth0Config | None = None

    def now(self) -> float:
        """Current time from ``self.clock``, which tests may replace."""
        return self.clock()

    def policies(self) -> _Policies:
        config = conf.current()
        policies = self._policies
        if policies is None or policies.config is not config:
            if config.problems:
                if self._reported is not config:  # once per configuration, not per request
                    self._reported = config
                    logger.error(
                        "auth0 settings are invalid (manage.py check explains): %s",
                        ", ".join(problem.id for problem in config.problems),
                    )
                cooldown = config.jwks_cooldown  # E007 when negative: retry after the default
                raise TemporarilyUnavailable(
                    "misconfigured",
                    cooldown if cooldown >= 0 else FALLBACK_RETRY_AFTER,
                    "The API's token validation is misconfigured.",
                )
            policies = self._policies = _Policies(config, self.now)
        return policies

    def authenticate_token(self, token_string: str) -> Auth0AccessToken:
        """Verify ``token_string`` and return its claims, or raise a BearerError."""
        policies = self.policies()
        tokens = policies.tokens
        if tokens is not None and len(token_string) <= MAX_TOKEN_LENGTH:
            cached = tokens.get(token_string)
            if cached is not None:
                if self._still_valid(cached, policies):
                    claims = cached.private_claims()
                    return Auth0AccessToken(claims, policies.claims, cached.scopes, cached.kid)
                tokens.discard(token_string, cached)
        return self._verify(token_string, policies)

    def _verify(self, token_string: str, policies: _Policies) -> Auth0AccessToken:
        """Full validation (RFC 7515 section 5.2, RFC 7519 section 7.2), then cache the result."""
        tokens = policies.tokens
        check_compact_shape(token_string)
        header_segment, payload_segment, signature_segment = token_string.split(".")
        header = policies.header(token_string, header_segment)
        if len(signature_segment) > policies.jws_registry.max_signature_length:
            raise InvalidToken("token_malformed")
        payload = _decode_segment(payload_segment)
        try:
            key = self._verify_signature(
                header, policies, header_segment, payload_segment, signature_segment
            )
            claims = parse_payload(payload)
            scopes = policies.claims.validate(claims)
        except BearerError as error:
            raise error.for_kid(header.kid) from error.__cause__
        policies.remember_header(header_segment, header)
        if tokens is not None and tokens.admits(token_string):
            tokens.put(token_string, VerifiedToken.of(payload, claims, scopes, header.kid, key))
        return Auth0AccessToken(claims, policies.claims, scopes, header.kid)

    @classmethod
    def _verify_signature(
        cls,
        header: _Header,
        policies: _Policies,
        header_segment: str,
        payload_segment: str,
        signature: str,
    ) -> RSAKey:
        """RFC 7515 section 5.2 step 8: the issuer's key named by ``kid`` (section 4.1.4) and
        its rules, then the signature itself; returns the key that verified it."""
        key = cls._current_key(header.kid, policies)
        if key is None:
            raise InvalidToken("kid_unknown")
        try:
            policies.check_key(header, key)
            public_key = key.public_key
            signature_bytes = _b64decode(signature)
            # Exactly k bytes (RFC 8017 sections 8.1.2 and 8.2.2, step 1): OpenSSL verifies a
            # PSS signature one leading zero byte short, a second spelling of the same token.
            if len(signature_bytes) != (public_key.key_size + 7) // 8:
                raise InvalidSignature
            public_key.verify(
                signature_bytes,
                f"{header_segment}.{payload_segment}".encode("ascii"),
                *header.scheme,
            )
        except (JoseError, ValueError, InvalidSignature) as exc:
            raise InvalidToken("signature_invalid") from exc
        return key

    @staticmethod
    def _current_key(kid: str, policies: _Policies) -> RSAKey | None:
        """The key named ``kid`` in the issuer's current key set (refreshed per the key cache)."""
        try:
            return cache_for(policies.config.jwks_url).get(kid)
        except SigningKeysUnavailable as exc:
            raise TemporarilyUnavailable(exc.reason, exc.retry_after) from exc

    def _still_valid(self, cached: VerifiedToken, policies: _Policies) -> bool:
        """Whether a cached token may be served: in its validity window, same signing key.

        The window is the claims policy's (leeway included). The key check asks the key
        cache, which refreshes on its TTL as for any token, and compares key objects, which
        every successful JWKS fetch replaces: a rotated-out key or a changed key set sends
        the token through full validation again.
        """
        if not policies.claims.in_window(cached.valid_from, cached.expires_at):
            return False
        try:
            return self._current_key(cached.kid, policies) is cached.key
        except BearerError as error:
            raise error.for_kid(cached.kid) from error.__cause__

    def validate_token(
        self, token: Auth0AccessToken | None, scopes: Iterable[str] | None, request: Any
    ) -> None:
        """Expiry (leeway included) and scope (RFC 6750 section 3.1 ``insufficient_scope``)."""
        if token is None or token.is_expired():
            expired = InvalidToken("token_expired", "The access token has expired.")
            raise expired.for_kid(None if token is None else token.kid)
        if not scopes:
            return
        alternatives = [r for r in scopes if r]
        if alternatives and not any(set(r.split()) <= token.scopes for r in alternatives):
            raise InsufficientScope(alternatives[0]).for_kid(token.kid)
