"""The error answers of RFC 6750 section 3, rendered in one place."""

from __future__ import annotations

import json

import pytest

from apiexample.errors import (
    BadRequest,
    ContentTooLarge,
    InsufficientScope,
    InvalidRequest,
    InvalidToken,
    MissingAuthorization,
    NotFound,
    RequestError,
    ServerError,
    TemporarilyUnavailable,
    UnsupportedTokenType,
    error_response,
)


def test_invalid_token() -> None:
    response = error_response(InvalidToken("token_expired", "The access token has expired."))
    assert response.status_code == 401
    assert json.loads(response.content) == {
        "error": "invalid_token",
        "error_description": "The access token has expired.",
    }
    assert response["WWW-Authenticate"] == (
        'Bearer error="invalid_token", error_description="The access token has expired.", '
        'realm="api"'
    )
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"  # RFC 6749 section 5.1, for HTTP/1.0 caches


def test_insufficient_scope_names_the_scope() -> None:
    response = error_response(InsufficientScope("read:messages"))
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == (
        'Bearer error="insufficient_scope", scope="read:messages", error_description="The '
        'access token does not grant the scope this resource needs.", realm="api"'
    )


@pytest.mark.parametrize("error", [MissingAuthorization("x"), UnsupportedTokenType("x")])
def test_no_credentials_carry_no_error_code_in_the_challenge(error: MissingAuthorization) -> None:
    response = error_response(error)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_invalid_request_is_400() -> None:
    response = error_response(InvalidRequest("two_places"))
    assert response.status_code == 400
    assert response["WWW-Authenticate"].startswith('Bearer error="invalid_request"')


@pytest.mark.parametrize(
    ("retry_after", "header"),
    [(0, "1"), (0.2, "1"), (12.1, "13"), (float("nan"), "30"), (float("inf"), "30"), (-5, "1")],
)
def test_temporarily_unavailable(retry_after: float, header: str) -> None:
    response = error_response(TemporarilyUnavailable("jwks_http_500", retry_after))
    assert response.status_code == 503
    assert json.loads(response.content)["error"] == "temporarily_unavailable"
    assert response["Retry-After"] == header
    assert "WWW-Authenticate" not in response


def test_kid_is_logged_quoted_and_short() -> None:
    assert InvalidToken("x").kid == "-"
    assert InvalidToken("x").for_kid("k" * 100).kid == repr("k" * 64)
    auth0_kid = "a1B2-c3_D4.e5~f6+g7/h8"  # base64url, base64 and thumbprint characters
    assert InvalidToken("x").for_kid(auth0_kid).kid == repr(auth0_kid)


@pytest.mark.parametrize(
    ("kid", "logged"),
    [
        ("x reason=ok", r"'x\u0020reason\u003dok'"),
        (
            "a'\nauth refused: status=200",
            r"'a\u0027\u000aauth\u0020refused\u003a\u0020status\u003d200'",
        ),
        ("\u00e9", r"'\u00e9'"),
        ("\uffff", r"'\uffff'"),  # the last of the Basic Multilingual Plane: four digits
        ("\U00010000", r"'\U00010000'"),  # the first beyond it: eight
        ("\U0001f600", r"'\U0001f600'"),  # not \u1f600, which is also "\u1f60" + "0"
        ("\u1f600", r"'\u1f600'"),
    ],
)
def test_a_hostile_kid_cannot_forge_log_fields(kid: str, logged: str) -> None:
    """CWE-117: nothing but plain characters is logged as it is."""
    assert InvalidToken("x").for_kid(kid).kid == logged


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (
            BadRequest,
            400,
            {"error": "invalid_request", "error_description": "The request is malformed."},
        ),
        (NotFound, 404, {"error": "not_found", "error_description": "No such resource."}),
        (
            ContentTooLarge,
            413,
            {
                "error": "request_too_large",
                "error_description": "The request body is larger than this API accepts.",
            },
        ),
        (
            ServerError,
            500,
            {
                "error": "server_error",
                "error_description": "The server failed to answer the request.",
            },
        ),
    ],
)
def test_the_errors_django_answers_itself_are_json_without_a_challenge(
    error: type[RequestError], status: int, body: dict[str, str]
) -> None:
    """Found by mutation testing: the 500's description went unchecked."""
    response = error_response(error())
    assert response.status_code == status
    assert json.loads(response.content) == body
    assert "WWW-Authenticate" not in response
    assert response["Cache-Control"] == "no-store"
