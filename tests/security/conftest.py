"""The security catalogue runs against the same API fixtures as tests/apiexample."""

from __future__ import annotations

from tests.apiexample.conftest import (
    _documented_defaults,
    _fresh_key_caches,
    api,
    api_settings,
    call,
)

__all__ = ["_documented_defaults", "_fresh_key_caches", "api", "api_settings", "call"]
