"""Per-token figures: every measurement over the same tokens, ours really validating them."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from apiexample.errors import InvalidToken
from bench.per_token import ROWS, per_token, signing_input
from mock_idp import MockIdP
from tests.bench.conftest import IdPMinter


def test_the_signing_input_is_what_the_signature_covers(mock_idp: MockIdP) -> None:
    signed, signature = signing_input(mock_idp.mint())
    public_key = mock_idp.keys.signing_key.private_key.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())  # raises if not


def test_every_row_is_measured_and_read_against_the_raw_verify(
    api: Any, mock_idp: MockIdP, minter: IdPMinter
) -> None:
    result = per_token(mock_idp, minter, mock_idp.mint(), rounds=2, tokens_per_round=3)
    assert minter.minted == 6
    names = [name for _, name in ROWS]
    assert list(result.us) == list(result.ratio) == names
    assert all(us > 0 for us in result.us.values())
    assert result.ratio["raw"] == 1.0
    lines = result.lines()
    assert lines[0] == "per-token validation, RS256 (median of 2 interleaved rounds of 3)"
    assert [line.split("  ")[1] for line in lines[2:]] == [label for label, _ in ROWS]


@pytest.mark.parametrize(
    "invalid", [{"expires_in": -3600}, {"audience": "https://elsewhere.example"}]
)
def test_a_token_ours_would_refuse_stops_the_run(
    api: Any, mock_idp: MockIdP, invalid: dict[str, Any]
) -> None:
    with pytest.raises(InvalidToken):
        per_token(
            mock_idp, IdPMinter(mock_idp, **invalid), mock_idp.mint(), rounds=1, tokens_per_round=2
        )
