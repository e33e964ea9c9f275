"""ASGI entry point, for servers such as uvicorn or daphne.

A request body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is refused (413) before Django reads it
(``apiexample.body_limit``): Django's ASGI handler reads every body whole before routing. A
websocket is refused and the lifespan protocol answered (``apiexample.asgi_scopes``), where
Django's handler would raise.

uvicorn's logs hold what a client sent (the query string, in its access log and, at
``--log-level trace``, in each request's scope), so a token would be written whole: its loggers
pass every record through ``apiexample.log_redaction``'s filters. uvicorn sets up its logging
before it imports the application, and a filter on a logger outlasts that setup.
"""

from __future__ import annotations

import os

import django

from apiexample.asgi_handler import APIASGIHandler
from apiexample.asgi_scopes import HTTPOnly
from apiexample.body_limit import BodyLimit
from apiexample.log_redaction import redact_each_argument, redact_loggers

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "apiexample.settings")

#: uvicorn's error log and its trace of each request's ASGI messages.
UVICORN_LOGGERS = ("uvicorn.error", "uvicorn.asgi")
#: uvicorn's access log, whose formatter unpacks the record's five arguments.
UVICORN_ACCESS_LOGGER = "uvicorn.access"

redact_loggers(UVICORN_LOGGERS)
redact_loggers([UVICORN_ACCESS_LOGGER], redact_each_argument)
django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application() does
django_application = APIASGIHandler()
application = HTTPOnly(BodyLimit(django_application))
