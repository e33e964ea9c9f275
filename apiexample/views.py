"""The three routes of Auth0's Django API quickstart, GET only, bearer-protected where needed."""

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
