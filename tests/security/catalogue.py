"""The security catalogue: named attacks on the validator, each with its expected answer.

One table drives both ``test_catalogue.py`` (``pytest -m security``) and ``docs/security.md``
(``python -m tests.security.catalogue --markdown > docs/security.md``), so the document cannot
drift from the tests. Every case builds its request with the mock IdP (a forgery by name with
``MockIdP.forge``, a plain ``mint``, or a JWKS fault), never by editing a token afterwards
(``test_catalogue.py`` checks), and cites where the attack comes from.

A new case goes in the section it attacks (``# -- header --``, ``# -- claims --``...), beside
its closest neighbours: one ``case(...)`` call, or a row of the section's table when it has one
(the claim values refused by one reason each, for instance). The document lists the cases in the
order they are defined here; regenerate it after adding one.
"""

from __future__ import annotations

import argparse
import gzip
import json
import warnings
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from joserfc.errors import SecurityWarning
from joserfc.jwk import RSAKey

from mock_idp import DEFAULT_AUDIENCE, MockIdP
from mock_idp.forgeries import (
    ALG_NONE_VARIANTS,
    ATTACKER_URL,
    COMMON_HMAC_SECRETS,
    MALFORMED_SHAPES,
    SIGNED_HEADER_SHAPES,
    SIGNED_PAYLOAD_SHAPES,
)
from mock_idp.http import JWKS, Fault
from mock_idp.keys import b64url, b64url_decode
from mock_idp.pytest_plugin import MockIdPKeys

PRIVATE = "/api/private"
SCOPED = "/api/private-scoped"
REGENERATE = ".venv/bin/python -m tests.security.catalogue --markdown > docs/security.md"

# -- sources ---------------------------------------------------------------------------------------

RFC6750_2 = "RFC 6750 §2"
RFC6750_21 = "RFC 6750 §2.1"
RFC6750_31 = "RFC 6750 §3.1"
RFC7515_41 = "RFC 7515 §4.1"
RFC7515_5 = "RFC 7515 §5.2"
RFC7515_7 = "RFC 7515 §7.1"
RFC7517_4 = "RFC 7517 §4"
RFC7519_41 = "RFC 7519 §4.1"
RFC8725_31 = "RFC 8725 §3.1"
RFC8725_32 = "RFC 8725 §3.2"
RFC8725_39 = "RFC 8725 §3.9"
RFC8725_310 = "RFC 8725 §3.10"
RFC8725_311 = "RFC 8725 §3.11"
RFC9068_21 = "RFC 9068 §2.1"
RFC9068_22 = "RFC 9068 §2.2"
RFC9068_4 = "RFC 9068 §4"
RFC7797 = "RFC 7797 §3"
PS_NONE = "PortSwigger lab: JWT authentication bypass via flawed signature verification"
PS_UNVERIFIED = "PortSwigger lab: JWT authentication bypass via unverified signature"
PS_WEAK = "PortSwigger lab: JWT authentication bypass via weak signing key"
PS_JWK = "PortSwigger lab: JWT authentication bypass via jwk header injection"
PS_JKU = "PortSwigger lab: JWT authentication bypass via jku header injection"
PS_KID = "PortSwigger lab: JWT authentication bypass via kid header path traversal"
PS_CONFUSION = "PortSwigger lab: JWT authentication bypass via algorithm confusion"
JT_NONE = "jwt_tool -X a"
JT_NULL_SIG = "jwt_tool -X n"
JT_BLANK = "jwt_tool -X b"
JT_SPOOF_JWKS = "jwt_tool -X s"
JT_CONFUSION = "jwt_tool -X k"
JT_INLINE_JWKS = "jwt_tool -X i"
JT_INJECT = "jwt_tool -I (header injection)"
JT_CRACK = "jwt_tool -C -d (dictionary)"
#: Where the README states the rule a case holds the API to.
README_TOKENS = 'README "What makes a token valid"'
README_KEYS = 'README "Signing keys"'


# -- the table -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attack:
    """One HTTP request to the API: the ``Authorization`` value, query, form body, method."""

    authorization: str | None
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] | None = None
    method: str = "GET"


@dataclass
class Scene:
    """What a case builds its attack from: the IdP, the session keys, Django settings."""

    idp: MockIdP
    keys: MockIdPKeys
    settings: Any
    send: Callable[[Attack, str], Any]
    monkeypatch: Any = None


Build = Callable[[Scene], Attack]


@dataclass(frozen=True)
class Case:
    """A named attack, the answer the API must give, and where the attack comes from.

    ``error`` is None for answers without an error body (200, 405). ``reason`` is the code the
    API logs with a refusal (``auth refused: ... reason=<code>``): the rule that must refuse
    the attack, so that a case cannot pass because some other rule happened to refuse it.
    ``fetches`` is the number of JWKS fetches the attack may cost (None: not checked).
    """

    id: str
    category: str
    attack: str
    build: Build
    status: int
    error: str | None
    source: str
    path: str = PRIVATE
    fetches: int | None = None
    reason: str | None = None

    @property
    def answer(self) -> str:
        if self.status == 405:
            return "405 (GET only)"
        return f"{self.status} {self.error}" if self.error else str(self.status)


def bearer(token: str) -> Attack:
    return Attack(f"Bearer {token}")


def forged(name: str, **options: Any) -> Build:
    """A build sending ``mock_idp.forge(name, **options)`` as a bearer token."""
    return lambda scene: bearer(scene.idp.forge(name, **options))


def minted(**options: Any) -> Build:
    """A build sending ``mock_idp.mint(**options)`` as a bearer token."""
    return lambda scene: bearer(scene.idp.mint(**options))


def claims(**values: Any) -> Build:
    return minted(claims=values)


def without(*names: str) -> Build:
    return minted(remove_claims=list(names))


def with_setting(name: str, value: str) -> Build:
    """A valid token, sent once the Django setting ``name`` is ``value``."""

    def build(scene: Scene) -> Attack:
        setattr(scene.settings, name, value)
        return bearer(scene.idp.mint())

    return build


#: Expected status and ``error`` code (None: no error body).
Answer = tuple[int, str | None]

CASES: list[Case] = []


def case(
    id: str,
    category: str,
    attack: str,
    build: Build,
    answer: Answer,
    source: str,
    **extra: Any,
) -> None:
    """Add one case to ``CASES``; ids must be unique, and a refusal names its ``reason``."""
    if any(existing.id == id for existing in CASES):
        raise ValueError(f"duplicate case id {id!r}")
    if (answer[0] in (200, 405)) == (extra.get("reason") is not None):
        raise ValueError(f"{id}: a refusal, and only a refusal, names the reason logged")
    CASES.append(Case(id, category, attack, build, answer[0], answer[1], source, **extra))


OK: Answer = (200, None)
INVALID: Answer = (401, "invalid_token")
SCOPE: Answer = (403, "insufficient_scope")
MISSING: Answer = (401, "missing_authorization")
NOT_BEARER: Answer = (401, "unsupported_token_type")
TWO_PLACES: Answer = (400, "invalid_request")
UNAVAILABLE: Answer = (503, "temporarily_unavailable")
NOT_ALLOWED: Answer = (405, None)

# -- baseline: what must keep working --------------------------------------------------------------

BASE = "baseline"
case("valid-machine-token", BASE, "Auth0 client-credentials token", minted(), OK, README_TOKENS)
case(
    "valid-user-token-aud-list",
    BASE,
    "user token, `aud` a list holding ours and /userinfo",
    minted(user=True, scope="openid read:messages"),
    OK,
    RFC7519_41,
    path=SCOPED,
)
case(
    "valid-typ-at-jwt",
    BASE,
    "RFC 9068 `typ: at+jwt`",
    minted(header={"typ": "at+jwt"}),
    OK,
    RFC9068_21,
)
case(
    "valid-typ-application-at-jwt-uppercase",
    BASE,
    "`typ: APPLICATION/AT+JWT` (media types are case-insensitive)",
    minted(header={"typ": "APPLICATION/AT+JWT"}),
    OK,
    RFC9068_21,
)
case("valid-no-typ", BASE, "no `typ` header", minted(remove_header=["typ"]), OK, RFC8725_311)

# -- algorithms ------------------------------------------------------------------------------------

ALG = "algorithm"
_CASINGS = {"none": "lowercase", "None": "capitalised", "NONE": "uppercase", "nOnE": "mixed-case"}
# A real signature keeps the token well-formed, so that the algorithm rule is what refuses it.
for _alg in ALG_NONE_VARIANTS:
    case(
        f"alg-none-{_CASINGS[_alg]}",
        ALG,
        f"`alg: {_alg}` over a real RS256 signature",
        forged("alg_none", alg=_alg, signature="original"),
        INVALID,
        f"{RFC8725_31}; {PS_NONE}; {JT_NONE}",
        fetches=0,
        reason="alg_not_allowed",
    )
case(
    "alg-missing",
    ALG,
    "no `alg` header, real signature",
    forged("missing_alg"),
    INVALID,
    RFC7515_41,
    fetches=0,
    reason="alg_not_allowed",
)
_HMAC_FORMS = {
    "pem": "PEM SubjectPublicKeyInfo",
    "pem_no_newline": "PEM without the trailing newline",
    "pkcs1": "PKCS#1 PEM",
    "der": "DER SubjectPublicKeyInfo",
    "jwk": "the public JWK as JSON",
    "n": "the raw modulus `n`",
}
for _hs in ("HS256", "HS384", "HS512"):
    for _form, _what in _HMAC_FORMS.items():
        case(
            f"alg-{_hs.lower()}-keyed-with-{_form.replace('_', '-')}",
            ALG,
            f"{_hs} keyed with the RSA public key: {_what}",
            forged("hmac_public_key", alg=_hs, key_form=_form),
            INVALID,
            f"CVE-2024-37568; {RFC8725_31}; {PS_CONFUSION}; {JT_CONFUSION}",
            fetches=0,
            reason="alg_not_allowed",
        )
_MORE_FORMS = {
    "pkcs1_no_newline": "PKCS#1 PEM without the trailing newline",
    "pkcs1_der": "PKCS#1 DER",
    "certificate_pem": "the x509 certificate PEM",
    "n_b64url": "`n` as base64url text",
}
for _form, _what in _MORE_FORMS.items():
    case(
        f"alg-hs256-keyed-with-{_form.replace('_', '-')}",
        ALG,
        f"HS256 keyed with the RSA public key: {_what}",
        forged("hmac_public_key", key_form=_form),
        INVALID,
        f"CVE-2024-37568; {PS_CONFUSION}",
        fetches=0,
        reason="alg_not_allowed",
    )
