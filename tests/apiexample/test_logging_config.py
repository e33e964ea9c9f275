"""``apiexample.logging_config``: ``LOGGING`` for a project of one's own."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from pathlib import Path

import django

from apiexample.logging_config import SECURITY_LOGGERS, has_exception
from tests.imports import ROOT, packages_loaded_by


def run_program(program: str) -> subprocess.CompletedProcess[str]:
    """``program`` in a Python of its own (logging configured once per process), from the
    project root; its output captured."""
    return subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, cwd=ROOT
    )


def test_it_reads_no_setting_and_no_environment() -> None:
    """So a project with settings of its own imports it (``apiexample.settings`` reads ``.env``)."""
    among = ("dotenv", "apiexample.settings", "django")
    assert packages_loaded_by("import apiexample.logging_config", among) == []


def test_a_project_of_its_own_gets_its_redaction() -> None:
    """Under settings that are not ``apiexample.settings``, ``runserver``'s request log (the
    ``django.server`` logger) still hides a token sent in the query."""
    program = """
import logging
import django
from django.conf import settings
from apiexample.logging_config import LOGGING
settings.configure(DEBUG=False, LOGGING=LOGGING)
django.setup()
logging.getLogger("django.server").info('"GET /notes?access_token=%s HTTP/1.1" 200 2', "x.y.z")
"""
    written = run_program(program).stderr
    assert '"GET /notes?access_token=[redacted] HTTP/1.1" 200 2' in written
    assert "x.y.z" not in written


def test_only_a_record_with_an_exception_reaches_the_crashes_handler() -> None:
    """A view that crashed, not a 5xx it answered (a 503 while the IdP is down)."""
    answered = logging.LogRecord("django.request", logging.ERROR, "", 0, "503", None, None)
    try:
        raise RuntimeError("crashed")
    except RuntimeError:
        crashed = logging.LogRecord(
            "django.request", logging.ERROR, "", 0, "500", None, sys.exc_info()
        )
    assert [has_exception(r) for r in (answered, crashed)] == [False, True]


def test_django_s_security_loggers_redact_before_any_handler_of_the_root_logger() -> None:
    """With ``DEBUG`` off, Django's console handler is off: a handler you add on the root logger
    got ``django.security.csrf``'s path and ``Referer`` whole (found by review)."""
    program = """
import io, logging
import django
from django.conf import settings
from django.http import HttpResponse
from django.test import Client
from django.urls import path
from apiexample.logging_config import LOGGING
settings.configure(
    DEBUG=False, LOGGING=LOGGING, ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"],
    MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"], SECRET_KEY="k" * 50,
)
urlpatterns = [path("form/<path:rest>", lambda request, rest: HttpResponse())]
django.setup()
stream = io.StringIO()
logging.getLogger().addHandler(logging.StreamHandler(stream))
client = Client(enforce_csrf_checks=True)
client.post("/form/eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl", {"a": "b"})
client.post("/form/x", {"a": "b"}, secure=True, HTTP_REFERER="https://evil.example/?access_token=opaque-1")
print(stream.getvalue())
"""
    written = run_program(program).stdout
    assert written.count("Forbidden (") == 2
    assert "/form/[redacted]" in written
    assert "access_token=[redacted]" in written
    assert "c2lnbmF0dXJl" not in written
    assert "opaque-1" not in written


def _suspicious_operations_django_defines() -> set[str]:
    """The ``SuspiciousOperation`` subclasses in the installed Django's source, without
    importing its optional parts (``contrib.gis`` needs GDAL)."""
    django_root = Path(django.__file__).parent
    defined = re.compile(r"^class (\w+)\(SuspiciousOperation\):", re.MULTILINE)
    return {
        name
        for source in django_root.rglob("*.py")
        for name in defined.findall(source.read_text(encoding="utf-8"))
    }


def test_every_security_logger_django_writes_to_is_listed() -> None:
    """``django.core.handlers.exception`` logs a ``SuspiciousOperation`` under
    ``django.security.<its class name>``; a newer Django's class fails this test until it is
    listed (found by mutation testing: only ``csrf`` was exercised)."""
    found = _suspicious_operations_django_defines()
    assert {"DisallowedHost", "RequestDataTooBig", "TooManyFieldsSent"} <= found
    assert found | {"SuspiciousOperation", "csrf"} <= set(SECURITY_LOGGERS)


def test_each_security_logger_redacts_before_a_root_handler() -> None:
    program = """
import io, logging
import django
from django.conf import settings
from apiexample.logging_config import LOGGING, SECURITY_LOGGERS
settings.configure(DEBUG=False, LOGGING=LOGGING, SECRET_KEY="k" * 50)  # Django 4.2's emails
django.setup()
stream = io.StringIO()
logging.getLogger().addHandler(logging.StreamHandler(stream))
for name in SECURITY_LOGGERS:
    logger = logging.getLogger(f"django.security.{name}")
    logger.error("%s: Host 'a?access_token=opaque-%s'", name, name)
print(stream.getvalue())
"""
    written = run_program(program).stdout
    for name in SECURITY_LOGGERS:
        assert f"{name}: Host 'a?access_token=[redacted]'" in written
    assert "opaque-" not in written


def test_django_s_own_handlers_redact_a_child_logger_without_a_filter_of_its_own() -> None:
    """``django.template`` (or any ``django.*`` logger not listed here): the console with
    ``DEBUG`` on, the error email with it off (found by mutation testing)."""
    program = """
import logging
from types import MethodType
import django
from django.conf import settings
from django.utils.log import AdminEmailHandler
from apiexample.logging_config import LOGGING
settings.configure(DEBUG=True, LOGGING=LOGGING, SECRET_KEY="k" * 50)
django.setup()
mailed = []
(handler,) = [h for h in logging.getLogger("django").handlers if isinstance(h, AdminEmailHandler)]
# Bound to the handler, ADMINS or not (Django's emit returns early without ADMINS otherwise).
def send_mail(self, subject, message, *args, **kwargs):
    mailed.append(message)
handler.send_mail = MethodType(send_mail, handler)
token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
logging.getLogger("django.template").error("rendering %s failed", token)
settings.DEBUG = False
logging.getLogger("django.template").error("rendering %s failed", token)
print(len(mailed))
print(mailed[0])
"""
    done = run_program(program)
    assert "rendering [redacted] failed" in done.stderr  # DEBUG on: Django's console handler
    assert done.stdout.startswith("1\n")  # DEBUG off: one error email
    assert "rendering [redacted] failed" in done.stdout
    assert "c2lnbmF0dXJl" not in done.stderr + done.stdout
