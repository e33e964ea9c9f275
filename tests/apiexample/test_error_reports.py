"""Error reports (the DEBUG page, ``mail_admins``) hide the bearer token on every Django."""

from __future__ import annotations

import sys

from django.http import HttpRequest
from django.test import RequestFactory
from django.views.debug import ExceptionReporter, get_default_exception_reporter_filter

from apiexample.error_reports import TokenSafeExceptionReporterFilter
from mock_idp import MockIdP


def test_the_project_uses_the_filter() -> None:
    assert isinstance(get_default_exception_reporter_filter(), TokenSafeExceptionReporterFilter)


def test_it_hides_what_django_hides_and_the_authorization_header() -> None:
    """Django 4.2's own filter shows the header; the test of a report below runs on both."""
    reporter_filter = TokenSafeExceptionReporterFilter()
    for name in ("HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION", "SECRET_KEY", "HTTP_COOKIE"):
        assert reporter_filter.cleanse_setting(name, "x") == reporter_filter.cleansed_substitute
    assert reporter_filter.cleanse_setting("HTTP_X_TRACE", "x") == "x"


def request_with_a_token(idp: MockIdP) -> HttpRequest:
    """A request whose token is held by nothing but its headers (a report shows frame locals)."""
    return RequestFactory().get(
        "/api/private", HTTP_AUTHORIZATION=f"Bearer {idp.mint()}", HTTP_X_TRACE="kept"
    )


def test_a_report_shows_no_bearer_token(mock_idp: MockIdP) -> None:
    request = request_with_a_token(mock_idp)
    try:
        raise RuntimeError("a view crashed")
    except RuntimeError:
        reporter = ExceptionReporter(request, *sys.exc_info())
    reports = [reporter.get_traceback_text(), reporter.get_traceback_html()]
    signature = request.META["HTTP_AUTHORIZATION"].rsplit(".", 1)[1]
    for report in reports:
        assert signature not in report
        assert "HTTP_AUTHORIZATION" in report
        assert "kept" in report  # other headers are still reported
