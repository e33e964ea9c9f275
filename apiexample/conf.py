"""Typed access to the AUTH0_* settings, read from ``django.conf.settings`` at call time.

The http-only-on-loopback rule serves RFC 8414 section 2 (an ``https`` issuer) and RFC 7515
section 4.1.2 (a JWK Set fetched over TLS); the algorithm allow-list, RFC 8725 section 3.1; the
leeway, RFC 7519 sections 4.1.4-4.1.6.

Nothing here is frozen at import, so ``override_settings`` and pytest-django's ``settings``
fixture take effect on the next request. ``Auth0Config.problems`` lists misconfigurations;
the system checks report them and the validator fails closed on them.
"""

from __future__ import annotations

import ipaddress
import math
import re
import threading
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from urllib3.util import parse_url

#: JWS algorithms (RFC 7518 section 3.1) the validator knows how to verify with an RSA key.
ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})

DEFAULT_ALGORITHMS = ("RS256",)
DEFAULT_LEEWAY = 30
DEFAULT_JWKS_CACHE_TTL = 600
DEFAULT_JWKS_COOLDOWN = 30
#: How long fetched keys keep serving while refreshes fail (Auth0 sends stale-if-error=86400).
DEFAULT_JWKS_STALE_IF_ERROR = 86400
DEFAULT_TOKEN_CACHE_SIZE = 4096
#: Whole JWKS fetch, redirects included: a hung IdP gives a 503 well within 10 s.
DEFAULT_JWKS_TIMEOUT = 8
MAX_JWKS_TIMEOUT = 60
#: RFC 7519 section 4.1.4: "some small leeway, usually no more than a few minutes".
MAX_LEEWAY = 300


@dataclass(frozen=True)
class Problem:
    """One misconfiguration, with the stable ID the system checks report it under."""

    id: str
    msg: str
    hint: str = ""


#: Where a missing setting goes: ``apiexample.settings`` reads the environment and ``.env``, and
#: python-dotenv never overrides the environment, so an empty variable hides the ``.env`` value; a
#: project of one's own has settings of its own.
_WHERE_TO_SET = (
    "with apiexample's settings.py, in the environment or .env, where an empty environment "
    "variable counts as set and overrides .env; otherwise in your settings module"
)
#: A host name with an optional port: what AUTH0_DOMAIN holds (``https://{domain}/`` is the issuer).
_HOST = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?")


def _setting(name: str, default: Any = None) -> Any:
    """The setting ``name``; absent, or a blank string (``AUTH0_LEEWAY=``), means ``default``."""
    value = getattr(settings, name, None)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    return value


def _text(name: str) -> str:
    value = _setting(name, "")
    return value.strip() if isinstance(value, str) else ""


#: The settings read as text, and the check each reports under when it holds another type.
TEXT_SETTINGS = {
    "AUTH0_AUDIENCE": "apiexample.E001",
    "AUTH0_DOMAIN": "apiexample.E002",
    "AUTH0_ISSUER": "apiexample.E002",
    "AUTH0_JWKS_URL": "apiexample.E004",
}


def _not_text() -> tuple[tuple[str, str], ...]:
    """(name, type) of each text setting that holds something else: bytes, a number, a list of
    audiences. Such a value is never read as unset, which would let a derived default stand."""
    found = []
    for name in TEXT_SETTINGS:
        value = _setting(name)
        if value is not None and not isinstance(value, str):
            found.append((name, type(value).__name__))
    return tuple(found)


def _number(name: str, default: float) -> float:
    try:
        return float(_setting(name, default))
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int such as 10**400
        return math.nan


def _algorithms() -> tuple[str, ...]:
    """In the order given: a key that names no algorithm verifies the first one. A set has no
    order, so only a comma-separated string, a list or a tuple is read (anything else: E005)."""
    raw = _setting("AUTH0_ALGORITHMS", DEFAULT_ALGORITHMS)
    if isinstance(raw, str):
        raw = raw.split(",")
    items = raw if isinstance(raw, (list, tuple)) else ()
    return tuple(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))


def _is_count(value: float) -> bool:
    return math.isfinite(value) and value >= 0 and value == int(value)


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1``: the only hosts allowed plain ``http``."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_plain_uri(url: str) -> bool:
    """Printable ASCII without spaces or backslashes, as RFC 3986 section 2 allows.

    Parsers differ on anything else: ``urlsplit`` reads ``http://evil.example\\@127.0.0.1/``
    as host ``127.0.0.1``, while ``requests`` (urllib3) connects to ``evil.example``.
    """
    return url.isascii() and url.isprintable() and " " not in url and "\\" not in url


