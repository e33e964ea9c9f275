"""Constants shared by the mock IdP's tests (conftest.py holds fixtures only)."""

#: The frozen "now" of the ``idp`` fixture.
NOW = 1_700_000_000
