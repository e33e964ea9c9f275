"""Assertions shared by the API's tests."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from apiexample.signing_keys import REFRESH_THREAD_NAME
from mock_idp import MockIdP
from mock_idp.http import JWKS as JWKS_PATH


def wait_for_refreshes(timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for every background JWKS refresh (of any key cache,
    forgotten ones too); whether all have ended."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread.name == REFRESH_THREAD_NAME:
            thread.join(max(0.0, deadline - time.monotonic()))
    return not any(t.name == REFRESH_THREAD_NAME and t.is_alive() for t in threading.enumerate())


def jwks_fetches(idp: MockIdP) -> int:
    return idp.hit_count(JWKS_PATH)


def assert_refused(response: Any, status: int, error: str) -> None:
    """Status, ``error`` code, the ``WWW-Authenticate`` challenge and no-store, all at once."""
    assert response.status_code == status, response.content
    assert json.loads(response.content)["error"] == error  # a test client's or a view's answer
    assert response["Cache-Control"] == "no-store"
    challenge = response.get("WWW-Authenticate")
    if status == 503:
        assert challenge is None
        assert int(response["Retry-After"]) >= 1
    elif error in {"missing_authorization", "unsupported_token_type"}:
        assert challenge == 'Bearer realm="api"'
    else:
        assert challenge is not None
        assert challenge.startswith(f'Bearer error="{error}"')
