"""Settings come from the environment or a ``.env`` file at the project root."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import MethodType, ModuleType
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import path
from django.utils.log import AdminEmailHandler

from apiexample.log_redaction import REDACTED
from devtools.processes import api_environment
from mock_idp import MockIdP
from mock_idp.server import MockIdPServer
from tests.apiexample.helpers import log_of_requests_with_a_token

ROOT = Path(__file__).resolve().parents[2]
#: Django settings as the project sets them, and the leeway the validator reads from them.
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "from apiexample import conf; "
    "seen = {n: str(getattr(settings, n)) for n in "
    "['AUTH0_DOMAIN', 'AUTH0_AUDIENCE', 'DEBUG', 'ALLOWED_HOSTS', 'CORS_ALLOWED_ORIGINS']}; "
    "seen['leeway'] = format(conf.current().leeway, 'g'); "
    "print(json.dumps(seen))"
)
#: Every AUTH0_* Django setting, and the secret key's, as the project sets them.
SETTINGS_PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "seen = {n: getattr(settings, n) for n in dir(settings) if n.startswith('AUTH0_')}; "
    "seen.update(SECRET_KEY=settings.SECRET_KEY, FROM_ENV=settings.SECRET_KEY_FROM_ENV); "
    "print(json.dumps(seen))"
)
#: A value for each AUTH0_* variable, none of them its default.
AUTH0_VARIABLES = {
    "AUTH0_DOMAIN": "t.auth0.com",
    "AUTH0_AUDIENCE": "https://a",
    "AUTH0_ISSUER": "https://issuer.example/",
    "AUTH0_JWKS_URL": "https://issuer.example/keys.json",
    "AUTH0_ALGORITHMS": "PS256,RS256",
    "AUTH0_LEEWAY": "45",
    "AUTH0_JWKS_CACHE_TTL": "900",
    "AUTH0_JWKS_COOLDOWN": "60",
    "AUTH0_JWKS_TIMEOUT": "5",
    "AUTH0_JWKS_STALE_IF_ERROR": "3600",
    "AUTH0_TOKEN_CACHE_SIZE": "128",
}


def settings_with(env: dict[str, str], cwd: Path, probe: str = PROBE) -> dict[str, Any]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("AUTH0_", "DJANGO_", "CORS_"))
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="apiexample.settings", PYTHONPATH=str(cwd))
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env=clean,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return dict(json.loads(out.stdout))


def copy_project(tmp_path: Path) -> Path:
    (tmp_path / "apiexample").mkdir()
    for source in (ROOT / "apiexample").glob("*.py"):
        (tmp_path / "apiexample" / source.name).write_text(source.read_text())
    return tmp_path


def test_environment_variables(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    seen = settings_with(
        {
            "AUTH0_DOMAIN": "t.auth0.com",
            "AUTH0_AUDIENCE": "https://a",
            "DJANGO_DEBUG": "true",
            "DJANGO_ALLOWED_HOSTS": "api.example.com",
            "CORS_ALLOWED_ORIGINS": "https://app.example.com",
        },
        project,
    )
    assert seen == {
        "AUTH0_DOMAIN": "t.auth0.com",
        "AUTH0_AUDIENCE": "https://a",
        "leeway": "30",
        "DEBUG": "True",
        "ALLOWED_HOSTS": "['api.example.com']",
        "CORS_ALLOWED_ORIGINS": "['https://app.example.com']",
    }


def test_each_auth0_variable_becomes_the_django_setting_of_its_name(tmp_path: Path) -> None:
    """SPEC section 2: settings.py reads each variable into the Django setting of the same
    name, which the API reads per request (so tests can override them); none is left out.
    ``DJANGO_SECRET_KEY`` becomes ``SECRET_KEY``."""
    env = {**AUTH0_VARIABLES, "DJANGO_SECRET_KEY": "k" * 50}
    seen = settings_with(env, copy_project(tmp_path), SETTINGS_PROBE)
    assert {n: v for n, v in seen.items() if n.startswith("AUTH0_")} == AUTH0_VARIABLES
    assert (seen["SECRET_KEY"], seen["FROM_ENV"]) == ("k" * 50, True)


def test_without_a_secret_key_each_process_draws_its_own(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    first, second = (settings_with({}, project, SETTINGS_PROBE) for _ in range(2))
    assert first["FROM_ENV"] is False
    assert len(first["SECRET_KEY"]) >= 50
    assert first["SECRET_KEY"] != second["SECRET_KEY"]


def test_dotenv_file_with_environment_winning(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    (project / ".env").write_text("AUTH0_DOMAIN=from-file.auth0.com\nAUTH0_AUDIENCE=https://file\n")
    seen = settings_with({"AUTH0_AUDIENCE": "https://env"}, project)
    assert seen["AUTH0_DOMAIN"] == "from-file.auth0.com"
    assert seen["AUTH0_AUDIENCE"] == "https://env"


def test_defaults_are_safe(tmp_path: Path) -> None:
    seen = settings_with({}, copy_project(tmp_path))
    assert seen["DEBUG"] == "False"
    assert seen["ALLOWED_HOSTS"] == "['localhost', '127.0.0.1', '[::1]']"
    assert seen["CORS_ALLOWED_ORIGINS"] == "[]"


#: The CORS settings, the system checks' IDs and the answer to a request from a browser.
CORS_PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "from django.core.checks import run_checks; from django.test import Client; "
    "ids = sorted({message.id for message in run_checks()}); "
    "answer = Client().get('/api/public', HTTP_ORIGIN='https://app.example.com'); "
    "print(json.dumps({'allowed': settings.CORS_ALLOWED_ORIGINS, "
    "'unreadable': settings.UNREADABLE_CORS_ORIGINS, 'ids': ids, 'status': answer.status_code, "
    "'allow_origin': answer.get('Access-Control-Allow-Origin')}))"
)


def test_a_cors_origin_that_is_not_a_url_is_left_out_and_named_by_the_check(
    tmp_path: Path,
) -> None:
    """django-cors-headers splits every origin as a URL, in its system check and on every
    request with an ``Origin`` header: ``http://[::1`` raised there, a traceback from
    ``manage.py check`` and a 500 for every browser (found by review)."""
    env = {
        "AUTH0_DOMAIN": "t.auth0.com",
        "AUTH0_AUDIENCE": "https://a",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "CORS_ALLOWED_ORIGINS": "http://[::1,https://app.example.com,https://x]",
    }
    seen = settings_with(env, copy_project(tmp_path), CORS_PROBE)
    assert seen == {
        "allowed": ["https://app.example.com"],
        "unreadable": ["http://[::1", "https://x]"],
        "ids": ["apiexample.E010"],
        "status": 200,
        "allow_origin": "https://app.example.com",
    }


def test_a_variable_set_but_empty_takes_the_default(tmp_path: Path) -> None:
    """``DJANGO_ALLOWED_HOSTS=`` in a compose file or .env must not mean "no host at all"."""
    project = copy_project(tmp_path)
    (project / ".env").write_text("AUTH0_LEEWAY=\n")
    seen = settings_with({"DJANGO_ALLOWED_HOSTS": "", "AUTH0_DOMAIN": " "}, project)
    assert seen["ALLOWED_HOSTS"] == "['localhost', '127.0.0.1', '[::1]']"
    assert seen["leeway"] == "30"
    assert seen["AUTH0_DOMAIN"] == ""


def test_an_empty_environment_variable_pins_the_default_over_the_dotenv_value(
    tmp_path: Path,
) -> None:
    """Real variables win, empty ones too: ``make run`` and ``make bench`` pin settings to their
    defaults this way, so a developer's .env never points them at a tenant."""
    project = copy_project(tmp_path)
    (project / ".env").write_text("AUTH0_DOMAIN=tenant.example\nAUTH0_LEEWAY=45\n")
    seen = settings_with({"AUTH0_DOMAIN": "", "AUTH0_LEEWAY": ""}, project)
    assert seen["AUTH0_DOMAIN"] == ""
    assert seen["leeway"] == "30"


