"""The security catalogue runs against the same API fixtures as tests/apiexample."""

from __future__ import annotations

from tests.apiexample.conftest import _fresh_key_caches, api, api_settings, call

__all__ = ["_fresh_key_caches", "api", "api_settings", "call"]
