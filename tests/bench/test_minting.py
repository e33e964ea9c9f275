"""Minting in a process pool: distinct tokens the API accepts, in batches, until closed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import minting
from bench.minting import Minter
from mock_idp import MockIdP
from tests.apiexample.conftest import Call


def test_tokens_minted_across_batches_are_distinct_and_valid(
    mock_idp: MockIdP, call: Call, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(minting, "BATCH", 2)
    minter = Minter(mock_idp, tmp_path)
    try:
        first, second = minter.mint(5), minter.mint(1)
    finally:
        minter.close()
    tokens = first + second
    assert len(first) == 5
    assert len(second) == 1
    assert len(set(tokens)) == 6  # each batch's jti prefix is its own
    for token in tokens:
        assert call("/api/private", token).status_code == 200
    with pytest.raises(RuntimeError):
        minter.mint(1)  # closed


def test_a_minting_process_must_be_initialised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(minting, "_minter", None)
    with pytest.raises(RuntimeError, match="not initialised"):
        minting._mint_batch(("b1", 1))