def test_a_dotenv_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    (project / ".env").write_bytes(b"AUTH0_AUDIENCE=https://caf\xe9\n")
    with pytest.raises(subprocess.CalledProcessError) as failed:
        settings_with({}, project)
    assert f"ImproperlyConfigured: {project / '.env'} is not UTF-8 text" in failed.value.stderr


def test_a_dotenv_file_that_is_not_utf8_is_named_in_process(tmp_path: Path) -> None:
    """As above, in this process (where coverage is measured)."""
    from django.core.exceptions import ImproperlyConfigured

    from apiexample.settings import _load_dotenv

    path = tmp_path / ".env"
    path.write_bytes(b"APIEXAMPLE_UNSET_NAME=\xe9\n")
    with pytest.raises(ImproperlyConfigured, match="is not UTF-8 text"):
        _load_dotenv(path)
    assert "APIEXAMPLE_UNSET_NAME" not in os.environ


@pytest.mark.parametrize("line", [b"APIEXAMPLE_UNSET_NAME=a\x00b\n", b"APIEXAMPLE_\x00=1\n"])
def test_a_dotenv_file_holding_a_nul_is_named(tmp_path: Path, line: bytes) -> None:
    """It had been ``ValueError: embedded null byte``, naming no file (found by review)."""
    from django.core.exceptions import ImproperlyConfigured

    from apiexample.settings import _load_dotenv

    path = tmp_path / ".env"
    path.write_bytes(line)
    with pytest.raises(ImproperlyConfigured, match=f"^{re.escape(str(path))} holds what no"):
        _load_dotenv(path)
    assert not any(name.startswith("APIEXAMPLE_") for name in os.environ)


