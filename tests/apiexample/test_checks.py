"""``manage.py check``: one test per ID, and no check ever contacts the IdP."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
import responses
from django.core.checks import WARNING
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from apiexample.checks import (
    check_auth0_settings,
    check_cooldown,
    check_cors_origins,
    check_domain_case,
    check_issuer_slash,
    check_issuer_spelling,
    check_refresh_timing,
    check_secret_key,
)


def test_a_good_configuration_passes(tenant: Any) -> None:
    assert check_auth0_settings() == []


@pytest.mark.parametrize(
    ("name", "value", "check_id"),
    [
        ("AUTH0_AUDIENCE", "", "apiexample.E001"),
        ("AUTH0_DOMAIN", "", "apiexample.E002"),
        ("AUTH0_ISSUER", "http://tenant.example/", "apiexample.E003"),  # and E004: its JWKS URL
        ("AUTH0_JWKS_URL", "http://keys.example/", "apiexample.E004"),
        ("AUTH0_ALGORITHMS", "HS256", "apiexample.E005"),
        ("AUTH0_LEEWAY", -30, "apiexample.E006"),
        ("AUTH0_JWKS_CACHE_TTL", -1, "apiexample.E007"),
        ("AUTH0_TOKEN_CACHE_SIZE", "inf", "apiexample.E008"),
        ("AUTH0_DOMAIN", "https://tenant.example/", "apiexample.E009"),
    ],
)
def test_each_misconfiguration_is_an_error(
    tenant: Any, name: str, value: Any, check_id: str
) -> None:
    setattr(tenant, name, value)
    messages = check_auth0_settings()
    assert [m.id for m in messages][:1] == [check_id]
    assert messages[0].is_serious()
    assert messages[0].hint


def test_a_password_in_a_url_is_not_printed_by_the_check(tenant: Any) -> None:
    """The URL is refused for holding it; the check must not spread it further."""
    tenant.AUTH0_ISSUER = "https://operator:s3cret@tenant.example/"
    tenant.AUTH0_JWKS_URL = "http://operator:s3cret@127.0.0.1/jwks.json"
    messages = check_auth0_settings()
    assert [m.id for m in messages] == ["apiexample.E003", "apiexample.E004"]
    assert "operator:***@tenant.example" in messages[0].msg
    assert "operator:***@127.0.0.1" in messages[1].msg
    assert not any("s3cret" in f"{m.msg} {m.hint}" for m in messages)


def test_manage_py_check_reports_and_fails(tenant: Any) -> None:
    tenant.AUTH0_AUDIENCE = ""
    with pytest.raises(SystemCheckError, match=r"apiexample\.E001"):
        call_command("check", stdout=StringIO(), stderr=StringIO())


@pytest.mark.django_db
def test_check_and_migrate_never_fetch_keys(tenant: Any) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as network:
        call_command("check", stdout=StringIO())
        call_command("migrate", stdout=StringIO(), verbosity=0)
        assert len(network.calls) == 0


def test_each_cors_origin_left_out_is_an_error(settings: Any) -> None:
    """``settings.py`` leaves out the origins django-cors-headers cannot split (E010)."""
    settings.UNREADABLE_CORS_ORIGINS = ["http://[::1", "https://x]"]
    messages = check_cors_origins()
    assert [m.id for m in messages] == ["apiexample.E010", "apiexample.E010"]
    assert all(m.is_serious() and m.hint for m in messages)
    assert "'http://[::1'" in messages[0].msg
    assert "'https://x]'" in messages[1].msg
    settings.UNREADABLE_CORS_ORIGINS = []
    assert check_cors_origins() == []
    del settings.UNREADABLE_CORS_ORIGINS  # a settings module of one's own, which does not say
    assert check_cors_origins() == []


def test_secret_key_warning(settings: Any) -> None:
    settings.SECRET_KEY_FROM_ENV = False
    assert [m.id for m in check_secret_key()] == ["apiexample.W001"]
    settings.SECRET_KEY_FROM_ENV = True
    assert check_secret_key() == []
    del settings.SECRET_KEY_FROM_ENV  # a settings module of one's own, which does not say
    assert check_secret_key() == []


def test_the_deploy_warnings_come_with_deploy_only(tenant: Any, settings: Any) -> None:
    from django.core.checks import run_checks

    tenant.AUTH0_JWKS_COOLDOWN = "0"
    settings.SECRET_KEY_FROM_ENV = False
    deploy_only = {"apiexample.W001", "apiexample.W003"}
    assert not deploy_only & {m.id for m in run_checks()}
    assert deploy_only <= {m.id for m in run_checks(include_deployment_checks=True)}


@pytest.mark.parametrize(("cooldown", "warned"), [("0", True), ("0.5", False), ("30", False)])
def test_no_cooldown_is_a_deploy_warning(tenant: Any, cooldown: str, warned: bool) -> None:
    tenant.AUTH0_JWKS_COOLDOWN = cooldown
    assert [m.id for m in check_cooldown()] == (["apiexample.W003"] if warned else [])
    tenant.AUTH0_JWKS_COOLDOWN = "-1"  # E007: reported as an error only
    assert check_cooldown() == []


@pytest.mark.parametrize(("ttl", "cooldown", "warned"), [("10", "30", True), ("30", "30", False)])
def test_a_ttl_shorter_than_the_cooldown_is_a_warning(
    tenant: Any, ttl: str, cooldown: str, warned: bool
) -> None:
    tenant.AUTH0_JWKS_CACHE_TTL = ttl
    tenant.AUTH0_JWKS_COOLDOWN = cooldown
    assert [m.id for m in check_refresh_timing()] == (["apiexample.W002"] if warned else [])
    tenant.AUTH0_AUDIENCE = ""  # E001: the errors alone are reported
    assert check_refresh_timing() == []


@pytest.mark.parametrize(
    ("domain", "issuer", "warned"),
    [
        ("Tenant.us.auth0.com", "", True),
        ("tenant.us.auth0.com", "", False),
        ("127.0.0.1:8001", "", False),  # no letters at all
        ("Tenant.us.auth0.com", "https://tenant.us.auth0.com/", False),  # the issuer is set
    ],
)
def test_capital_letters_in_the_domain_are_a_warning(
    tenant: Any, domain: str, issuer: str, warned: bool
) -> None:
    tenant.AUTH0_DOMAIN = domain
    tenant.AUTH0_ISSUER = issuer
    assert [m.id for m in check_domain_case()] == (["apiexample.W004"] if warned else [])


@pytest.mark.parametrize(
    ("issuer", "warned"),
    [
        ("https://tenant.us.auth0.com", True),
        ("https://login.example.com", True),  # the tenant's custom domain, AUTH0_DOMAIN
        ("http://127.0.0.1:8002", True),  # mock_idp
        ("https://tenant.us.auth0.com/", False),
        ("", False),  # built from AUTH0_DOMAIN, with its slash
        ("https://sso.example.org/realms/api", False),  # another IdP's issuer (Keycloak)
    ],
)
def test_an_auth0_issuer_without_its_trailing_slash_is_a_warning(
    tenant: Any, issuer: str, warned: bool
) -> None:
    """It passed every check and refused every token (found by review)."""
    tenant.AUTH0_DOMAIN = "login.example.com"
    tenant.AUTH0_ISSUER = issuer
    assert [m.id for m in check_issuer_slash()] == (["apiexample.W005"] if warned else [])


TENANT_ISSUER = "https://tenant.us.auth0.com/"


@pytest.mark.parametrize(
    ("domain", "issuer", "hint"),
    [
        ("", "https://TENANT.us.auth0.com/", f"Set AUTH0_ISSUER to {TENANT_ISSUER!r}."),
        ("", "HTTPS://tenant.us.auth0.com/", f"Set AUTH0_ISSUER to {TENANT_ISSUER!r}."),
        ("", "https://tenant.us.auth0.com:443/", f"Set AUTH0_ISSUER to {TENANT_ISSUER!r}."),
        ("", "https://tenant.us.auth0.com./", f"Set AUTH0_ISSUER to {TENANT_ISSUER!r}."),
        ("", "https://tenant.us.auth0.com//", f"Set AUTH0_ISSUER to {TENANT_ISSUER!r}."),
        ("", "https://tenant.us.auth0.com/oauth/", f"Set AUTH0_ISSUER to {TENANT_ISSUER!r}."),
        ("tenant.us.auth0.com:443", "", "Set AUTH0_DOMAIN to 'tenant.us.auth0.com'."),
        ("TENANT.us.auth0.com:443", "", "Set AUTH0_DOMAIN to 'tenant.us.auth0.com'."),
        ("login.example.com:443", "", "Set AUTH0_DOMAIN to 'login.example.com'."),
        ("login.example.com:08443", "", "Set AUTH0_DOMAIN to 'login.example.com:8443'."),
        ("tenant.us.auth0.com:443", "https://tenant.us.auth0.com:443/",  # AUTH0_ISSUER wins
         f"Set AUTH0_ISSUER to {TENANT_ISSUER!r}."),
        ("TENANT.us.auth0.com", "", None),  # W004's
        ("", "https://tenant.us.auth0.com", None),  # W005's
        ("", TENANT_ISSUER, None),
        ("login.example.com", "", None),
        ("", "https://tenant.us.auth0.com:8443/", None),  # not the default port
        ("", "https://notauth0.com:443/", None),  # not an Auth0 host
        ("", "http://127.0.0.1:8002/", None),
        ("", "http://[::1]:8002/", None),
        ("", "http://localhost:8002/tenant/", None),
        # mock_idp writes its issuer as given: http://127.0.0.1:80/, http://LOCALHOST:8002/
        ("", "http://127.0.0.1:80/", None),
        ("", "http://LOCALHOST:8002//", None),
        ("", "https://localhost.:8443/tenant/", None),
        # another identity provider's, on a host of its own or on the custom domain's
        ("", "https://sso.example.org:443/Realms/API/", None),
        ("login.example.com", "https://LOGIN.example.com:443/", None),
        ("sso.example.com", "https://sso.example.com/realms/main/", None),
    ],
)  # fmt: skip
def test_an_auth0_issuer_spelt_otherwise_than_its_iss_is_a_warning(
    tenant: Any, domain: str, issuer: str, hint: str | None
) -> None:
    """Each passed every check and refused every token (found by review): ``iss`` is compared
    as a string, not as a URL."""
    tenant.AUTH0_DOMAIN = domain
    tenant.AUTH0_ISSUER = issuer
    messages = check_issuer_spelling()
    assert [(m.id, m.level, m.hint) for m in messages] == (
        [("apiexample.W006", WARNING, hint)] if hint else []
    )
    if hint:
        assert f"{issuer or f'https://{domain}/'!r}" in messages[0].msg


def test_the_issuer_spelling_warning_names_the_issuer_as_auth0_writes_it(tenant: Any) -> None:
    tenant.AUTH0_ISSUER = "https://TENANT.us.auth0.com:443/"
    [message] = check_issuer_spelling()
    assert f"is not spelt as Auth0 writes iss, {TENANT_ISSUER!r}:" in message.msg


@pytest.mark.parametrize(
    ("domain", "issuer", "warned"),
    [
        ("login.example.com:8443", "https://login.example.com:8443", True),  # a port
        ("Login.Example.com", "https://login.example.com", True),  # the domain's case
        ("login.example.com", "https://tenant.auth0.com.example.org", False),  # not Auth0's
        ("login.example.com", "https://notauth0.com", False),
    ],
)
def test_the_issuer_slash_warning_reads_the_host_as_a_host(
    tenant: Any, domain: str, issuer: str, warned: bool
) -> None:
    """Found by mutation testing: the port, the case and the suffix rule went untested."""
    tenant.AUTH0_DOMAIN = domain
    tenant.AUTH0_ISSUER = issuer
    messages = check_issuer_slash()
    assert [(m.id, m.level) for m in messages] == ([("apiexample.W005", WARNING)] if warned else [])
    if warned:
        assert messages[0].hint == f"Set AUTH0_ISSUER to {issuer + '/'!r}."


@pytest.mark.parametrize(
    ("issuer", "hinted"),
    [
        ("https://TENANT.us.auth0.com:443", TENANT_ISSUER),  # as Auth0 writes it
        ("https://tenant.us.auth0.com.", TENANT_ISSUER),  # an Auth0 host, after its final dot
        ("http://LOCALHOST:80", "http://LOCALHOST:80/"),  # as mock_idp writes it: as given
    ],
)
def test_the_issuer_slash_warning_s_hint_is_the_issuer_as_its_idp_writes_it(
    tenant: Any, issuer: str, hinted: str
) -> None:
    tenant.AUTH0_ISSUER = issuer
    assert [m.hint for m in check_issuer_slash()] == [f"Set AUTH0_ISSUER to {hinted!r}."]


def test_a_missing_setting_s_hint_says_where_to_set_it_in_either_kind_of_project(
    tenant: Any,
) -> None:
    """apiexample's settings.py reads the environment and .env; a project of one's own, its
    settings module (found by a walk-through copying apiexample into a new project)."""
    tenant.AUTH0_AUDIENCE = ""
    tenant.AUTH0_DOMAIN = ""
    hints = {m.id: m.hint for m in check_auth0_settings()}
    for check_id in ("apiexample.E001", "apiexample.E002"):
        hint = hints[check_id]
        assert hint is not None
        assert "in the environment or .env" in hint
        assert "otherwise in your settings module" in hint


@pytest.mark.parametrize(
    ("name", "value", "check_id"),
    [
        ("AUTH0_DOMAIN", "TENANT.us.auth0.com", "apiexample.W004"),
        ("AUTH0_ISSUER", "https://tenant.us.auth0.com", "apiexample.W005"),
        ("AUTH0_ISSUER", "https://tenant.us.auth0.com:443/", "apiexample.W006"),
    ],
)
def test_the_issuer_warnings_come_with_every_check_unless_there_is_an_error(
    tenant: Any, name: str, value: str, check_id: str
) -> None:
    from django.core.checks import run_checks

    setattr(tenant, name, value)
    assert check_id in {m.id for m in run_checks()}
    tenant.AUTH0_AUDIENCE = ""  # E001: the errors say what to fix first
    assert check_id not in {m.id for m in run_checks()}
