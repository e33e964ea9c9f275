"""Reading the bearer token (RFC 6750 section 2) and turning every failure into a 4xx/503."""

from __future__ import annotations

import json
import logging
from typing import Any

import django
import pytest
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils.decorators import method_decorator
from django.utils.log import AdminEmailHandler
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from apiexample.protector import FORM_CONTENT_TYPE
from apiexample.validator import Auth0JWTBearerTokenValidator
from apiexample.views import require_auth as require_auth_for_urls
from mock_idp import MockIdP
from tests.apiexample.helpers import assert_refused


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_scheme_is_case_insensitive(call: Any, mock_idp: MockIdP, scheme: str) -> None:
    assert call("/api/private", mock_idp.mint(), scheme=scheme).status_code == 200


@pytest.mark.parametrize("template", ["  Bearer   {}  ", "\tBearer {}\t", " \tBearer {} \t"])
def test_surrounding_spaces_and_tabs_are_tolerated(
    api: Any, mock_idp: MockIdP, template: str
) -> None:
    response = api.get("/api/private", HTTP_AUTHORIZATION=template.format(mock_idp.mint()))
    assert response.status_code == 200


@pytest.mark.parametrize("space", ["\x85", "\xa0", "\x0b", "\x0c", "\x1c", "\r", "\n"])
def test_no_other_whitespace_surrounds_a_field_value(
    api: Any, mock_idp: MockIdP, space: str
) -> None:
    """RFC 9110 section 5.5: optional whitespace is SP and HTAB only (WSGI headers are Latin-1,
    in which NEL and NBSP are whitespace to ``str.strip``)."""
    token = mock_idp.mint()
    after = api.get("/api/private", HTTP_AUTHORIZATION=f"Bearer {token}{space}")
    assert_refused(after, 401, "invalid_token")
    before = api.get("/api/private", HTTP_AUTHORIZATION=f"{space}Bearer {token}")
    assert_refused(before, 401, "unsupported_token_type")


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Token abc", "Digest x=y", "Bearer"])
def test_other_schemes_count_as_no_bearer_credentials(api: Any, header: str) -> None:
    response = api.get("/api/private", HTTP_AUTHORIZATION=header)
    if header == "Bearer":
        assert_refused(response, 401, "invalid_token")
    else:
        assert_refused(response, 401, "unsupported_token_type")


@pytest.mark.parametrize("header", ["", "   "])
def test_blank_header_is_no_credentials(api: Any, header: str) -> None:
    assert_refused(api.get("/api/private", HTTP_AUTHORIZATION=header), 401, "missing_authorization")


def test_token_in_query_string_alone_is_never_accepted(api: Any, mock_idp: MockIdP) -> None:
    response = api.get("/api/private", {"access_token": mock_idp.mint()})
    assert_refused(response, 401, "missing_authorization")


@pytest.mark.parametrize("query", ["page=2", "access_token_hint=x", "a=1&b=2"])
def test_other_query_parameters_are_no_second_token(
    call: Any, mock_idp: MockIdP, query: str
) -> None:
    assert call(f"/api/private?{query}", mock_idp.mint()).status_code == 200


def test_header_plus_query_token_is_invalid_request(call: Any, mock_idp: MockIdP) -> None:
    token = mock_idp.mint()
    response = call(f"/api/private?access_token={token}", token)
    assert_refused(response, 400, "invalid_request")


@pytest.mark.parametrize("charset", ["utf-16", "utf-16-be", "cp500", "cp037"])
@pytest.mark.parametrize("name", ["access_token", "%61ccess_token"])
def test_a_body_charset_does_not_hide_the_query_token(
    call: Any, mock_idp: MockIdP, caplog: Any, charset: str, name: str
) -> None:
    """The query is percent-encoded UTF-8 (RFC 3986 section 2.5), whatever charset the body's
    ``Content-Type`` names: Django's WSGI ``request.GET`` decodes it in that charset, where
    ``access_token=...`` reads as other characters (a GET under gunicorn answered 200)."""
    token = mock_idp.mint()
    with caplog.at_level(logging.INFO, logger="apiexample"):
        response = call(
            f"/api/private?{name}={token}", token, CONTENT_TYPE=f"text/plain; charset={charset}"
        )
    assert_refused(response, 400, "invalid_request")
    assert "reason=token_in_two_places " in caplog.text


