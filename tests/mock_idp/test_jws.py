"""The raw compact JWS encoder refuses nothing, and signs correctly."""

from __future__ import annotations

import hashlib
import hmac

import jwt
import pytest

from mock_idp import jws
from mock_idp.keys import KeyPair, b64url, b64url_decode
from mock_idp.pytest_plugin import MockIdPKeys


def test_encode_mappings_as_compact_json() -> None:
    token = jws.encode({"alg": "none"}, {"sub": "x"})
    header, payload = b64url(b'{"alg":"none"}'), b64url(b'{"sub":"x"}')
    assert token == f"{header}.{payload}."


def test_bytes_are_used_verbatim_and_the_signer_sees_the_signing_input() -> None:
    seen: list[bytes] = []

    def signer(data: bytes) -> bytes:
        seen.append(data)
        return b"sig"

    token = jws.encode(b"HEADER", b"PAYLOAD", signer)
    assert seen == [f"{b64url(b'HEADER')}.{b64url(b'PAYLOAD')}".encode()]
    assert token.endswith("." + b64url(b"sig"))


def test_unencoded_payload_rfc7797() -> None:
    token = jws.encode({"b64": False}, b'{"a":1}', lambda data: data, encode_payload=False)
    header, payload, signature = token.split(".")
    assert payload == '{"a":1}'
    assert b64url_decode(signature) == f'{header}.{{"a":1}}'.encode()


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_none_signs_with_nothing(alg: str) -> None:
    assert jws.signer_for(alg, None)(b"data") == b""


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_with_any_bytes_including_empty(alg: str) -> None:
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    for secret in (b"", b"-----BEGIN PUBLIC KEY-----"):
        expected = hmac.new(secret, b"data", digest).digest()
        assert jws.signer_for(alg, secret)(b"data") == expected


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"])
def test_rsa_signatures_verify_with_pyjwt(alg: str, mock_idp_keys: MockIdPKeys) -> None:
    key = mock_idp_keys.primary
    token = jws.encode({"alg": alg}, {"sub": "x"}, jws.signer_for(alg, key.private_key))
    assert jwt.decode(token, key.public_key, algorithms=[alg]) == {"sub": "x"}


@pytest.mark.parametrize("curve_alg", [("P-256", "ES256")])
def test_ecdsa_signature_is_raw_r_s(curve_alg: tuple[str, str], mock_idp_keys: MockIdPKeys) -> None:
    key = mock_idp_keys.ec_p256
    alg = curve_alg[1]
    token = jws.encode({"alg": alg}, {"sub": "x"}, jws.signer_for(alg, key.private_key))
    assert len(b64url_decode(token.split(".")[2])) == 64
    assert jwt.decode(token, key.public_key, algorithms=[alg]) == {"sub": "x"}


def test_signer_refuses_only_impossible_combinations(mock_idp_keys: MockIdPKeys) -> None:
    rsa_key, ec_key = mock_idp_keys.primary.private_key, mock_idp_keys.ec_p256.private_key
    with pytest.raises(ValueError, match="unsupported"):
        jws.signer_for("RS999", rsa_key)
    with pytest.raises(ValueError, match="unsupported"):
        jws.signer_for("XX256", rsa_key)
    with pytest.raises(TypeError):
        jws.signer_for("HS256", rsa_key)
    with pytest.raises(TypeError):
        jws.signer_for("RS256", ec_key)
    with pytest.raises(TypeError):
        jws.signer_for("ES256", rsa_key)


def test_decode_unverified() -> None:
    token = jws.encode({"alg": "x"}, {"a": 1}, lambda _data: b"s")
    assert jws.decode_unverified(token) == ({"alg": "x"}, {"a": 1}, b"s")


# -- pinned by a mutation run of mock_idp ---------------------------------------------------


def test_lower_case_algorithm_names_are_signed_too() -> None:
    assert jws.signer_for("hs256", b"k")(b"d") == hmac.new(b"k", b"d", hashlib.sha256).digest()


@pytest.mark.parametrize(
    ("curve", "alg", "size"),
    [("P-256", "ES256", 64), ("P-384", "ES384", 96), ("P-521", "ES512", 132)],
)
def test_ecdsa_r_and_s_take_the_curve_s_octets_each(curve: str, alg: str, size: int) -> None:
    """RFC 7518 section 3.4: P-521's 521 bits take 66 octets each, not 521 // 8 = 65."""
    key = KeyPair.ec(curve)
    token = jws.encode({"alg": alg}, {"sub": "x"}, jws.signer_for(alg, key.private_key))
    assert len(b64url_decode(token.split(".")[2])) == size
    assert jwt.decode(token, key.public_key, algorithms=[alg]) == {"sub": "x"}