for _secret in COMMON_HMAC_SECRETS:
    case(
        f"alg-hs256-secret-{_secret or 'blank'}",
        ALG,
        f"HS256 with the secret {_secret!r}",
        forged("hmac_secret", secret=_secret),
        INVALID,
        f"{RFC8725_32}; {PS_WEAK}; {JT_BLANK if not _secret else JT_CRACK}",
        fetches=0,
        reason="alg_not_allowed",
    )
case(
    "alg-hs256-in-the-settings",
    ALG,
    "`AUTH0_ALGORITHMS=RS256,HS256`: an operator's allow-list with a symmetric algorithm fails"
    " closed, a valid token included",
    with_setting("AUTH0_ALGORITHMS", "RS256,HS256"),
    UNAVAILABLE,
    f"{RFC8725_32}; {README_TOKENS}",
    fetches=0,
    reason="misconfigured",
)
for _other in ("RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"):
    case(
        f"alg-{_other.lower()}-not-allowed",
        ALG,
        f"{_other}, signed by a key the JWKS publishes; only RS256 is allowed",
        forged("other_algorithm", alg=_other),
        INVALID,
        f"{RFC8725_31}; RFC 7518 §3.1",
        fetches=0,
        reason="alg_not_allowed",
    )
for _slug, _value in {
    "unknown": "XYZ256",
    "empty": "",
    "lowercase-rs256": "rs256",
    "list": ["RS256"],
    "null": None,
}.items():
    case(
        f"alg-{_slug}",
        ALG,
        f"`alg: {json.dumps(_value)}`, real signature",
        minted(header={"alg": _value}),
        INVALID,
        f"{RFC7515_41}; {RFC8725_31}",
        fetches=0,
        reason="alg_not_allowed",
    )
case(
    "alg-duplicate-member-last-none",
    ALG,
    'header JSON `{"alg":"RS256","alg":"none",...}`: the last member wins',
    forged("duplicate_header", first="RS256", last="none"),
    INVALID,
    f"{RFC7515_5}; {RFC8725_31}",
    fetches=0,
    reason="alg_not_allowed",
)
case(
    "alg-duplicate-member-last-rs256",
    ALG,
    'header JSON `{"alg":"none","alg":"RS256",...}`, really signed: RS256 wins, as RFC 7515 says',
    forged("duplicate_header", first="none", last="RS256"),
    OK,
    RFC7515_5,
)

case(
    "alg-trailing-space",
    ALG,
    '`alg: "RS256 "` (a trailing space), real signature',
    minted(header={"alg": "RS256 "}),
    INVALID,
    f"{RFC7515_41}; {RFC8725_31}",
    fetches=0,
    reason="alg_not_allowed",
)

# -- header ----------------------------------------------------------------------------------------

HEADER = "header"
#: Where a token signed by the attacker's key fails, by its ``kid``: the real one finds the real
#: key, which does not verify it; the attacker's is not in the JWKS; none is refused up front.
_KID_MODE_REASONS = {"real": "signature_invalid", "foreign": "kid_unknown", "none": "kid_missing"}


def _embedded_jwk(kid: str) -> Build:
    """A 1024-bit attacker key: its ``jwk`` keeps the header within joserfc's 512-character
    bound, so that key selection, which never reads ``jwk``, is what refuses the token."""
    return lambda scene: bearer(
        scene.idp.forge("embedded_jwk", kid=kid, attacker=scene.keys.rsa_1024)
    )


for _mode in ("real", "foreign", "none"):
    case(
        f"header-embedded-jwk-kid-{_mode}",
        HEADER,
        f"attacker's key embedded as `jwk` (kid: {_mode}), token signed with it",
        _embedded_jwk(_mode),
        INVALID,
        f"CVE-2018-0114; {RFC8725_310}; {PS_JWK}; {JT_INLINE_JWKS}",
        fetches=0 if _mode == "none" else 1,
        reason=_KID_MODE_REASONS[_mode],
    )
case(
    "header-embedded-jwk-2048",
    HEADER,
    "a 2048-bit attacker key embedded as `jwk`: longer than the 512-character header bound",
    forged("embedded_jwk"),
    INVALID,
    f"{RFC8725_310}; {PS_JWK}",
    fetches=0,
    reason="token_malformed",
)
for _mode in ("real", "foreign"):
    case(
        f"header-jku-kid-{_mode}",
        HEADER,
        f"`jku` pointing at the attacker's JWKS (kid: {_mode})",
        forged("jku", kid=_mode),
        INVALID,
        f"{RFC7515_41}; {PS_JKU}; {JT_SPOOF_JWKS}",
        reason=_KID_MODE_REASONS[_mode],
    )
case(
    "header-x5u",
    HEADER,
    "`x5u` pointing at the attacker's certificate",
    forged("x5u"),
    INVALID,
    f"{RFC7515_41}; {RFC8725_310}",
    reason="signature_invalid",
)
case(
    "header-x5c",
    HEADER,
    "attacker's self-signed certificate in `x5c` (no certificate fits the 512-character header "
    "bound; `x5c` is never read either)",
    forged("x5c"),
    INVALID,
    f"{RFC7515_41}; {RFC8725_310}",
    reason="token_malformed",
)
case(
    "header-kid-path-traversal-hs256-null-key",
    HEADER,
    "`kid: ../../../../../../dev/null`, HS256 keyed with a null byte",
    forged("hmac_secret", secret=b"\x00", header={"kid": "../../../../../../dev/null"}),
    INVALID,
    f"{PS_KID}; {JT_INJECT}",
    fetches=0,
    reason="alg_not_allowed",
)
_KIDS = {
    "path-traversal": "../../../../../../etc/passwd",
    "absolute-path": "/dev/null",
    "sql-injection-union": "x' UNION SELECT 'secret' -- ",
    "sql-injection-or": "' OR '1'='1",
    "command-injection-pipe": "key.pem|whoami",
    "command-injection-subshell": "$(id)",
    "unknown": "unknown-kid",
    # One over the validator's 256 (token_format.MAX_KID_LENGTH): the boundary.
    "very-long": "k" * 257,
}
for _slug, _bad_kid in _KIDS.items():
    case(
        f"header-kid-{_slug}",
        HEADER,
        f"`kid` {_slug.replace('-', ' ')}"
        + (f": `{_bad_kid}`" if len(_bad_kid) < 40 else f" ({len(_bad_kid)} characters)")
        + ", signed by the real key",
        forged("unknown_kid", kid=_bad_kid),
        INVALID,
        f"{RFC7515_41}; {PS_KID}; {JT_INJECT}",
        fetches=0 if _slug == "very-long" else 1,
        reason="kid_too_long" if _slug == "very-long" else "kid_unknown",
    )
case(
    "header-kid-real-in-uppercase",
    HEADER,
    "the real `kid` in upper case, signed by the real key",
    lambda scene: bearer(scene.idp.mint(header={"kid": scene.idp.keys.signing_key.kid.upper()})),
    INVALID,
    RFC7515_41,
    fetches=1,
    reason="kid_unknown",
)
_ODD_KIDS: dict[str, Any] = {
    "empty": "",
    "number": 7,
    "list": ["a"],
    "object": {"a": 1},
    "null": None,
}
for _slug, _odd_kid in _ODD_KIDS.items():
    case(
        f"header-kid-{_slug}",
        HEADER,
        f"`kid: {json.dumps(_odd_kid)}`, signed by the real key",
        forged("unknown_kid", kid=_odd_kid),
        INVALID,
        f"{RFC7515_41}; {JT_INJECT}",
        fetches=0,
        reason="kid_missing",
    )
case(
    "header-kid-missing",
    HEADER,
    "no `kid`, signed by the real key",
    forged("missing_kid"),
    INVALID,
    RFC7515_41,
    fetches=0,
    reason="kid_missing",
)
case(
    "header-crit-unknown",
    HEADER,
    "`crit` naming an extension nobody understands",
    forged("unknown_crit"),
    INVALID,
    "RFC 7515 §4.1.11; CVE-2025-59420",
    fetches=0,
    reason="crit_not_understood",
)
case(
    "header-crit-empty-list",
    HEADER,
    "`crit: []` (forbidden by RFC 7515)",
    minted(header={"crit": []}),
    INVALID,
    "RFC 7515 §4.1.11",
    fetches=0,
    reason="crit_not_understood",
)
case(
    "header-b64-false-unencoded-payload",
    HEADER,
    "RFC 7797 unencoded payload, `b64: false` listed in `crit`: the payload is no base64url",
    forged("b64_false"),
    INVALID,
    f"{RFC7797}; GHSA-wphv-vfrh-23q5",
    fetches=0,
    reason="token_malformed",
)
# Over an ordinary payload the signing input is the same bytes whatever ``b64`` says, so only
# the header rules can refuse these (RFC 7515 section 4.1.11, RFC 7797 section 6).
case(
    "header-b64-false-in-crit",
    HEADER,
    "`b64: false` listed in `crit`, the payload encoded as usual and really signed",
    minted(header={"b64": False, "crit": ["b64"]}),
    INVALID,
    f"{RFC7797}; GHSA-wphv-vfrh-23q5",
    fetches=0,
    reason="crit_not_understood",
)
for _b64 in (False, True):
    case(
        f"header-b64-{str(_b64).lower()}-without-crit",
        HEADER,
        f"`b64: {str(_b64).lower()}` without `crit`, the payload encoded and really signed",
        minted(header={"b64": _b64}),
        INVALID,
        RFC7797,
        fetches=0,
        reason="b64_not_supported",
    )
for _typ in ("dpop+jwt", "logout+jwt", "secevent+jwt", "token-introspection+jwt", "JOSE", ""):
    case(
        f"header-typ-{_typ.replace('+', '-').lower() or 'empty'}",
        HEADER,
        f"`typ: {_typ!r}`: not an access token, real signature",
        forged("wrong_typ", typ=_typ),
        INVALID,
        f"{RFC8725_311}; {RFC9068_4}",
        fetches=0,
        reason="typ_not_allowed",
    )
case(
    "header-typ-number",
    HEADER,
    "`typ: 1`",
    forged("wrong_typ", typ=1),
    INVALID,
    RFC8725_311,
    fetches=0,
    reason="typ_not_allowed",
)
case(
    "header-typ-null",
    HEADER,
    "`typ: null`, real signature: a member of the wrong JSON type (joserfc's header registry)",
    forged("wrong_typ", typ=None),
    INVALID,
    f"{RFC7515_41}; {RFC8725_311}",
    fetches=0,
    reason="header_invalid",
)


