"""Fixtures shared by the mock IdP's tests."""

from __future__ import annotations

import pytest

from mock_idp import ControllableClock, MockIdP
from tests.mock_idp.helpers import NOW


@pytest.fixture
def idp(mock_idp: MockIdP) -> MockIdP:
    """The per-test mock IdP with its clock frozen at ``NOW``."""
    assert isinstance(mock_idp.clock, ControllableClock)
    mock_idp.clock.freeze(NOW)
    return mock_idp
