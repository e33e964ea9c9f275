"""Signing keys: generation, RFC 7638 thumbprints, rotation states, JWKS, persistence.

A ``KeyPair`` is immutable and may be shared (the pytest plugin generates keys once per
session); a ``KeyRing`` holds the per-IdP state of each key:

``PUBLISHED`` (in the JWKS, not yet signing) -> ``SIGNING`` -> ``RETIRED`` (still in the
JWKS) -> ``REMOVED`` (gone from the JWKS, still usable to sign forgeries); ``PLANTED`` keys are
in the JWKS for a forgery (a weak key, another algorithm) and never sign valid tokens.

JWKS members follow RFC 7517 section 4 and look like Auth0's (``kty, use, alg, kid, n, e``,
optionally ``x5c``/``x5t``); private members are never published.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import enum
import errno
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeAlias

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

PrivateKey: TypeAlias = "rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey"
PublicKey: TypeAlias = "rsa.RSAPublicKey | ec.EllipticCurvePublicKey"

MIN_RSA_BITS = 2048
FILE_FORMAT = "mock_idp.keys/1"
#: The JWS algorithms a key of each type signs with (RFC 7518 section 3.1); a keys file naming
#: any other (``none``, ``HS256`` on an RSA key) is refused when loaded.
SIGNING_ALGORITHMS = {
    "RSA": frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}),
    "EC": frozenset({"ES256", "ES384", "ES512"}),
}

# JWK "crv" -> (cryptography curve, default JWS alg, coordinate octets) (RFC 7518 6.2.1)
_CURVES: dict[str, tuple[type[ec.EllipticCurve], str, int]] = {
    "P-256": (ec.SECP256R1, "ES256", 32),
    "P-384": (ec.SECP384R1, "ES384", 48),
    "P-521": (ec.SECP521R1, "ES512", 66),
}
_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str | bytes) -> bytes:
    """Inverse of ``b64url``; tolerates missing padding."""
    raw = text.encode("ascii") if isinstance(text, str) else text
    return base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))


def int_to_bytes(value: int, length: int | None = None) -> bytes:
    """Big-endian unsigned octets, as JWA uses for ``n``, ``e``, ``x``, ``y`` (RFC 7518 2)."""
    size = length if length is not None else max(1, (value.bit_length() + 7) // 8)
    return value.to_bytes(size, "big")


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256) over the required members, in lexicographic order."""
    required = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}[jwk["kty"]]
    canonical = json.dumps({name: jwk[name] for name in required}, separators=(",", ":"))
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


class KeyState(str, enum.Enum):
    """Where a key is in its rotation life cycle."""

    PUBLISHED = "published"  # in the JWKS, not yet signing (the "next" key)
    SIGNING = "signing"  # in the JWKS, signs new tokens
    RETIRED = "retired"  # in the JWKS, no longer signs (the "previous" key)
    REMOVED = "removed"  # not in the JWKS any more
    PLANTED = "planted"  # in the JWKS for a forgery (weak, other algorithm); never rotated in

    @property
    def in_jwks(self) -> bool:
        return self is not KeyState.REMOVED