case(
    "header-cty-jwt-nested",
    HEADER,
    "`cty: JWT`, the real issuer's signature over a valid token as payload (a nested JWT)",
    forged("nested_jwt", scope="read:messages"),
    INVALID,
    "RFC 7519 §5.2, §7.2 step 8; RFC 9068 §2",
    path=SCOPED,
    reason="claims_not_json",
)

for _slug, _what in (("string", '"exp"'), ("number", "1")):
    case(
        f"header-crit-{_slug}",
        HEADER,
        f"`crit: {_what}`: not even a list",
        minted(header={"crit": json.loads(_what)}),
        INVALID,
        "RFC 7515 §4.1.11",
        fetches=0,
        reason="crit_not_understood",
    )

# -- signature -------------------------------------------------------------------------------------

SIG = "signature"
case(
    "sig-stripped-keep-dot",
    SIG,
    "signature removed, trailing dot kept",
    forged("stripped_signature"),
    INVALID,
    f"{RFC7515_7}; {PS_UNVERIFIED}; {JT_NULL_SIG}",
    fetches=0,
    reason="token_malformed",
)
case(
    "sig-stripped-no-dot",
    SIG,
    "signature and its dot removed",
    forged("stripped_signature", keep_dot=False),
    INVALID,
    RFC7515_7,
    fetches=0,
    reason="token_malformed",
)
for _mode, _what in {
    "zero": "all null bytes",
    "truncate": "truncated by one byte",
    "flip": "one bit flipped",
    "other_token": "swapped in from another valid token",
}.items():
    case(
        f"sig-{_mode.replace('_', '-')}",
        SIG,
        f"signature {_what}",
        forged("tampered_signature", mode=_mode),
        INVALID,
        f"{RFC7515_7}; {PS_UNVERIFIED}",
        reason="signature_invalid",
    )
case(
    "sig-null-byte-appended",
    SIG,
    "a NUL character after the signature",
    forged("respelled_signature", mode="nul_appended"),
    INVALID,
    RFC7515_7,
    fetches=0,
    reason="token_malformed",
)
case(
    "sig-foreign-key-real-kid",
    SIG,
    "signed by a never-published key under the real `kid`",
    forged("foreign_key"),
    INVALID,
    RFC7515_5,
    reason="signature_invalid",
)
case(
    "sig-payload-tampered",
    SIG,
    "`scope` escalated after signing, signature kept",
    forged("tampered_payload", scope=""),
    INVALID,
    f"{RFC7515_7}; {PS_UNVERIFIED}",
    path=SCOPED,
    reason="signature_invalid",
)


case(
    "sig-header-tampered",
    SIG,
    "header changed after signing (`typ` rewritten), signature kept",
    forged("tampered_header", changes={"typ": "at+jwt"}),
    INVALID,
    RFC7515_7,
    reason="signature_invalid",
)


# RFC 8017 section 8.2.2: the signature is an integer below the modulus, exactly k bytes long.
for _mode, _slug, _what in (
    ("leading_zero", "leading-zero-added",
     "the real signature with a 0x00 byte prepended (k + 1 bytes)"),
    ("one_byte", "single-byte", "a one-byte signature"),
    ("modulus", "equal-to-the-modulus", "the modulus `n` itself as the signature"),
):  # fmt: skip
    case(
        f"sig-{_slug}",
        SIG,
        _what,
        forged("tampered_signature", mode=_mode),
        INVALID,
        "RFC 8017 §8.2.2",
        fetches=1,
        reason="signature_invalid",
    )


def _leading_zero_stripped(alg: str) -> Build:
    """A real ``alg`` signature beginning with 0x00, that byte dropped: the same integer in
    k - 1 bytes. OpenSSL refuses it for PKCS #1 v1.5 but verifies it for PSS."""

    def build(scene: Scene) -> Attack:
        scene.settings.AUTH0_ALGORITHMS = alg
        serve_jwks(scene, [{**scene.idp.jwks()["keys"][0], "alg": alg}])
        token = scene.idp.forge("tampered_signature", mode="leading_zero_stripped", algorithm=alg)
        return bearer(token)

    return build


for _alg in ("RS256", "PS256", "PS512"):
    case(
        f"sig-leading-zero-stripped-{_alg.lower()}",
        SIG,
        f"a real {_alg} signature beginning with 0x00, that byte dropped (k - 1 bytes, the same "
        "integer): one token, two spellings",
        _leading_zero_stripped(_alg),
        INVALID,
        "RFC 8017 §8.1.2, §8.2.2; RFC 7515 §5.2",
        fetches=1,
        reason="signature_invalid",
    )
case(
    "sig-pss-labelled-rs256",
    SIG,
    "a PS256 signature by the real key, the header saying RS256",
    minted(algorithm="PS256", header={"alg": "RS256"}),
    INVALID,
    f"{RFC8725_31}; RFC 7518 §3.3",
    fetches=1,
    reason="signature_invalid",
)

# -- claims ----------------------------------------------------------------------------------------

CLAIMS = "claims"
case(
    "claims-exp-past",
    CLAIMS,
    "expired an hour ago",
    forged("expired"),
    INVALID,
    RFC7519_41,
    reason="token_expired",
)
case(
    "claims-exp-past-beyond-leeway",
    CLAIMS,
    "expired 40 s ago (leeway is 30 s)",
    forged("expired", by=40),
    INVALID,
    f"{RFC7519_41}; RFC 7519 §4.1.4",
    reason="token_expired",
)
case(
    "claims-exp-past-within-leeway",
    CLAIMS,
    "expired 20 s ago: within the 30 s leeway",
    forged("expired", by=20),
    OK,
    "RFC 7519 §4.1.4",
)


def _expiring_exactly_at_the_leeway(scene: Scene) -> Attack:
    """``exp`` equal to now minus the leeway, the validator's clock held on that second: "on or
    after" ``exp`` the token is expired (joserfc before 1.8 still took it)."""
    now = int(scene.idp.clock.now())
    _validator_clock_at(scene, float(now))
    return bearer(scene.idp.mint(issued_at=now - 3600, claims={"exp": now - 30}))


case(
    "claims-exp-exactly-at-the-leeway",
    CLAIMS,
    "`exp` exactly 30 s ago (the leeway), the clock held on that second",
    _expiring_exactly_at_the_leeway,
    INVALID,
    "RFC 7519 §4.1.4",
    reason="token_expired",
)
case(
    "claims-exp-missing",
    CLAIMS,
    "no `exp`",
    without("exp"),
    INVALID,
    RFC9068_22,
    reason="claim_missing",
)
case(
    "claims-exp-string",
    CLAIMS,
    '`exp: "4102444800"` (a string)',
    claims(exp="4102444800"),
    INVALID,
    RFC7519_41,
    reason="claim_invalid_exp",
)
case(
    "claims-exp-boolean",
    CLAIMS,
    "`exp: true`",
    claims(exp=True),
    INVALID,
    RFC7519_41,
    reason="claim_invalid_exp",
)
case(
    "claims-exp-overflow",
    CLAIMS,
    "`exp: 1e400` (parses to infinity)",
    forged("malformed", shape="payload_exp_overflow"),
    INVALID,
    RFC7519_41,
    reason="claims_not_json",
)
case(
    "claims-exp-huge-integer",
    CLAIMS,
    "`exp: 2**64`, signed by the IdP: no maximum lifetime is enforced",
    claims(exp=2**64),
    OK,
    "RFC 7519 §4.1.4",
)
case(
    "claims-nbf-future",
    CLAIMS,
    "`nbf` an hour ahead",
    forged("future_nbf"),
    INVALID,
    RFC7519_41,
    reason="claim_invalid_nbf",
)
case(
    "claims-nbf-future-within-leeway",
    CLAIMS,
    "`nbf` 20 s ahead: within the leeway",
    forged("future_nbf", by=20),
    OK,
    "RFC 7519 §4.1.5",
)
case(
    "claims-nbf-string",
    CLAIMS,
    "`nbf` a string",
    claims(nbf="yesterday"),
    INVALID,
    RFC7519_41,
    reason="claim_invalid_nbf",
)
case(
    "claims-iat-future",
    CLAIMS,
    "`iat` an hour ahead",
    forged("future_iat"),
    INVALID,
    RFC7519_41,
    reason="claim_invalid_iat",
)
case(
    "claims-iat-missing",
    CLAIMS,
    "no `iat`",
    without("iat"),
    INVALID,
    RFC9068_22,
    reason="claim_missing",
)
case(
    "claims-iat-string",
    CLAIMS,
    "`iat` a string",
    claims(iat="now"),
    INVALID,
    RFC7519_41,
    reason="claim_invalid_iat",
)
for _variant, _what in {
    "attacker": "another tenant",
    "no_trailing_slash": "without the trailing slash",
    "http": "`http` instead of `https`",
    "uppercase_host": "host in upper case",
    "suffix": "our host as a prefix of another",
    "empty": "empty",
}.items():
    case(
        f"claims-iss-{_variant.replace('_', '-')}",
        CLAIMS,
        f"`iss` {_what}",
        forged("wrong_issuer", variant=_variant),
        INVALID,
        f"{RFC7519_41}; {RFC8725_39}",
        reason="claim_invalid_iss",
    )
case(
    "claims-iss-homoglyph",
    CLAIMS,
    "`iss` with a Cyrillic U+0430 for the first `a` (homoglyph)",
    lambda scene: bearer(
        scene.idp.forge("wrong_issuer", iss=scene.idp.issuer.replace("a", "\u0430", 1))
    ),
    INVALID,
    RFC8725_39,
    reason="claim_invalid_iss",
)
case(
    "claims-iss-list",
    CLAIMS,
    "`iss` a list holding the issuer",
    lambda scene: bearer(scene.idp.forge("wrong_issuer", iss=[scene.idp.issuer])),
    INVALID,
    RFC7519_41,
    reason="claim_invalid_iss",
)
case(
    "claims-iss-missing",
    CLAIMS,
    "no `iss`",
    forged("missing_issuer"),
    INVALID,
    RFC9068_22,
    reason="claim_missing",
)
for _variant, _what in {
    "other": "another API",
    "list_without": "a list without ours",
    "trailing_slash": "ours plus a trailing slash (suffix)",
    "uppercase": "ours in upper case",
    "empty": "empty",
    "empty_list": "an empty list",
}.items():
    case(
        f"claims-aud-{_variant.replace('_', '-')}",
        CLAIMS,
        f"`aud` {_what}",
        forged("wrong_audience", variant=_variant),
        INVALID,
        f"{RFC7519_41}; {RFC8725_39}",
        reason="claim_invalid_aud",
    )