def is_acceptable_url(url: str) -> bool:
    """``https`` anywhere, ``http`` only on a loopback host (RFC 8414 section 2).

    The host is the one ``requests`` will connect to: urllib3 must read the same host. No
    ``user:password@`` (a setting ends up in logs) and a port from 1 to 65535 (RFC 3986
    section 3.2).
    """
    if not _is_plain_uri(url):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port  # ValueError past 65535
        fetched_host = parse_url(url).host
    except ValueError:  # urllib3's LocationParseError is one
        return False
    if not host or fetched_host is None or fetched_host.strip("[]").lower() != host:
        return False
    if "@" in parts.netloc or port == 0:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(host))


#: The password of a URL's ``user:password@``, which a check message must not print.
_PASSWORD = re.compile(r"(?<=//)([^/?#@:]*):[^/?#@]*@")


def _shown(url: str) -> str:
    return _PASSWORD.sub(r"\1:***@", url)


def is_acceptable_issuer(issuer: str) -> bool:
    """An acceptable URL without a query or fragment (RFC 8414 section 2): the JWKS URL is
    derived by appending to it."""
    return is_acceptable_url(issuer) and "?" not in issuer and "#" not in issuer


@dataclass(frozen=True)
class Auth0Config:
    """The AUTH0_* settings as one immutable value, with the defaults the README documents."""

    domain: str
    audience: str
    issuer: str
    jwks_url: str
    algorithms: tuple[str, ...]
    leeway: float
    jwks_cache_ttl: float
    jwks_cooldown: float
    jwks_stale_if_error: float
    jwks_timeout: float
    token_cache_size: int
    #: Whether the issuer is ``https://{domain}/``, built because AUTH0_ISSUER is unset.
    issuer_from_domain: bool = False
    #: (name, type) of the text settings holding another type (``_not_text``).
    not_text: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_settings(cls) -> Auth0Config:
        domain = _text("AUTH0_DOMAIN")
        issuer = _text("AUTH0_ISSUER")
        issuer_from_domain = not issuer and bool(domain)
        if issuer_from_domain:
            issuer = f"https://{domain}/"
        jwks_url = _text("AUTH0_JWKS_URL")
        if not jwks_url and issuer:
            jwks_url = f"{issuer if issuer.endswith('/') else issuer + '/'}.well-known/jwks.json"
        cache_size = _number("AUTH0_TOKEN_CACHE_SIZE", DEFAULT_TOKEN_CACHE_SIZE)
        return cls(
            domain=domain,
            audience=_text("AUTH0_AUDIENCE"),
            issuer=issuer,
            jwks_url=jwks_url,
            algorithms=_algorithms(),
            leeway=_number("AUTH0_LEEWAY", DEFAULT_LEEWAY),
            jwks_cache_ttl=_number("AUTH0_JWKS_CACHE_TTL", DEFAULT_JWKS_CACHE_TTL),
            jwks_cooldown=_number("AUTH0_JWKS_COOLDOWN", DEFAULT_JWKS_COOLDOWN),
            jwks_stale_if_error=_number("AUTH0_JWKS_STALE_IF_ERROR", DEFAULT_JWKS_STALE_IF_ERROR),
            jwks_timeout=_number("AUTH0_JWKS_TIMEOUT", DEFAULT_JWKS_TIMEOUT),
            token_cache_size=int(cache_size) if _is_count(cache_size) else -1,
            issuer_from_domain=issuer_from_domain,
            not_text=_not_text(),
        )

    @cached_property
    def problems(self) -> tuple[Problem, ...]:
        """Every misconfiguration, each under a stable ID; empty when the validator may run."""
        found = [
            Problem(
                TEXT_SETTINGS[name],
                f"{name} must be a string, not {type_name}.",
                "Set it as text (str), e.g. in settings.py or through the environment; "
                "AUTH0_AUDIENCE names one API Identifier.",
            )
            for name, type_name in self.not_text
        ]
        reported = {problem.id for problem in found}
        http_hint = (
            "Plain http is allowed only for localhost, 127.0.0.0/8 and ::1; a URL is plain "
            "ASCII, without spaces, backslashes or user:password@, its port 1 to 65535; an "
            "issuer has no query or fragment."
        )
        if not self.audience and "apiexample.E001" not in reported:
            found.append(
                Problem(
                    "apiexample.E001",
                    "AUTH0_AUDIENCE is not set.",
                    f"Set it to the API Identifier from the Auth0 dashboard ({_WHERE_TO_SET}).",
                )
            )
        if not self.issuer:
            if "apiexample.E002" not in reported:  # else a domain or issuer of another type
                found.append(
                    Problem(
                        "apiexample.E002",
                        "Neither AUTH0_DOMAIN nor AUTH0_ISSUER is set.",
                        "Set AUTH0_DOMAIN to your tenant, e.g. example.us.auth0.com, or "
                        f"AUTH0_ISSUER to another issuer's URL, a local mock_idp's say "
                        f"({_WHERE_TO_SET}).",
                    )
                )
        elif self.issuer_from_domain and not _HOST.fullmatch(self.domain):
            found.append(
                Problem(
                    "apiexample.E009",
                    f"AUTH0_DOMAIN {self.domain!r} is not a host name.",
                    "Set the tenant's domain alone, e.g. example.us.auth0.com: no https://, "
                    "no path, no trailing slash.",
                )
            )
        elif not is_acceptable_issuer(self.issuer):
            found.append(
                Problem(
                    "apiexample.E003",
                    f"The issuer {_shown(self.issuer)!r} is not an acceptable https URL.",
                    http_hint,
                )
            )
        if self.jwks_url and not is_acceptable_url(self.jwks_url):
            found.append(
                Problem(
                    "apiexample.E004",
                    f"The JWKS URL {_shown(self.jwks_url)!r} is not an acceptable https URL.",
                    http_hint,
                )
            )
        refused = [alg for alg in self.algorithms if alg not in ASYMMETRIC_ALGORITHMS]
        if refused or not self.algorithms:
            found.append(
                Problem(
                    "apiexample.E005",
                    f"AUTH0_ALGORITHMS must list RSA signature algorithms only; refused: "
                    f"{refused or 'an empty list'}.",
                    "Auth0 signs access tokens with RS256; names are case-sensitive (RS256, not "
                    "rs256); 'none' and HS* are never accepted.",
                )
            )
        if not 0 <= self.leeway <= MAX_LEEWAY:
            found.append(
                Problem(
                    "apiexample.E006",
                    f"AUTH0_LEEWAY must be a number of seconds from 0 to {MAX_LEEWAY}.",
                    "The default is 30.",
                )
            )
        if not (
            all(
                math.isfinite(seconds)
                for seconds in (self.jwks_cache_ttl, self.jwks_cooldown, self.jwks_stale_if_error)
            )
            and self.jwks_cache_ttl > 0
            and self.jwks_cooldown >= 0
            and self.jwks_stale_if_error >= 0
            and 0 < self.jwks_timeout <= MAX_JWKS_TIMEOUT
        ):
            found.append(
                Problem(
                    "apiexample.E007",
                    "AUTH0_JWKS_CACHE_TTL must be > 0; AUTH0_JWKS_COOLDOWN and "
                    "AUTH0_JWKS_STALE_IF_ERROR >= 0; AUTH0_JWKS_TIMEOUT > 0 and at most "
                    f"{MAX_JWKS_TIMEOUT}; all finite.",
                    f"The defaults are {DEFAULT_JWKS_CACHE_TTL}, {DEFAULT_JWKS_COOLDOWN}, "
                    f"{DEFAULT_JWKS_STALE_IF_ERROR} and {DEFAULT_JWKS_TIMEOUT} seconds.",
                )
            )
        if self.token_cache_size < 0:
            found.append(
                Problem(
                    "apiexample.E008",
                    "AUTH0_TOKEN_CACHE_SIZE must be a whole number of tokens >= 0.",
                    "The default is 4096; 0 turns the verified-token cache off.",
                )
            )
        return tuple(found)


_current: Auth0Config | None = None
#: Settings changes so far: a configuration read before the latest one is never kept.
_generation = 0
_generation_lock = threading.Lock()


def current() -> Auth0Config:
    """The configuration in force; rebuilt after any settings change (``override_settings``).

    One built while a change happened is used by its own caller only: kept, it would hold the
    settings of before the change next to those of after it until the change after that.
    """
    global _current
    config = _current
    if config is None:
        generation = _generation
        config = Auth0Config.from_settings()
        with _generation_lock:
            if generation == _generation:
                _current = config
    return config


@receiver(setting_changed)
def _forget_config(**kwargs: Any) -> None:
    global _current, _generation
    with _generation_lock:
        _generation += 1
        _current = None