@dataclass(frozen=True)
class KeyPair:
    """A private key with its ``kid`` and JWS ``alg``. Build with ``rsa()``, ``ec()``."""

    private_key: PrivateKey
    kid: str = ""
    alg: str = ""

    def __post_init__(self) -> None:
        if not self.alg:
            object.__setattr__(self, "alg", self._default_alg())
        if not self.kid:
            object.__setattr__(self, "kid", jwk_thumbprint(self._public_members()))

    @classmethod
    def rsa(
        cls,
        bits: int = MIN_RSA_BITS,
        *,
        kid: str | None = None,
        alg: str = "RS256",
        allow_weak: bool = False,
    ) -> KeyPair:
        """A fresh RSA key; fewer than 2048 bits only with ``allow_weak=True``."""
        if bits < MIN_RSA_BITS and not allow_weak:
            raise ValueError(f"RSA keys under {MIN_RSA_BITS} bits need allow_weak=True")
        private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        return cls(private, kid or "", alg)

    @classmethod
    def ec(cls, curve: str = "P-256", *, kid: str | None = None, alg: str | None = None) -> KeyPair:
        """A fresh EC key on ``P-256``, ``P-384`` or ``P-521``."""
        curve_class, default_alg, _size = _CURVES[curve]
        private = ec.generate_private_key(curve_class())
        return cls(private, kid or "", alg or default_alg)

    @classmethod
    def from_pem(cls, pem: bytes, *, kid: str | None = None, alg: str | None = None) -> KeyPair:
        """Load a PEM private key (PKCS#8, PKCS#1 or SEC1). An RSA key must verify a signature
        of its own, so a damaged one is refused rather than signing tokens no JWKS verifies (0.5
        ms; OpenSSL's full check of the primes takes 28)."""
        private = serialization.load_pem_private_key(
            pem, password=None, unsafe_skip_rsa_key_validation=True
        )
        if not isinstance(private, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
            raise TypeError(f"unsupported key type {type(private).__name__}")
        if isinstance(private, rsa.RSAPrivateKey):
            _check_signs(private)
        curve = getattr(private, "curve", None)
        if curve is not None and curve.name not in _CURVE_NAMES:
            raise TypeError(f"unsupported curve {curve.name}")
        return cls(private, kid or "", alg or "")

    @property
    def kty(self) -> str:
        return "RSA" if isinstance(self.private_key, rsa.RSAPrivateKey) else "EC"

    @property
    def public_key(self) -> PublicKey:
        return self.private_key.public_key()

    @property
    def key_size(self) -> int:
        return self.private_key.key_size

    @property
    def thumbprint(self) -> str:
        """The RFC 7638 thumbprint, which is the default ``kid``."""
        return jwk_thumbprint(self._public_members())

    def public_jwk(self, *, x5c: bool = False) -> dict[str, Any]:
        """The public JWK as a JWKS member: ``kty, use, alg, kid`` and the key's members."""
        jwk: dict[str, Any] = {"kty": self.kty, "use": "sig", "alg": self.alg, "kid": self.kid}
        jwk.update((k, v) for k, v in self._public_members().items() if k != "kty")
        if x5c:
            der = self.certificate.public_bytes(serialization.Encoding.DER)
            jwk["x5c"] = [base64.b64encode(der).decode("ascii")]
            jwk["x5t"] = b64url(hashlib.sha1(der).digest())  # noqa: S324 - RFC 7517 4.8
        return jwk

    def private_pem(self) -> bytes:
        """PKCS#8 PEM, unencrypted."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def public_pem(self) -> bytes:
        """SubjectPublicKeyInfo PEM."""
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @cached_property
    def certificate(self) -> x509.Certificate:
        """A self-signed certificate for the key, as Auth0 publishes in ``x5c``."""
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mock-idp")])
        start = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.public_key)
            .serial_number(int.from_bytes(hashlib.sha256(self.kid.encode()).digest()[:8], "big"))
            .not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=365 * 30))
            .sign(self.private_key, hashes.SHA256())
        )

    @property
    def crv(self) -> str | None:
        """The JWK curve name of an EC key, else ``None``."""
        if isinstance(self.private_key, ec.EllipticCurvePrivateKey):
            return _CURVE_NAMES[self.private_key.curve.name]
        return None

    def _default_alg(self) -> str:
        return "RS256" if self.crv is None else _CURVES[self.crv][1]

    def _public_members(self) -> dict[str, str]:
        public = self.public_key
        if isinstance(public, rsa.RSAPublicKey):
            numbers = public.public_numbers()
            return {
                "kty": "RSA",
                "n": b64url(int_to_bytes(numbers.n)),
                "e": b64url(int_to_bytes(numbers.e)),
            }
        crv = _CURVE_NAMES[public.curve.name]
        point = public.public_numbers()
        size = _CURVES[crv][2]
        return {
            "kty": "EC",
            "crv": crv,
            "x": b64url(int_to_bytes(point.x, size)),
            "y": b64url(int_to_bytes(point.y, size)),
        }


class KeyRing:
    """The keys of one IdP and their states; thread-safe.

    At most one key is ``SIGNING``: promoting a key retires the previous signer.
    """

    def __init__(self, entries: Iterable[tuple[KeyPair, KeyState]] = ()) -> None:
        self._lock = threading.RLock()
        self._keys: dict[str, KeyPair] = {}
        self._states: dict[str, KeyState] = {}
        for key, state in entries:
            self.add(key, state)

    @classmethod
    def generate(cls, bits: int = MIN_RSA_BITS) -> KeyRing:
        """A ring with one fresh RSA signing key."""
        return cls([(KeyPair.rsa(bits), KeyState.SIGNING)])

    def add(self, key: KeyPair, state: KeyState = KeyState.PUBLISHED) -> KeyPair:
        """Add ``key`` (default: published, not yet signing); returns it."""
        with self._lock:
            existing = self._keys.get(key.kid)
            if existing is not None and existing.thumbprint != key.thumbprint:
                raise ValueError(f"another key already has kid {key.kid!r}")
            self._keys[key.kid] = key
            self.set_state(key.kid, state)
        return key

    def set_state(self, kid: str, state: KeyState) -> None:
        """Move a key to ``state``; a new signer retires the previous one."""
        with self._lock:
            if kid not in self._keys:
                raise KeyError(kid)
            if state is KeyState.SIGNING:
                for other, other_state in self._states.items():
                    if other_state is KeyState.SIGNING and other != kid:
                        self._states[other] = KeyState.RETIRED
            self._states[kid] = state

    def promote(self, kid: str) -> None:
        self.set_state(kid, KeyState.SIGNING)

    def retire(self, kid: str) -> None:
        self.set_state(kid, KeyState.RETIRED)

    def remove(self, kid: str) -> None:
        """Stop publishing the key (it stays known, e.g. to sign forgeries)."""
        self.set_state(kid, KeyState.REMOVED)

    def discard(self, kid: str) -> None:
        """Forget the key entirely."""
        with self._lock:
            self._keys.pop(kid, None)
            self._states.pop(kid, None)

    def rotate(self, next_key: KeyPair | None = None) -> KeyPair:
        """Make the next key the signer and retire the current one; returns the new signer.

        The next key is ``next_key`` (added if new), else the oldest ``PUBLISHED`` key, else a
        freshly generated RSA-2048 key (a ``PLANTED`` one only when passed).
        """
        with self._lock:
            if next_key is None:
                waiting = [
                    k for k in self._keys.values() if self.state(k.kid) is KeyState.PUBLISHED
                ]
                next_key = waiting[0] if waiting else KeyPair.rsa()
            self.add(next_key, KeyState.SIGNING)
            return next_key

    def state(self, kid: str) -> KeyState:
        return self._states[kid]

    def get(self, kid: str) -> KeyPair:
        return self._keys[kid]

    @property
    def signing_key(self) -> KeyPair:
        with self._lock:
            for kid, state in self._states.items():
                if state is KeyState.SIGNING:
                    return self._keys[kid]
        raise LookupError("no key is in the SIGNING state")

    def entries(self) -> list[tuple[KeyPair, KeyState]]:
        with self._lock:
            return [(key, self._states[kid]) for kid, key in self._keys.items()]

    def published(self) -> list[KeyPair]:
        """Keys in the JWKS, in insertion order."""
        return [key for key, state in self.entries() if state.in_jwks]

    def jwks(self, *, x5c: bool = False) -> dict[str, Any]:
        """The public JWK Set (RFC 7517 section 5)."""
        return {"keys": [key.public_jwk(x5c=x5c) for key in self.published()]}

    def copy(self) -> KeyRing:
        """An independent ring sharing the (immutable) keys."""
        return KeyRing(self.entries())

    def __iter__(self) -> Iterator[KeyPair]:
        return iter([key for key, _state in self.entries()])

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def save(self, path: str | os.PathLike[str], *, exclusive: bool = False) -> None:
        """Write the keys, with their private parts and states, to ``path`` with mode 0600;
        ``exclusive``: only if no file is there (``FileExistsError``), as one atomic step."""
        document = {
            "format": FILE_FORMAT,
            "keys": [
                {
                    "kid": key.kid,
                    "alg": key.alg,
                    "state": state.value,
                    "private_key_pem": key.private_pem().decode("ascii"),
                }
                for key, state in self.entries()
            ],
        }
        data = json.dumps(document, indent=2).encode("utf-8")
        write_private_file(Path(path), data, exclusive=exclusive)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> KeyRing:
        """Read a file written by ``save``; ``ValueError`` naming the file if it is not one.

        A file is edited by hand too: each key must sign with its ``alg`` (``SIGNING_ALGORITHMS``;
        an EC key, its curve's), and an RSA key have 2048 bits or more, unless it is ``PLANTED``
        for a forgery (only the algorithm family is checked then).
        """
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
            if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
                raise ValueError("no mock_idp format marker")
            return cls(_loaded_entry(item) for item in document["keys"])
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            raise ValueError(f"{path}: not a mock_idp keys file ({exc})") from exc


def _check_signs(private: rsa.RSAPrivateKey) -> None:
    """``ValueError`` unless a PKCS #1 v1.5 signature by ``private`` verifies with its public
    key (RFC 8017 section 8.2)."""
    scheme = (padding.PKCS1v15(), hashes.SHA256())
    try:
        private.public_key().verify(private.sign(b"mock_idp", *scheme), b"mock_idp", *scheme)
    except InvalidSignature:
        raise ValueError("a damaged RSA key: its signatures do not verify") from None


def _loaded_entry(item: dict[str, Any]) -> tuple[KeyPair, KeyState]:
    """One member of a keys file's ``keys``, checked as ``KeyRing.load`` says."""
    if not isinstance(item["kid"], str) or not isinstance(item["alg"], str):
        raise ValueError("a key's kid and alg are strings")
    pem = item["private_key_pem"].encode("ascii")
    key, state = KeyPair.from_pem(pem, kid=item["kid"], alg=item["alg"]), KeyState(item["state"])
    if key.alg not in SIGNING_ALGORITHMS[key.kty]:
        raise ValueError(f"key {key.kid!r}: {key.alg!r} is not a signing algorithm for {key.kty}")
    if key.crv is not None and key.alg != _CURVES[key.crv][1] and state is not KeyState.PLANTED:
        raise ValueError(f"key {key.kid!r}: {key.crv} signs {_CURVES[key.crv][1]}, not {key.alg}")
    if key.kty == "RSA" and key.key_size < MIN_RSA_BITS and state is not KeyState.PLANTED:
        raise ValueError(f"key {key.kid!r}: RSA keys under {MIN_RSA_BITS} bits only as planted")
    return key, state


def write_private_file(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Atomically replace ``path`` with ``data``; the file is created with mode 0600.

    Directories it makes are the owner's alone (0700), whatever the umask. ``exclusive``:
    ``FileExistsError`` if ``path`` exists, even when another process creates it meanwhile.
    An ``OSError`` names ``path``, not the temporary file written first.
    """
    try:
        _make_private_dirs(path.parent)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write {path}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, 0o600)
        if exclusive:
            _link_exclusively(temp, path, data)
        else:
            os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


#: What ``link`` fails with on a filesystem without hard links (vfat, some network mounts).
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS})


def _link_exclusively(temp: str, path: Path, data: bytes) -> None:
    """``path`` as a hard link to the written ``temp``: all at once, and never over a file.

    Without hard links, ``path`` is created with ``O_EXCL`` and written in place (a reader
    started at that instant may see it half written).
    """
    try:
        try:
            os.link(temp, path)
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
    except OSError as exc:  # EEXIST stays a FileExistsError
        raise OSError(exc.errno, f"cannot write {path}: {exc.strerror}") from exc


def _make_private_dirs(directory: Path) -> None:
    """Make ``directory`` and its missing parents with mode 0700 (mkdir's mode goes through
    the umask, so each one made here is set again); directories that exist are left alone."""
    for made in reversed([d for d in (directory, *directory.parents) if not d.exists()]):
        try:
            made.mkdir(mode=0o700)
        except FileExistsError:  # made meanwhile by another process: not ours to change
            continue
        made.chmod(0o700)