case(
    "claims-aud-prefix",
    CLAIMS,
    "`aud` a prefix of ours",
    lambda scene: bearer(scene.idp.forge("wrong_audience", aud=(scene.idp.audience or "")[:-3])),
    INVALID,
    RFC8725_39,
    reason="claim_invalid_aud",
)
case(
    "claims-aud-suffix-host",
    CLAIMS,
    "`aud` ours with another domain appended",
    lambda scene: bearer(
        scene.idp.forge("wrong_audience", aud=f"{scene.idp.audience}.attacker.example")
    ),
    INVALID,
    RFC8725_39,
    reason="claim_invalid_aud",
)
case(
    "claims-aud-number",
    CLAIMS,
    "`aud: 12345`",
    forged("wrong_audience", aud=12345),
    INVALID,
    RFC7519_41,
    reason="claim_invalid_aud",
)
case(
    "claims-aud-nested-list",
    CLAIMS,
    "`aud` a list holding a list holding ours",
    lambda scene: bearer(scene.idp.forge("wrong_audience", aud=[[scene.idp.audience]])),
    INVALID,
    RFC7519_41,
    reason="claim_invalid_aud",
)
case(
    "claims-aud-missing",
    CLAIMS,
    "no `aud`",
    forged("missing_audience"),
    INVALID,
    RFC9068_22,
    reason="claim_missing",
)
case(
    "claims-sub-missing",
    CLAIMS,
    "no `sub`",
    forged("missing_subject"),
    INVALID,
    RFC9068_22,
    reason="claim_missing",
)
case(
    "claims-sub-number",
    CLAIMS,
    "`sub: 12345`",
    forged("wrong_subject"),
    INVALID,
    RFC7519_41,
    reason="claim_invalid_sub",
)
case(
    "claims-payload-nan",
    CLAIMS,
    "`exp: NaN` (not JSON)",
    forged("malformed", shape="payload_nan"),
    INVALID,
    "RFC 7519 §7.2",
    reason="claims_not_json",
)
case(
    "claims-payload-deeply-nested",
    CLAIMS,
    "claims nested 5000 arrays deep, never closed: the recursion limit or the syntax refuses "
    "them (Python 3.13 parses that depth), never a crash",
    forged("malformed", shape="payload_deeply_nested"),
    INVALID,
    "RFC 7519 §7.2",
    reason="claims_not_json",
)


_reason: str | None  # a refusal, and only a refusal, names the reason
for _slug, _what, _build, _reason, _source in (
    ("payload-utf16", "the claims set in UTF-16", forged("malformed", shape="payload_utf16"),
     "claims_not_json", f"{RFC7519_41}; RFC 8259 §8.1"),
    ("payload-bom", "the claims set after a UTF-8 byte order mark",
     forged("malformed", shape="payload_bom"), "claims_not_json", f"{RFC7519_41}; RFC 8259 §8.1"),
    ("exp-5000-digits", "`exp` a 5000-digit integer: over CPython's default limit of 4300 "
     "digits, which keeps int parsing from taking quadratic time",
     forged("malformed", shape="payload_exp_5000_digits"), "claims_not_json", "CVE-2020-10735"),
    ("aud-duplicate-ours-first", "two `aud` members, ours first: the last one wins",
     forged("duplicate_claim", claim="aud"), "claim_invalid_aud", f"{RFC7519_41}; {RFC7515_5}"),
):  # fmt: skip
    case(
        f"claims-{_slug}",
        CLAIMS,
        _what,
        _build,
        INVALID,
        _source,
        fetches=1,
        reason=_reason,
    )
for _slug, _values, _reason in (
    ("iat-boolean", {"iat": True}, "claim_invalid_iat"),
    ("nbf-boolean", {"nbf": True}, "claim_invalid_nbf"),
    ("nbf-1e308", {"nbf": 1e308}, "claim_invalid_nbf"),
    ("sub-empty", {"sub": ""}, "claim_invalid_sub"),
    ("exp-null", {"exp": None}, "claim_missing"),
    ("iss-null", {"iss": None}, "claim_missing"),
    ("aud-null", {"aud": None}, "claim_missing"),
    ("aud-list-with-number", {"aud": [DEFAULT_AUDIENCE, 5]}, "claim_invalid_aud"),
    ("aud-list-with-null", {"aud": [DEFAULT_AUDIENCE, None]}, "claim_invalid_aud"),
    ("aud-object", {"aud": {DEFAULT_AUDIENCE: True}}, "claim_invalid_aud"),
    ("jti-number", {"jti": 5}, "claim_invalid_jti"),
):
    case(
        f"claims-{_slug}",
        CLAIMS,
        f"`{json.dumps(_values)[1:-1]}`",
        claims(**_values),
        INVALID,
        RFC7519_41,
        fetches=1,
        reason=_reason,
    )


def _issuer(change: Callable[[str], str]) -> Build:
    return lambda scene: bearer(scene.idp.mint(claims={"iss": change(scene.idp.issuer)}))


for _slug, _what, _change in (
    ("port-443", "the default port written out", lambda iss: iss.replace(".test/", ".test:443/")),
    ("double-slash", "a second trailing slash", lambda iss: iss + "/"),
    ("trailing-space", "a trailing space", lambda iss: iss + " "),
    ("combining-accent", "a combining accent in the host (NFC would differ)",
     lambda iss: iss.replace("tenant", "te\u0301nant")),
):  # fmt: skip
    case(
        f"claims-iss-{_slug}",
        CLAIMS,
        f"`iss`: the issuer with {_what}; compared exactly",
        _issuer(_change),
        INVALID,
        f"{RFC7519_41}; RFC 8414 §3.3",
        fetches=1,
        reason="claim_invalid_iss",
    )

# -- scope -----------------------------------------------------------------------------------------

SCOPES = "scope"
for _slug, _scope, _answer in (
    ("exact", "read:messages", OK),
    ("among-others", "openid read:messages profile", OK),
    ("surrounded-by-spaces", "  read:messages  ", OK),
    ("substring", "read:message", SCOPE),
    ("prefix-of-a-longer-scope", "read:messages:all", SCOPE),
    ("suffix-of-a-longer-scope", "xread:messages", SCOPE),
    ("uppercase", "READ:MESSAGES", SCOPE),
    ("tab-separated", "openid\tread:messages", SCOPE),
    ("nbsp-separated", "openid\u00a0read:messages", SCOPE),
    ("ideographic-space-separated", "openid\u3000read:messages", SCOPE),
    ("comma-separated", "openid,read:messages", SCOPE),
    ("plus-separated", "openid+read:messages", SCOPE),
    ("none", "", SCOPE),
):
    case(
        f"scope-{_slug}",
        SCOPES,
        f"`scope: {json.dumps(_scope)}` on the scoped route",
        minted(scope=_scope),
        _answer,
        "RFC 6749 §3.3; RFC 9068 §2.2.3" + (f"; {RFC6750_31}" if _answer == SCOPE else ""),
        path=SCOPED,
        reason="insufficient_scope" if _answer == SCOPE else None,
    )
case(
    "scope-list-instead-of-string",
    SCOPES,
    '`scope: ["read:messages"]`',
    forged("non_string_scope"),
    INVALID,
    "RFC 9068 §2.2.3",
    path=SCOPED,
    reason="scope_not_a_string",
)
case(
    "scope-null",
    SCOPES,
    "`scope: null`",
    claims(scope=None),
    INVALID,
    "RFC 9068 §2.2.3",
    path=SCOPED,
    reason="scope_not_a_string",
)
case(
    "scope-permissions-grant",
    SCOPES,
    'Auth0 RBAC `permissions: ["read:messages"]`, empty `scope`',
    minted(scope="", permissions=["read:messages"]),
    OK,
    "Auth0 RBAC permissions",
    path=SCOPED,
)
_PERMISSIONS: list[tuple[str, Any, Answer]] = [
    ("string", "read:messages", INVALID),
    ("object", {"read:messages": True}, INVALID),
    ("list-of-numbers", [1], INVALID),
    ("null", None, INVALID),
    ("uppercase", ["READ:MESSAGES"], SCOPE),
    ("trailing-space", ["read:messages "], SCOPE),
    ("space-joined", ["openid read:messages"], SCOPE),
]
for _slug, _value, _answer in _PERMISSIONS:
    case(
        f"scope-permissions-{_slug}",
        SCOPES,
        f"`permissions: {json.dumps(_value)}`, empty `scope`",
        minted(scope="", claims={"permissions": _value}),
        _answer,
        "Auth0 RBAC permissions" + (f"; {RFC6750_31}" if _answer == SCOPE else ""),
        path=SCOPED,
        reason="insufficient_scope" if _answer == SCOPE else "permissions_not_a_list_of_strings",
    )

case(
    "scope-permissions-string-beside-scope",
    SCOPES,
    '`scope: "read:messages"` and `permissions: "x"` (not a list)',
    minted(scope="read:messages", claims={"permissions": "x"}),
    INVALID,
    "Auth0 RBAC permissions",
    path=SCOPED,
    reason="permissions_not_a_list_of_strings",
)
for _slug, _what, _build in (
    ("scp-instead-of-scope", '`scp: ["read:messages"]`, empty `scope`',
     minted(scope="", claims={"scp": ["read:messages"]})),
    ("with-nul", '`scope: "read:messages\\u0000"`', minted(scope="read:messages\x00")),
    ("permissions-empty-string", '`permissions: [""]`, empty `scope`',
     minted(scope="", claims={"permissions": [""]})),
):  # fmt: skip
    case(
        f"scope-{_slug}",
        SCOPES,
        f"{_what} on the scoped route",
        _build,
        SCOPE,
        f"RFC 9068 §2.2.3; {RFC6750_31}",
        path=SCOPED,
        reason="insufficient_scope",
    )

# -- request ---------------------------------------------------------------------------------------

REQUEST = "request"


def _authorization(template: str) -> Build:
    """A raw ``Authorization`` value; ``{t}`` is a valid token."""
    return lambda scene: Attack(template.replace("{t}", scene.idp.mint()))


