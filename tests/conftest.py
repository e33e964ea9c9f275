"""Guards for every test."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _the_api_s_logger_is_left_as_found() -> Iterator[None]:
    """A test that quiets the ``apiexample`` logger (the bench does, for its own process)
    silences the refusal lines that later tests in the same process read: the one that did it
    fails, not a later one that only an unlucky order reaches."""
    logger = logging.getLogger("apiexample")
    found = (logger.level, logger.disabled, logger.propagate)
    yield
    assert (logger.level, logger.disabled, logger.propagate) == found, "the test left it changed"