def test_the_api_s_log_handler_redacts_tokens(mock_idp: MockIdP) -> None:
    """``LOGGING``'s console handler, which the API's loggers write to."""
    token = mock_idp.mint()
    (handler,) = logging.getLogger("apiexample").handlers
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        logging.getLogger("apiexample.tests").warning("Bearer %s", token)
    finally:
        handler.setStream(previous)
    assert stream.getvalue().endswith(f" WARNING apiexample.tests Bearer {REDACTED}\n")


def test_django_s_loggers_of_what_a_client_sent_redact_tokens(
    api: Any, mock_idp: MockIdP, caplog: pytest.LogCaptureFixture
) -> None:
    """``django.request`` logs the path of a 404, ``django.security.DisallowedHost`` the Host
    header it refused (``LOGGING``)."""
    token = mock_idp.mint()
    with caplog.at_level(logging.WARNING, logger="django"):
        assert api.get(f"/{token}").status_code == 404
        assert api.get("/api/public", HTTP_HOST=token).status_code == 400
    logged = [(r.name, r.getMessage()) for r in caplog.records]
    assert ("django.request", f"Not Found: /{REDACTED}") in logged
    assert any(
        name == "django.security.DisallowedHost" and f"header: '{REDACTED}'" in message
        for name, message in logged
    )
    for segment in token.split("."):
        assert segment not in caplog.text
        assert all(segment not in (r.exc_text or "") for r in caplog.records)


