"""Error reports (the DEBUG page, ``mail_admins``) hide the bearer token on every Django."""

from __future__ import annotations

import sys

import pytest
from django.http import HttpRequest
from django.test import RequestFactory
from django.views.debug import (
    ExceptionReporter,
    get_default_exception_reporter_filter,
    get_exception_reporter_class,
)

from apiexample.error_reports import TokenSafeExceptionReporter, TokenSafeExceptionReporterFilter
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


def test_the_project_uses_the_reporter() -> None:
    request = RequestFactory().get("/")
    assert get_exception_reporter_class(request) is TokenSafeExceptionReporter


def crash_report(
    request: HttpRequest, message: str = "a view crashed", token_in_a_note: str | None = None
) -> list[str]:
    """The text and HTML reports of a view that crashed holding ``request`` and its URL."""
    full_path = request.get_full_path()  # a frame variable, shown by the report
    try:
        error = RuntimeError(message)
        if token_in_a_note is not None:
            error.__notes__ = [f"note: Bearer {token_in_a_note}"]  # add_note() from 3.11 on
        raise error
    except RuntimeError:
        reporter = TokenSafeExceptionReporter(request, *sys.exc_info())
    assert full_path
    return [reporter.get_traceback_text(), reporter.get_traceback_html()]


def test_a_report_shows_no_token_sent_in_the_query(mock_idp: MockIdP) -> None:
    token = mock_idp.mint()
    request = RequestFactory().get(
        "/api/public", {"access_token": token, "q": "kept"}, HTTP_REFERER=f"/?access_token={token}"
    )
    for report in crash_report(request):
        for segment in token.split("."):
            assert segment not in report
        assert "access_token" in report  # the parameter is named, its value hidden
        assert "kept" in report


def test_a_report_shows_no_token_sent_in_a_form(mock_idp: MockIdP) -> None:
    token = mock_idp.mint()
    request = RequestFactory().post(
        "/api/public", f"access_token={token}&q=kept", "application/x-www-form-urlencoded"
    )
    for report in crash_report(request):
        assert token.split(".")[2] not in report
        assert "kept" in report


def test_a_report_shows_no_token_in_the_exception_message_or_notes(mock_idp: MockIdP) -> None:
    token = mock_idp.mint()
    for report in crash_report(RequestFactory().get("/"), f"refused Bearer {token}", token):
        assert token.split(".")[2] not in report
        assert "refused Bearer [redacted]" in report
        assert "note: Bearer [redacted]" in report


@pytest.mark.parametrize("name", ["q", "Access_Token"])
def test_other_parameters_are_shown_and_any_spelling_is_hidden(name: str) -> None:
    request = RequestFactory().get("/", {name: "visible-value"})
    text = crash_report(request)[0]
    assert ("visible-value" in text) is (name == "q")


def test_a_parameter_holding_a_credential_is_redacted(mock_idp: MockIdP) -> None:
    token = mock_idp.mint()
    request = RequestFactory().get("/", {"next": f"/callback?access_token={token}"})
    for report in crash_report(request):
        assert token.split(".")[2] not in report
        assert "/callback?access_token=[redacted]" in report


def test_a_report_without_a_request_is_redacted_too(mock_idp: MockIdP) -> None:
    """A report of an error outside a request (a command, a thread) has no request data."""
    token = mock_idp.mint()
    try:
        raise RuntimeError(f"refused Bearer {token}")
    except RuntimeError:
        reporter = TokenSafeExceptionReporter(None, *sys.exc_info())
    for report in [reporter.get_traceback_text(), reporter.get_traceback_html()]:
        assert token.split(".")[2] not in report
        assert "refused Bearer [redacted]" in report


def test_a_report_shows_no_token_in_an_exception_that_caused_it(mock_idp: MockIdP) -> None:
    """Found by review: each frame names the exception that caused its own (``raise from``)."""
    token = mock_idp.mint()
    try:
        try:
            raise ValueError(f"refused Bearer {token}")
        except ValueError as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError:
        reporter = TokenSafeExceptionReporter(RequestFactory().get("/"), *sys.exc_info())
    for report in [reporter.get_traceback_text(), reporter.get_traceback_html()]:
        assert token.split(".")[2] not in report
        assert "The above exception (refused Bearer [redacted])" in report
