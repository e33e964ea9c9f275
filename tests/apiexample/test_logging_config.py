"""``apiexample.logging_config``: ``LOGGING`` for a project of one's own."""

from __future__ import annotations

import logging
import subprocess
import sys

from apiexample.logging_config import has_exception
from tests.imports import ROOT, packages_loaded_by


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
    written = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, cwd=ROOT
    ).stderr
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
    written = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert written.count("Forbidden (") == 2
    assert "/form/[redacted]" in written
    assert "access_token=[redacted]" in written
    assert "c2lnbmF0dXJl" not in written
    assert "opaque-1" not in written
