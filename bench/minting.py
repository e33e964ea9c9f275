"""Distinct valid tokens in bulk, signed in a process per CPU (RSA signing is the slow part)."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Protocol

from mock_idp import DEFAULT_AUDIENCE, KeyRing, MockIdP

#: Tokens per job handed to a minting process.
BATCH = 500

_minter: MockIdP | None = None


class Mints(Protocol):
    """Anything that hands out ``count`` distinct valid tokens: ``Minter``, or a test's IdP."""

    def mint(self, count: int) -> list[str]: ...


def _init_minter(keys_path: str, issuer: str) -> None:
    global _minter
    _minter = MockIdP(issuer, keys=KeyRing.load(keys_path), audience=DEFAULT_AUDIENCE)


def _mint_batch(job: tuple[str, int]) -> list[str]:
    prefix, count = job
    if _minter is None:
        raise RuntimeError("the minting process was not initialised")
    return [_minter.mint(claims={"jti": f"{prefix}-{n}"}) for n in range(count)]


class Minter:
    """Tokens of ``idp`` (its keys saved to ``scratch``), signed by its key in every CPU.

    Each token carries a ``jti`` unique to this minter, so no two are the same string.
    """

    def __init__(self, idp: MockIdP, scratch: Path) -> None:
        keys = scratch / "keys.json"
        idp.save(keys)
        self._pool = ProcessPoolExecutor(
            max_workers=os.cpu_count() or 1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_minter,
            initargs=(str(keys), idp.issuer),
        )
        self._batches = 0

    def mint(self, count: int) -> list[str]:
        jobs = []
        for start in range(0, count, BATCH):
            self._batches += 1
            jobs.append((f"b{self._batches}", min(BATCH, count - start)))
        return [token for batch in self._pool.map(_mint_batch, jobs) for token in batch]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
