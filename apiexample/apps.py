"""App configuration: registers the system checks of ``apiexample.checks``."""

from __future__ import annotations

from django.apps import AppConfig


class ApiExampleConfig(AppConfig):
    name = "apiexample"
    verbose_name = "Auth0-protected API"

    def ready(self) -> None:
        from apiexample import checks  # noqa: F401  (registers the checks)