for _slug, _template, _answer, _reason, _source in (
    ("no-authorization", None, MISSING, "no_credentials", RFC6750_31),
    ("blank-authorization", "   ", MISSING, "no_credentials", RFC6750_31),
    ("basic-scheme", "Basic dXNlcjpwYXNzd29yZA==", NOT_BEARER, "not_bearer", RFC6750_31),
    ("token-scheme", "Token {t}", NOT_BEARER, "not_bearer", RFC6750_21),
    ("dpop-scheme", "DPoP {t}", NOT_BEARER, "not_bearer", "RFC 9449 §7.1"),
    ("no-scheme", "{t}", NOT_BEARER, "not_bearer", RFC6750_21),
    ("tab-after-scheme", "Bearer\t{t}", NOT_BEARER, "not_bearer", "RFC 7235 §2.1"),
    ("empty-bearer", "Bearer ", INVALID, "token_empty", RFC6750_21),
    ("bare-bearer", "Bearer", INVALID, "token_empty", RFC6750_21),
    ("extra-spaces", "  Bearer    {t}  ", OK, None, RFC6750_21),
    ("lowercase-scheme", "bearer {t}", OK, None, "RFC 7235 §2.1"),
    ("uppercase-scheme", "BEARER {t}", OK, None, "RFC 7235 §2.1"),
    ("trailing-junk", "Bearer {t} junk", INVALID, "token_malformed", RFC6750_21),
    ("two-headers-joined-comma-space", "Bearer {t}, Bearer {t}", INVALID, "token_malformed",
     "RFC 9110 §5.3"),
    ("two-headers-joined-comma", "Bearer {t},Bearer x.y.z", INVALID, "token_malformed",
     "RFC 9110 §5.3"),
    ("two-headers-basic-then-bearer", "Basic dXNlcjpw, Bearer {t}", NOT_BEARER, "not_bearer",
     "RFC 9110 §5.3"),
    ("oversized-header", "Bearer " + "A" * (1024 * 1024), INVALID, "token_too_large",
     "CVE-2025-61920"),
    ("non-ascii-token", "Bearer \u00e9t\u00e9.a.b", INVALID, "token_malformed", RFC6750_21),
    ("tab-before-token", "Bearer \t{t}", INVALID, "token_malformed", RFC6750_21),  # 1*SP only
):  # fmt: skip
    case(
        f"request-{_slug}",
        REQUEST,
        "no `Authorization` header"
        if _template is None
        else "`Authorization: "
        + (_template if len(_template) < 60 else _template[:12] + "… (1 MiB)")
        .replace("{t}", "<token>")
        .replace("\t", "\\t")
        + "`"
        + (" (what a WSGI server passes on for two headers)" if "two" in _slug else ""),
        (lambda scene: Attack(None)) if _template is None else _authorization(_template),
        _answer,
        _source,
        fetches=None if _answer == OK else 0,
        reason=_reason,
    )
case(
    "request-token-in-query-only",
    REQUEST,
    "token in `?access_token=` only",
    lambda scene: Attack(None, query={"access_token": scene.idp.mint()}),
    MISSING,
    f"{RFC6750_2}; {RFC9068_4}",
    fetches=0,
    reason="no_credentials",
)
case(
    "request-token-in-get-body-only",
    REQUEST,
    "token in a form body of a GET only",
    lambda scene: Attack(None, form={"access_token": scene.idp.mint()}),
    MISSING,
    "RFC 6750 §2.2",
    fetches=0,
    reason="no_credentials",
)
case(
    "request-header-plus-query",
    REQUEST,
    "token in the header and in `?access_token=`",
    lambda scene: Attack(f"Bearer {scene.idp.mint()}", query={"access_token": scene.idp.mint()}),
    TWO_PLACES,
    f"{RFC6750_2}; {RFC6750_31}",
    fetches=0,
    reason="token_in_two_places",
)
case(
    "request-header-plus-empty-query",
    REQUEST,
    "token in the header and an empty `?access_token=`",
    lambda scene: Attack(f"Bearer {scene.idp.mint()}", query={"access_token": ""}),
    TWO_PLACES,
    RFC6750_2,
    fetches=0,
    reason="token_in_two_places",
)
case(
    "request-header-plus-get-body",
    REQUEST,
    "valid header token plus `access_token` in a GET body: GET bodies carry no form "
    "parameters, the body is ignored",
    lambda scene: Attack(f"Bearer {scene.idp.mint()}", form={"access_token": "x"}),
    OK,
    "RFC 6750 §2.2",
)
case(
    "request-header-plus-post-body",
    REQUEST,
    "token in the header and in a POST form body: refused before authentication",
    lambda scene: Attack(
        f"Bearer {scene.idp.mint()}", form={"access_token": scene.idp.mint()}, method="POST"
    ),
    NOT_ALLOWED,
    'RFC 6750 §2.2; README "The API"',
    fetches=0,
)


def _token_of_length(length: int) -> Build:
    """A real token exactly ``length`` characters long (padded with a private claim)."""

    def build(scene: Scene) -> Attack:
        base = len(scene.idp.mint(claims={"x-pad": "", "x": ""}))
        start = (length - base) * 3 // 4 - 4  # base64url: 4 characters per 3 bytes
        for pad in range(start, start + 8):
            for extra in ("", "B", "BB"):
                token = scene.idp.mint(claims={"x-pad": "A" * pad, "x": extra})
                if len(token) == length:
                    return bearer(token)
        raise AssertionError(f"no token of {length} characters")

    return build


for _slug, _length, _answer, _reason in (
    ("token-at-the-limit", 16 * 1024, OK, None),
    ("token-one-over-the-limit", 16 * 1024 + 1, INVALID, "token_too_large"),
):
    case(
        f"request-{_slug}",
        REQUEST,
        f"a real token of {_length} characters (the API takes up to 16 KiB)",
        _token_of_length(_length),
        _answer,
        "RFC 9110 §5.4",
        fetches=1 if _answer == OK else 0,
        reason=_reason,
    )

# -- signing keys ----------------------------------------------------------------------------------

KEYS = "signing-keys"


def serve_jwks(scene: Scene, members: list[Any]) -> None:
    """Make the IdP's JWKS route answer ``{"keys": members}``."""
    body = json.dumps({"keys": members}).encode()
    scene.idp.inject_fault(JWKS, Fault(status=200, body=body, content_type="application/json"))


def _symmetric_key(scene: Scene) -> Attack:
    secret = b"shared-secret-published-by-mistake"
    oct_key = {"kty": "oct", "kid": "hmac-1", "k": b64url(secret), "alg": "HS256", "use": "sig"}
    serve_jwks(scene, [oct_key, *scene.idp.jwks()["keys"]])
    return bearer(scene.idp.forge("hmac_secret", secret=secret, header={"kid": "hmac-1"}))


def _symmetric_beside_good(scene: Scene) -> Attack:
    oct_key = {"kty": "oct", "kid": "hmac-1", "k": b64url(b"x" * 32)}
    serve_jwks(scene, [oct_key, *scene.idp.jwks()["keys"]])
    return bearer(scene.idp.mint())


def _private_members(scene: Scene) -> Attack:
    leaked = scene.keys.secondary
    member = RSAKey.import_key(leaked.private_pem()).as_dict(private=True)
    serve_jwks(scene, [{**member, "kid": leaked.kid}, *scene.idp.jwks()["keys"]])
    return bearer(scene.idp.mint(key=leaked))


def _duplicate_kid(impostor_first: bool) -> Build:
    """The attacker's key published under the real ``kid``, before or after the real one, so
    that neither a first-wins nor a last-wins choice passes."""

    def build(scene: Scene) -> Attack:
        real = scene.idp.keys.signing_key
        impostor = {**scene.idp.foreign_key.public_jwk(), "kid": real.kid}
        pair = [impostor, real.public_jwk()] if impostor_first else [real.public_jwk(), impostor]
        serve_jwks(scene, [*pair, scene.keys.secondary.public_jwk()])
        return bearer(scene.idp.forge("foreign_key"))

    return build


def _kid_shared_across_types(scene: Scene) -> Attack:
    real = scene.idp.keys.signing_key.public_jwk()
    others = [
        {"kty": "oct", "k": b64url(b"x" * 32)},
        scene.keys.ec_p256.public_jwk(),
        {**scene.keys.secondary.public_jwk(), "use": "enc", "alg": "RSA-OAEP"},
    ]
    serve_jwks(scene, [*({**other, "kid": real["kid"]} for other in others), real])
    return bearer(scene.idp.mint())


def _malformed_members(scene: Scene) -> Attack:
    real = scene.idp.keys.signing_key.public_jwk()
    junk: list[Any] = [
        "junk",
        42,
        None,
        [],
        {"kty": "RSA"},
        {"kty": "RSA", "kid": "bad-n", "n": "!!!!", "e": "AQAB"},
        {"kty": "RSA", "kid": "bad-e", "n": real["n"], "e": "%%%"},
        {"kty": "RSA", "kid": 5, "n": real["n"], "e": "AQAB"},
        {"kty": "RSA", "kid": "enc-1", "use": "enc", "n": real["n"], "e": "AQAB"},
    ]
    serve_jwks(scene, [*junk, real])
    return bearer(scene.idp.mint())


def _use_enc(scene: Scene) -> Attack:
    key = scene.keys.secondary
    serve_jwks(scene, [{**key.public_jwk(), "use": "enc"}, *scene.idp.jwks()["keys"]])
    return bearer(scene.idp.mint(key=key))


def _key_ops(ops: list[str]) -> Build:
    def build(scene: Scene) -> Attack:
        real = scene.idp.keys.signing_key.public_jwk()
        serve_jwks(scene, [{**real, "key_ops": ops}])
        return bearer(scene.idp.mint())

    return build


def _member_alg_mismatch(scene: Scene) -> Attack:
    key = scene.keys.secondary
    serve_jwks(scene, [{**key.public_jwk(), "alg": "RS512"}, *scene.idp.jwks()["keys"]])
    return bearer(scene.idp.mint(key=key))


def _member_without_alg(token_alg: str) -> Build:
    """RS256 and PS256 both allowed; the key's member does not say which one it is for."""

    def build(scene: Scene) -> Attack:
        scene.settings.AUTH0_ALGORITHMS = "RS256,PS256"
        serve_jwks(scene, [{k: v for k, v in scene.idp.jwks()["keys"][0].items() if k != "alg"}])
        return bearer(scene.idp.mint(algorithm=token_alg))

    return build


def _member_without_alg_after_its_first_alg(scene: Scene) -> Attack:
    """As ``member-without-alg-second-alg``, once an RS256 token has verified with that key: the
    key rules passed for RS256 are remembered for RS256 only."""
    attack = _member_without_alg("PS256")(scene)
    assert scene.send(bearer(scene.idp.mint()), PRIVATE).status_code == 200
    return attack


def _ec_key_es256(scene: Scene) -> Attack:
    scene.idp.keys.add(scene.keys.ec_p256)
    return bearer(scene.idp.mint(key=scene.keys.ec_p256))


def _ec_key_beside_rsa(scene: Scene) -> Attack:
    scene.idp.keys.add(scene.keys.ec_p256)
    return bearer(scene.idp.mint())