@pytest.mark.parametrize("name", ["django.request", "django.security.DisallowedHost"])
def test_an_error_email_still_reports_the_exception(
    mock_idp: MockIdP, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    """``mail_admins`` builds its report from the record's exception, which the filter keeps
    on Django's loggers (found by review: the emails had lost it); the logs get its text
    redacted. The email is caught as Django's handler hands it over (sending one asks for
    settings that differ between Django 4.2 and 6.1)."""
    sent: list[tuple[str, str]] = []

    def send_mail(handler: AdminEmailHandler, subject: str, message: str, **_: Any) -> None:
        sent.append((subject, message))

    (handler,) = [
        h for h in logging.getLogger("django").handlers if isinstance(h, AdminEmailHandler)
    ]
    monkeypatch.setattr(handler, "send_mail", MethodType(send_mail, handler))  # ADMINS or not
    token = mock_idp.mint()
    try:
        raise ValueError("the view failed")
    except ValueError:
        exc_info = sys.exc_info()
    request = RequestFactory().get(f"/{token}")
    logging.getLogger(name).error(
        "Internal Server Error: %s", f"/{token}", exc_info=exc_info,
        extra={"status_code": 500, "request": request},
    )  # fmt: skip
    ((subject, body),) = sent
    assert subject.endswith(f"Internal Server Error: /{REDACTED}")
    assert "ValueError at /" in body
    assert 'raise ValueError("the view failed")' in body
    (record,) = [r for r in caplog.records if r.name == name]
    assert record.exc_text is not None
    assert "ValueError: the view failed" in record.exc_text
    for segment in token.split("."):
        assert segment not in caplog.text


@pytest.mark.live
def test_runserver_logs_no_token(mock_idp_live: MockIdPServer, tmp_path: Path) -> None:
    """``runserver``'s request log holds the query string (``LOGGING``'s ``django.server``)."""
    idp = mock_idp_live.idp
    written = log_of_requests_with_a_token(
        lambda port: [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        api_environment(idp.issuer),
        idp.mint(),
        tmp_path / "runserver.log",
    )
    assert f'"GET /api/private?access_token={REDACTED} HTTP/1.1" 401' in written
    assert '"GET /api/private HTTP/1.1" 200' in written
    assert '"GET /docs/basic HTTP/1.1" 404' in written


@pytest.fixture
def crashes_printed() -> Iterator[io.StringIO]:
    """What ``LOGGING``'s ``crashes`` handler prints."""
    (handler,) = logging.getLogger("django.request").handlers
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def crashing_urls() -> ModuleType:
    """``/crash`` raises; ``/answers-500`` answers a 500 of its own."""

    def crash(request: HttpRequest) -> HttpResponse:
        raise RuntimeError(f"the view crashed on {request.get_full_path()}")

    crashing = ModuleType("crashing_urls")
    crashing.urlpatterns = [  # type: ignore[attr-defined]
        path("crash", crash),
        path("answers-500", lambda request: HttpResponse(status=500)),
    ]
    return crashing


def test_a_crashed_view_s_traceback_is_printed_redacted(
    api_settings: Any, settings: Any, mock_idp: MockIdP, crashes_printed: io.StringIO
) -> None:
    """With DEBUG off Django prints nothing of a crash: under gunicorn, only its 500 showed."""
    settings.ROOT_URLCONF = crashing_urls()
    token = mock_idp.mint()
    response = Client(raise_request_exception=False).get(f"/crash?access_token={token}")
    assert response.status_code == 500
    printed = crashes_printed.getvalue()
    assert " ERROR django.request Internal Server Error: /crash\n" in printed
    assert "Traceback (most recent call last):" in printed
    assert f"RuntimeError: the view crashed on /crash?access_token={REDACTED}" in printed
    for segment in token.split("."):
        assert segment not in printed


def test_an_answered_5xx_and_debug_mode_print_nothing_more(
    api_settings: Any, settings: Any, call: Any, mock_idp: MockIdP, crashes_printed: io.StringIO
) -> None:
    """A 503 the API answers is logged as a refusal already, and a 500 a view answers is no
    crash (Django logs it without an exception); with DEBUG on, Django prints crashes."""
    api_settings.AUTH0_AUDIENCE = ""  # misconfigured: 503
    assert call("/api/private", mock_idp.mint()).status_code == 503
    settings.ROOT_URLCONF = crashing_urls()
    client = Client(raise_request_exception=False)
    assert client.get("/answers-500").status_code == 500
    settings.DEBUG = True
    assert client.get("/crash").status_code == 500
    assert crashes_printed.getvalue() == ""


@pytest.fixture
def django_console() -> Iterator[io.StringIO]:
    """What the ``django`` logger's console handler prints (with DEBUG on)."""
    (handler,) = [
        h for h in logging.getLogger("django").handlers if type(h) is logging.StreamHandler
    ]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_a_csrf_refusal_logs_no_token(
    settings: Any, mock_idp: MockIdP, django_console: io.StringIO
) -> None:
    """Found by a security review: ``django.security.csrf`` logs the path and a Referer, and a
    filter on a logger misses its children: Django's own handlers redact now."""
    settings.DEBUG = True
    settings.ROOT_URLCONF = crashing_urls()
    token = mock_idp.mint()
    client = Client(enforce_csrf_checks=True)
    assert client.post(f"/crash?access_token={token}", {"a": "b"}).status_code == 403
    referer = f"https://app.example/cb?access_token={token}"
    assert client.post("/crash", {"a": "b"}, secure=True, HTTP_REFERER=referer).status_code == 403
    printed = django_console.getvalue()
    assert "Forbidden (CSRF cookie not set.)" in printed
    assert "Forbidden (Referer checking failed" in printed
    for segment in token.split("."):
        assert segment not in printed


# -- found by mutation testing: each test fails on a mutant of LOGGING -------------------------


@pytest.fixture
def mailed() -> Iterator[list[str]]:
    """Subject and body of each email ``LOGGING``'s ``mail_admins`` hands over (not sent)."""
    sent: list[str] = []

    def send_mail(handler: AdminEmailHandler, subject: str, message: str, **_: Any) -> None:
        sent.append(f"{subject}\n{message}")

    (handler,) = [
        h for h in logging.getLogger("django").handlers if isinstance(h, AdminEmailHandler)
    ]
    handler.send_mail = MethodType(send_mail, handler)  # type: ignore[method-assign]
    yield sent
    del handler.send_mail


def test_with_debug_off_a_4xx_prints_nothing_and_mails_no_one(
    settings: Any, django_console: io.StringIO, crashes_printed: io.StringIO, mailed: list[str]
) -> None:
    """Django's defaults: its console prints with DEBUG on only, and only errors are mailed."""
    settings.DEBUG = False
    assert Client().get("/nowhere").status_code == 404
    assert [django_console.getvalue(), crashes_printed.getvalue(), mailed] == ["", "", []]


def test_with_debug_on_a_crash_is_printed_and_mailed_to_no_one(
    settings: Any, django_console: io.StringIO, mailed: list[str]
) -> None:
    settings.DEBUG = True
    settings.ROOT_URLCONF = crashing_urls()
    assert Client(raise_request_exception=False).get("/crash").status_code == 500
    assert "Internal Server Error: /crash" in django_console.getvalue()
    assert mailed == []


def test_with_debug_on_django_s_console_prints_info_not_debug(
    settings: Any, django_console: io.StringIO
) -> None:
    """As Django's own console handler: ``runserver``'s autoreloader says it is watching at
    INFO; SQL at DEBUG needs a handler of its own even with its logger lowered."""
    settings.DEBUG = True
    logging.getLogger("django.utils.autoreload").info("Watching for file changes")
    chatty = logging.getLogger("django.db.backends")
    previous = chatty.level
    chatty.setLevel(logging.DEBUG)
    try:
        chatty.debug("(0.001) SELECT 1")
    finally:
        chatty.setLevel(previous)
    assert django_console.getvalue() == "Watching for file changes\n"


def test_an_error_email_from_any_django_logger_is_redacted(
    mock_idp: MockIdP, mailed: list[str]
) -> None:
    """``mail_admins`` redacts what it is given: Django's loggers other than ``django.request``
    and ``django.security.DisallowedHost`` have no filter of their own (``SuspiciousOperation``
    is logged at ERROR on ``django.security.<its class>``)."""
    token = mock_idp.mint()
    logging.getLogger("django.security.DisallowedRedirect").error(
        "Unsafe redirect to /cb?access_token=%s", token
    )
    (mail,) = mailed
    assert "Unsafe redirect to /cb?access_token=[redacted]" in mail
    for segment in token.split("."):
        assert segment not in mail


def test_a_4xx_a_view_raises_is_no_crash(settings: Any, crashes_printed: io.StringIO) -> None:
    """Django logs a ``PermissionDenied`` at WARNING with its exception: ``crashes`` prints
    errors only."""

    def forbidden(request: HttpRequest) -> HttpResponse:
        raise PermissionDenied("not yours")

    urls = ModuleType("forbidding_urls")
    urls.urlpatterns = [path("forbidden", forbidden)]  # type: ignore[attr-defined]
    settings.ROOT_URLCONF = urls
    assert Client().get("/forbidden").status_code == 403
    assert crashes_printed.getvalue() == ""


@pytest.mark.parametrize(
    ("value", "debug"),
    [
        ("1", True),
        ("true", True),
        ("Yes", True),
        ("ON", True),
        ("0", False),
        ("false", False),
        ("off", False),
        ("", False),
        ("debug", False),
    ],
)
def test_django_debug_reads_the_usual_spellings_of_true(
    monkeypatch: pytest.MonkeyPatch, value: str, debug: bool
) -> None:
    """Found by mutation testing: only "true" was exercised."""
    from apiexample.settings import _env_flag

    monkeypatch.setenv("DJANGO_DEBUG", value)
    assert _env_flag("DJANGO_DEBUG") is debug


def test_every_answer_carries_django_s_security_headers(client: Any) -> None:
    """``SecurityMiddleware`` first, as Django's own project template has it (found by mutation
    testing: nothing noticed it gone)."""
    for route in ("/api/public", "/api/private", "/nowhere"):
        answer = client.get(route)
        assert answer["X-Content-Type-Options"] == "nosniff", route
        assert answer["Referrer-Policy"] == "same-origin", route
        assert answer["Cross-Origin-Opener-Policy"] == "same-origin", route
