"""Error reports (the DEBUG page, ``mail_admins``) hide the bearer token on every Django."""

from __future__ import annotations

import contextlib
import io
import sys
from html import escape
from typing import Any, cast

import django
import pytest
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest
from django.template import Context, Engine
from django.test import RequestFactory
from django.views.debug import (
    ExceptionReporter,
    SafeExceptionReporterFilter,
    get_default_exception_reporter_filter,
    get_exception_reporter_class,
)

from apiexample.error_reports import TokenSafeExceptionReporter, TokenSafeExceptionReporterFilter
from mock_idp import MockIdP
from tests.apiexample.helpers import wsgi_call


def test_the_project_uses_the_filter() -> None:
    assert isinstance(get_default_exception_reporter_filter(), TokenSafeExceptionReporterFilter)


def test_it_hides_what_django_hides_and_the_authorization_header() -> None:
    """Django 4.2's own filter shows the header; the test of a report below runs on both."""
    reporter_filter = TokenSafeExceptionReporterFilter()
    for name in ("HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION", "SECRET_KEY", "HTTP_COOKIE"):
        assert reporter_filter.cleanse_setting(name, "x") == reporter_filter.cleansed_substitute
    assert reporter_filter.cleanse_setting("HTTP_X_TRACE", "x") == "x"


def test_a_lowercase_secret_name_inside_a_setting_is_hidden_as_well() -> None:
    """Django's filter matches names in any case, and settings nest dictionaries whose keys
    are often lowercase (a cache's ``OPTIONS``): adding ``AUTH`` keeps that."""
    shown = TokenSafeExceptionReporterFilter().cleanse_setting(
        "CACHES", {"default": {"OPTIONS": {"password": "s3cret", "auth": "s3cret", "db": 1}}}
    )
    options = shown["default"]["OPTIONS"]
    assert options["db"] == 1
    assert "s3cret" not in (options["password"], options["auth"])


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
    # django-stubs type the class it returns as an instance
    reporter_class = cast("type[ExceptionReporter]", get_exception_reporter_class(request))
    assert reporter_class is TokenSafeExceptionReporter


def crash_report(
    request: HttpRequest, message: str = "a view crashed", token_in_a_note: str | None = None
) -> list[str]:
    """The text and HTML reports of a view that crashed holding ``request`` and its URL."""
    full_path = request.get_full_path()  # a frame variable, shown by the report
    try:
        error = RuntimeError(message)
        if token_in_a_note is not None:
            # add_note() from 3.11 on; mypy checks as for 3.10, which has no __notes__
            error.__notes__ = [f"note: Bearer {token_in_a_note}"]  # type: ignore[attr-defined]
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
    request.POST  # noqa: B018 (read, as the protector reads a form looking for a token)
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


# -- found by a security review: each test failed before its fix ---------------------------------


def assert_no_segment(token: str, *texts: str) -> None:
    for text in texts:
        for segment in token.split("."):
            assert segment[:20] not in text


def reports(request: HttpRequest | None, exc_info: Any) -> list[str]:
    reporter = TokenSafeExceptionReporter(request, *exc_info)
    return [reporter.get_traceback_text(), reporter.get_traceback_html()]


def crashed(raiser: Any) -> Any:
    try:
        raiser()
    except Exception:
        return sys.exc_info()
    raise AssertionError("it did not raise")


def test_a_token_in_the_path_is_not_reported(mock_idp: MockIdP) -> None:
    """The templates show ``request.path_info`` themselves (``RuntimeError at /...``)."""
    token = mock_idp.mint()
    request = RequestFactory().get(f"/api/items/{token}")
    text, html = reports(request, crashed(lambda: 1 / 0))
    assert_no_segment(token, text, html)
    assert "ZeroDivisionError at /api/items/[redacted]" in text


def test_an_implicitly_chained_exception_s_message_is_redacted(mock_idp: MockIdP) -> None:
    token = mock_idp.mint()

    def raiser() -> None:
        try:
            int(token)
        except ValueError:
            raise RuntimeError("bad id")  # noqa: B904 - the implicit chain is the point

    assert_no_segment(token, *reports(RequestFactory().get("/"), crashed(raiser)))


