"""The three routes of the README's "The API": messages, methods, CSRF and CORS."""

from __future__ import annotations

from typing import Any

import pytest

from mock_idp import MockIdP
from tests.apiexample.helpers import assert_refused

PUBLIC = "Hello from a public endpoint! You don't need to be authenticated to see this."
PRIVATE = "Hello from a private endpoint! You need to be authenticated to see this."
SCOPED = (
    "Hello from a private endpoint! You need to be authenticated and have a scope of "
    "read:messages to see this."
)


def test_public_needs_nothing(call: Any) -> None:
    response = call("/api/public")
    assert response.status_code == 200
    assert response.json() == {"message": PUBLIC}


def test_private_opens_with_a_valid_token(call: Any, mock_idp: MockIdP) -> None:
    response = call("/api/private", mock_idp.mint(scope=""))
    assert response.status_code == 200
    assert response.json() == {"message": PRIVATE}


def test_private_scoped_opens_with_read_messages(call: Any, mock_idp: MockIdP) -> None:
    response = call("/api/private-scoped", mock_idp.mint(scope="read:messages"))
    assert response.status_code == 200
    assert response.json() == {"message": SCOPED}


def test_private_scoped_refuses_a_token_without_the_scope(call: Any, mock_idp: MockIdP) -> None:
    response = call("/api/private-scoped", mock_idp.mint(scope="write:messages"))
    assert_refused(response, 403, "insufficient_scope")
    assert response["WWW-Authenticate"].startswith(
        'Bearer error="insufficient_scope", scope="read:messages"'
    )


@pytest.mark.parametrize("path", ["/api/private", "/api/private-scoped"])
def test_private_routes_need_credentials(call: Any, path: str) -> None:
    assert_refused(call(path), 401, "missing_authorization")


@pytest.mark.parametrize("path", ["/api/public", "/api/private", "/api/private-scoped"])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "head", "options", "trace"])
def test_other_methods_answer_405_with_allow(api: Any, path: str, method: str) -> None:
    response = getattr(api, method)(path)
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response.content == b""  # README: "A 405 has an empty body and `Allow: GET`."


@pytest.mark.parametrize("path", ["/api/public", "/api/private", "/api/private-scoped"])
def test_views_are_csrf_exempt(api_settings: Any, mock_idp_network: Any, path: str) -> None:
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    # Without csrf_exempt, the CSRF middleware would answer 403 before the view's method check.
    assert strict.post(path).status_code == 405


@pytest.mark.parametrize("path", ["/api/public/", "/api/private/", "/api/private-scoped/"])
def test_trailing_slash_is_not_a_route(call: Any, mock_idp: MockIdP, path: str) -> None:
    response = call(path, mock_idp.mint(scope="read:messages"))
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "error_description": "No such resource."}
    assert response["Cache-Control"] == "no-store"
    assert "WWW-Authenticate" not in response


def test_a_refused_host_is_a_json_400(call: Any) -> None:
    response = call("/api/public", HTTP_HOST="evil.example.test")
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "The request is malformed.",
    }
    assert "WWW-Authenticate" not in response


def test_a_crashed_view_is_a_json_500(api_settings: Any, settings: Any) -> None:
    from types import ModuleType

    from django.test import Client
    from django.urls import path

    from apiexample import urls

    def crash(request: Any) -> Any:
        raise RuntimeError("boom")

    crashing = ModuleType("crashing_urls")
    crashing.urlpatterns = [path("crash", crash)]  # type: ignore[attr-defined]
    crashing.handler500 = urls.handler500  # type: ignore[attr-defined]
    settings.ROOT_URLCONF = crashing
    response = Client(raise_request_exception=False).get("/crash")
    assert response.status_code == 500
    assert response.json()["error"] == "server_error"


def test_cors_allows_configured_origins_only(call: Any, settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.test"]
    allowed = call("/api/public", HTTP_ORIGIN="https://app.example.test")
    assert allowed["Access-Control-Allow-Origin"] == "https://app.example.test"
    other = call("/api/public", HTTP_ORIGIN="https://evil.example.test")
    assert "Access-Control-Allow-Origin" not in other


def test_cors_preflight_allows_the_authorization_header(api: Any, settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.test"]
    response = api.options(
        "/api/private",
        HTTP_ORIGIN="https://app.example.test",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    assert response.status_code == 200
    assert "authorization" in response["Access-Control-Allow-Headers"]


def test_cors_exposes_the_headers_a_refusal_carries(call: Any, settings: Any) -> None:
    """A browser's script reads ``WWW-Authenticate`` and ``Retry-After`` only if exposed."""
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.test"]
    response = call("/api/private", HTTP_ORIGIN="https://app.example.test")
    assert response.status_code == 401
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert exposed == {"www-authenticate", "retry-after"}


def test_no_cors_by_default(call: Any) -> None:
    response = call("/api/public", HTTP_ORIGIN="https://app.example.test")
    assert "Access-Control-Allow-Origin" not in response
