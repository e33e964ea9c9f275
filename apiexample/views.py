"""The three routes of Auth0's Django API quickstart, GET only, bearer-protected where needed,
and the answers to errors Django handles itself, as JSON like the API's own."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from apiexample.protector import Auth0ResourceProtector
from apiexample.validator import Auth0JWTBearerTokenValidator

require_auth = Auth0ResourceProtector()
require_auth.register_token_validator(Auth0JWTBearerTokenValidator())


@csrf_exempt
@require_GET
def public(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {"message": "Hello from a public endpoint! You don't need to be authenticated to see this."}
    )


@csrf_exempt
@require_GET
@require_auth(None)
def private(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {"message": "Hello from a private endpoint! You need to be authenticated to see this."}
    )


@csrf_exempt
@require_GET
@require_auth("read:messages")
def private_scoped(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "message": "Hello from a private endpoint! You need to be authenticated and have a "
            "scope of read:messages to see this."
        }
    )


def _error(status: int, error: str, description: str) -> JsonResponse:
    return JsonResponse({"error": error, "error_description": description}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> JsonResponse:
    """``handler400``: a request Django refused (a Host not in ``ALLOWED_HOSTS``...)."""
    return _error(400, "bad_request", "The request is malformed.")


def not_found(request: HttpRequest, exception: Exception) -> JsonResponse:
    """``handler404``: no such route (there is no trailing slash)."""
    return _error(404, "not_found", "No such resource.")


def server_error(request: HttpRequest) -> JsonResponse:
    """``handler500``: a view that crashed (never ``require_auth``, which fails closed)."""
    return _error(500, "server_error", "The server failed to answer the request.")
