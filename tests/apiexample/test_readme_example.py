"""README's "In your own tests" example, run as written (twice: tests must not share keys)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("run", [1, 2])
def test_private(client, settings, mock_idp, mock_idp_network, run):  # type: ignore[no-untyped-def]
    settings.AUTH0_ISSUER = mock_idp.issuer
    settings.AUTH0_JWKS_URL = mock_idp.jwks_uri
    settings.AUTH0_AUDIENCE = mock_idp.audience
    token = mock_idp.mint(scope="read:messages")
    response = client.get("/api/private", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert mock_idp.hit_count("/.well-known/jwks.json") == 1


def test_the_readme_shows_this_example() -> None:
    source = inspect.getsource(test_private)
    body = source[source.index("\n", source.index("def test_private")) + 1 :]
    readme = README.read_text()
    block = re.search(r"# test_api.py\ndef test_private\(.*?\):\n(.*?)```", readme, re.S)
    assert block is not None
    assert block.group(1) == body