def test_parameter_names_cookies_and_uploads_are_redacted(mock_idp: MockIdP) -> None:
    token = mock_idp.mint()
    upload = SimpleUploadedFile(f"{token[:200]}.txt", b"x")
    request = RequestFactory().post(f"/?{token}", {"file": upload, token: "1"})
    request.COOKIES = {"jwt": token}
    text, html = reports(request, crashed(lambda: 1 / 0))
    assert_no_segment(token, text, html)
    assert "jwt" in text


def test_template_debug_info_is_redacted(mock_idp: MockIdP) -> None:
    token = mock_idp.mint()

    class Claims:
        def sub(self) -> str:
            raise ValueError(f"unparseable {token}")

    template = Engine(debug=True).from_string("{{ claims.sub }}")
    exc_info = crashed(lambda: template.render(Context({"claims": Claims()})))
    assert_no_segment(token, *reports(RequestFactory().get("/"), exc_info))


def test_an_exception_that_cannot_be_shown_is_reported(mock_idp: MockIdP) -> None:
    """Django's ``str()`` of it raised out of the report: runserver then printed the chain."""
    token = mock_idp.mint()

    class Unprintable(Exception):
        def __str__(self) -> str:
            raise TypeError("no")

    def raiser() -> None:
        try:
            int(token)
        except ValueError as exc:
            raise Unprintable from exc

    text, html = reports(RequestFactory().get("/"), crashed(raiser))
    assert_no_segment(token, text, html)
    assert "Unprintable" in text

    def caused_by_it() -> None:
        try:
            raiser()
        except Unprintable as exc:
            raise RuntimeError("wrapped") from exc

    text = reports(RequestFactory().get("/"), crashed(caused_by_it))[0]
    assert "The above exception ([unprintable]) was the direct cause" in text


@pytest.mark.parametrize("pad", [0, 4096 - 60])
def test_a_token_held_as_bytes_or_cut_by_the_trim_is_redacted(mock_idp: MockIdP, pad: int) -> None:
    """``pprint`` cuts bytes into 76-character pieces, and the report trims a value at 4,096
    characters: each variable is redacted as one line first."""
    token = mock_idp.mint()

    def raiser() -> None:
        held = {"padding": "x" * pad, "token": token, "body": token.encode()}
        assert held
        raise RuntimeError("crashed")

    assert_no_segment(token, *reports(RequestFactory().get("/"), crashed(raiser)))


def test_a_variable_that_cannot_be_shown_is_shown_as_such() -> None:
    class Unshowable:
        def __repr__(self) -> str:
            raise TypeError("no")

    def raiser() -> None:
        held = Unshowable()
        assert held
        raise RuntimeError("crashed")

    html = reports(RequestFactory().get("/"), crashed(raiser))[1]
    assert "<pre>[unprintable]</pre>" in html  # variables are shown in the HTML report only


def test_the_user_shown_is_redacted(mock_idp: MockIdP) -> None:
    """``str(request.user)``, for a project with an auth backend that names its users so."""
    token = mock_idp.mint()

    class User:
        def __str__(self) -> str:
            return f"service Bearer {token}"

    request = RequestFactory().get("/")
    request.user = User()  # type: ignore[assignment]
    text, html = reports(request, crashed(lambda: 1 / 0))
    assert_no_segment(token, text, html)
    assert "USER: service Bearer [redacted]" in text


# -- found by mutation testing: each test fails on a mutant of error_reports --------------------


def test_variables_are_redacted_whatever_filter_the_request_names(mock_idp: MockIdP) -> None:
    """A request may name its own filter (``request.exception_reporter_filter``, Django's hook):
    the report still redacts each frame variable, as Django shows it."""
    token = mock_idp.mint()
    request = RequestFactory().get("/")
    request.exception_reporter_filter = SafeExceptionReporterFilter()

    def raiser() -> None:
        held = f"Bearer {token}"
        assert held
        raise RuntimeError("crashed")

    html = reports(request, crashed(raiser))[1]  # variables are shown in the HTML report only
    assert_no_segment(token, html)
    assert "Bearer [redacted]" in html