def _ec_key_rs256_claimed(scene: Scene) -> Attack:
    ec_key = scene.keys.ec_p256
    scene.idp.keys.add(ec_key)
    return bearer(scene.idp.mint(key=ec_key, algorithm="ES256", header={"alg": "RS256"}))


def _unknown_kid_flood(scene: Scene) -> Attack:
    for n in range(50):
        scene.send(bearer(scene.idp.forge("unknown_kid", kid=f"flood-{n}")), PRIVATE)
    return bearer(scene.idp.forge("unknown_kid", kid="flood-last"))


_fetches: int | None  # None: not checked
for _slug, _what, _build, _answer, _reason, _fetches in (
    ("symmetric-key-hs256", "JWKS publishes an `oct` key; HS256 token with its kid", _symmetric_key,
     INVALID, "alg_not_allowed", 0),
    ("symmetric-key-beside-rsa", "an `oct` member beside the real key; real token",
     _symmetric_beside_good, OK, None, 1),
    ("private-members", "a member with private parts (`d`, `p`, ...) and its token",
     _private_members, INVALID, "kid_unknown", 1),
    ("rsa-1024", "a published 1024-bit RSA key signs the token", forged("weak_key"), INVALID,
     "kid_unknown", 1),
    ("duplicate-kid", "two members share the real `kid`; attacker signs with the second",
     _duplicate_kid(impostor_first=False), INVALID, "kid_unknown", 1),
    ("duplicate-kid-impostor-first", "two members share the real `kid`; attacker signs with "
     "the first", _duplicate_kid(impostor_first=True), INVALID, "kid_unknown", 1),
    ("malformed-members-beside-good", "junk members beside the real key; real token",
     _malformed_members, OK, None, 1),
    ("kid-shared-across-types",
     "`oct`, EC and `use: enc` members share the real `kid`; "
     "real token",
     _kid_shared_across_types, OK, None, 1),
    ("use-enc", "the signing key is published with `use: enc`", _use_enc, INVALID, "kid_unknown",
     1),
    ("key-ops-sign-only", 'the signing key is published with `key_ops: ["sign"]`',
     _key_ops(["sign"]), INVALID, "signature_invalid", 1),
    ("key-ops-verify", 'the signing key is published with `key_ops: ["verify"]`; real token',
     _key_ops(["verify"]), OK, None, 1),
    ("member-alg-rs512", "the signing key's member says `alg: RS512`", _member_alg_mismatch,
     INVALID, "kid_unknown", 1),
    ("member-without-alg-first-alg",
     "RS256,PS256 allowed, the key's member has no `alg`; "
     "RS256 token (the first allowed)",
     _member_without_alg("RS256"), OK, None, 1),
    ("member-without-alg-second-alg",
     "RS256,PS256 allowed, the key's member has no `alg`; the "
     "same key signs PS256",
     _member_without_alg("PS256"), INVALID, "signature_invalid", 1),
    ("member-without-alg-second-alg-after-the-first",
     "as the case before, after an RS256 token by the same key was accepted",
     _member_without_alg_after_its_first_alg, INVALID, "signature_invalid", 1),
    ("ec-key-es256", "an EC P-256 key is published; ES256 token", _ec_key_es256, INVALID,
     "alg_not_allowed", 0),
    ("ec-key-beside-rsa", "an EC key beside the real key; real token", _ec_key_beside_rsa, OK, None,
     1),
    ("ec-key-signature-as-rs256", "ES256 signature by a published EC key, header says RS256",
     _ec_key_rs256_claimed, INVALID, "kid_unknown", 1),
    ("unknown-kid-flood", "51 tokens with unknown kids: one JWKS fetch in all", _unknown_kid_flood,
     INVALID, "kid_unknown", 1),
):  # fmt: skip
    case(
        f"jwks-{_slug}",
        KEYS,
        _what,
        _build,
        _answer,
        f"{RFC7517_4}; {RFC8725_31}"
        + ("; CVE-2026-48524" if "flood" in _slug else "")
        + ("; CVE-2024-37568" if "symmetric" in _slug else ""),
        fetches=_fetches,
        reason=_reason,
    )


def _faulty_jwks(fault: Fault | Callable[[Scene], Fault]) -> Build:
    """A valid token, while the JWKS route answers ``fault`` (or ``fault(scene)``)."""

    def build(scene: Scene) -> Attack:
        scene.idp.inject_fault(JWKS, fault if isinstance(fault, Fault) else fault(scene))
        return bearer(scene.idp.mint())

    return build


def _over_http(url: str) -> str:
    return urlsplit(url)._replace(scheme="http").geturl()


for _slug, _what, _fault, _reason in (
    ("down", "JWKS answers 503", Fault.error(503), "jwks_http_503"),
    ("server-error", "JWKS answers 500", Fault.error(500), "jwks_http_500"),
    ("rate-limited", "JWKS answers 429", Fault.error(429, **{"Retry-After": "10"}),
     "jwks_http_429"),
    ("not-found", "JWKS answers 404", Fault.error(404), "jwks_http_404"),
    ("slow", "JWKS answers after 30 s (beyond the read timeout)", Fault.slow(30), "jwks_timeout"),
    ("html", "JWKS answers an HTML page", Fault.html(), "jwks_not_json"),
    ("garbage", "JWKS answers bytes that are not JSON", Fault.garbage(), "jwks_not_json"),
    ("empty", 'JWKS answers `{"keys": []}`',
     Fault(status=200, body=b'{"keys": []}', content_type="application/json"),
     "jwks_no_usable_keys"),
    ("keys-not-a-list", 'JWKS answers `{"keys": {}}`',
     Fault(status=200, body=b'{"keys": {}}', content_type="application/json"),
     "jwks_not_a_key_set"),
    ("not-an-object", "JWKS answers a JSON array",
     Fault(status=200, body=b"[1, 2]", content_type="application/json"), "jwks_not_a_key_set"),
    ("redirect-off-host", "JWKS redirects to another host", Fault.redirect(),
     "jwks_redirect_off_origin"),
    ("redirect-same-host-http", "JWKS redirects to the same host over `http`",
     lambda scene: Fault.redirect(_over_http(scene.idp.jwks_uri)), "jwks_redirect_off_origin"),
    ("oversized-20mb", "JWKS answers 20 MiB holding the real key",
     lambda scene: Fault.oversized(keys=scene.idp.jwks()["keys"]), "jwks_too_large"),
    ("error-status-with-key-set", "JWKS answers 500 with the real key set as its body",
     Fault(status=500), "jwks_http_500"),
    ("deeply-nested", "JWKS answers 100,000 nested `[`", Fault(status=200, body=b"[" * 100_000),
     "jwks_not_json"),
):  # fmt: skip
    case(
        f"jwks-{_slug}",
        KEYS,
        f"{_what}; a valid token arrives",
        _faulty_jwks(_fault),
        UNAVAILABLE,
        f"RFC 7517 §5; {README_KEYS}",
        fetches=1,
        reason=_reason,
    )


def _redirect_backslash(scene: Scene) -> Attack:
    """``urlsplit`` reads the IdP's host in the Location; ``requests`` connects to the
    attacker's, which serves the attacker's key set (the ``attacker_host`` fixture)."""
    host = urlsplit(scene.idp.issuer).netloc
    location = f"{ATTACKER_URL}\\@{host}/.well-known/jwks.json"
    scene.idp.inject_fault(JWKS, Fault.redirect(location))
    return bearer(scene.idp.mint(key=scene.idp.foreign_key, scope="read:messages"))


case(
    "jwks-redirect-backslash",
    KEYS,
    "JWKS redirects to `https://attacker.example\\@<the IdP's host>/...`, whose keys sign the "
    "token",
    _redirect_backslash,
    UNAVAILABLE,
    f"RFC 7517 §5; RFC 3986 §3.2; {README_KEYS}",
    path=SCOPED,
    fetches=1,
    reason="jwks_redirect_off_origin",
)


def _compressed_key_set(scene: Scene) -> Attack:
    """The real key set, gzip-compressed, though the API asked for ``identity``: no decoder
    runs on an IdP's answer (where a small body becomes a large one), so it is refused."""
    body = gzip.compress(json.dumps(scene.idp.jwks()).encode())
    headers = {"Content-Encoding": "gzip"}
    fault = Fault(status=200, body=body, content_type="application/json", headers=headers)
    scene.idp.inject_fault(JWKS, fault)
    return bearer(scene.idp.mint())


case(
    "jwks-compressed",
    KEYS,
    "JWKS answers the real key set gzip-compressed (`Content-Encoding: gzip`); a valid token "
    "arrives",
    _compressed_key_set,
    UNAVAILABLE,
    f"RFC 9110 §12.5.3; CVE-2025-66471; {README_KEYS}",
    fetches=1,
    reason="jwks_content_encoded",
)


def _only_unusable_keys(scene: Scene) -> Attack:
    real = scene.idp.keys.signing_key.public_jwk()
    serve_jwks(scene, [{"kty": "oct", "k": "AAAA", "kid": "h"}, {**real, "use": "enc"}])
    return bearer(scene.idp.mint())


case(
    "jwks-only-unusable-keys",
    KEYS,
    "every member is unusable (symmetric, `use: enc`)",
    _only_unusable_keys,
    UNAVAILABLE,
    f"{RFC7517_4}; {README_KEYS}",
    fetches=1,
    reason="jwks_no_usable_keys",
)


