"""The bench's floor app is the API: its tests use the API tests' settings and client."""

from __future__ import annotations

from tests.apiexample.conftest import (
    _documented_defaults,
    _fresh_key_caches,
    api,
    api_settings,
    call,
)

__all__ = ["_documented_defaults", "_fresh_key_caches", "api", "api_settings", "call"]
