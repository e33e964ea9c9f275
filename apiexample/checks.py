"""System checks for the AUTH0_* settings and CORS origins, stable IDs (``manage.py check``).

E003/E004 keep the issuer and its keys on TLS outside loopback (RFC 8414 section 2, RFC 7515
section 4.1.2); E005 enforces RFC 8725 section 3.1 (an explicit allow-list of asymmetric
algorithms, never ``none`` or HS*).

They read settings only: no check ever contacts the identity provider.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from apiexample import conf


@register()
def check_auth0_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """apiexample.E001-E009: one error per misconfiguration found by ``Auth0Config.problems``."""
    return [
        Error(problem.msg, hint=problem.hint, id=problem.id) for problem in conf.current().problems
    ]


@register()
def check_refresh_timing(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """apiexample.W002: a JWKS TTL shorter than the cooldown, which bounds every fetch attempt
    (TTL refreshes included): keys are then trusted for a cooldown, not for the TTL."""
    config = conf.current()
    if config.problems or config.jwks_cache_ttl >= config.jwks_cooldown:
        return []
    return [
        Warning(
            f"AUTH0_JWKS_CACHE_TTL ({config.jwks_cache_ttl:g} s) is shorter than "
            f"AUTH0_JWKS_COOLDOWN ({config.jwks_cooldown:g} s): the JWKS is refreshed at most "
            "once per cooldown, so fetched keys are trusted for the cooldown.",
            hint=(
                "Make the TTL at least the cooldown (the defaults are "
                f"{conf.DEFAULT_JWKS_CACHE_TTL} and {conf.DEFAULT_JWKS_COOLDOWN} seconds)."
            ),
            id="apiexample.W002",
        )
    ]


@register()
def check_domain_case(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """apiexample.W004: capital letters in AUTH0_DOMAIN. Host names are case-insensitive (RFC
    4343), but ``iss`` is compared exactly (RFC 7519 section 4.1.1), and Auth0 writes its
    domains in lowercase: an issuer built from ``TENANT.us.auth0.com`` matches no token."""
    config = conf.current()
    if config.problems or not _domain_has_capitals(config):
        return []
    return [
        Warning(
            f"AUTH0_DOMAIN {config.domain!r} has capital letters: the issuer built from it, "
            f"{config.issuer!r}, must equal each token's iss exactly.",
            hint="Write the domain in lowercase, as Auth0 writes it in iss.",
            id="apiexample.W004",
        )
    ]


def _domain_has_capitals(config: conf.Auth0Config) -> bool:
    """Whether the issuer is built from an AUTH0_DOMAIN with capital letters (W004)."""
    return config.issuer_from_domain and config.domain != config.domain.lower()


@register()
def check_issuer_slash(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """apiexample.W005: an Auth0 issuer without its trailing slash. ``iss`` is compared exactly
    (RFC 7519 section 4.1.1), and Auth0 (like ``mock_idp``) writes ``https://{domain}/``: such an
    issuer matches no token, while its JWKS URL (built with the slash) still serves keys. Other
    identity providers' issuers may have no slash, and are left alone."""
    config = conf.current()
    if config.problems or config.issuer.endswith("/") or not _issued_by_auth0(config):
        return []
    return [
        Warning(
            f"AUTH0_ISSUER {config.issuer!r} does not end with '/': Auth0's iss always does, and "
            "iss must equal it exactly, so every token would be refused (claim_invalid_iss).",
            hint=f"Set AUTH0_ISSUER to {_with_its_slash(config)!r}.",
            id="apiexample.W005",
        )
    ]


def _with_its_slash(config: conf.Auth0Config) -> str:
    """The issuer with its trailing slash, spelt as Auth0 writes it when Auth0 issues it."""
    return _as_auth0_writes_it(config.issuer) if _spelt_by_auth0(config) else config.issuer + "/"