def test_a_variable_is_shown_as_django_shows_it_on_one_line() -> None:
    """Django pretty-prints each variable (dictionaries sorted by key); ours is one line."""

    def raiser() -> None:
        held = {"zeta": "z" * 100, "alpha": 1}
        assert held
        raise RuntimeError("crashed")

    html = reports(RequestFactory().get("/"), crashed(raiser))[1]
    assert escape("{'alpha': 1, 'zeta': '" + "z" * 100 + "'}") in html


def test_cookie_and_upload_names_holding_a_token_are_redacted(mock_idp: MockIdP) -> None:
    token = mock_idp.mint()
    request = RequestFactory().post("/", {token: SimpleUploadedFile("a.txt", b"x")})
    request.COOKIES = {token: "1"}
    request.FILES  # noqa: B018 (read, as a view taking uploads would)
    text, html = reports(request, crashed(lambda: 1 / 0))
    assert_no_segment(token, text, html)
    assert "a.txt" in text  # the upload is still reported


def test_a_report_leaves_the_request_s_path_as_it_was(mock_idp: MockIdP) -> None:
    """The report shows a redacted copy: the request goes on (middleware, the 500 page)."""
    token = mock_idp.mint()
    request = RequestFactory().get(f"/api/items/{token}")
    text = reports(request, crashed(lambda: 1 / 0))[0]
    assert "ZeroDivisionError at /api/items/[redacted]" in text
    assert request.path_info == f"/api/items/{token}"
    assert "wsgi.input" in request.META  # the copy took nothing from it (see _copy_of)


def test_a_token_in_a_template_s_source_is_redacted(mock_idp: MockIdP) -> None:
    """A template's debug information shows its source: the failing line (before, during and
    after the failing tag, in the HTML report) and the lines around it."""
    token = mock_idp.mint()

    class Claims:
        def sub(self) -> str:
            raise ValueError("unparseable")

    source = f'{{# {token} #}}\n{token} {{{{ claims.sub|default:"{token}" }}}} {token}\n{token}'
    template = Engine(debug=True).from_string(source)
    exc_info = crashed(lambda: template.render(Context({"claims": Claims()})))
    text, html = reports(RequestFactory().get("/"), exc_info)
    for report in (text, html):  # a frame variable's TextNode shows 25 characters, no more
        assert token.split(".")[2] not in report
    assert "2 : [redacted]" in text  # the source is still shown, redacted
    assert "claims.sub|default:" in text


@pytest.mark.parametrize(
    ("chain", "shown"),
    [
        ("from exc", "The above exception (invalid literal"),
        ("implicit", "During handling of the above exception (invalid literal"),
        ("from None", None),
    ],
)
def test_an_exception_that_cannot_be_shown_keeps_its_type_chain_and_frames(
    chain: str, shown: str | None
) -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise TypeError("no")

    def raiser() -> None:
        try:
            int("not a number")
        except ValueError as exc:
            if chain == "from exc":
                raise Unprintable from exc
            if chain == "implicit":
                raise Unprintable  # noqa: B904 - the implicit chain is the point
            raise Unprintable from None

    text = reports(RequestFactory().get("/"), crashed(raiser))[0]
    assert "Exception Value: [Unprintable: str() failed]" in text
    assert "raise Unprintable" in text  # the frames it was raised through
    if shown is None:
        assert "invalid literal" not in text  # a suppressed context stays out
    else:
        assert shown in text


