"""WSGI entry point: ``gunicorn apiexample.wsgi``."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from apiexample.request_classes import ContentTypeSafeWSGIRequest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "apiexample.settings")

application = get_wsgi_application()
application.request_class = ContentTypeSafeWSGIRequest  # no 500 on a malformed Content-Type
