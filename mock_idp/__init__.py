"""A local identity provider that stands in for an Auth0 tenant in tests and demos.

``MockIdP`` mints Auth0-shaped tokens and every forgery of the security catalogue, and serves
the discovery document, the JWKS and ``/oauth/token`` through ``responses``
(``mock_idp.responses_adapter``), a real socket (``mock_idp.server``) or the command line
(``python -m mock_idp``). Fixtures live in ``mock_idp.pytest_plugin``.
"""

from __future__ import annotations

from .clock import Clock, ControllableClock, SystemClock
from .forgeries import FORGERIES, Forgery
from .http import Client, Fault, Hit, Request, Response
from .idp import DEFAULT_AUDIENCE, DEFAULT_ISSUER, MockIdP
from .keys import KeyPair, KeyRing, KeyState

__all__ = [
    "DEFAULT_AUDIENCE",
    "DEFAULT_ISSUER",
    "FORGERIES",
    "Client",
    "Clock",
    "ControllableClock",
    "Fault",
    "Forgery",
    "Hit",
    "KeyPair",
    "KeyRing",
    "KeyState",
    "MockIdP",
    "Request",
    "Response",
    "SystemClock",
]