@register()
def check_issuer_spelling(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """apiexample.W006: an Auth0 issuer spelt otherwise than Auth0 writes ``iss``: with the
    default port (``:443``), a final dot, capital letters (W004 when they are all that differs
    in an issuer built from AUTH0_DOMAIN), or a path beyond ``/``. A reader sees the same
    issuer, but ``iss`` is compared as a string (RFC 7519 section 4.1.1): every token is
    refused. An issuer without its slash is W005's."""
    config = conf.current()
    if config.problems or not config.issuer.endswith("/") or not _spelt_by_auth0(config):
        return []
    expected = _as_auth0_writes_it(config.issuer)
    if expected == config.issuer or (
        _domain_has_capitals(config) and expected == config.issuer.lower()
    ):
        return []
    setting = "AUTH0_DOMAIN" if config.issuer_from_domain else "AUTH0_ISSUER"
    hint = urlsplit(expected).netloc if config.issuer_from_domain else expected
    return [
        Warning(
            f"The issuer {config.issuer!r} (from {setting}) is not spelt as Auth0 writes iss, "
            f"{expected!r}: iss must equal it exactly, so every token would be refused "
            "(claim_invalid_iss).",
            hint=f"Set {setting} to {hint!r}.",
            id="apiexample.W006",
        )
    ]


def _issued_by_auth0(config: conf.Auth0Config) -> bool:
    """Whether the issuer is one Auth0 or ``mock_idp`` serves: an Auth0 host, the tenant's own
    domain (``AUTH0_DOMAIN``, a custom domain too), or loopback."""
    host = _host_of(config.issuer)
    return (
        host.endswith(".auth0.com")
        or host == config.domain.lower().partition(":")[0]
        or conf.is_loopback_host(host)
    )


def _spelt_by_auth0(config: conf.Auth0Config) -> bool:
    """Whether Auth0 writes this issuer's ``iss`` for sure: on an Auth0 host, or built from
    AUTH0_DOMAIN (a custom domain too). ``mock_idp`` writes its issuer as given, and another
    identity provider may share a custom domain's host."""
    return config.issuer_from_domain or _host_of(config.issuer).endswith(".auth0.com")


def _as_auth0_writes_it(issuer: str) -> str:
    """An Auth0 ``issuer`` as Auth0 writes ``iss``: ``https://{host}/``, the host in lowercase
    without a final dot, no default port (RFC 9110 section 4.2.2), no path beyond ``/``."""
    parts = urlsplit(issuer)
    port = "" if parts.port in (None, 443) else f":{parts.port}"
    return f"{parts.scheme}://{_host_of(issuer)}{port}/"


def _host_of(issuer: str) -> str:
    """The issuer's host, without a final dot (``urlsplit`` gives it in lowercase)."""
    return (urlsplit(issuer).hostname or "").rstrip(".")


@register(deploy=True)
def check_cooldown(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """apiexample.W003: no JWKS cooldown (``manage.py check --deploy``). Every token with an
    unknown ``kid`` then fetches the JWKS, and waits for it: a flood of them is a flood on the
    IdP (CVE-2026-48524 is this in PyJWT's client)."""
    config = conf.current()
    if config.problems or config.jwks_cooldown > 0:
        return []
    return [
        Warning(
            "AUTH0_JWKS_COOLDOWN is 0: every token with an unknown kid fetches the JWKS.",
            hint=f"Leave it unset ({conf.DEFAULT_JWKS_COOLDOWN} seconds) outside tests.",
            id="apiexample.W003",
        )
    ]


@register()
def check_cors_origins(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """apiexample.E010: a ``CORS_ALLOWED_ORIGINS`` entry that is not a URL, which
    ``settings.py`` left out (django-cors-headers would raise on it)."""
    return [
        Error(
            f"CORS_ALLOWED_ORIGINS holds {origin!r}, which is not a URL; it is left out.",
            hint="Write each origin as scheme://host[:port], an IPv6 host in brackets: "
            "https://app.example.com, http://[::1]:3000.",
            id="apiexample.E010",
        )
        for origin in getattr(settings, "UNREADABLE_CORS_ORIGINS", [])
    ]


@register(deploy=True)
def check_secret_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """apiexample.W001: DJANGO_SECRET_KEY is not set (``manage.py check --deploy``)."""
    if getattr(settings, "SECRET_KEY_FROM_ENV", True):
        return []
    return [
        Warning(
            "DJANGO_SECRET_KEY is not set; a random per-process key is used.",
            hint="Nothing is signed with it today; set it before adding sessions.",
            id="apiexample.W001",
        )
    ]
