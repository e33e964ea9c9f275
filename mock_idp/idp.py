"""``MockIdP``: the test-facing facade over keys, tokens, forgeries and the HTTP surface.

It serves what an Auth0 tenant does: OpenID Connect Discovery 1.0 section 4 metadata, a JWKS
(RFC 7517 section 5), and the client-credentials grant (RFC 6749 section 4.4) at
``/oauth/token``, minting RFC 9068-style JWT access tokens with Auth0's claims.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from . import http, tokens
from .clock import Clock, ControllableClock
from .keys import KeyPair, KeyRing, KeyState

DEFAULT_ISSUER = "https://tenant.mock-idp.test/"
DEFAULT_CLIENT_ID = "mock-idp-client"
DEFAULT_AUDIENCE = "https://api.example.test"
_CLAIMS_SUPPORTED = (
    "aud auth_time created_at email email_verified exp family_name given_name iat identities"
    " iss name nickname phone_number picture sub"
)


class MockIdP:
    """An Auth0 tenant in a box.

    ``keys`` is a ``KeyRing`` (used as is), key pairs (the first signs, the others are
    published) or ``None`` (one fresh RSA-2048 key). ``clock`` defaults to a
    ``ControllableClock`` following real time. ``foreign_key`` is the attacker's key used by
    forgeries (generated on first use when not given).
    """

    def __init__(
        self,
        issuer: str = DEFAULT_ISSUER,
        *,
        keys: KeyRing | Iterable[KeyPair] | None = None,
        clock: Clock | None = None,
        audience: str | None = DEFAULT_AUDIENCE,
        client_id: str = DEFAULT_CLIENT_ID,
        default_scope: str = "",
        expires_in: int = tokens.DEFAULT_EXPIRES_IN,
        foreign_key: KeyPair | None = None,
        publish_x5c: bool = False,
    ) -> None:
        self.issuer = issuer
        self.keys = _key_ring(keys)
        self.clock: Clock = clock if clock is not None else ControllableClock()
        self.audience = audience
        self.client_id = client_id
        self.default_scope = default_scope
        self.expires_in = expires_in
        self.publish_x5c = publish_x5c
        self._foreign_key = foreign_key
        self.clients: dict[str, http.Client] = {}
        self.faults = http.Faults()
        self.hit_log = http.HitLog()

    def __repr__(self) -> str:
        return f"MockIdP(issuer={self.issuer!r}, keys={len(self.keys)})"

    # -- configuration -------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        """The ``iss`` of minted tokens; always ends with ``/`` as Auth0's does."""
        return self._issuer

    @issuer.setter
    def issuer(self, value: str) -> None:
        """``ValueError`` for a value no URL parser reads (``http://[::1``): every request to
        the IdP is routed by the issuer's path."""
        issuer = value if value.endswith("/") else value + "/"
        try:
            self._issuer_path = urlsplit(issuer).path or "/"
        except ValueError as exc:
            raise ValueError(f"issuer {value!r} is not a URL: {exc}") from None
        self._issuer = issuer

    @property
    def jwks_uri(self) -> str:
        return self.issuer + http.JWKS[1:]

    @property
    def token_endpoint(self) -> str:
        return self.issuer + http.TOKEN[1:]

    @property
    def foreign_key(self) -> KeyPair:
        """A key the JWKS never publishes, for forgeries."""
        if self._foreign_key is None:
            self._foreign_key = KeyPair.rsa()
        return self._foreign_key

    def register_client(
        self, client_id: str, client_secret: str, scopes: Iterable[str] | None = None
    ) -> http.Client:
        """Register a client; once any is registered, ``/oauth/token`` checks secrets."""
        client = http.Client(client_id, client_secret, None if scopes is None else tuple(scopes))
        self.clients[client_id] = client
        return client

    def relative_path(self, path: str) -> str | None:
        """``path`` relative to the issuer's path (``/`` for Auth0-style issuers), or None."""
        base = self._issuer_path
        return "/" + path[len(base) :] if path.startswith(base) else None

    # -- documents -------------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        """The published JWK Set: public members only."""
        return self.keys.jwks(x5c=self.publish_x5c)

    def openid_configuration(self) -> dict[str, Any]:
        """The discovery document, with the members Auth0 publishes."""
        issuer = self.issuer
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}authorize",
            "token_endpoint": self.token_endpoint,
            "device_authorization_endpoint": f"{issuer}oauth/device/code",
            "userinfo_endpoint": f"{issuer}userinfo",
            "mfa_challenge_endpoint": f"{issuer}mfa/challenge",
            "jwks_uri": self.jwks_uri,
            "registration_endpoint": f"{issuer}oidc/register",
            "revocation_endpoint": f"{issuer}oauth/revoke",
            "scopes_supported": ["openid", "profile", "offline_access", "name", "email"],
            "response_types_supported": ["code", "token", "id_token", "code token"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["public"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
            ],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS384", "PS256"],
            "id_token_signing_alg_values_supported": ["HS256", "RS256", "PS256"],
            "claims_supported": _CLAIMS_SUPPORTED.split(),
            "request_uri_parameter_supported": False,
            "request_parameter_supported": False,
            "end_session_endpoint": f"{issuer}oidc/logout",
        }

    # -- tokens ------------------------------------------------------------------------------

    def claims(
        self,
        *,
        audience: str | list[str] | None = None,
        scope: str | None = None,
        permissions: Iterable[str] | None = None,
        client_id: str | None = None,
        subject: str | None = None,
        user: bool = False,
        expires_in: int | None = None,
        issued_at: float | None = None,
    ) -> dict[str, Any]:
        """The default claims ``mint`` would sign, before overrides."""
        aud = audience if audience is not None else self.audience
        if aud is None:
            raise ValueError("no audience: pass audience= or set MockIdP(audience=...)")
        default_scope = self.default_scope
        if user:
            default_scope = f"{tokens.USER_SCOPES} {default_scope}".strip()
        return tokens.auth0_claims(
            issuer=self.issuer,
            audience=aud,
            client_id=client_id or self.client_id,
            now=self.clock.now() if issued_at is None else issued_at,
            expires_in=self.expires_in if expires_in is None else expires_in,
            scope=default_scope if scope is None else scope,
            permissions=permissions,
            user=user,
            subject=subject,
        )

    def mint(
        self,
        *,
        claims: Mapping[str, Any] | None = None,
        header: Mapping[str, Any] | None = None,
        remove_claims: Iterable[str] = (),
        remove_header: Iterable[str] = (),
        key: KeyPair | bytes | None = None,
        algorithm: str | None = None,
        signature: bytes | None = None,
        payload: bytes | None = None,
        protected: bytes | None = None,
        encode_payload: bool = True,
        audience: str | list[str] | None = None,
        scope: str | None = None,
        permissions: Iterable[str] | None = None,
        client_id: str | None = None,
        subject: str | None = None,
        user: bool = False,
        expires_in: int | None = None,
        issued_at: float | None = None,
    ) -> str:
        """Sign an access token; by default a valid Auth0 machine token.

        ``claims``/``header`` set members (any JSON value), ``remove_*`` drop them. ``key`` is
        any ``KeyPair`` (published or not) or HMAC secret bytes; ``algorithm`` is the signing
        algorithm (default: the key's ``alg``, ``HS256`` for bytes) and the default header
        ``alg``. ``signature`` replaces the computed signature; ``payload`` replaces the
        serialised claims verbatim, ``protected`` the serialised header (e.g. JSON in
        UTF-16, RFC 7515 section 5.2 step 3); ``encode_payload=False`` is RFC 7797 ``b64: false``.
        """
        signing_key = key if key is not None else self.keys.signing_key
        if algorithm is None:
            algorithm = signing_key.alg if isinstance(signing_key, KeyPair) else "HS256"
        base_header: dict[str, Any] = {"alg": algorithm, "typ": "JWT"}
        if isinstance(signing_key, KeyPair):
            base_header["kid"] = signing_key.kid
        default_claims = self.claims(
            audience=audience,
            scope=scope,
            permissions=permissions,
            client_id=client_id,
            subject=subject,
            user=user,
            expires_in=expires_in,
            issued_at=issued_at,
        )
        body: Mapping[str, Any] | bytes = tokens.apply(default_claims, claims, remove_claims)
        if payload is not None:
            body = payload
        head: Mapping[str, Any] | bytes = tokens.apply(base_header, header, remove_header)
        if protected is not None:
            head = protected
        return tokens.sign(
            head,
            body,
            key=signing_key,
            algorithm=algorithm,
            signature=signature,
            encode_payload=encode_payload,
        )

    def forge(self, name: str, **options: Any) -> str:
        """A named forgery from ``FORGERIES``; see ``mock_idp.forgeries``."""
        from .forgeries import forge

        return forge(self, name, **options)

    # -- HTTP --------------------------------------------------------------------------------

    def handle(self, request: http.Request) -> http.Response:
        """Answer one HTTP request (transports call this)."""
        return http.handle(self, request)

    def inject_fault(self, path: str, fault: http.Fault, times: int | None = None) -> None:
        """Apply ``fault`` to the next ``times`` requests to ``path`` (None: until cleared)."""
        self.faults.inject(path, fault, times)

    def clear_faults(self, path: str | None = None) -> None:
        self.faults.clear(path)

    @property
    def hits(self) -> list[http.Hit]:
        """Every request received so far, oldest first."""
        return self.hit_log.all()

    def hit_count(self, path: str | None = None, method: str | None = None) -> int:
        return self.hit_log.count(path, method)

    def clear_hits(self) -> None:
        self.hit_log.clear()

    # -- persistence ---------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the keys and their states (mode 0600)."""
        self.keys.save(path)

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], issuer: str = DEFAULT_ISSUER, **kwargs: Any
    ) -> MockIdP:
        """An IdP with the keys saved at ``path``."""
        return cls(issuer, keys=KeyRing.load(path), **kwargs)


def _key_ring(keys: KeyRing | Iterable[KeyPair] | None) -> KeyRing:
    if keys is None:
        return KeyRing.generate()
    if isinstance(keys, KeyRing):
        return keys
    ring = KeyRing()
    for index, key in enumerate(keys):
        ring.add(key, KeyState.SIGNING if index == 0 else KeyState.PUBLISHED)
    return ring
