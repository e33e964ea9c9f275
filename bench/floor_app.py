"""A measuring device for ``bench.under_load``, not a validator: the API with its protected routes
reduced to the one step no validator can skip, the token's signature (RFC 7515 section 5.2).

Each protected request goes through our validator's own header lookup, key lookup and
signature check, and nothing else: no expiry, issuer, audience or scope rule, no claims
parsing, no token cache. Under gunicorn it shows how fast a protected route could be with a
validator costing nothing beyond its RSA verify: the floor the bench reads its figures against.

It accepts expired tokens and tokens meant for any audience, so it is never served: the bench
starts it with ``gunicorn "bench.floor_app:create_application()"`` on 127.0.0.1 only, and
nothing in ``apiexample`` imports it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest

from apiexample.protector import bearer_token
from apiexample.validator import Auth0AccessToken, Auth0JWTBearerTokenValidator


def signature_only(
    validator: Auth0JWTBearerTokenValidator,
) -> Callable[[HttpRequest, list[str]], Auth0AccessToken]:
    """``acquire_bearer_token`` for the floor: the signature checked as ``validator`` does it."""

    def acquire(request: HttpRequest, scopes: list[str]) -> Auth0AccessToken:
        token = bearer_token(request)
        header_segment, payload_segment, signature = token.split(".")
        policies = validator.policies()
        header = policies.header(token, header_segment)
        # The validator's own key lookup and signature step, so the floor is our code's floor.
        validator._verify_signature(header, policies, header_segment, payload_segment, signature)
        policies.remember_header(header_segment, header)
        return Auth0AccessToken({}, policies.claims, frozenset())

    return acquire


def create_application() -> WSGIHandler:
    """The API's WSGI application, its protected routes checking signatures only."""
    from apiexample.views import require_auth
    from apiexample.wsgi import application

    validator = require_auth.get_token_validator("bearer")
    require_auth.acquire_bearer_token = signature_only(validator)  # type: ignore[method-assign,assignment]
    return application
