"""The bench measures the API: its tests use the API tests' settings and client, and mint
tokens in this process (``IdPMinter``) where the bench uses a process pool."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler

from apiexample.wsgi import application
from mock_idp import MockIdP
from tests.apiexample.conftest import (
    _documented_defaults,
    _fresh_key_caches,
    api,
    api_settings,
    call,
)
from tests.apiexample.helpers import without_closing_old_connections

__all__ = ["_documented_defaults", "_fresh_key_caches", "api", "api_settings", "call"]


class IdPMinter:
    """``bench.minting.Mints`` in this process: distinct tokens of ``idp``, minted with
    ``mint_args``."""

    def __init__(self, idp: MockIdP, **mint_args: Any) -> None:
        self.idp = idp
        self.mint_args = mint_args
        self.minted = 0

    def mint(self, count: int) -> list[str]:
        first, self.minted = self.minted, self.minted + count
        return [
            self.idp.mint(claims={"jti": f"t{n}"}, **self.mint_args)
            for n in range(first, self.minted)
        ]


@pytest.fixture
def minter(mock_idp: MockIdP) -> IdPMinter:
    return IdPMinter(mock_idp)


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    """The API's WSGI application, to be called as gunicorn calls it (see
    ``without_closing_old_connections``). Imported at collection: importing ``apiexample.wsgi``
    sets Django up again, logging included, whose handlers would keep a stream a test captured
    (``capsys``) and later find it closed."""
    with without_closing_old_connections():
        yield application


@pytest.fixture(autouse=True)
def _no_collection_before_timing(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests check what the bench measures, not how fast: ``measure.timed`` collects
    garbage before each timing (about 0.1 s with a whole suite's heap), so not here."""
    monkeypatch.setattr("bench.measure.gc.collect", lambda: 0)
