"""A compact JWS encoder that refuses nothing (RFC 7515 section 7.1, RFC 7797).

Libraries rightly refuse to produce ``alg: none`` tokens or HMAC signatures keyed with a public
key; a test IdP must produce them anyway. The header and payload are serialised exactly as given
(mappings as compact JSON, bytes verbatim) and the signature is whatever the signer returns.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from .keys import PrivateKey, b64url, b64url_decode

Signer = Callable[[bytes], bytes]
"""Maps the JWS signing input to the signature octets."""

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
_HMAC_DIGESTS = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}


def json_bytes(value: Any) -> bytes:
    """Compact JSON, as Auth0 serialises JOSE headers and claims."""
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def encode(
    header: Mapping[str, Any] | bytes,
    payload: Mapping[str, Any] | bytes,
    signer: Signer | None = None,
    *,
    encode_payload: bool = True,
) -> str:
    """Serialise a compact JWS; ``signer=None`` leaves the signature empty.

    ``encode_payload=False`` leaves the payload unencoded in the token and in the signing
    input, as RFC 7797 (``b64: false``) does.
    """
    header_bytes = header if isinstance(header, bytes) else json_bytes(header)
    payload_bytes = payload if isinstance(payload, bytes) else json_bytes(payload)
    protected = b64url(header_bytes).encode("ascii")
    body = b64url(payload_bytes).encode("ascii") if encode_payload else payload_bytes
    signing_input = protected + b"." + body
    signature = signer(signing_input) if signer is not None else b""
    return (signing_input + b"." + b64url(signature).encode("ascii")).decode("utf-8")


def signer_for(alg: str, key: PrivateKey | bytes | None) -> Signer:
    """A signer for the JWA algorithm ``alg`` (RFC 7518 section 3) with ``key``.

    ``none`` (any casing) signs with nothing; ``HS*`` takes any bytes as the secret, including
    empty bytes and public key material; ``RS*``, ``PS*``, ``ES*`` need the matching private key.
    """
    family, bits = alg[:2].upper(), alg[2:]
    if alg.lower() == "none":
        return lambda _data: b""
    if bits not in _HASHES:
        raise ValueError(f"unsupported algorithm {alg!r}")
    if family == "HS":
        if not isinstance(key, bytes):
            raise TypeError(f"{alg} needs the secret as bytes")
        digest = _HMAC_DIGESTS[bits]
        return lambda data: hmac.new(key, data, digest).digest()
    hash_algorithm = _HASHES[bits]()
    if family in ("RS", "PS"):
        if not isinstance(key, rsa.RSAPrivateKey):
            raise TypeError(f"{alg} needs an RSA private key")
        pad: padding.AsymmetricPadding = (
            padding.PKCS1v15()
            if family == "RS"
            else padding.PSS(padding.MGF1(hash_algorithm), hash_algorithm.digest_size)
        )
        return lambda data: key.sign(data, pad, hash_algorithm)
    if family == "ES":
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise TypeError(f"{alg} needs an EC private key")
        size = (key.curve.key_size + 7) // 8

        def sign_ecdsa(data: bytes) -> bytes:
            r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hash_algorithm)))
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")  # RFC 7518 3.4

        return sign_ecdsa
    raise ValueError(f"unsupported algorithm {alg!r}")


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    """Header, claims and signature of a compact JWS, without any verification."""
    header, payload, signature = token.split(".")
    return (
        json.loads(b64url_decode(header)),
        json.loads(b64url_decode(payload)),
        b64url_decode(signature),
    )
