"""Root conftest: loads the mock identity provider's pytest plugin for every test (and pytest's
own ``pytester``, with which the plugin's tests run a suite of their own)."""

pytest_plugins = ["mock_idp.pytest_plugin", "pytester"]
