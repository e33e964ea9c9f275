"""Named forged and invalid tokens: the security catalogue, one call each.

Each one breaks a rule of RFC 7515 (JWS), RFC 7519 (claims) or RFC 8725 (JWT best current
practice), or replays a published attack (CVE ids and PortSwigger labs in tests/security).

``FORGERIES`` maps each name to a ``Forgery`` (one-line description, its options). Every
forgery takes its own keyword options plus any ``MockIdP.mint`` keyword (``claims``,
``header``, ``remove_claims``, ``scope``, ...), which are merged on top, so cases compose::

    idp.forge("alg_none", alg="nOnE")
    idp.forge("hmac_public_key", alg="HS384", key_form="pkcs1")
    idp.forge("expired", by=31, scope="read:messages")

Tokens come from the raw encoder in ``mock_idp.jws``, which refuses nothing.
"""

from __future__ import annotations

import base64
import codecs
import inspect
import json
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import jws
from .keys import KeyPair, KeyState, b64url, b64url_decode, int_to_bytes

if TYPE_CHECKING:
    from .idp import MockIdP

ATTACKER_URL = "https://attacker.example"
ALG_NONE_VARIANTS = ("none", "None", "NONE", "nOnE")
HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
HMAC_KEY_FORMS = (
    "pem",
    "pem_no_newline",
    "pem_junk_prefix",
    "pkcs1",
    "pkcs1_no_newline",
    "der",
    "pkcs1_der",
    "openssh",
    "certificate_pem",
    "jwk",
    "n",
    "n_b64url",
)
COMMON_HMAC_SECRETS = ("", "secret", "password", "changeme", "your-256-bit-secret", "key")
OTHER_ALGORITHMS = ("RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
KID_MODES = ("real", "foreign", "none")
ISSUER_VARIANTS = ("attacker", "no_trailing_slash", "http", "uppercase_host", "suffix", "empty")
AUDIENCE_VARIANTS = ("other", "list_without", "trailing_slash", "uppercase", "empty", "empty_list")
MALFORMED_SHAPES = (
    "empty",
    "one_segment",
    "two_segments",
    "four_segments",
    "five_segments",
    "dots_only",
    "header_not_base64",
    "payload_not_base64",
    "signature_not_base64",
    "header_not_json",
    "payload_not_json",
    "header_array",
    "payload_array",
    "padded_base64",
    "whitespace",
    "non_ascii",
)
JSON_SERIALIZATIONS = (
    "general_empty_signatures",
    "flattened_unsigned",
    "general_signed",
    "compact_polyglot",
)
_ES_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
#: The size of ``r`` and ``s`` in an ECDSA signature of each algorithm (RFC 7518 section 3.4).
_ES_INTEGER_BYTES = {"ES256": 32, "ES384": 48, "ES512": 66}
_B64URL_ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
#: What ``tampered_payload`` and the JSON polyglot escalate the scope to by default.
_ESCALATED = {"scope": "read:messages admin"}

ForgeryFunction = Callable[..., str]


@dataclass(frozen=True)
class Forgery:
    """A named way to produce a token the API must refuse."""

    name: str
    description: str
    make: ForgeryFunction
    options: Mapping[str, Any]  # option name -> default

    def __call__(self, idp: MockIdP, **options: Any) -> str:
        return self.make(idp, **options)


FORGERIES: dict[str, Forgery] = {}


def forge(idp: MockIdP, name: str, **options: Any) -> str:
    """Produce forgery ``name`` for ``idp``."""
    try:
        forgery = FORGERIES[name]
    except KeyError:
        raise KeyError(f"unknown forgery {name!r}; known: {', '.join(FORGERIES)}") from None
    return forgery(idp, **options)


def _register(description: str) -> Callable[[ForgeryFunction], ForgeryFunction]:
    def register(function: ForgeryFunction) -> ForgeryFunction:
        parameters = inspect.signature(function).parameters.values()
        options = {p.name: p.default for p in parameters if p.kind is p.KEYWORD_ONLY}
        name = function.__name__.rstrip("_")
        FORGERIES[name] = Forgery(name, description, function, options)
        return function

    return register


def _mint(idp: MockIdP, overrides: Mapping[str, Any], **forged: Any) -> str:
    """``idp.mint`` with the forgery's arguments, then the caller's merged on top."""
    merged = dict(forged)
    for name, value in overrides.items():
        if name in ("header", "claims") and name in merged:
            merged[name] = {**merged[name], **value}
        elif name in ("remove_header", "remove_claims") and name in merged:
            merged[name] = [*merged[name], *value]
        else:
            merged[name] = value
    return idp.mint(**merged)


def _kid_header(idp: MockIdP, kid: str, attacker: KeyPair) -> tuple[dict[str, Any], list[str]]:
    """Header changes for a ``kid`` mode: the real signing kid, the attacker's, or none."""
    if kid == "real":
        return {"kid": idp.keys.signing_key.kid}, []
    if kid == "foreign":
        return {"kid": attacker.kid}, []
    if kid == "none":
        return {}, ["kid"]
    raise ValueError(f"kid must be one of {KID_MODES}, not {kid!r}")


def _now(idp: MockIdP) -> int:
    return int(idp.clock.now())


def _replace_segment(token: str, index: int, segment: str) -> str:
    parts = token.split(".")
    parts[index] = segment
    return ".".join(parts)


def _json_object(members: Mapping[str, Any], raw: Mapping[str, bytes] | None = None) -> bytes:
    """Compact JSON of ``members``; each of ``raw`` is written as given (text no JSON encoder
    writes, such as ``1e400``), in place of the member of its name or after the others."""
    raw = raw or {}
    values = {name: jws.json_bytes(value) for name, value in members.items()} | dict(raw)
    return b"{" + b",".join(jws.json_bytes(name) + b":" + v for name, v in values.items()) + b"}"


# -- algorithm confusion ---------------------------------------------------------------------


@_register("alg 'none' (any casing) with an empty or a real signature")
def alg_none(idp: MockIdP, *, alg: str = "none", signature: str = "empty", **mint: Any) -> str:
    if signature not in ("empty", "original"):
        raise ValueError("signature must be 'empty' or 'original'")
    signing = "none" if signature == "empty" else idp.keys.signing_key.alg
    return _mint(idp, mint, header={"alg": alg}, algorithm=signing)


@_register("missing 'alg' header, otherwise validly signed")
def missing_alg(idp: MockIdP, **mint: Any) -> str:
    return _mint(idp, mint, remove_header=["alg"])


def public_key_forms(key: KeyPair) -> dict[str, bytes]:
    """The RSA public key in every form an HMAC-confusion attack might use as a secret."""
    public = key.public_key
    if not isinstance(public, rsa.RSAPublicKey):
        raise TypeError("public key forms are for RSA keys")
    enc, fmt = serialization.Encoding, serialization.PublicFormat
    pem = public.public_bytes(enc.PEM, fmt.SubjectPublicKeyInfo)
    pkcs1 = public.public_bytes(enc.PEM, fmt.PKCS1)
    n = int_to_bytes(public.public_numbers().n)
    return {
        "pem": pem,
        "pem_no_newline": pem.rstrip(b"\n"),
        "pem_junk_prefix": b"junk" + pem,
        "pkcs1": pkcs1,
        "pkcs1_no_newline": pkcs1.rstrip(b"\n"),
        "der": public.public_bytes(enc.DER, fmt.SubjectPublicKeyInfo),
        "pkcs1_der": public.public_bytes(enc.DER, fmt.PKCS1),
        "openssh": public.public_bytes(enc.OpenSSH, fmt.OpenSSH),
        "certificate_pem": key.certificate.public_bytes(enc.PEM),
        "jwk": jws.json_bytes(key.public_jwk()),
        "n": n,
        "n_b64url": b64url(n).encode("ascii"),
    }


@_register("HS256/384/512 keyed with the published RSA public key in some form")
def hmac_public_key(
    idp: MockIdP, *, alg: str = "HS256", key_form: str = "pem", kid: str = "real", **mint: Any
) -> str:
    signing = idp.keys.signing_key
    secret = public_key_forms(signing)[key_form]
    header, removed = _kid_header(idp, kid, idp.foreign_key)
    return _mint(idp, mint, key=secret, algorithm=alg, header=header, remove_header=removed)


@_register("HS256/384/512 with a blank or commonly used secret")
def hmac_secret(
    idp: MockIdP, *, secret: str | bytes = "", alg: str = "HS256", kid: str = "real", **mint: Any
) -> str:
    raw = secret.encode("utf-8") if isinstance(secret, str) else secret
    header, removed = _kid_header(idp, kid, idp.foreign_key)
    return _mint(idp, mint, key=raw, algorithm=alg, header=header, remove_header=removed)


def _published_key(
    idp: MockIdP, wanted: Callable[[KeyPair], bool], make: Callable[[], KeyPair]
) -> KeyPair:
    """A key in the JWKS matching ``wanted``; else ``make()`` is planted there (never signing
    valid tokens, never rotated in)."""
    for key in idp.keys.published():
        if wanted(key):
            return key
    return idp.keys.add(make(), KeyState.PLANTED)


@_register("a real published key, but an algorithm other than RS256 (RS384..PS512, ES256..)")
def other_algorithm(
    idp: MockIdP, *, alg: str = "RS384", key: KeyPair | None = None, **mint: Any
) -> str:
    if key is None and alg in _ES_CURVES:
        curve = _ES_CURVES[alg]
        key = _published_key(idp, lambda k: k.crv == curve, lambda: KeyPair.ec(curve))
    signer = key if key is not None else idp.keys.signing_key
    return _mint(idp, mint, key=signer, algorithm=alg)


@_register("ECDSA with r = s = 0 under a published EC key's kid (CVE-2022-21449, 'psychic')")
def psychic_signature(idp: MockIdP, *, alg: str = "ES256", **mint: Any) -> str:
    """Java 15-18 took r = s = 0 as a valid ECDSA signature of anything: the signature is all
    zero bytes, over a header naming an EC key the issuer publishes (planted if it has none)."""
    if alg not in _ES_INTEGER_BYTES:
        raise ValueError(f"not an ECDSA algorithm: {alg!r}")
    zeros = bytes(2 * _ES_INTEGER_BYTES[alg])
    return other_algorithm(idp, alg=alg, **{"signature": zeros, **mint})


@_register("signed by a published RSA key under 2048 bits (1024 by default)")
def weak_key(idp: MockIdP, *, bits: int = 1024, key: KeyPair | None = None, **mint: Any) -> str:
    if key is None:
        key = _published_key(
            idp,
            lambda k: k.kty == "RSA" and k.key_size == bits,
            lambda: KeyPair.rsa(bits, allow_weak=True),
        )
    elif key.kid not in idp.keys or not idp.keys.state(key.kid).in_jwks:
        idp.keys.add(key, KeyState.PLANTED)
    return _mint(idp, mint, key=key)


# -- key selection from the header -------------------------------------------------------------


def _attacker_token(
    idp: MockIdP,
    extra: Mapping[str, Any],
    kid: str,
    mint: Mapping[str, Any],
    attacker: KeyPair | None = None,
) -> str:
    """Signed by ``attacker`` (default: the IdP's foreign key), with ``extra`` in the header."""
    attacker = attacker or idp.foreign_key
    header, removed = _kid_header(idp, kid, attacker)
    return _mint(idp, mint, key=attacker, header={**header, **extra}, remove_header=removed)


@_register("signed by a foreign key that is embedded as a 'jwk' header")
def embedded_jwk(
    idp: MockIdP, *, kid: str = "real", attacker: KeyPair | None = None, **mint: Any
) -> str:
    """``attacker`` embeds and signs (default: the IdP's foreign key). A 2048-bit ``jwk`` makes
    a header longer than the 512 characters joserfc reads; a 1024-bit one stays within it."""
    signer = attacker or idp.foreign_key
    return _attacker_token(idp, {"jwk": signer.public_jwk()}, kid, mint, signer)


@_register("signed by a foreign key whose JWKS is at an attacker's 'jku' URL")
def jku(
    idp: MockIdP,
    *,
    url: str = f"{ATTACKER_URL}/.well-known/jwks.json",
    kid: str = "real",
    **mint: Any,
) -> str:
    return _attacker_token(idp, {"jku": url}, kid, mint)


@_register("signed by a foreign key whose certificate is at an attacker's 'x5u' URL")
def x5u(
    idp: MockIdP, *, url: str = f"{ATTACKER_URL}/cert.pem", kid: str = "real", **mint: Any
) -> str:
    return _attacker_token(idp, {"x5u": url}, kid, mint)


@_register("signed by a foreign key whose self-signed certificate is in 'x5c'")
def x5c(idp: MockIdP, *, kid: str = "real", **mint: Any) -> str:
    der = idp.foreign_key.certificate.public_bytes(serialization.Encoding.DER)
    return _attacker_token(idp, {"x5c": [base64.b64encode(der).decode("ascii")]}, kid, mint)


@_register("signed by a foreign (never published) key, with the real 'kid'")
def foreign_key(idp: MockIdP, *, kid: str = "real", **mint: Any) -> str:
    return _attacker_token(idp, {}, kid, mint)


@_register("a 'kid' the JWKS does not have (any JSON value), signed by the real key")
def unknown_kid(idp: MockIdP, *, kid: Any = "unknown-kid", **mint: Any) -> str:
    return _mint(idp, mint, header={"kid": kid})


@_register("no 'kid' header, signed by the real key")
def missing_kid(idp: MockIdP, **mint: Any) -> str:
    return _mint(idp, mint, remove_header=["kid"])


# -- signature ---------------------------------------------------------------------------------


@_register("the signature segment removed (trailing dot kept unless keep_dot=False)")
def stripped_signature(idp: MockIdP, *, keep_dot: bool = True, **mint: Any) -> str:
    head = _mint(idp, mint).rpartition(".")[0]
    return head + "." if keep_dot else head


@_register(
    "the signature altered: mode 'flip' (one bit), 'truncate', 'zero', 'other_token', "
    "'leading_zero' (k + 1 bytes), 'leading_zero_stripped' (a real signature whose first byte "
    "is 0x00, that byte dropped: the same integer in k - 1 bytes), 'one_byte' or 'modulus' "
    "(RFC 8017 sections 8.1.2 and 8.2.2)"
)
def tampered_signature(idp: MockIdP, *, mode: str = "flip", **mint: Any) -> str:
    if mode == "leading_zero_stripped":
        return _leading_zero_stripped(idp, mint)
    token = _mint(idp, mint)
    signature = bytearray(b64url_decode(token.rpartition(".")[2]))
    if mode == "flip":
        signature[len(signature) // 2] ^= 0x01
    elif mode == "truncate":
        signature = signature[:-1]
    elif mode == "zero":
        signature = bytearray(len(signature))
    elif mode == "other_token":
        other = _mint(idp, {**mint, "claims": {**mint.get("claims", {}), "jti": "other"}})
        signature = bytearray(b64url_decode(other.rpartition(".")[2]))
    elif mode == "leading_zero":  # the same integer, one byte too long
        signature = bytearray(b"\x00") + signature
    elif mode == "one_byte":
        signature = bytearray(b"\x00")
    elif mode == "modulus":  # just out of range: a signature is below n
        public = (mint.get("key") or idp.keys.signing_key).public_key
        if not isinstance(public, rsa.RSAPublicKey):
            raise ValueError("mode 'modulus' needs an RSA key")
        signature = bytearray(public.public_numbers().n.to_bytes(len(signature), "big"))
    else:
        raise ValueError(f"unknown mode {mode!r}")
    return _replace_segment(token, 2, b64url(bytes(signature)))


def _leading_zero_stripped(idp: MockIdP, mint: Mapping[str, Any]) -> str:
    """A token whose real signature begins with a 0x00 byte (one in 256), that byte dropped."""
    for attempt in range(5000):  # until a signature begins with 0x00
        claims = {**mint.get("claims", {}), "jti": f"leading-zero-{attempt}"}
        token = _mint(idp, {**mint, "claims": claims})
        signature = b64url_decode(token.rpartition(".")[2])
        if signature[0] == 0:
            return _replace_segment(token, 2, b64url(signature[1:]))
    raise RuntimeError("no signature beginning with 0x00 in 5000 tokens")  # pragma: no cover


@_register(
    "the real signature spelt otherwise: mode 'padded' (base64 '==' appended), "
    "'standard_base64' ('+' and '/' for '-' and '_'), 'non_canonical' (the last character's "
    "unused bits set, RFC 4648 section 3.5) or 'nul_appended' (a NUL after it, where a C string "
    "ends): one signature, another token string"
)
def respelled_signature(idp: MockIdP, *, mode: str = "padded", **mint: Any) -> str:
    if mode == "padded":
        return _mint(idp, mint) + "=="
    if mode == "nul_appended":
        return _mint(idp, mint) + "\x00"
    if mode == "non_canonical":
        return _non_canonical(_mint(idp, mint))
    if mode != "standard_base64":
        raise ValueError(f"unknown mode {mode!r}")
    for attempt in range(1000):  # until the signature holds a '-' or '_' to respell
        claims = {**mint.get("claims", {}), "jti": f"respelled-{attempt}"}
        token = _mint(idp, {**mint, "claims": claims})
        head, _, signature = token.rpartition(".")
        if "-" in signature or "_" in signature:
            return f"{head}.{signature.replace('-', '+').replace('_', '/')}"
    raise RuntimeError("no signature with '-' or '_' in 1000 tokens")  # pragma: no cover


def _non_canonical(token: str) -> str:
    """The signature's last character with its lowest unused bit set: base64url decoders that
    ignore those bits (RFC 4648 section 3.5 lets them) read the same bytes."""
    head, _, signature = token.rpartition(".")
    if len(signature) % 4 not in (2, 3):  # 4 or 2 bits beyond the last byte; none if 0
        raise ValueError(f"a {len(b64url_decode(signature))}-byte signature has no unused bits")
    last = _B64URL_ALPHABET.index(signature[-1]) + 1
    return f"{head}.{signature[:-1]}{_B64URL_ALPHABET[last]}"


@_register("claims changed after signing (default: scope escalated), signature kept")
def tampered_payload(idp: MockIdP, *, changes: Mapping[str, Any] | None = None, **mint: Any) -> str:
    token = _mint(idp, mint)
    _header, claims, _signature = jws.decode_unverified(token)
    claims.update(changes if changes is not None else _ESCALATED)
    return _replace_segment(token, 1, b64url(jws.json_bytes(claims)))


@_register("header changed after signing (default: 'typ' at+jwt), payload and signature kept")
def tampered_header(idp: MockIdP, *, changes: Mapping[str, Any] | None = None, **mint: Any) -> str:
    """RFC 7515 section 5.2: the signature covers the header as sent, so another header under
    the same payload and signature must fail, even one a valid token could carry."""
    token = _mint(idp, mint)
    header, _claims, _signature = jws.decode_unverified(token)
    header.update(changes if changes is not None else {"typ": "at+jwt"})
    segment = b64url(jws.json_bytes(header))
    if segment == token.split(".")[0]:
        raise ValueError(f"the changes leave the header as signed: {header!r}")
    return _replace_segment(token, 0, segment)


# -- claims --------------------------------------------------------------------------------------


@_register("expired 'by' seconds ago (default 3600)")
def expired(idp: MockIdP, *, by: int = 3600, **mint: Any) -> str:
    lifetime = mint.get("expires_in")
    lifetime = idp.expires_in if lifetime is None else lifetime  # the caller's, if given
    return _mint(idp, mint, issued_at=_now(idp) - by - lifetime)


@_register("'nbf' 'by' seconds in the future (default 3600)")
def future_nbf(idp: MockIdP, *, by: int = 3600, **mint: Any) -> str:
    return _mint(idp, mint, claims={"nbf": _now(idp) + by})


@_register("'iat' 'by' seconds in the future (default 3600)")
def future_iat(idp: MockIdP, *, by: int = 3600, **mint: Any) -> str:
    return _mint(idp, mint, claims={"iat": _now(idp) + by})


def _issuer_variant(issuer: str, variant: str) -> str:
    scheme, _, rest = issuer.partition("://")
    host, _, path = rest.partition("/")
    if variant == "uppercase_host" and host.upper() == host:
        raise ValueError(f"{issuer!r} has no letters in its host to upper-case")
    variants = {
        "attacker": f"{ATTACKER_URL}/",
        "no_trailing_slash": issuer.rstrip("/"),
        "http": f"http://{rest}" if scheme == "https" else f"https://{rest}",
        "uppercase_host": f"{scheme}://{host.upper()}/{path}",
        "suffix": f"{scheme}://{host}.attacker.example/{path}",
        "empty": "",
    }
    return variants[variant]


@_register("'iss' not the issuer: an explicit value or a variant of the real one")
def wrong_issuer(idp: MockIdP, *, variant: str = "attacker", iss: Any = None, **mint: Any) -> str:
    value = iss if iss is not None else _issuer_variant(idp.issuer, variant)
    return _mint(idp, mint, claims={"iss": value})


@_register("no 'iss' claim")
def missing_issuer(idp: MockIdP, **mint: Any) -> str:
    return _mint(idp, mint, remove_claims=["iss"])


def _audience_variant(idp: MockIdP, variant: str) -> Any:
    audience = idp.audience or ""
    other = "https://other-api.example.test"
    variants: dict[str, Any] = {
        "other": other,
        "list_without": [other, f"{idp.issuer}userinfo"],
        "trailing_slash": audience + "/",
        "uppercase": audience.upper(),
        "empty": "",
        "empty_list": [],
    }
    return variants[variant]


@_register("'aud' not the audience: an explicit value or a variant of the real one")
def wrong_audience(idp: MockIdP, *, variant: str = "other", aud: Any = None, **mint: Any) -> str:
    value = aud if aud is not None else _audience_variant(idp, variant)
    return _mint(idp, mint, claims={"aud": value})


@_register("no 'aud' claim")
def missing_audience(idp: MockIdP, **mint: Any) -> str:
    return _mint(idp, mint, remove_claims=["aud"])


@_register("'sub' of the wrong type or value (default the number 12345)")
def wrong_subject(idp: MockIdP, *, sub: Any = 12345, **mint: Any) -> str:
    return _mint(idp, mint, claims={"sub": sub})


@_register("no 'sub' claim")
def missing_subject(idp: MockIdP, **mint: Any) -> str:
    return _mint(idp, mint, remove_claims=["sub"])


@_register("no 'exp' claim")
def missing_expiry(idp: MockIdP, **mint: Any) -> str:
    return _mint(idp, mint, remove_claims=["exp"])


@_register("no 'iat' claim")
def missing_issued_at(idp: MockIdP, **mint: Any) -> str:
    return _mint(idp, mint, remove_claims=["iat"])


@_register("a claim with a value of the wrong type (default 'exp' as a string)")
def invalid_claim_type(
    idp: MockIdP, *, claim: str = "exp", value: Any = "tomorrow", **mint: Any
) -> str:
    return _mint(idp, mint, claims={claim: value})


@_register("'scope' not a string (default a list holding the scope)")
def non_string_scope(idp: MockIdP, *, scope_value: Any = None, **mint: Any) -> str:
    value = scope_value if scope_value is not None else ["read:messages"]
    return _mint(idp, mint, claims={"scope": value})


@_register("a claim twice in the claims JSON (default 'aud': ours, then another), signed")
def duplicate_claim(
    idp: MockIdP, *, claim: str = "aud", last: Any = "https://other-api.example.test", **mint: Any
) -> str:
    """RFC 7519 section 4: claim names must be unique, and a parser that takes duplicates must
    keep the last member (as Python's does); one that keeps the first reads another claims set."""
    _header, claims, _signature = jws.decode_unverified(_mint(idp, mint))
    if claim not in claims:
        raise ValueError(f"the token has no {claim!r} claim to write twice")
    if jws.json_bytes(claims[claim]) == jws.json_bytes(last):
        raise ValueError(f"{claim!r} is {last!r} already: both members would agree")
    body = jws.json_bytes(claims)[:-1] + b","  # the closing brace cut
    duplicate = jws.json_bytes(claim) + b":" + jws.json_bytes(last)
    return _mint(idp, mint, payload=body + duplicate + b"}")


# -- header ----------------------------------------------------------------------------------------


@_register("'typ' that is not an access token type (default 'dpop+jwt')")
def wrong_typ(idp: MockIdP, *, typ: Any = "dpop+jwt", **mint: Any) -> str:
    return _mint(idp, mint, header={"typ": typ})


@_register("'crit' naming an extension the validator cannot understand")
def unknown_crit(idp: MockIdP, *, param: str = "x-mock-critical", **mint: Any) -> str:
    return _mint(idp, mint, header={"crit": [param], param: True})


@_register("RFC 7797 unencoded payload ('b64': false, in 'crit' unless crit=False)")
def b64_false(idp: MockIdP, *, crit: bool = True, **mint: Any) -> str:
    _header, claims, _signature = jws.decode_unverified(_mint(idp, mint))
    # A compact JWS payload cannot hold ".", so escape it inside JSON strings (RFC 7797 5.2).
    payload = jws.json_bytes(claims).replace(b".", b"\\u002e")
    header: dict[str, Any] = {"b64": False, **({"crit": ["b64"]} if crit else {})}
    return _mint(idp, mint, header=header, payload=payload, encode_payload=False)


@_register("'cty': 'JWT' over a valid token as the payload (a nested JWT), signed by the real key")
def nested_jwt(idp: MockIdP, *, cty: str = "JWT", **mint: Any) -> str:
    """RFC 7519 section 5.2: ``cty: JWT`` says the payload is itself a JWT, here the token the
    other options mint; an access token's payload is its claims set (RFC 9068 section 2)."""
    inner = _mint(idp, mint)
    return _mint(idp, mint, header={"cty": cty}, payload=inner.encode("ascii"))


@_register("two 'alg' members in the header JSON (first and last), signed by the real key")
def duplicate_header(idp: MockIdP, *, first: str = "RS256", last: str = "none", **mint: Any) -> str:
    token = _mint(idp, mint)
    header, _claims, _signature = jws.decode_unverified(token)
    header.pop("alg", None)
    body = json.dumps(header, separators=(",", ":"))[1:]
    raw = f'{{"alg":{json.dumps(first)},"alg":{json.dumps(last)},{body}'.encode()
    payload = b64url_decode(token.split(".")[1])
    signer = jws.signer_for(idp.keys.signing_key.alg, idp.keys.signing_key.private_key)
    return jws.encode(raw, payload, signer)


# -- shape ---------------------------------------------------------------------------------


@_register("a huge 'header', 'payload' or 'signature' segment (default 1 MiB), signed")
def oversized(
    idp: MockIdP, *, segment: str = "header", size: int = 1024 * 1024, **mint: Any
) -> str:
    pad = "A" * size
    if segment == "header":
        return _mint(idp, mint, header={"x-pad": pad})
    if segment == "payload":
        return _mint(idp, mint, claims={"x-pad": pad})
    if segment == "signature":
        return _mint(idp, mint) + pad
    raise ValueError(f"unknown segment {segment!r}")


def _malformed(token: str, shape: str) -> str:
    header, payload, signature = token.split(".")
    not_b64 = "!!!not*base64!!!"
    shapes = {
        "empty": "",
        "one_segment": header,
        "two_segments": f"{header}.{payload}",
        "four_segments": f"{token}.{signature}",
        "five_segments": f"{token}.{signature}.{signature}",
        "dots_only": "..",
        "header_not_base64": f"{not_b64}.{payload}.{signature}",
        "payload_not_base64": f"{header}.{not_b64}.{signature}",
        "signature_not_base64": f"{header}.{payload}.{not_b64}",
        "header_not_json": f"{b64url(b'not json')}.{payload}.{signature}",
        "header_array": f"{b64url(b'[1,2]')}.{payload}.{signature}",
        "padded_base64": f"{header}==.{payload}.{signature}",
        "whitespace": f"{header}. {payload}.{signature}",
        "non_ascii": f"{header}.{payload}.{signature}\u00e9",
    }
    if shape not in shapes:
        raise ValueError(f"unknown shape {shape!r}")
    return shapes[shape]


#: Shapes whose payload is signed as it is: a well-formed JWS whose payload is no claims set.
SIGNED_PAYLOAD_SHAPES = {"payload_not_json": b"not json", "payload_array": b"[1,2]"}

SegmentWriter = Callable[[dict[str, Any]], bytes]


def _encoded(encoding: str) -> SegmentWriter:
    """A writer of the JSON in ``encoding``, its byte order mark first (RFC 8259 section 8.1)."""
    return lambda members: jws.json_bytes(members).decode("ascii").encode(encoding)


def _after_a_bom(members: dict[str, Any]) -> bytes:
    """The JSON after a UTF-8 byte order mark, which RFC 8259 section 8.1 forbids."""
    return codecs.BOM_UTF8 + jws.json_bytes(members)


#: Shapes whose claims set is signed in bytes a strict parser refuses (RFC 7519 section 7.2
#: step 10, RFC 8259 sections 6, 8.1 and 9): each writes the token's claims so.
SIGNED_CLAIMS_SHAPES: dict[str, SegmentWriter] = {
    "payload_utf16": _encoded("utf-16"),
    "payload_bom": _after_a_bom,
    "payload_nan": lambda claims: _json_object(claims, {"exp": b"NaN"}),
    "payload_exp_overflow": lambda claims: _json_object(claims, {"exp": b"1e400"}),
    "payload_exp_5000_digits": lambda claims: _json_object(claims, {"exp": b"9" * 5000}),
    "payload_deeply_nested": lambda _claims: b"[" * 5000 + b"]" * 4999,  # never closed
}

#: Shapes whose protected header is signed as something other than the UTF-8 JSON object RFC
#: 7515 section 5.2 step 3 requires: each writes the token's header so.
SIGNED_HEADER_SHAPES: dict[str, SegmentWriter] = {
    "header_utf16": _encoded("utf-16"),
    "header_utf32": _encoded("utf-32"),
    "header_utf8_bom": _after_a_bom,
    "header_nan": lambda header: _json_object(header, {"n": b"NaN"}),
    "header_json_string": lambda _header: b'"alg"',
}


@_register(
    "not a well-formed compact JWS (shape in MALFORMED_SHAPES), or a signed one whose payload "
    "is no claims set (SIGNED_PAYLOAD_SHAPES), whose claims or protected header are written in "
    "bytes a strict JSON parser refuses (SIGNED_CLAIMS_SHAPES, SIGNED_HEADER_SHAPES)"
)
def malformed(idp: MockIdP, *, shape: str = "two_segments", **mint: Any) -> str:
    if shape in SIGNED_PAYLOAD_SHAPES:
        return _mint(idp, mint, payload=SIGNED_PAYLOAD_SHAPES[shape])
    token = _mint(idp, mint)
    if shape in SIGNED_CLAIMS_SHAPES:
        claims = jws.decode_unverified(token)[1]
        return _mint(idp, mint, payload=SIGNED_CLAIMS_SHAPES[shape](claims))
    if shape in SIGNED_HEADER_SHAPES:
        header = jws.decode_unverified(token)[0]
        return _mint(idp, mint, protected=SIGNED_HEADER_SHAPES[shape](header))
    return _malformed(token, shape)


@_register(
    "JSON serialisation instead of compact (empty signatures, unsigned, signed, or a "
    "'compact_polyglot': a member named like a forged compact token beside a real signature)"
)
def json_serialization(idp: MockIdP, *, form: str = "general_empty_signatures", **mint: Any) -> str:
    """RFC 7515 section 7.2. The polyglot is CVE-2022-39227's: python-jwt read the compact
    token in the first member's name (its claims escalated, no signature), then verified the
    flattened JWS members around it, a real token's."""
    header, payload, signature = _mint(idp, mint).split(".")
    if form == "compact_polyglot":
        escalated = {**json.loads(b64url_decode(payload)), **_ESCALATED}
        forged_payload = b64url(jws.json_bytes(escalated))
        polyglot = {
            f"  {header}.{forged_payload}.": "",
            "protected": header,
            "payload": payload,
            "signature": signature,
        }
        return json.dumps(polyglot, separators=(",", ":"))
    documents: dict[str, Any] = {
        "general_empty_signatures": {"payload": payload, "signatures": []},
        "flattened_unsigned": {"payload": payload, "protected": header},
        "general_signed": {
            "payload": payload,
            "signatures": [{"protected": header, "signature": signature}],
        },
    }
    if form not in documents:
        raise ValueError(f"unknown form {form!r}")
    return json.dumps(documents[form])


@_register("a compact JWE (encrypted to the published key, not signed)")
def jwe(
    idp: MockIdP,
    *,
    alg: str = "RSA-OAEP-256",
    enc: str = "A256GCM",
    zip: str | None = None,  # the JWE header parameter
    **mint: Any,
) -> str:
    from joserfc import jwe as joserfc_jwe
    from joserfc.jwk import RSAKey

    _header, claims, _signature = jws.decode_unverified(_mint(idp, mint))
    protected: dict[str, Any] = {"alg": alg, "enc": enc, "kid": idp.keys.signing_key.kid}
    if zip is not None:
        protected["zip"] = zip
    public = RSAKey.import_key(idp.keys.signing_key.public_pem())
    names = [alg, enc, *([zip] if zip else [])]
    registry = joserfc_jwe.JWERegistry(algorithms=names)
    return joserfc_jwe.encrypt_compact(protected, jws.json_bytes(claims), public, registry=registry)


__all__ = [
    "ALG_NONE_VARIANTS",
    "AUDIENCE_VARIANTS",
    "COMMON_HMAC_SECRETS",
    "FORGERIES",
    "HMAC_ALGORITHMS",
    "HMAC_KEY_FORMS",
    "ISSUER_VARIANTS",
    "JSON_SERIALIZATIONS",
    "KID_MODES",
    "MALFORMED_SHAPES",
    "OTHER_ALGORITHMS",
    "SIGNED_CLAIMS_SHAPES",
    "SIGNED_HEADER_SHAPES",
    "SIGNED_PAYLOAD_SHAPES",
    "Forgery",
    "forge",
    "public_key_forms",
]