def _member_exponent(exponent: int) -> Build:
    """The real key published with another public exponent: its only member is skipped."""

    def build(scene: Scene) -> Attack:
        member = dict(scene.idp.jwks()["keys"][0])
        member["e"] = b64url(exponent.to_bytes((exponent.bit_length() + 7) // 8, "big"))
        serve_jwks(scene, [member])
        return bearer(scene.idp.mint())

    return build


_EXPONENTS = {
    1: ("one", "`e: 1` (no signature check at all)"),
    65536: ("even", "an even `e`"),
    2**2000 + 1: ("2001-bits", "an odd `e` of 2,001 bits (each verify about 70 times the work)"),
}
for _exponent, (_name, _what) in _EXPONENTS.items():
    case(
        f"jwks-member-exponent-{_name}",
        KEYS,
        f"the only member has {_what}; a valid token arrives",
        _member_exponent(_exponent),
        UNAVAILABLE,
        f"RFC 7517 §5; FIPS 186-5 §A.1.1; {README_KEYS}",
        fetches=1,
        reason="jwks_no_usable_keys",
    )


def _member_modulus_of(bits: int) -> Build:
    """The real key's member with a modulus of ``bits`` bits in its place: skipped as too large
    before anything imports it."""

    def build(scene: Scene) -> Attack:
        member = dict(scene.idp.jwks()["keys"][0])
        modulus = (1 << (bits - 1)) | 1 | int.from_bytes(b64url_decode(member["n"]), "big")
        member["n"] = b64url(modulus.to_bytes((bits + 7) // 8, "big"))
        serve_jwks(scene, [member])
        return bearer(scene.idp.mint())

    return build


case(
    "jwks-member-modulus-8200-bits",
    KEYS,
    "the only member has an 8,200-bit modulus (over the 8,192 allowed); a valid token arrives",
    _member_modulus_of(8200),
    UNAVAILABLE,
    f"RFC 8725 §3.4; {README_KEYS}",
    fetches=1,
    reason="jwks_no_usable_keys",
)
case(
    "jwks-url-plain-http-off-loopback",
    KEYS,
    "`AUTH0_JWKS_URL` over plain `http` to a host other than loopback: keys anyone on the path "
    "could replace",
    with_setting("AUTH0_JWKS_URL", "http://keys.example/.well-known/jwks.json"),
    UNAVAILABLE,
    f"RFC 8725 §3.8; RFC 7515 §4.1.2; {README_KEYS}",
    fetches=0,
    reason="misconfigured",
)

# -- canonical encodings and the verified-token cache ----------------------------------------------

CACHE = "token-cache"


def _accepted(scene: Scene, token: str, path: str = PRIVATE) -> str:
    """Send ``token`` twice and insist it is accepted and stored: the token cache stores it on
    its second verification, so a third use is a hit."""
    from apiexample.views import require_auth

    for _ in range(2):
        response = scene.send(bearer(token), path)
        assert response.status_code == 200, response.content
    tokens = require_auth.get_token_validator("bearer").policies().tokens
    assert tokens is not None
    assert tokens.get(token) is not None, "not stored"
    return token


def _validator_clock_at(scene: Scene, now: float) -> None:
    from apiexample.views import require_auth

    scene.monkeypatch.setattr(require_auth.get_token_validator("bearer"), "clock", lambda: now)


def _validator_clock_ahead(scene: Scene, seconds: float) -> None:
    from apiexample.views import require_auth

    validator = require_auth.get_token_validator("bearer")
    clock = validator.clock
    scene.monkeypatch.setattr(validator, "clock", lambda: clock() + seconds)


def _key_clock_ahead(scene: Scene, seconds: float) -> None:
    import time

    from apiexample import signing_keys

    cache = signing_keys.cache_for(scene.idp.jwks_uri)
    scene.monkeypatch.setattr(cache, "clock", lambda: time.monotonic() + seconds)


def _accepted_then(name: str, **options: Any) -> Build:
    """A token accepted and stored, then forgery ``name`` of that very token: minted at the
    same second, so with the same signature (RS256 signing is deterministic)."""

    def build(scene: Scene) -> Attack:
        issued_at = int(scene.idp.clock.now())
        token = _accepted(scene, scene.idp.mint(issued_at=issued_at))
        forgery = scene.idp.forge(name, issued_at=issued_at, **options)
        signatures = (token.rpartition(".")[2], forgery.rpartition(".")[2])
        assert len({b64url_decode(signature) for signature in signatures}) == 1, "not its twin"
        return bearer(forgery)

    return build


def _cached_then_expired(scene: Scene) -> Attack:
    token = _accepted(scene, scene.idp.mint(expires_in=60))
    _validator_clock_ahead(scene, 120)
    return bearer(token)


def _cached_then_key_removed(scene: Scene) -> Attack:
    from tests.apiexample.helpers import wait_for_refreshes

    token = _accepted(scene, scene.idp.mint())
    scene.idp.keys.rotate(scene.keys.secondary)
    scene.idp.keys.remove(scene.keys.primary.kid)
    _key_clock_ahead(scene, 601)  # past the JWKS cache TTL
    # The first use past the TTL is answered with the keys at hand while they are refreshed
    # in another thread (README "Signing keys": stale-while-revalidate); once that is done:
    assert scene.send(bearer(token), PRIVATE).status_code == 200
    assert wait_for_refreshes(10)
    return bearer(token)


def _cached_then_key_replaced(scene: Scene) -> Attack:
    """The JWKS publishes other key material under the cached token's ``kid``."""
    from tests.apiexample.helpers import wait_for_refreshes

    token = _accepted(scene, scene.idp.mint())
    impostor = {**scene.keys.secondary.public_jwk(), "kid": scene.keys.primary.kid}
    serve_jwks(scene, [impostor])
    _key_clock_ahead(scene, 601)  # past the JWKS cache TTL
    assert scene.send(bearer(token), PRIVATE).status_code == 200  # stale-while-revalidate
    assert wait_for_refreshes(10)
    return bearer(token)


def _cached_then_scoped_route(scene: Scene) -> Attack:
    return bearer(_accepted(scene, scene.idp.mint(scope="openid")))


case(
    "sig-non-canonical-base64",
    SIG,
    "the signature's last character changed in its unused bits: same bytes, other spelling",
    forged("respelled_signature", mode="non_canonical"),
    INVALID,
    "RFC 4648 §3.5; RFC 7515 §2",
    reason="signature_invalid",
)
case(
    "cache-non-canonical-twin-of-cached-token",
    CACHE,
    "an accepted token, then its non-canonical twin",
    _accepted_then("respelled_signature", mode="non_canonical"),
    INVALID,
    "RFC 4648 §3.5; RFC 7515 §2",
    fetches=1,
    reason="signature_invalid",
)
case(
    "cache-accepted-then-expired",
    CACHE,
    "an accepted token (exp in 60 s), presented again 120 s later",
    _cached_then_expired,
    INVALID,
    f"RFC 7519 §4.1.4; {RFC9068_4}",
    reason="token_expired",
)
case(
    "cache-accepted-then-key-removed",
    CACHE,
    "an accepted token, presented again once its key left the JWKS and a refresh after the TTL"
    " has seen it gone",
    _cached_then_key_removed,
    INVALID,
    f"{RFC7517_4}; {README_KEYS}",
    fetches=2,
    reason="kid_unknown",
)
case(
    "cache-accepted-then-key-replaced-under-its-kid",
    CACHE,
    "an accepted token, presented again once the JWKS holds other key material under its `kid`"
    " and a refresh after the TTL has fetched it",
    _cached_then_key_replaced,
    INVALID,
    f"{RFC7517_4}; {README_KEYS}",
    fetches=2,
    reason="signature_invalid",
)
case(
    "cache-accepted-then-scoped-route",
    CACHE,
    "a token accepted on /api/private, then sent to the scoped route without the scope",
    _cached_then_scoped_route,
    SCOPE,
    RFC6750_31,
    path=SCOPED,
    fetches=1,
    reason="insufficient_scope",
)


def _audience_changed(scene: Scene) -> Attack:
    token = _accepted(scene, scene.idp.mint())
    scene.settings.AUTH0_AUDIENCE = "https://other.api.example"
    return bearer(token)


case(
    "cache-accepted-then-audience-changed",
    CACHE,
    "a token accepted, then `AUTH0_AUDIENCE` changed: the cached verdict is not reused",
    _audience_changed,
    INVALID,
    RFC7519_41,
    fetches=1,
    reason="claim_invalid_aud",
)
case(
    "cache-remembered-header-new-payload",
    CACHE,
    "a remembered header and signature over another payload",
    _accepted_then("tampered_payload", changes={"scope": "read:messages admin"}),
    INVALID,
    RFC7515_5,
    fetches=1,
    reason="signature_invalid",
)

# -- malformed tokens ------------------------------------------------------------------------------

SHAPE = "malformed"
#: A payload that is no claims set is signed as it is, and read only after the signature.
_PAYLOAD_REASONS = {"payload_not_json": "claims_not_json", "payload_array": "claims_not_an_object"}
assert set(_PAYLOAD_REASONS) == set(SIGNED_PAYLOAD_SHAPES)
for _shape in MALFORMED_SHAPES:
    _signed = _shape in SIGNED_PAYLOAD_SHAPES
    case(
        f"shape-{_shape.replace('_', '-')}",
        SHAPE,
        ("a signed compact JWS whose " if _signed else "not a compact JWS: ")
        + _shape.replace("_", " "),
        forged("malformed", shape=_shape),
        INVALID,
        f"{RFC7515_7}; RFC 7519 §7.2",
        fetches=1 if _signed else 0,
        reason=_PAYLOAD_REASONS.get(
            _shape, "token_empty" if _shape == "empty" else "token_malformed"
        ),
    )


_HEADER_SHAPES = {
    "header_utf16": "UTF-16",
    "header_utf32": "UTF-32",
    "header_utf8_bom": "UTF-8 after a byte order mark",
    "header_nan": "UTF-8, a `NaN` member",
    "header_json_string": 'the JSON string `"alg"`',
}
assert set(_HEADER_SHAPES) == set(SIGNED_HEADER_SHAPES)
for _shape, _what in _HEADER_SHAPES.items():
    case(
        f"shape-{_shape.replace('_', '-')}",
        SHAPE,
        f"protected header in {_what}, real signature",
        forged("malformed", shape=_shape),
        INVALID,
        f"{RFC7515_5} step 3",
        fetches=0,
        reason="token_malformed",
    )


# One signature, another token string: the compact form is base64url without padding.
for _id, _category, _mode, _what, _source in (
    ("sig-padded", SIG, "padded",
     "the real signature with base64 padding `==` appended: one token, two spellings",
     f"{RFC7515_7}; RFC 7515 §2"),
    ("shape-standard-base64", SHAPE, "standard_base64",
     "the real signature in standard base64 (`+` and `/`), not base64url",
     f"{RFC7515_7}; RFC 4648 §5"),
):  # fmt: skip
    case(
        _id,
        _category,
        _what,
        forged("respelled_signature", mode=_mode),
        INVALID,
        _source,
        fetches=0,
        reason="token_malformed",
    )

# -- advisories on the JOSE stack ------------------------------------------------------------------

CVE = "cve-regression"


def _deprecated_jwe(scene: Scene) -> Attack:
    """JWE with RSA1_5, which joserfc warns about while encrypting it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        return bearer(scene.idp.forge("jwe", alg="RSA1_5", enc="A128CBC-HS256"))


for _id, _what, _build, _reason, _source in (
    ("cve-2022-39174-jwe", "a compact JWE (5 segments) where a JWS is expected", forged("jwe"),
     "token_malformed", "CVE-2022-39174 (Authlib)"),
    ("cve-2024-37568-hs256-pem-junk-prefix", "HS256 keyed with the PEM after leading junk",
     forged("hmac_public_key", key_form="pem_junk_prefix"), "alg_not_allowed",
     "CVE-2024-37568 (Authlib, joserfc); Authlib 2026-10 advisory"),
    ("cve-2024-37568-hs512-openssh", "HS512 keyed with the OpenSSH public key",
     forged("hmac_public_key", alg="HS512", key_form="openssh"), "alg_not_allowed",
     "CVE-2024-37568"),
    ("cve-2025-59420-crit-exp", "`crit: [\"exp\"]`: a registered claim as critical",
     minted(header={"crit": ["exp"]}), "crit_not_understood", "CVE-2025-59420 (Authlib)"),
    ("cve-2025-61920-oversized-header", "1 MiB header segment, real signature",
     forged("oversized", segment="header"), "token_too_large", "CVE-2025-61920 (Authlib)"),
    ("cve-2025-61920-oversized-signature", "1 MiB signature segment",
     forged("oversized", segment="signature"), "token_too_large", "CVE-2025-61920 (Authlib)"),
    ("cve-2025-62706-jwe-zip-def", "compact JWE with `zip: DEF`", forged("jwe", zip="DEF"),
     "token_malformed", "CVE-2025-62706 (Authlib)"),
    ("cve-2026-28802-alg-none-empty-signature", "`alg: none` with an empty signature",
     forged("alg_none"), "token_malformed", "CVE-2026-28802 (Authlib)"),
    ("cve-2026-28490-jwe-rsa1-5", "compact JWE with `alg: RSA1_5`", _deprecated_jwe,
     "token_malformed", "CVE-2026-28490 (Authlib)"),
    ("cve-2026-96760-json-general-empty-signatures", "general JSON JWS with `signatures: []`",
     forged("json_serialization", form="general_empty_signatures"), "token_malformed",
     "CVE-2026-96760 (Authlib); joserfc < 1.7.4"),
    ("cve-2026-96760-json-flattened-unsigned", "flattened JSON JWS with no signature",
     forged("json_serialization", form="flattened_unsigned"), "token_malformed",
     "CVE-2026-96760 (Authlib)"),
    ("cve-2026-96760-json-general-signed", "general JSON JWS, really signed: compact only",
     forged("json_serialization", form="general_signed"), "token_malformed",
     "CVE-2026-96760 (Authlib)"),
    ("authlib-2026-10-empty-hmac-key", "HS256 with an empty key", forged("hmac_secret", secret=""),
     "alg_not_allowed", "Authlib 2026-10 advisory (legacy module)"),
    ("cve-2026-49852-empty-hmac-key-hs512", "HS512 with an empty key, no kid",
     forged("hmac_secret", secret="", alg="HS512", kid="none"), "alg_not_allowed",
     "CVE-2026-49852 (joserfc)"),
    ("ghsa-wphv-vfrh-23q5-b64-false-oversized", "`b64: false` with a 12 KiB payload",
     forged("b64_false", claims={"x-pad": "A" * 12_000}), "token_malformed",
     "GHSA-wphv-vfrh-23q5 (joserfc)"),
    ("cve-2025-65015-log-amplification", "1 MiB payload: the logs hold no token material",
     forged("oversized", segment="payload"), "token_too_large", "CVE-2025-65015 (joserfc)"),
    ("cve-2022-29217-es256-with-published-ec-key", "ES256 signed by a published EC key",
     forged("other_algorithm", alg="ES256"), "alg_not_allowed", "CVE-2022-29217 (PyJWT)"),
    ("cve-2026-32597-crit-custom", "`crit` naming a custom parameter that is present",
     forged("unknown_crit", param="urn:example:policy"), "crit_not_understood",
     "CVE-2026-32597 (PyJWT)"),
    ("cve-2026-48526-hs256-jwk", "HS256 keyed with the public JWK's JSON, no kid",
     forged("hmac_public_key", key_form="jwk", kid="none"), "alg_not_allowed",
     "CVE-2026-48526 (PyJWT)"),
    ("cve-2024-33663-hs256-openssh", "HS256 keyed with the OpenSSH-format public key",
     forged("hmac_public_key", key_form="openssh"), "alg_not_allowed",
     "CVE-2024-33663 (python-jose)"),
):  # fmt: skip
    case(_id, CVE, _what, _build, INVALID, _source, fetches=0, reason=_reason)
case(
    "cve-2022-39175-jwk-with-real-kid",
    CVE,
    "embedded `jwk` (a 1024-bit attacker key) beside the real `kid`",
    _embedded_jwk("real"),
    INVALID,
    "CVE-2022-39175 (Authlib)",
    fetches=1,
    reason="signature_invalid",
)
case(
    "cve-2026-27962-jwk-without-kid",
    CVE,
    "embedded `jwk` (a 1024-bit attacker key), no `kid`: a validator with no key",
    _embedded_jwk("none"),
    INVALID,
    "CVE-2026-27962 (Authlib)",
    fetches=0,
    reason="kid_missing",
)


def _id_token(scene: Scene) -> Attack:
    """An Auth0 ID token (also `typ: JWT`, same issuer and key): its `aud` is the client."""
    extra = {"nonce": "n-0S6_WzA2Mj", "email": "user@example.test", "auth_time": 1}
    return bearer(scene.idp.mint(user=True, audience=scene.idp.client_id, claims=extra))


def _kid(transform: Callable[[str], str]) -> Build:
    return lambda scene: bearer(
        scene.idp.mint(header={"kid": transform(scene.idp.keys.signing_key.kid)})
    )


_FULLWIDTH = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in map(chr, range(0x21, 0x7F))})

for _id, _category, _what, _build, _answer, _path, _fetches, _reason, _source in (
    ("cve-2022-21449-es256-psychic-signature", CVE,
     "ES256 with r = s = 0 (64 zero bytes) under a published EC key's `kid`",
     forged("psychic_signature"), INVALID, PRIVATE, 0,
     "alg_not_allowed", "CVE-2022-21449 (Java); jwt_tool -X p"),
    ("cve-2022-39227-json-compact-polyglot", CVE,
     "a JSON token naming a forged compact token, with a real token's signature members",
     forged("json_serialization", form="compact_polyglot", scope="openid"), INVALID, SCOPED, 0,
     "token_malformed", "CVE-2022-39227 (python-jwt)"),
    ("cve-2024-53861-iss-substring", CVE, "`iss` a substring of the issuer (`mock-idp.test`)",
     claims(iss="mock-idp.test"), INVALID, PRIVATE, 1, "claim_invalid_iss",
     "CVE-2024-53861 (PyJWT)"),
    ("claims-id-token-as-access-token", CLAIMS,
     "an ID token from the same tenant: `aud` the client, `nonce`, `email`", _id_token, INVALID,
     PRIVATE, 1, "claim_invalid_aud", f"{RFC8725_39}; RFC 8725 §2.8; {RFC9068_4}"),
    ("header-kid-fullwidth-twin", HEADER,
     "the real `kid` in fullwidth characters (the same after NFKC normalisation)",
     _kid(lambda kid: kid.translate(_FULLWIDTH)), INVALID, PRIVATE, 1,
     "kid_unknown", RFC7515_41),
    ("header-kid-zero-width-space", HEADER, "the real `kid` with a zero-width space appended",
     _kid(lambda kid: kid + "\u200b"), INVALID, PRIVATE, 1, "kid_unknown", RFC7515_41),
    ("header-kid-log-injection", HEADER,
     "`kid` holding a line break and a forged log line (CWE-117)",
     _kid(lambda kid: "x\nINFO apiexample.protector auth accepted reason=ok"), INVALID, PRIVATE,
     1, "kid_unknown", f"{RFC7515_41}; CWE-117"),
    ("scope-newline-separated", SCOPES,
     '`scope: "openid\\nread:messages"`: a newline separates no scopes',
     minted(scope="openid\nread:messages"), SCOPE, SCOPED, None, "insufficient_scope",
     f"RFC 6749 §3.3; {RFC6750_31}"),
    ("claims-exp-zero", CLAIMS, "`exp: 0`, the epoch", claims(exp=0), INVALID, PRIVATE, None,
     "token_expired", RFC7519_41),
):  # fmt: skip
    case(
        _id, _category, _what, _build, _answer, _source, path=_path, fetches=_fetches,
        reason=_reason,
    )  # fmt: skip


# -- rendering -------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(cases: list[Case] | None = None) -> str:
    """``docs/security.md``: the catalogue as one markdown table, with a count per category."""
    cases = CASES if cases is None else cases
    counts = Counter(c.category for c in cases)
    lines = [
        "# Security regression catalogue",
        "",
        "<!-- Generated from tests/security/catalogue.py; do not edit by hand. Regenerate with:",
        f"     {REGENERATE} -->",
        "",
        f"Generated from `tests/security/catalogue.py`: regenerate with `{REGENERATE}`.",
        "`tests/security/test_docs.py` fails when this file and the table differ.",
        "",
        "Rerun every case against the validator after any change to Django, Authlib, joserfc or",
        "this code with `.venv/bin/pytest -m security -v` (ids as `test_attack[<id>]`). Each case",
        "asserts the status, the `error` code, the `WWW-Authenticate` challenge (none on 503,",
        '`Bearer realm="api"` when no bearer credentials were sent), `Cache-Control: no-store`,',
        "the reason code the refusal is logged with (so the rule that refuses each attack is the",
        "one named, not another that happened to come first), how many JWKS fetches it cost",
        "where that matters, and that no token segment reached the logs. Property-based tests",
        "(`test_properties.py`) add random `Authorization` values, random token segments and",
        "random signed claim sets: never a 5xx, never a 200 for an invalid token.",
        "",
        f"{len(cases)} cases: "
        + ", ".join(f"{category} {count}" for category, count in counts.items())
        + ".",
        "",
        "| id | category | attack | expected answer | refused by (`reason` logged) | source |",
        "|---|---|---|---|---|---|",
    ]
    for c in cases:
        refused_by = f"`{c.reason}`" if c.reason else ""
        row = [f"`{c.id}`", c.category, c.attack, c.answer, refused_by, c.source]
        lines.append("| " + " | ".join(_cell(cell) for cell in row) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """``python -m tests.security.catalogue --markdown``: print docs/security.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--markdown", action="store_true", help="print docs/security.md")
    args = parser.parse_args(argv)
    if args.markdown:
        print(render_markdown(), end="")
    else:
        for c in CASES:
            print(f"{c.id:60} {c.answer}")


__all__ = ["CASES", "Attack", "Case", "Scene", "render_markdown", "serve_jwks"]

if __name__ == "__main__":
    main()
