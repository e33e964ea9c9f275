"""The header rules hold on their own, not only because joserfc's registry repeats some of them.

Every ``algorithm`` and ``header`` case of the catalogue that the API refuses before fetching
a key is refused by ``token_format.check_header`` alone (RFC 8725 sections 3.1 and 3.11,
RFC 7515 section 4.1.11): defence in depth stays two layers deep.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from apiexample.errors import InvalidToken
from apiexample.token_format import check_header
from mock_idp import MockIdP
from mock_idp.keys import b64url_decode
from mock_idp.pytest_plugin import MockIdPKeys
from tests.security.catalogue import CASES, Case, Scene

pytestmark = pytest.mark.security

REFUSED_BEFORE_KEYS = [c for c in CASES if c.category in {"algorithm", "header"} and c.fetches == 0]


@pytest.mark.parametrize("case", REFUSED_BEFORE_KEYS, ids=lambda c: c.id)
def test_check_header_alone_refuses(
    case: Case, mock_idp: MockIdP, mock_idp_keys: MockIdPKeys, settings: Any
) -> None:
    scene = Scene(mock_idp, mock_idp_keys, settings, lambda attack, path: None)
    token = (case.build(scene).authorization or "").partition(" ")[2]
    raw = b64url_decode(token.split(".")[0])
    header = json.loads(raw)  # the last duplicate member wins, as in the validator
    with pytest.raises(InvalidToken):
        check_header(header, ("RS256",))