def test_an_unexpected_exception_becomes_401_not_500(
    call: Any, mock_idp: MockIdP, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    def explode(self: Any, token: str) -> Any:
        raise ZeroDivisionError(token)

    monkeypatch.setattr(Auth0JWTBearerTokenValidator, "authenticate_token", explode)
    token = mock_idp.mint()
    with caplog.at_level(logging.INFO, logger="apiexample"):
        response = call("/api/private", token)
    assert_refused(response, 401, "invalid_token")
    assert "ZeroDivisionError" in caplog.text
    assert "reason=validator_error " in caplog.text
    assert token not in caplog.text


def test_an_authlib_error_becomes_401(
    call: Any, mock_idp: MockIdP, monkeypatch: Any, caplog: Any
) -> None:
    from authlib.oauth2.rfc6750 import InvalidTokenError

    def authlib_refuses(self: Any, token: str) -> Any:
        raise InvalidTokenError()

    monkeypatch.setattr(Auth0JWTBearerTokenValidator, "authenticate_token", authlib_refuses)
    with caplog.at_level(logging.INFO, logger="apiexample"):
        assert_refused(call("/api/private", mock_idp.mint()), 401, "invalid_token")
    assert "reason=authlib_invalid_token " in caplog.text  # Authlib's own, not a crash
    assert "crashed" not in caplog.text


@pytest.mark.parametrize(
    ("path", "mint", "reason"),
    [
        ("/api/private", {"expires_in": -3600}, "token_expired"),  # refused while verifying
        ("/api/private-scoped", {"scope": "write:messages"}, "insufficient_scope"),  # verified
    ],
)
def test_refusals_are_logged_with_reason_and_kid_never_the_token(
    call: Any, mock_idp: MockIdP, caplog: Any, path: str, mint: dict[str, Any], reason: str
) -> None:
    token = mock_idp.mint(**mint)
    with caplog.at_level(logging.INFO, logger="apiexample"):
        for _ in range(3):  # the third time from the verified-token cache, when it was kept
            call(path, token)
    refusals = [r for r in caplog.records if "auth refused" in r.getMessage()]
    assert len(refusals) == 3
    for refusal in refusals:
        assert refusal.levelno == logging.INFO
        assert f"reason={reason} " in refusal.getMessage()
        assert f"kid={mock_idp.keys.signing_key.kid!r} " in refusal.getMessage()
    for segment in token.split("."):
        assert segment not in caplog.text


@pytest.mark.parametrize(
    ("mint", "status"),
    [({"expires_in": -3600}, 401), ({"scope": "write:messages"}, 403), (None, 503)],
)
def test_a_refusal_is_logged_once_by_us_and_mails_no_one(
    call: Any,
    mock_idp: MockIdP,
    api_settings: Any,
    settings: Any,
    caplog: Any,
    monkeypatch: pytest.MonkeyPatch,
    mint: dict[str, Any] | None,
    status: int,
) -> None:
    """Django logs every 4xx and 5xx on ``django.request`` (a 5xx at ERROR, which mails ADMINS
    in the request, once per 503 while the IdP is down) unless the answer is marked logged."""
    mailed: list[str] = []
    monkeypatch.setattr(
        AdminEmailHandler, "send_mail", lambda self, subject, *_, **__: mailed.append(subject)
    )
    settings.ADMINS = [("ops", "ops@example.test")]
    if mint is None:
        api_settings.AUTH0_AUDIENCE = ""  # misconfigured: 503
    token = mock_idp.mint(**(mint or {}))
    with caplog.at_level(logging.INFO):
        assert call("/api/private-scoped", token).status_code == status
    assert [r.name for r in caplog.records if "auth refused" in r.getMessage()] == [
        "apiexample.protector"
    ]
    assert [r.getMessage() for r in caplog.records if r.name == "django.request"] == []
    assert mailed == []


def test_too_many_query_parameters_is_invalid_request(
    call: Any, mock_idp: MockIdP, caplog: Any
) -> None:
    query = "&".join(f"p{n}=1" for n in range(1500))  # Django refuses more than 1000 fields
    with caplog.at_level(logging.INFO, logger="apiexample"):
        response = call(f"/api/private?{query}", mock_idp.mint())
    assert_refused(response, 400, "invalid_request")
    assert "reason=malformed_parameters " in caplog.text


@pytest.mark.parametrize(
    ("scopes", "granted", "status"),
    [
        (None, "", 200),
        ("read:a", "read:a", 200),
        (["read:a", "read:b"], "read:b", 200),  # a list: alternatives, any one suffices
        (["read:a read:b"], "read:a read:b", 200),  # one alternative needing both
        (["read:a read:b"], "read:b", 403),
        (["read:a", "read:b"], "read:c", 403),
    ],
)
def test_the_view_gets_the_verified_token_when_one_alternative_is_granted(
    api: Any, mock_idp: MockIdP, scopes: Any, granted: str, status: int
) -> None:
    from django.http import JsonResponse
    from django.test import RequestFactory

    from apiexample.views import require_auth

    @require_auth(scopes)
    def view(request: HttpRequest) -> JsonResponse:
        token = request.oauth_token  # type: ignore[attr-defined]
        return JsonResponse({"sub": token["sub"], "scope": token.get_scope()})

    token = mock_idp.mint(scope=granted, subject="client-a@clients")
    response = view(RequestFactory().get("/x", HTTP_AUTHORIZATION=f"Bearer {token}"))
    if status == 200:
        assert response.status_code == 200
        assert json.loads(response.content) == {"sub": "client-a@clients", "scope": granted}
    else:
        assert_refused(response, status, "insufficient_scope")


def test_misconfiguration_is_logged_once_not_per_request(
    call: Any, mock_idp: MockIdP, api_settings: Any, caplog: Any
) -> None:
    api_settings.AUTH0_AUDIENCE = ""
    with caplog.at_level(logging.ERROR, logger="apiexample"):
        for _ in range(3):
            assert_refused(call("/api/private", mock_idp.mint()), 503, "temporarily_unavailable")
    assert sum("settings are invalid" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AUTH0_LEEWAY", "inf"),  # int(inf) raised OverflowError per request
        ("AUTH0_JWKS_TIMEOUT", "1e10"),  # past threading.TIMEOUT_MAX: OverflowError
    ],
)
def test_settings_that_once_crashed_validation_fail_closed(
    call: Any, mock_idp: MockIdP, api_settings: Any, caplog: Any, name: str, value: str
) -> None:
    setattr(api_settings, name, value)
    with caplog.at_level(logging.INFO, logger="apiexample"):
        assert_refused(call("/api/private", mock_idp.mint()), 503, "temporarily_unavailable")
    assert not [r for r in caplog.records if "crashed" in r.getMessage()]


