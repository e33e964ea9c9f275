"""ASGI entry point, for servers such as uvicorn or daphne.

uvicorn's access log holds the query string, so a token sent as ``?access_token=`` would be
written whole: its loggers pass every record through ``redact_record``. uvicorn sets up its
logging before it imports the application, and a filter on a logger outlasts that setup.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

from apiexample.log_redaction import redact_loggers

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "apiexample.settings")

#: The loggers uvicorn writes its error and access logs with.
UVICORN_LOGGERS = ("uvicorn.error", "uvicorn.access")

redact_loggers(UVICORN_LOGGERS)
application = get_asgi_application()
