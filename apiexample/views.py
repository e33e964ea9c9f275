"""The three routes of Auth0's Django API quickstart, GET only, bearer-protected where needed,
and the answers to errors Django handles itself, as JSON like the API's own."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from apiexample.errors import BadRequest, NotFound, ServerError, error_response
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


def bad_request(request: HttpRequest, exception: Exception) -> JsonResponse:
    """``handler400``."""
    return error_response(BadRequest())


def not_found(request: HttpRequest, exception: Exception) -> JsonResponse:
    """``handler404``."""
    return error_response(NotFound())


def server_error(request: HttpRequest) -> JsonResponse:
    """``handler500``."""
    return error_response(ServerError())
