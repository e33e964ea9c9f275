"""Keys: generation, RFC 7638 thumbprints, rotation states, JWKS, persistence."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import errno
import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc.jwk import ECKey

from mock_idp.keys import (
    MIN_RSA_BITS,
    KeyPair,
    KeyRing,
    KeyState,
    b64url,
    b64url_decode,
    int_to_bytes,
    jwk_thumbprint,
    write_private_file,
)
from mock_idp.pytest_plugin import MockIdPKeys

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def test_rfc7638_example_thumbprint() -> None:
    # RFC 7638 section 3.1
    jwk = {
        "kty": "RSA",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_B"
            "JECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_F"
            "DW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4"
            "vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        ),
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_rsa_key_is_published_like_auth0(mock_idp_keys: MockIdPKeys) -> None:
    key = mock_idp_keys.primary
    jwk = key.public_jwk()
    assert list(jwk) == ["kty", "use", "alg", "kid", "n", "e"]
    assert jwk["kty"] == "RSA"
    assert jwk["use"] == "sig"
    assert jwk["alg"] == "RS256"
    assert jwk["kid"] == key.kid == key.thumbprint
    assert jwk["e"] == "AQAB"
    assert len(b64url_decode(jwk["n"])) == 256
    assert key.key_size == 2048
    assert key.crv is None


def test_x5c_and_x5t_are_optional(mock_idp_keys: MockIdPKeys) -> None:
    jwk = mock_idp_keys.primary.public_jwk(x5c=True)
    assert len(jwk["x5t"]) == 27
    assert jwk["x5c"][0].startswith("MII")


def test_ec_key(mock_idp_keys: MockIdPKeys) -> None:
    key = mock_idp_keys.ec_p256
    jwk = key.public_jwk()
    assert (jwk["kty"], jwk["crv"], jwk["alg"], key.crv) == ("EC", "P-256", "ES256", "P-256")
    assert len(b64url_decode(jwk["x"])) == len(b64url_decode(jwk["y"])) == 32
    assert jwk["kid"] == jwk_thumbprint(jwk)


@pytest.mark.parametrize("curve", ["P-256", "P-384", "P-521"])
def test_ec_kid_is_the_rfc_7638_thumbprint_as_joserfc_computes_it(curve: str) -> None:
    """An independent implementation: RFC 7638 section 3.2 (``crv, kty, x, y`` for EC)."""
    key = KeyPair.ec(curve)
    assert key.kid == ECKey.import_key(key.public_jwk()).thumbprint()


@pytest.mark.parametrize(("curve", "alg"), [("P-384", "ES384"), ("P-521", "ES512")])
def test_other_curves(curve: str, alg: str) -> None:
    key = KeyPair.ec(curve, kid="given")
    assert (key.alg, key.kid, key.public_jwk()["crv"]) == (alg, "given", curve)


def test_given_kid_and_alg() -> None:
    key = KeyPair.rsa(kid="my-kid", alg="PS256")
    assert (key.kid, key.alg, key.public_jwk()["kid"]) == ("my-kid", "PS256", "my-kid")


def test_weak_rsa_needs_explicit_permission() -> None:
    with pytest.raises(ValueError, match="allow_weak"):
        KeyPair.rsa(1024)
    assert KeyPair.rsa(1024, allow_weak=True).key_size == 1024


def test_from_pem_round_trip_and_refuses_other_key_types(mock_idp_keys: MockIdPKeys) -> None:
    key = mock_idp_keys.ec_p256
    loaded = KeyPair.from_pem(key.private_pem())
    assert (loaded.kid, loaded.alg) == (key.kid, key.alg)
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    with pytest.raises(TypeError, match="unsupported"):
        KeyPair.from_pem(pem)


def test_public_pem(mock_idp_keys: MockIdPKeys) -> None:
    assert mock_idp_keys.primary.public_pem().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert isinstance(mock_idp_keys.primary.private_key, rsa.RSAPrivateKey)


def test_rotation_states(mock_idp_keys: MockIdPKeys) -> None:
    primary, secondary = mock_idp_keys.primary, mock_idp_keys.secondary
    ring = KeyRing([(primary, KeyState.SIGNING)])
    ring.add(secondary)  # published, not yet signing
    assert ring.state(secondary.kid) is KeyState.PUBLISHED
    assert ring.signing_key is primary
    assert [k["kid"] for k in ring.jwks()["keys"]] == [primary.kid, secondary.kid]

    assert ring.rotate() is secondary  # the waiting key signs, the old one retires
    assert ring.signing_key is secondary
    assert ring.state(primary.kid) is KeyState.RETIRED
    assert [k["kid"] for k in ring.jwks()["keys"]] == [primary.kid, secondary.kid]

    ring.remove(primary.kid)
    assert ring.state(primary.kid) is KeyState.REMOVED
    assert [k["kid"] for k in ring.jwks()["keys"]] == [secondary.kid]
    assert primary.kid in ring  # still known, to sign forgeries
    assert ring.get(primary.kid) is primary

    ring.promote(primary.kid)
    assert ring.state(secondary.kid) is KeyState.RETIRED
    ring.retire(primary.kid)
    with pytest.raises(LookupError):
        _ = ring.signing_key
    ring.discard(secondary.kid)
    assert len(ring) == 1
    assert list(ring) == [primary]
    assert [key for key, _ in ring.copy().entries()] == [primary]


def test_rotate_with_a_given_key_or_a_generated_one(mock_idp_keys: MockIdPKeys) -> None:
    ring = KeyRing([(mock_idp_keys.primary, KeyState.SIGNING)])
    assert ring.rotate(mock_idp_keys.secondary) is mock_idp_keys.secondary
    generated = ring.rotate()
    assert generated not in (mock_idp_keys.primary, mock_idp_keys.secondary)
    assert ring.signing_key is generated
    assert ring.state(mock_idp_keys.secondary.kid) is KeyState.RETIRED


def test_ring_refuses_a_different_key_under_a_used_kid(mock_idp_keys: MockIdPKeys) -> None:
    ring = KeyRing([(KeyPair(mock_idp_keys.primary.private_key, kid="k"), KeyState.SIGNING)])
    ring.add(KeyPair(mock_idp_keys.primary.private_key, kid="k"), KeyState.SIGNING)  # same key
    with pytest.raises(ValueError, match="already"):
        ring.add(KeyPair(mock_idp_keys.secondary.private_key, kid="k"))
    with pytest.raises(KeyError):
        ring.set_state("missing", KeyState.SIGNING)


def test_generate() -> None:
    ring = KeyRing.generate()
    assert ring.signing_key.key_size == 2048


def test_jwks_never_contains_private_members(mock_idp_keys: MockIdPKeys) -> None:
    ring = KeyRing([(mock_idp_keys.primary, KeyState.SIGNING)])
    ring.add(mock_idp_keys.ec_p256)
    ring.add(mock_idp_keys.secondary, KeyState.RETIRED)
    for x5c in (False, True):
        for member in ring.jwks(x5c=x5c)["keys"]:
            assert not PRIVATE_MEMBERS & set(member)
    serialized = json.dumps(ring.jwks(x5c=True))
    assert "PRIVATE" not in serialized


def test_save_and_load_keep_keys_states_and_mode_0600(
    tmp_path: Path, mock_idp_keys: MockIdPKeys
) -> None:
    ring = KeyRing([(mock_idp_keys.primary, KeyState.RETIRED)])
    ring.add(mock_idp_keys.secondary, KeyState.SIGNING)
    ring.add(mock_idp_keys.ec_p256, KeyState.REMOVED)
    path = tmp_path / "sub" / "keys.json"
    ring.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = KeyRing.load(path)
    assert [(k.kid, k.alg, s) for k, s in loaded.entries()] == [
        (k.kid, k.alg, s) for k, s in ring.entries()
    ]
    assert loaded.jwks() == ring.jwks()

    path.chmod(0o644)  # saving again over a readable file makes it private again
    loaded.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["keys.json"]


def test_load_refuses_other_files(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"keys": []}')
    with pytest.raises(ValueError, match="not a mock_idp keys file"):
        KeyRing.load(path)


def test_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        write_private_file(tmp_path / "f", "not bytes")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


# -- pinned by a mutation run of mock_idp ---------------------------------------------------


def test_x5c_is_standard_base64_and_x5t_its_sha1(mock_idp_keys: MockIdPKeys) -> None:
    key = mock_idp_keys.primary
    jwk = key.public_jwk(x5c=True)
    der = base64.b64decode(jwk["x5c"][0], validate=True)
    assert x509.load_der_x509_certificate(der).public_key() == key.public_key
    assert jwk["x5t"] == b64url(hashlib.sha1(der).digest())  # noqa: S324 - RFC 7517 4.8


def test_private_pem_is_pkcs8(mock_idp_keys: MockIdPKeys) -> None:
    for key in (mock_idp_keys.primary, mock_idp_keys.ec_p256):
        assert key.private_pem().startswith(b"-----BEGIN PRIVATE KEY-----")


def test_ec_coordinates_keep_leading_zero_octets() -> None:
    d = next(
        d
        for d in range(1, 5000)
        if ec.derive_private_key(d, ec.SECP256R1()).public_key().public_numbers().x < 1 << 248
    )
    key = KeyPair(ec.derive_private_key(d, ec.SECP256R1()))
    assert len(b64url_decode(key.public_jwk()["x"])) == 32


def test_rotate_takes_the_oldest_published(mock_idp_keys: MockIdPKeys) -> None:
    ring = KeyRing([(mock_idp_keys.primary, KeyState.SIGNING)])
    ring.add(mock_idp_keys.secondary)
    ring.add(mock_idp_keys.ec_p256)
    assert ring.rotate() is mock_idp_keys.secondary


def test_rotate_never_picks_a_planted_key(mock_idp_keys: MockIdPKeys) -> None:
    ring = KeyRing([(mock_idp_keys.primary, KeyState.SIGNING)])
    ring.add(mock_idp_keys.rsa_1024, KeyState.PLANTED)  # as the weak_key forgery does
    assert mock_idp_keys.rsa_1024 in ring.published()
    generated = ring.rotate()
    assert (generated.kty, generated.key_size) == ("RSA", 2048)
    assert ring.state(mock_idp_keys.rsa_1024.kid) is KeyState.PLANTED


def test_rotate_generates_rsa_2048(mock_idp_keys: MockIdPKeys) -> None:
    generated = KeyRing([(mock_idp_keys.primary, KeyState.SIGNING)]).rotate()
    assert (generated.kty, generated.key_size) == ("RSA", 2048)


def test_save_load_keeps_given_kid_and_alg(tmp_path: Path, mock_idp_keys: MockIdPKeys) -> None:
    key = KeyPair(mock_idp_keys.primary.private_key, kid="custom-kid", alg="PS256")
    KeyRing([(key, KeyState.SIGNING)]).save(tmp_path / "k.json")
    loaded = KeyRing.load(tmp_path / "k.json").signing_key
    assert (loaded.kid, loaded.alg) == ("custom-kid", "PS256")


def test_load_refuses_a_non_string_pem_with_value_error(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    item = {"kid": "k", "alg": "RS256", "state": "signing", "private_key_pem": 5}
    path.write_text(json.dumps({"format": "mock_idp.keys/1", "keys": [item]}))
    with pytest.raises(ValueError, match="not a mock_idp keys file"):
        KeyRing.load(path)


def test_copy_is_independent(mock_idp_keys: MockIdPKeys) -> None:
    ring = KeyRing([(mock_idp_keys.primary, KeyState.SIGNING)])
    copy = ring.copy()
    copy.add(mock_idp_keys.secondary, KeyState.SIGNING)
    assert mock_idp_keys.secondary.kid not in ring
    assert ring.state(mock_idp_keys.primary.kid) is KeyState.SIGNING


def test_discarding_the_signer_forgets_its_state(mock_idp_keys: MockIdPKeys) -> None:
    ring = KeyRing([(mock_idp_keys.primary, KeyState.SIGNING)])
    ring.discard(mock_idp_keys.primary.kid)
    with pytest.raises(LookupError, match="no key is in the SIGNING state"):
        _ = ring.signing_key


@pytest.mark.parametrize("bits", [2040, 2047])
def test_rsa_2048_is_the_smallest_key_without_allow_weak(bits: int) -> None:
    assert MIN_RSA_BITS == 2048  # the default size too; no key generated here (slow)
    with pytest.raises(ValueError, match="allow_weak"):
        KeyPair.rsa(bits)  # refused before any generation


def test_an_ec_key_keeps_the_alg_it_is_given() -> None:
    key = KeyPair.ec("P-256", alg="ES512")  # a curve and alg that disagree, as a forgery may want
    assert key.alg == "ES512"
    assert key.public_jwk()["alg"] == "ES512"


def test_key_pairs_shared_by_the_plugin_cannot_be_changed(mock_idp_keys: MockIdPKeys) -> None:
    """One KeyPair serves a whole session: no test may change it for the next."""
    key = mock_idp_keys.primary
    with pytest.raises(dataclasses.FrozenInstanceError):
        key.kid = "other"  # type: ignore[misc]
    assert {key} == {mock_idp_keys.primary}


def test_the_published_certificate_is_valid_today(mock_idp_keys: MockIdPKeys) -> None:
    certificate = mock_idp_keys.primary.certificate
    now = datetime.datetime.now(datetime.timezone.utc)
    assert certificate.not_valid_before_utc < now < certificate.not_valid_after_utc


def test_integers_are_minimal_big_endian_and_decoding_takes_bytes() -> None:
    """RFC 7518 section 2: Base64urlUInt uses the fewest octets; zero is one octet."""
    assert [int_to_bytes(n) for n in (0, 3, 256)] == [b"\x00", b"\x03", b"\x01\x00"]
    assert b64url_decode(b"AQAB") == b64url_decode("AQAB") == b"\x01\x00\x01"


def test_a_ring_s_jwks_has_x5c_only_when_asked(mock_idp_keys: MockIdPKeys) -> None:
    ring = KeyRing([(mock_idp_keys.primary, KeyState.SIGNING)])
    assert "x5c" not in ring.jwks()["keys"][0]
    assert "x5c" in ring.jwks(x5c=True)["keys"][0]


def test_keys_files_keep_their_format(tmp_path: Path, mock_idp_keys: MockIdPKeys) -> None:
    """Files written by earlier versions must keep loading; missing directories are made."""
    ring = KeyRing([(mock_idp_keys.primary, KeyState.SIGNING)])
    ring.add(mock_idp_keys.secondary, KeyState.PUBLISHED)
    path = tmp_path / "new" / "dir" / "keys.json"
    ring.save(path)
    document = json.loads(path.read_text())
    assert document["format"] == "mock_idp.keys/1"
    assert [k["state"] for k in document["keys"]] == ["signing", "published"]
    assert [s.value for s in KeyState] == ["published", "signing", "retired", "removed", "planted"]
    assert KeyRing.load(path).signing_key.kid == mock_idp_keys.primary.kid


def _keys_file(path: Path, *members: tuple[KeyPair, str, str]) -> Path:
    """A keys file as a person might edit it: (key, alg, state) per member."""
    items = [
        {"kid": key.kid, "alg": alg, "state": state, "private_key_pem": key.private_pem().decode()}
        for key, alg, state in members
    ]
    path.write_text(json.dumps({"format": "mock_idp.keys/1", "keys": items}))
    return path


@pytest.mark.parametrize(
    ("member", "alg"),
    [
        ("primary", "none"),  # would print unsigned tokens and publish alg none
        ("primary", "HS256"),
        ("primary", "ES256"),
        ("primary", "rs256"),
        ("ec_p256", "RS256"),
        ("ec_p256", "PS256"),
        ("ec_p256", "ES384"),  # P-256 signs ES256 only (RFC 7518 section 3.4)
    ],
)
def test_load_refuses_a_key_whose_alg_it_cannot_sign_with(
    tmp_path: Path, mock_idp_keys: MockIdPKeys, member: str, alg: str
) -> None:
    key = getattr(mock_idp_keys, member)
    path = _keys_file(tmp_path / "k.json", (key, alg, "signing"))
    with pytest.raises(ValueError, match=r"not a signing algorithm|P-256 signs ES256"):
        KeyRing.load(path)


def test_load_takes_a_weak_rsa_key_only_as_planted(
    tmp_path: Path, mock_idp_keys: MockIdPKeys
) -> None:
    weak = mock_idp_keys.rsa_1024
    path = _keys_file(tmp_path / "k.json", (weak, "RS256", "signing"))
    with pytest.raises(ValueError, match="under 2048 bits"):
        KeyRing.load(path)
    planted = (weak, "RS256", "planted")
    path = _keys_file(path, (mock_idp_keys.primary, "RS256", "signing"), planted)
    assert KeyRing.load(path).state(weak.kid) is KeyState.PLANTED


def test_load_refuses_a_damaged_rsa_key(tmp_path: Path, mock_idp_keys: MockIdPKeys) -> None:
    """Its tokens would verify against no JWKS, its own included."""
    path = _keys_file(tmp_path / "k.json", (mock_idp_keys.primary, "RS256", "signing"))
    document = json.loads(path.read_text())
    pem = document["keys"][0]["private_key_pem"]
    lines = pem.splitlines()
    lines[5] = ("B" if lines[5][0] != "B" else "C") + lines[5][1:]  # inside a prime's octets
    document["keys"][0]["private_key_pem"] = "\n".join(lines) + "\n"
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="not a mock_idp keys file"):
        KeyRing.load(path)


def test_load_refuses_an_ec_curve_jose_has_no_name_for(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256K1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    item = {"kid": "k", "alg": "ES256", "state": "signing", "private_key_pem": pem}
    path = tmp_path / "k.json"
    path.write_text(json.dumps({"format": "mock_idp.keys/1", "keys": [item]}))
    with pytest.raises(ValueError, match="unsupported curve secp256k1"):
        KeyRing.load(path)


@pytest.mark.parametrize("field", ["kid", "alg"])
def test_load_refuses_a_kid_or_alg_that_is_not_a_string(
    tmp_path: Path, mock_idp_keys: MockIdPKeys, field: str
) -> None:
    path = _keys_file(tmp_path / "k.json", (mock_idp_keys.primary, "RS256", "signing"))
    document = json.loads(path.read_text())
    document["keys"][0][field] = 5
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="kid and alg are strings"):
        KeyRing.load(path)


def test_load_refuses_json_nested_too_deeply(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    path.write_text("[" * 100_000)
    with pytest.raises(ValueError, match="not a mock_idp keys file"):
        KeyRing.load(path)


def test_an_exclusive_save_never_replaces_a_file(
    tmp_path: Path, mock_idp_keys: MockIdPKeys
) -> None:
    path = tmp_path / "k.json"
    KeyRing([(mock_idp_keys.primary, KeyState.SIGNING)]).save(path, exclusive=True)
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        KeyRing([(mock_idp_keys.secondary, KeyState.SIGNING)]).save(path, exclusive=True)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["k.json"]  # no temporary file left
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("umask", [0, 0o277], ids=["umask-0", "umask-0277"])
def test_directories_made_for_keys_are_the_owners_alone_whatever_the_umask(
    tmp_path: Path, umask: int
) -> None:
    """Looser than 0700 (umask 0) or tighter (0277: mkdir would leave 0500, which the owner
    cannot write into), each directory made is 0700 (found by mutation testing)."""
    previous = os.umask(umask)
    try:
        write_private_file(tmp_path / "var" / "sub" / "k.json", b"{}")
    finally:
        os.umask(previous)
    for made in (tmp_path / "var", tmp_path / "var" / "sub"):
        assert stat.S_IMODE(made.stat().st_mode) == 0o700


def test_a_write_that_cannot_start_names_the_file_asked_for(tmp_path: Path) -> None:
    parent = tmp_path / "not-a-directory"
    parent.write_text("")
    with pytest.raises(NotADirectoryError, match=f"cannot write {parent / 'k.json'}"):
        write_private_file(parent / "k.json", b"{}")


def test_an_exclusive_save_works_without_hard_links(
    tmp_path: Path, mock_idp_keys: MockIdPKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """vfat and some network mounts have no hard links: the file is created with O_EXCL."""

    def no_hard_links(source: str, target: Path) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_hard_links)
    path = tmp_path / "k.json"
    KeyRing([(mock_idp_keys.primary, KeyState.SIGNING)]).save(path, exclusive=True)
    assert KeyRing.load(path).signing_key.kid == mock_idp_keys.primary.kid
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError, match=f"cannot write {path}"):
        KeyRing([(mock_idp_keys.secondary, KeyState.SIGNING)]).save(path, exclusive=True)
    assert KeyRing.load(path).signing_key.kid == mock_idp_keys.primary.kid
    assert [p.name for p in tmp_path.iterdir()] == ["k.json"]


def test_a_planted_ec_key_may_name_another_curve_s_algorithm(
    tmp_path: Path, mock_idp_keys: MockIdPKeys
) -> None:
    """As ``KeyPair.ec("P-256", alg="ES512")`` plants it for a forgery."""
    ec_key = mock_idp_keys.ec_p256
    members = [(mock_idp_keys.primary, "RS256", "signing"), (ec_key, "ES512", "planted")]
    path = _keys_file(tmp_path / "k.json", *members)
    assert KeyRing.load(path).get(ec_key.kid).alg == "ES512"


def test_a_directory_made_meanwhile_by_another_process_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_mkdir = Path.mkdir

    def another_process_first(self: Path, mode: int = 0o777, **kwargs: object) -> None:
        real_mkdir(self)
        self.chmod(0o750)  # theirs
        raise FileExistsError(self)

    monkeypatch.setattr(Path, "mkdir", another_process_first)
    write_private_file(tmp_path / "var" / "k.json", b"{}")
    assert stat.S_IMODE((tmp_path / "var").stat().st_mode) == 0o750
    assert (tmp_path / "var" / "k.json").read_bytes() == b"{}"


@pytest.mark.parametrize("exclusive", [False, True])
def test_a_keys_file_is_0600_even_when_the_umask_takes_the_owner_s_write_bit(
    tmp_path: Path, mock_idp_keys: MockIdPKeys, exclusive: bool
) -> None:
    """The umask applies to the temporary file first written (0400 under 0o277): the mode is
    set again, so the file is 0600 as ``save`` says, not read-only."""
    path = tmp_path / "k.json"
    previous = os.umask(0o277)
    try:
        KeyRing([(mock_idp_keys.primary, KeyState.SIGNING)]).save(path, exclusive=exclusive)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
