"""The AUTH0_* settings: defaults, derivations, loopback rule, and every problem ID."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from apiexample import conf
from tests.apiexample.conftest import DOCUMENTED_DEFAULTS

ROOT = Path(__file__).resolve().parents[2]

#: conf's defaults, as a setting would spell them.
CONF_DEFAULTS = {
    "AUTH0_ALGORITHMS": ",".join(conf.DEFAULT_ALGORITHMS),
    "AUTH0_LEEWAY": str(conf.DEFAULT_LEEWAY),
    "AUTH0_JWKS_CACHE_TTL": str(conf.DEFAULT_JWKS_CACHE_TTL),
    "AUTH0_JWKS_COOLDOWN": str(conf.DEFAULT_JWKS_COOLDOWN),
    "AUTH0_JWKS_TIMEOUT": str(conf.DEFAULT_JWKS_TIMEOUT),
    "AUTH0_JWKS_STALE_IF_ERROR": str(conf.DEFAULT_JWKS_STALE_IF_ERROR),
    "AUTH0_TOKEN_CACHE_SIZE": str(conf.DEFAULT_TOKEN_CACHE_SIZE),
}


def problem_ids(settings: Any, **values: Any) -> set[str]:
    for name, value in values.items():
        setattr(settings, name, value)
    return {problem.id for problem in conf.current().problems}


def test_defaults_derive_from_the_domain(tenant: Any) -> None:
    config = conf.current()
    assert config.issuer == "https://example.us.auth0.com/"
    assert config.jwks_url == "https://example.us.auth0.com/.well-known/jwks.json"
    assert config.algorithms == ("RS256",)
    assert (config.leeway, config.jwks_cache_ttl, config.jwks_cooldown) == (30, 600, 30)
    assert config.problems == ()


def test_text_settings_are_read_without_surrounding_whitespace(tenant: Any) -> None:
    """A value pasted with a space or a line break around it (found by mutation testing: the
    padded audience matched no token's ``aud``)."""
    tenant.AUTH0_AUDIENCE = " https://api.example.com\n"
    tenant.AUTH0_ISSUER = "\thttps://login.example.com/ "
    tenant.AUTH0_JWKS_URL = " https://keys.example.com/jwks "
    config = conf.current()
    assert config.audience == "https://api.example.com"
    assert config.issuer == "https://login.example.com/"
    assert config.jwks_url == "https://keys.example.com/jwks"
    assert config.problems == ()


def test_explicit_issuer_and_jwks_url_win(tenant: Any) -> None:
    tenant.AUTH0_ISSUER = "https://login.example.com"
    assert conf.current().jwks_url == "https://login.example.com/.well-known/jwks.json"
    tenant.AUTH0_JWKS_URL = "https://keys.example.com/jwks"
    assert conf.current().jwks_url == "https://keys.example.com/jwks"


def test_settings_are_reread_after_a_change(tenant: Any) -> None:
    first = conf.current()
    assert conf.current() is first
    tenant.AUTH0_AUDIENCE = "https://other"
    assert conf.current().audience == "https://other"


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("RS256", ("RS256",)),
        ("RS256, PS256,,", ("RS256", "PS256")),
        (["RS512"], ("RS512",)),
        ("", ("RS256",)),  # empty is unset: the default
        (" , ", ()),
        ("PS256,RS256", ("PS256", "RS256")),  # in the order given: the first one matters
        ("RS256,PS256,RS256", ("RS256", "PS256")),  # each once, where it first stands
        ({"RS256", "PS256"}, ()),  # a set has no first one: E005
    ],
)
def test_algorithms_accept_lists_and_comma_strings(tenant: Any, raw: Any, parsed: Any) -> None:
    tenant.AUTH0_ALGORITHMS = raw
    assert conf.current().algorithms == parsed


def test_the_readme_env_example_and_the_suite_show_conf_s_defaults() -> None:
    """A default changed in conf alone would leave the README's table, ``.env.example`` and the
    defaults every API test runs with (``DOCUMENTED_DEFAULTS``) at the old one."""
    readme = (ROOT / "README.md").read_text()
    table = dict(re.findall(r"^\| `(AUTH0_\w+)` \|.*\| `([^`|]+)` \|$", readme, re.MULTILINE))
    example = (ROOT / ".env.example").read_text()
    commented = dict(re.findall(r"^# (AUTH0_\w+)=(\S+)$", example, re.MULTILINE))
    for name, value in CONF_DEFAULTS.items():
        assert (table.get(name), commented.get(name), DOCUMENTED_DEFAULTS[name]) == (value,) * 3, (
            name
        )


