"""Property: whatever arrives in ``Authorization``, the protected routes never answer 5xx.

The JWKS is reachable here, so 503 is not a designed answer either: every response is 200,
400, 401 or 403, and 200 only for a token the mock IdP really signed.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_idp import MockIdP

ROUTES = ["/api/private", "/api/private-scoped"]
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x2FF, exclude_characters="\x7f"),
    max_size=300,
)
segment = st.one_of(
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=400
    ),
    st.binary(max_size=300).map(lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    ).map(lambda v: base64.urlsafe_b64encode(json.dumps(v).encode()).rstrip(b"=").decode()),
)


@FUZZ
@given(route=st.sampled_from(ROUTES), value=header_text)
def test_arbitrary_authorization_values(call: Any, route: str, value: str) -> None:
    response = call(route, HTTP_AUTHORIZATION=value)
    assert response.status_code in {400, 401, 403}


@FUZZ
@given(
    route=st.sampled_from(ROUTES),
    parts=st.lists(segment, min_size=1, max_size=5),
    keep_header=st.booleans(),
)
def test_arbitrary_token_segments(
    call: Any, mock_idp: MockIdP, route: str, parts: list[str], keep_header: bool
) -> None:
    if keep_header:  # a real header, so the key lookup and signature check run too
        parts[0] = mock_idp.mint().split(".")[0]
    response = call(route, ".".join(parts))
    assert response.status_code in {400, 401, 403}


@pytest.mark.parametrize("route", ROUTES)
def test_a_real_token_still_passes_the_same_path(call: Any, mock_idp: MockIdP, route: str) -> None:
    assert call(route, mock_idp.mint(scope="read:messages")).status_code == 200