def test_a_post_view_refuses_a_header_token_plus_a_form_token(
    api: Any, mock_idp: MockIdP, rf: Any
) -> None:
    """The shipped views are GET only (POST is 405 first), but ``require_auth`` on a POST view
    must refuse the token sent twice (RFC 6750 section 2, ``invalid_request``)."""
    from django.http import HttpResponse

    from apiexample.views import require_auth

    view = require_auth(None)(lambda request: HttpResponse("posted"))
    token = mock_idp.mint()
    for method in ("post", "put", "patch", "delete"):  # any method with a body (section 2.2)
        request = getattr(rf, method)(
            "/", f"access_token={token}", FORM_CONTENT_TYPE, HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        assert_refused(view(request), 400, "invalid_request")
        request = getattr(rf, method)(
            "/", "other=field", FORM_CONTENT_TYPE, HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        assert view(request).status_code == 200


def _form_request(rf: Any, mock_idp: MockIdP, method: str, charset: str, body: bytes) -> Any:
    return rf.generic(  # generic: post() would itself fail to encode the body so
        method.upper(),
        "/",
        body,
        f"{FORM_CONTENT_TYPE}; charset={charset}",
        HTTP_AUTHORIZATION=f"Bearer {mock_idp.mint()}",
    )


@pytest.mark.parametrize("method", ["post", "put"])
@pytest.mark.parametrize("charset", ["base64", "rot13"])  # LookupError: no text codec
def test_a_form_body_in_a_charset_that_does_not_decode_is_invalid_request(
    api: Any, mock_idp: MockIdP, rf: Any, caplog: Any, method: str, charset: str
) -> None:
    """400, logged at INFO: the token is sound, and a client cannot make ERROR lines."""
    from django.http import HttpResponse

    from apiexample.views import require_auth

    view = require_auth(None)(lambda request: HttpResponse("ok"))
    request = _form_request(rf, mock_idp, method, charset, b"a=1")
    with caplog.at_level(logging.INFO, logger="apiexample"):
        assert_refused(view(request), 400, "invalid_request")
    assert "reason=malformed_parameters " in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_codec_error_django_s_fallback_does_not_catch_is_invalid_request(
    api: Any, mock_idp: MockIdP, rf: Any, caplog: Any
) -> None:
    """Django reads a body in its charset, and as ISO-8859-1 on ``UnicodeDecodeError``. Before
    Python 3.13 the idna codec raised a bare ``UnicodeError``, which passed through: 400 here,
    not a crash (found by mutation testing). Since 3.13 it raises ``UnicodeDecodeError``, and
    Django's fallback reads the body."""
    from django.http import HttpResponse

    from apiexample.views import require_auth

    body = b"xn--ab-"
    try:
        body.decode("idna")
        bare_unicode_error = False
    except UnicodeDecodeError:
        bare_unicode_error = False
    except UnicodeError:
        bare_unicode_error = True
    view = require_auth(None)(lambda request: HttpResponse("ok"))
    with caplog.at_level(logging.INFO, logger="apiexample"):
        answer = view(_form_request(rf, mock_idp, "put", "idna", body))
    if bare_unicode_error:
        assert_refused(answer, 400, "invalid_request")
        assert "reason=malformed_parameters " in caplog.text
    else:
        assert answer.status_code == 200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_body_a_middleware_already_read_is_left_alone(
    api: Any, mock_idp: MockIdP, rf: Any
) -> None:
    from django.http import HttpResponse

    from apiexample.views import require_auth

    view = require_auth(None)(lambda request: HttpResponse("ok"))
    token = mock_idp.mint()
    request = rf.put("/", "a=1", FORM_CONTENT_TYPE, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert request.read() == b"a=1"  # streamed by someone before the view
    assert view(request).status_code == 200


def test_a_request_wrapper_that_is_no_httprequest_passes(
    api: Any, mock_idp: MockIdP, rf: Any
) -> None:
    """DRF's ``Request`` wraps Django's and hands its attributes through."""
    from django.http import HttpResponse

    from apiexample.views import require_auth

    class Wrapper:
        def __init__(self, request: Any) -> None:
            self._request = request

        def __getattr__(self, name: str) -> Any:
            return getattr(self._request, name)

    view = require_auth(None)(lambda request: HttpResponse(request.oauth_token["sub"]))
    request = Wrapper(rf.get("/", HTTP_AUTHORIZATION=f"Bearer {mock_idp.mint(subject='w')}"))
    assert view(request).content == b"w"


def test_a_multipart_body_is_left_for_the_view(api: Any, mock_idp: MockIdP, rf: Any) -> None:
    """Section 2.2's token parameter is form-encoded only: an upload is not parsed before the
    view, which may set its own upload handlers, read ``request.body``, or refuse the body."""
    from django.http import HttpResponse

    from apiexample.views import require_auth

    @require_auth(None)
    def upload(request: HttpRequest) -> HttpResponse:
        request.upload_handlers = []  # Django refuses this once the body has been parsed
        return HttpResponse(len(request.body))

    token = mock_idp.mint()
    request = rf.post(
        "/", {"access_token": "x", "file": "data"}, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert request.content_type == "multipart/form-data"
    assert upload(request).status_code == 200
    malformed = rf.generic(
        "POST", "/", b"--x\r\n", "multipart/form-data", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert upload(malformed).status_code == 200  # no boundary: the view's own business


def test_a_protected_answer_varies_on_authorization(call: Any, mock_idp: MockIdP) -> None:
    """A cache in front (Django 4.2's cache_page, a proxy) must not serve it to another client;
    RFC 9110 section 12.5.5."""
    vary = call("/api/private", mock_idp.mint())["Vary"]
    assert vary.split(", ")[0] == "Authorization"  # the CORS middleware adds origin after it


@pytest.mark.parametrize(
    ("set_by_view", "sent"), [("Origin", "Origin, Authorization"), ("", "Authorization")]
)
def test_authorization_joins_the_view_s_own_vary(
    api: Any, mock_idp: MockIdP, rf: Any, set_by_view: str, sent: str
) -> None:
    from django.http import HttpResponse

    from apiexample.views import require_auth

    def view(request: Any) -> HttpResponse:
        response = HttpResponse("ok")
        response["Vary"] = set_by_view
        return response

    request = rf.get("/", HTTP_AUTHORIZATION=f"Bearer {mock_idp.mint()}")
    assert require_auth(None)(view)(request)["Vary"] == sent


def test_a_view_that_answers_no_response_is_left_for_django_to_report(
    api: Any, mock_idp: MockIdP, rf: Any
) -> None:
    from apiexample.views import require_auth

    request = rf.get("/", HTTP_AUTHORIZATION=f"Bearer {mock_idp.mint()}")
    assert require_auth(None)(lambda request: None)(request) is None


def test_cache_page_never_serves_a_protected_answer_to_another_client(
    api: Any, mock_idp: MockIdP, rf: Any
) -> None:
    """Without our ``Vary`` this fails on Django 4.2 only: 5.x's cache adds it by itself."""
    from django.core.cache import cache
    from django.http import HttpResponse
    from django.views.decorators.cache import cache_page

    from apiexample.views import require_auth

    calls: list[str] = []

    def secret(request: Any) -> HttpResponse:
        calls.append(request.oauth_token["sub"])
        return HttpResponse(request.oauth_token["sub"])

    cache.clear()
    view = cache_page(60)(require_auth(None)(secret))
    alice = mock_idp.mint(subject="alice@clients")
    assert view(rf.get("/s", HTTP_AUTHORIZATION=f"Bearer {alice}")).content == b"alice@clients"
    assert_refused(view(rf.get("/s")), 401, "missing_authorization")
    bob = mock_idp.mint(subject="bob@clients")
    assert view(rf.get("/s", HTTP_AUTHORIZATION=f"Bearer {bob}")).content == b"bob@clients"
    assert calls == ["alice@clients", "bob@clients"]
    cache.clear()


def test_a_class_based_view_method_needs_method_decorator(
    api: Any, mock_idp: MockIdP, rf: Any
) -> None:
    """Decorated directly, a method gets the view instance first: say how to do it."""
    from django.http import HttpResponse

    from apiexample.views import require_auth

    class Misused(View):
        @require_auth(None)
        def get(self, request: Any) -> HttpResponse:
            return HttpResponse("ok")

    request = rf.get("/", HTTP_AUTHORIZATION=f"Bearer {mock_idp.mint()}")
    with pytest.raises(TypeError, match="method_decorator"):
        Misused.as_view()(request)


def test_require_auth_without_its_parentheses_says_how_to_write_it() -> None:
    """``@require_auth`` alone passed the view as scopes: "'function' object is not iterable"
    (found by review)."""

    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    with pytest.raises(TypeError, match=r"@require_auth\(None\)"):
        require_auth_for_urls(view)  # type: ignore[arg-type]


ASYNC_VIEW_CASES = ["async function", "async class, dispatch"]
if django.VERSION >= (5,):  # 4.2's method_decorator makes an async handler sync
    ASYNC_VIEW_CASES.append("async class, get")


def _async_view(case: str) -> Any:
    from django.http import JsonResponse

    from apiexample.views import require_auth

    async def answer(request: Any) -> JsonResponse:
        return JsonResponse({"sub": request.oauth_token["sub"]})

    if case == "async function":
        return require_auth("read:messages")(answer)

    class Handlers(View):
        async def get(self, request: Any) -> JsonResponse:
            return await answer(request)

    if case == "async class, dispatch":
        decorated = method_decorator(require_auth("read:messages"), name="dispatch")(Handlers)
    else:
        decorated = method_decorator(require_auth("read:messages"), name="get")(Handlers)
    return decorated.as_view()


@pytest.mark.parametrize("case", ASYNC_VIEW_CASES)
def test_async_views_are_protected(api: Any, mock_idp: MockIdP, case: str) -> None:
    """Validation runs in a thread (it may wait on the JWKS); every refusal is an answer the
    event loop can send, never a 500."""
    from asgiref.sync import async_to_sync, iscoroutinefunction
    from django.test import AsyncRequestFactory

    view = _async_view(case)
    assert iscoroutinefunction(view)
    factory = AsyncRequestFactory()
    granted = mock_idp.mint(scope="read:messages", subject="async@clients")
    response = async_to_sync(view)(factory.get("/", headers={"Authorization": f"Bearer {granted}"}))
    assert response.status_code == 200
    assert json.loads(response.content) == {"sub": "async@clients"}
    assert response["Vary"] == "Authorization"
    assert_refused(async_to_sync(view)(factory.get("/")), 401, "missing_authorization")
    lacking = factory.get("/", headers={"Authorization": f"Bearer {mock_idp.mint(scope='')}"})
    assert_refused(async_to_sync(view)(lacking), 403, "insufficient_scope")


@require_auth_for_urls(None)
def posted(request: HttpRequest) -> HttpResponse:
    return HttpResponse(request.method)


@require_auth_for_urls(None)
async def posted_async(request: HttpRequest) -> HttpResponse:
    return HttpResponse(request.method)


class PostHandler(View):
    @method_decorator(require_auth_for_urls(None))
    def post(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(request.method)


#: What the README says to add for a handler of a method Django's CSRF check applies to.
ExemptPostHandler: type[PostHandler] = method_decorator(csrf_exempt, name="dispatch")(
    type("ExemptPostHandler", (PostHandler,), {})
)

urlpatterns = [  # ROOT_URLCONF below
    path("posted", posted),
    path("posted-async", posted_async),
    path("posted-handler", PostHandler.as_view()),
    path("posted-exempt-handler", ExemptPostHandler.as_view()),
]


@pytest.mark.parametrize("route", ["/posted", "/posted-async"])
def test_a_protected_view_needs_no_csrf_token(
    api_settings: Any, mock_idp: MockIdP, mock_idp_network: Any, route: str
) -> None:
    """A bearer token is no cookie a browser sends by itself, so ``require_auth`` alone makes a
    view CSRF-exempt; on Django 4.2 ``csrf_exempt`` would also make an async view sync."""
    from django.test import Client

    api_settings.ROOT_URLCONF = __name__
    client = Client(enforce_csrf_checks=True)
    token = mock_idp.mint()
    response = client.post(route, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response.content == b"POST"
    assert_refused(client.post(route), 401, "missing_authorization")


def test_a_protected_post_handler_needs_its_class_csrf_exempt(
    api_settings: Any, mock_idp: MockIdP, mock_idp_network: Any
) -> None:
    """``as_view()`` carries ``dispatch``'s CSRF mark, not a handler's (README, "Class-based
    views"): without ``csrf_exempt`` on ``dispatch``, Django refuses before the token is read."""
    from django.test import Client

    api_settings.ROOT_URLCONF = __name__
    client = Client(enforce_csrf_checks=True)
    authorization = f"Bearer {mock_idp.mint()}"
    refused = client.post("/posted-handler", HTTP_AUTHORIZATION=authorization)
    assert refused.status_code == 403
    assert "WWW-Authenticate" not in refused  # Django's CSRF page, not ours
    response = client.post("/posted-exempt-handler", HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 200
    assert response.content == b"POST"
    assert_refused(client.post("/posted-exempt-handler"), 401, "missing_authorization")


def test_a_view_result_that_is_no_response_is_passed_on_untouched(
    api_settings: Any, mock_idp_network: Any, mock_idp: MockIdP, rf: Any
) -> None:
    """An outer decorator may turn the view's dict into a response: ours hands it on."""
    result = {"not": "a response"}
    protected = require_auth_for_urls(None)(lambda request: result)
    assert protected(rf.get("/x", HTTP_AUTHORIZATION=f"Bearer {mock_idp.mint()}")) is result


def test_a_sync_class_based_view_under_method_decorator_stays_sync(
    api_settings: Any, mock_idp_network: Any, mock_idp: MockIdP, rf: Any
) -> None:
    """Found by mutation testing: taking every class-based view for async survived."""

    class Handlers(View):
        def get(self, request: Any) -> HttpResponse:
            return HttpResponse("ok")

    view = method_decorator(require_auth_for_urls(None), name="dispatch")(Handlers).as_view()
    response = view(rf.get("/", HTTP_AUTHORIZATION=f"Bearer {mock_idp.mint()}"))
    assert response.status_code == 200
    assert response["Vary"] == "Authorization"


def test_a_post_form_is_read_as_django_reads_it(api: Any, mock_idp: MockIdP, rf: Any) -> None:
    """``request.POST``, so the view sees the same parse: Django 5.1+ refuses a form body in
    another charset than UTF-8 (RFC 1866), which is then 400 here too, where a parse of our own
    would let it by (found by mutation testing)."""
    from django.core.exceptions import BadRequest
    from django.http import HttpResponse

    from apiexample.views import require_auth

    def latin1_form() -> Any:
        return rf.generic(
            "POST",
            "/",
            "a=caf\xe9".encode("latin-1"),
            f"{FORM_CONTENT_TYPE}; charset=latin-1",
            HTTP_AUTHORIZATION=f"Bearer {mock_idp.mint()}",
        )

    try:
        latin1_form().POST  # noqa: B018 - what Django makes of it
        django_refuses = False
    except BadRequest:
        django_refuses = True
    view = require_auth(None)(lambda request: HttpResponse(request.POST["a"]))
    answer = view(latin1_form())
    if django_refuses:
        assert_refused(answer, 400, "invalid_request")
    else:
        assert answer.content == "café".encode()
