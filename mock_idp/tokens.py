"""Auth0-shaped access tokens (RFC 9068 profile as Auth0 issues it, RFC 7519 claims).

Machine tokens (client credentials): ``sub = <client_id>@clients``, ``gty``, ``azp``, ``aud``
a string. User tokens: ``sub = auth0|<id>``; ``aud`` a list with ``{issuer}userinfo`` when
``openid`` is among the scopes, as Auth0 adds it only then.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from . import jws
from .keys import KeyPair

DEFAULT_EXPIRES_IN = 86400
USER_SCOPES = "openid profile email"


def auth0_claims(
    *,
    issuer: str,
    audience: str | list[str],
    client_id: str,
    now: float,
    expires_in: int = DEFAULT_EXPIRES_IN,
    scope: str = "",
    permissions: Iterable[str] | None = None,
    user: bool = False,
    subject: str | None = None,
) -> dict[str, Any]:
    """The claims Auth0 puts in an access token, in Auth0's order."""
    issued_at = int(now)
    aud: str | list[str] = audience
    if user:
        if "openid" in scope.split(" "):
            audiences = list(audience) if isinstance(audience, list) else [audience]
            userinfo = f"{issuer}userinfo"
            aud = audiences if userinfo in audiences else [*audiences, userinfo]
        sub = subject or f"auth0|{secrets.token_hex(12)}"
    else:
        sub = subject or f"{client_id}@clients"
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": sub,
        "aud": aud,
        "iat": issued_at,
        "exp": issued_at + expires_in,
        "scope": scope,
    }
    if not user:
        claims["gty"] = "client-credentials"
    claims["azp"] = client_id
    if permissions is not None:
        claims["permissions"] = list(permissions)
    return claims


def apply(
    base: Mapping[str, Any], overrides: Mapping[str, Any] | None, removals: Iterable[str]
) -> dict[str, Any]:
    """``base`` updated with ``overrides``, then without the ``removals``."""
    result = {**base, **(overrides or {})}
    for name in removals:
        result.pop(name, None)
    return result


def sign(
    header: Mapping[str, Any] | bytes,
    claims: Mapping[str, Any] | bytes,
    *,
    key: KeyPair | bytes | None,
    algorithm: str,
    signature: bytes | None = None,
    encode_payload: bool = True,
) -> str:
    """Encode and sign with ``algorithm``; ``signature`` replaces the computed one."""
    if signature is not None:
        signer: jws.Signer = lambda _data: signature  # noqa: E731
    else:
        secret = key.private_key if isinstance(key, KeyPair) else key
        signer = jws.signer_for(algorithm, secret)
    return jws.encode(header, claims, signer, encode_payload=encode_payload)