#: Requests whose parameters Django refuses to parse: too many fields in the query or the form
#: (``DATA_UPLOAD_MAX_NUMBER_FIELDS``), a multipart body without a boundary (RFC 7578 section
#: 4.1), a form over ``DATA_UPLOAD_MAX_MEMORY_SIZE``.
UNPARSEABLE_PARAMETERS = {
    "query_fields": lambda: RequestFactory().get("/api/public?" + "a&" * 1001, HTTP_X_TRACE="kept"),
    "form_fields": lambda: RequestFactory().post(
        "/api/public", "a&" * 1001, "application/x-www-form-urlencoded", HTTP_X_TRACE="kept"
    ),
    "multipart_without_boundary": lambda: RequestFactory().post(
        "/api/public", "a=b", "multipart/form-data", HTTP_X_TRACE="kept"
    ),
    "form_too_big": lambda: RequestFactory().post(
        "/api/public", "a" * 2_700_000, "application/x-www-form-urlencoded", HTTP_X_TRACE="kept"
    ),
}


@pytest.mark.parametrize(
    "make_request", UNPARSEABLE_PARAMETERS.values(), ids=UNPARSEABLE_PARAMETERS
)
def test_parameters_django_refuses_to_parse_show_as_none(make_request: Any) -> None:
    """The report is made all the same (Django's reads them unguarded, and would raise)."""
    request = make_request()
    with contextlib.suppress(RequestDataTooBig):
        request.body  # noqa: B018 (read, as a view would, so that the report parses it)
    for report in crash_report(request):
        assert "a view crashed" in report
        assert "kept" in report
    # The report read a copy: the request itself (and its stream) is as it was. copy.copy would
    # delete wsgi.input from the request's own META on Django 4.2.0 (its __getstate__).
    assert request.environ is request.META
    assert "wsgi.input" in request.META


@pytest.fixture
def admins_mailed(settings: Any, mailoutbox: list[Any]) -> list[Any]:
    """``ADMINS`` set, so ``mail_admins`` reports a ``DisallowedHost`` on every release (Django
    4.2 makes the report even without them); the mails it sends."""
    admin = "ops@example.test"  # Django 6.0 deprecates (name, address) pairs
    settings.ADMINS = [admin] if django.VERSION >= (6, 0) else [("Ops", admin)]
    # Django 6.1 warns without it; earlier releases ignore it (pytest-django's EMAIL_BACKEND).
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    return mailoutbox


def test_a_refused_host_with_too_many_parameters_is_a_400_not_a_500(
    client: Any, admins_mailed: list[Any]
) -> None:
    """The ``DisallowedHost`` report must not raise from the logging call, which runs outside
    the handler's exception handling."""
    response = client.get("/api/public?" + "a&" * 1001, HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert len(admins_mailed) == 1
    assert "evil.example" in admins_mailed[0].subject


class RecordingInput(io.BytesIO):
    """A request's ``wsgi.input`` that records whether anything read from it."""

    reads = 0

    def read(self, *args: Any) -> bytes:
        self.reads += 1
        return super().read(*args)

    def readline(self, *args: Any) -> bytes:
        self.reads += 1
        return super().readline(*args)


def test_a_body_nothing_read_is_not_read_for_the_report() -> None:
    """Reading it would wait on the client for as long as it withholds its ``Content-Length``."""
    request = RequestFactory().post(
        "/api/public", "q=unread-value", "application/x-www-form-urlencoded", HTTP_X_TRACE="kept"
    )
    stream = RecordingInput(b"q=unread-value")
    request.META["wsgi.input"] = stream
    request._stream = stream
    for report in crash_report(request):
        assert "a view crashed" in report
        assert "kept" in report
        assert "unread-value" not in report
    assert stream.reads == 0
    assert request.POST["q"] == "unread-value"  # the request itself can still read its body


def test_a_refused_host_does_not_read_a_form_body(admins_mailed: list[Any]) -> None:
    """A refused ``Host`` on a form whose body has not all arrived: the ``DisallowedHost``
    report must not read it (a sync worker would wait for the rest until it timed out)."""
    stream = RecordingInput(b"q=1")
    response = wsgi_call(
        {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/public",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": "100",  # more than will ever come
            "HTTP_HOST": "evil.example",
            "wsgi.input": stream,
        }
    )
    assert response.status_code == 400
    assert len(admins_mailed) == 1
    assert "evil.example" in admins_mailed[0].subject
    assert stream.reads == 0
