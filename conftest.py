"""Root conftest: loads the mock identity provider's pytest plugin for every test."""

pytest_plugins = ["mock_idp.pytest_plugin"]
