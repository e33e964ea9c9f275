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
