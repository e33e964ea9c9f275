"""Part 1 of the bench: the cost of validating one token, against a bare RSA-2048 verify.

The raw verify (the floor), our validator on a fresh token (a cache miss) and on a repeated
one, joserfc ``jwt.decode`` with its claims registry, and PyJWT ``jwt.decode``, each over the
same tokens. Rounds are interleaved and ratios taken within each round; medians are reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jwt as pyjwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from joserfc import jwt as jose_jwt
from joserfc.jwt import JWTClaimsRegistry

from apiexample import conf
from apiexample.signing_keys import cache_for
from apiexample.validator import Auth0JWTBearerTokenValidator
from bench.measure import median, status, timed
from bench.minting import Mints
from mock_idp import MockIdP
from mock_idp.keys import b64url_decode

#: (label, name) of each measurement, in the order they run within a round and are printed.
ROWS = (
    ("raw RSA-2048 verify, same tokens (floor)", "raw"),
    ("ours, fresh token (cache miss)", "miss"),
    ("ours, repeated token (cache hit)", "hit"),
    ("joserfc jwt.decode + claims registry", "joserfc"),
    ("PyJWT jwt.decode (iss, aud, exp)", "pyjwt"),
)


@dataclass(frozen=True)
class PerTokenResult:
    """Microseconds per token and ratios to the raw verify, medians over the rounds."""

    us: dict[str, float]
    ratio: dict[str, float]
    rounds: int
    tokens_per_round: int

    def lines(self) -> list[str]:
        head = (
            f"per-token validation, RS256 (median of {self.rounds} interleaved rounds of "
            f"{self.tokens_per_round})"
        )
        lines = [head, f"  {'':40s} {'us/token':>9s} {'x floor':>8s}"]
        for label, name in ROWS:
            lines.append(f"  {label:40s} {self.us[name]:9.1f} {self.ratio[name]:8.2f}")
        return lines


def signing_input(token: str) -> tuple[bytes, bytes]:
    """What a bare RSA verify of ``token`` needs: the signed bytes and the signature."""
    header, payload, signature = token.split(".")
    return f"{header}.{payload}".encode(), b64url_decode(signature)


def per_token(
    idp: MockIdP, minter: Mints, repeated: str, *, rounds: int, tokens_per_round: int
) -> PerTokenResult:
    """Every measurement of ``ROWS`` on fresh tokens of ``idp``, the issuer the API's settings
    name; joserfc and PyJWT check the same issuer and audience as ours."""
    n = tokens_per_round
    status(f"minting {n * rounds} tokens for the per-token runs")
    fresh = minter.mint(n * rounds)
    config = conf.current()
    validator = Auth0JWTBearerTokenValidator()
    for _ in range(2):  # fetches the JWKS once; the second verification stores the token
        validator.authenticate_token(repeated)
    key = cache_for(config.jwks_url).get(idp.keys.signing_key.kid)
    if key is None:
        raise RuntimeError("the IdP's signing key is not in the API's key set")
    public_key = key.public_key
    registry = JWTClaimsRegistry(
        leeway=conf.DEFAULT_LEEWAY,
        iss={"essential": True, "value": config.issuer},
        aud={"essential": True, "value": config.audience},
        exp={"essential": True},
        iat={"essential": True},
        sub={"essential": True},
    )

    samples: dict[str, list[float]] = {name: [] for _, name in ROWS}
    ratios: dict[str, list[float]] = {name: [] for _, name in ROWS}
    status(f"per-token runs: {rounds} rounds of {n}")
    for round_ in range(rounds):
        tokens = fresh[round_ * n : (round_ + 1) * n]
        inputs = [signing_input(token) for token in tokens]

        def raw(inputs: list[tuple[bytes, bytes]] = inputs) -> None:
            for signed, signature in inputs:
                public_key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())

        def miss(tokens: list[str] = tokens) -> None:
            for token in tokens:
                validator.authenticate_token(token)

        def hit() -> None:
            for _ in range(n):
                validator.authenticate_token(repeated)

        def joserfc(tokens: list[str] = tokens) -> None:
            for token in tokens:
                registry.validate(jose_jwt.decode(token, key, algorithms=["RS256"]).claims)

        def pyjwt_decode(tokens: list[str] = tokens) -> None:
            for token in tokens:
                pyjwt.decode(
                    token,
                    public_key,
                    algorithms=["RS256"],
                    audience=config.audience,
                    issuer=config.issuer,
                    leeway=conf.DEFAULT_LEEWAY,
                )

        runs: dict[str, Callable[[], None]] = {
            "raw": raw,
            "miss": miss,
            "hit": hit,
            "joserfc": joserfc,
            "pyjwt": pyjwt_decode,
        }
        times = {name: timed(fn) / n * 1e6 for name, fn in runs.items()}
        for name, value in times.items():
            samples[name].append(value)
            ratios[name].append(value / times["raw"])
    return PerTokenResult(
        us={name: median(values) for name, values in samples.items()},
        ratio={name: median(values) for name, values in ratios.items()},
        rounds=rounds,
        tokens_per_round=n,
    )