@pytest.mark.parametrize("unset", ["", " ", None])
def test_an_unset_or_blank_setting_takes_the_documented_default(tenant: Any, unset: Any) -> None:
    """settings.py copies an unset variable as "": the defaults live in conf alone, and are
    the README's, written out here rather than read from conf."""
    for name in (
        "AUTH0_ALGORITHMS",
        "AUTH0_LEEWAY",
        "AUTH0_JWKS_CACHE_TTL",
        "AUTH0_JWKS_COOLDOWN",
        "AUTH0_JWKS_STALE_IF_ERROR",
        "AUTH0_JWKS_TIMEOUT",
        "AUTH0_TOKEN_CACHE_SIZE",
    ):
        if unset is None:
            delattr(tenant, name)
        else:
            setattr(tenant, name, unset)
    config = conf.current()
    assert config.algorithms == ("RS256",)
    assert (config.leeway, config.jwks_cache_ttl, config.jwks_cooldown) == (30, 600, 30)
    assert (config.jwks_stale_if_error, config.jwks_timeout) == (86400, 8)
    assert config.token_cache_size == 4096
    assert config.problems == ()


def test_token_cache_size_can_be_turned_off(tenant: Any) -> None:
    tenant.AUTH0_TOKEN_CACHE_SIZE = "0"
    assert conf.current().token_cache_size == 0


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("127.0.0.1", True),
        ("127.5.6.7", True),
        ("::1", True),
        ("example.com", False),
        ("10.0.0.1", False),
        ("", False),
        (None, False),
        ("localhost.evil.com", False),
    ],
)
def test_loopback_hosts(host: Any, loopback: bool) -> None:
    assert conf.is_loopback_host(host) is loopback


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.com/", True),
        ("http://127.0.0.1:8001/", True),
        ("http://[::1]:80/", True),
        ("http://localhost/", True),
        ("http://example.com/", False),
        ("ftp://localhost/", False),
        ("https://", False),
        ("http://[::1/", False),
        ("example.com", False),
        # urlsplit reads host 127.0.0.1; requests would connect to evil.example
        ("http://evil.example\\@127.0.0.1/", False),
        ("http://evil.example\\.127.0.0.1/", False),
        ("http://127.0.0.1 /", False),
        ("http://127.0.0.1\t/", False),
        ("https://example.com/jwks .json", False),  # the host agrees; the rest is no URI
        ("https://example.com/jwks\\keys.json", False),
        ("https://example.com/jwks.json\x7f", False),
        ("https://exämple.com/", False),  # RFC 3986 URIs are ASCII: its punycode passes
        ("https://xn--exmple-cua.com/", True),
        ("http://127.0.0.1:80@evil.example/", False),  # userinfo: both parsers agree on the host
        ("http://LOCALHOST/", True),
        # a zone ID: urllib3 and urlsplit disagree on the host, whatever it is
        ("http://[::1%25eth0]/", False),
        # credentials in a setting would be logged with the URL
        ("http://operator:secret@127.0.0.1/jwks.json", False),
        ("https://user@example.com/", False),
        ("http://evil.example;@127.0.0.1/", False),
        ("http://127.0.0.1:0/", False),  # no server listens on port 0
        ("http://127.0.0.1:65536/", False),
        ("http://127.0.0.1:65535/", True),
        ("https://example.com/jwks.json?v=2", True),  # a query is fine in a JWKS URL
    ],
)
def test_acceptable_urls(url: str, ok: bool) -> None:
    assert conf.is_acceptable_url(url) is ok


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"AUTH0_AUDIENCE": ""}, {"apiexample.E001"}),
        ({"AUTH0_AUDIENCE": 42}, {"apiexample.E001"}),
        ({"AUTH0_AUDIENCE": ["https://api.example"]}, {"apiexample.E001"}),
        # a text setting of another type fails closed, where a default would otherwise stand
        ({"AUTH0_ISSUER": b"https://tenant.example/"}, {"apiexample.E002"}),
        ({"AUTH0_JWKS_URL": 443}, {"apiexample.E004"}),
        ({"AUTH0_DOMAIN": 42, "AUTH0_ISSUER": "https://tenant.example/"}, {"apiexample.E002"}),
        ({"AUTH0_DOMAIN": ""}, {"apiexample.E002"}),
        ({"AUTH0_ISSUER": "http://example.com/"}, {"apiexample.E003", "apiexample.E004"}),
        (
            {"AUTH0_ISSUER": "http://example.com/", "AUTH0_JWKS_URL": "https://k.example/"},
            {"apiexample.E003"},
        ),
        ({"AUTH0_JWKS_URL": "http://keys.example.com/"}, {"apiexample.E004"}),
        ({"AUTH0_ALGORITHMS": "RS256,HS256"}, {"apiexample.E005"}),
        ({"AUTH0_ALGORITHMS": "none"}, {"apiexample.E005"}),
        ({"AUTH0_ALGORITHMS": ","}, {"apiexample.E005"}),
        ({"AUTH0_LEEWAY": -1}, {"apiexample.E006"}),
        ({"AUTH0_LEEWAY": "soon"}, {"apiexample.E006"}),
        ({"AUTH0_LEEWAY": "inf"}, {"apiexample.E006"}),
        ({"AUTH0_LEEWAY": "1e300"}, {"apiexample.E006"}),  # tokens that never expire
        ({"AUTH0_LEEWAY": 301}, {"apiexample.E006"}),
        ({"AUTH0_LEEWAY": 300}, set()),
        ({"AUTH0_JWKS_TIMEOUT": "inf"}, {"apiexample.E007"}),
        ({"AUTH0_JWKS_TIMEOUT": "1e10"}, {"apiexample.E007"}),  # past threading.TIMEOUT_MAX
        ({"AUTH0_JWKS_TIMEOUT": 61}, {"apiexample.E007"}),
        ({"AUTH0_JWKS_TIMEOUT": 60}, set()),
        ({"AUTH0_JWKS_CACHE_TTL": "inf"}, {"apiexample.E007"}),
        ({"AUTH0_JWKS_COOLDOWN": "inf"}, {"apiexample.E007"}),
        ({"AUTH0_JWKS_STALE_IF_ERROR": "inf"}, {"apiexample.E007"}),
        ({"AUTH0_JWKS_STALE_IF_ERROR": -1}, {"apiexample.E007"}),
        ({"AUTH0_JWKS_STALE_IF_ERROR": 0}, set()),
        ({"AUTH0_JWKS_URL": "http://evil.example\\@127.0.0.1/jwks.json"}, {"apiexample.E004"}),
        ({"AUTH0_DOMAIN": "https://tenant.example"}, {"apiexample.E009"}),
        ({"AUTH0_DOMAIN": "tenant.example/"}, {"apiexample.E009"}),
        ({"AUTH0_DOMAIN": "tenant .example"}, {"apiexample.E009", "apiexample.E004"}),
        ({"AUTH0_DOMAIN": "tenant.example:8443"}, set()),
        ({"AUTH0_DOMAIN": "tenant.example."}, {"apiexample.E009"}),  # iss has no final dot
        (
            {"AUTH0_ISSUER": "https://tenant.example/\u00e9/"},
            {"apiexample.E003", "apiexample.E004"},
        ),
        ({"AUTH0_JWKS_URL": "https://tenant.example/\u00e9.json"}, {"apiexample.E004"}),
        ({"AUTH0_DOMAIN": "https://x/", "AUTH0_ISSUER": "https://tenant.example/"}, set()),
        # the issuer is set, so the domain is not used, even where the issuer is built alike
        ({"AUTH0_DOMAIN": "login.example/x", "AUTH0_ISSUER": "https://login.example/x/"}, set()),
        (
            {"AUTH0_ISSUER": "http://evil.example\\@127.0.0.1/"},
            {"apiexample.E003", "apiexample.E004"},
        ),
        ({"AUTH0_JWKS_CACHE_TTL": 0}, {"apiexample.E007"}),
        ({"AUTH0_JWKS_COOLDOWN": -5}, {"apiexample.E007"}),
        ({"AUTH0_JWKS_COOLDOWN": 0}, set()),  # no cooldown: W003 with --deploy, no error
        ({"AUTH0_JWKS_TIMEOUT": 0}, {"apiexample.E007"}),
        ({"AUTH0_TOKEN_CACHE_SIZE": "inf"}, {"apiexample.E008"}),
        ({"AUTH0_TOKEN_CACHE_SIZE": "abc"}, {"apiexample.E008"}),
        ({"AUTH0_TOKEN_CACHE_SIZE": "-1"}, {"apiexample.E008"}),
        ({"AUTH0_TOKEN_CACHE_SIZE": "2.5"}, {"apiexample.E008"}),
        ({"AUTH0_TOKEN_CACHE_SIZE": "0"}, set()),
        ({"AUTH0_ISSUER": "http://127.0.0.1:8001/"}, set()),
        # RFC 8414 section 2: the JWKS URL would be derived after the query or fragment
        ({"AUTH0_ISSUER": "https://tenant.example/#f"}, {"apiexample.E003"}),
        ({"AUTH0_ISSUER": "https://tenant.example/?q"}, {"apiexample.E003"}),
        ({"AUTH0_ISSUER": "https://tenant.example/?"}, {"apiexample.E003"}),
        ({"AUTH0_DOMAIN": "tenant.example:0"}, {"apiexample.E003", "apiexample.E004"}),
        # a settings module may hold an int no float holds
        ({"AUTH0_LEEWAY": 10**400}, {"apiexample.E006"}),
        ({"AUTH0_JWKS_CACHE_TTL": 10**400}, {"apiexample.E007"}),
        ({"AUTH0_JWKS_COOLDOWN": 10**400}, {"apiexample.E007"}),
        ({"AUTH0_JWKS_STALE_IF_ERROR": 10**400}, {"apiexample.E007"}),
        ({"AUTH0_JWKS_TIMEOUT": 10**400}, {"apiexample.E007"}),
        ({"AUTH0_TOKEN_CACHE_SIZE": 10**400}, {"apiexample.E008"}),
    ],
)
def test_each_problem_has_its_id(tenant: Any, values: dict[str, Any], expected: set[str]) -> None:
    assert problem_ids(tenant, **values) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"AUTH0_AUDIENCE": ["https://api.example"]},
            ["AUTH0_AUDIENCE must be a string, not list."],
        ),
        (
            {"AUTH0_AUDIENCE": b"https://api.example"},
            ["AUTH0_AUDIENCE must be a string, not bytes."],
        ),
        (
            {"AUTH0_DOMAIN": 42},
            ["AUTH0_DOMAIN must be a string, not int."],
        ),  # not "Neither ... set"
        (
            {"AUTH0_DOMAIN": 42, "AUTH0_ISSUER": 42.0},
            [
                "AUTH0_DOMAIN must be a string, not int.",
                "AUTH0_ISSUER must be a string, not float.",
            ],
        ),
        (
            {"AUTH0_JWKS_URL": ("https://k.example/",)},
            ["AUTH0_JWKS_URL must be a string, not tuple."],
        ),
    ],
)
def test_a_text_setting_of_another_type_is_named_not_called_unset(
    tenant: Any, values: dict[str, Any], expected: list[str]
) -> None:
    """The message says what is wrong: "AUTH0_AUDIENCE is not set" sent people looking for a
    setting they had set, as a list of audiences or as bytes."""
    for name, value in values.items():
        setattr(tenant, name, value)
    assert [problem.msg for problem in conf.current().problems] == expected


def test_a_configuration_read_while_a_setting_changes_is_not_kept(
    tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request reads the settings while another thread changes them one by one (as
    pytest-django's ``settings`` fixture does): what it read is its own, never the one in force
    after the change, which would mix the issuer of after it with the audience of before."""
    tenant.AUTH0_AUDIENCE = "https://one.example"
    build = conf.Auth0Config.from_settings
    changed: list[bool] = []

    def read_then_change() -> conf.Auth0Config:
        config = build()
        if not changed:
            changed.append(True)
            tenant.AUTH0_AUDIENCE = "https://two.example"  # the other thread's change lands
        return config

    monkeypatch.setattr(conf.Auth0Config, "from_settings", read_then_change)
    assert conf.current().audience == "https://one.example"  # the caller's own read
    assert conf.current().audience == "https://two.example"
    assert conf.current() is conf.current()
