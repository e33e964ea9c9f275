"""The bench's floor app is the API: its tests use the API tests' settings and client."""

from tests.apiexample.conftest import (  # noqa: F401 - pytest finds fixtures by name here
    _documented_defaults,
    _fresh_key_caches,
    api,
    api_settings,
    call,
)
