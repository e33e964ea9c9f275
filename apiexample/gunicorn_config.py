"""gunicorn's settings for serving the API: ``gunicorn -c python:apiexample.gunicorn_config
apiexample.wsgi``.

- Header fields as long as the longest token the API takes (``token_format.MAX_TOKEN_LENGTH``)
  plus ``Authorization: Bearer ``: gunicorn's default of 8190 bytes answers an HTML 431 to the
  longer tokens of Auth0 RBAC with a few hundred permissions.
- No ``SCRIPT_NAME`` or ``PATH_INFO`` taken from request headers: gunicorn trusts them from
  ``forwarded_allow_ips`` (loopback by default, so any client of a proxy on the same host that
  passes them) and answers 500 to a ``SCRIPT_NAME`` that does not begin the path. The API is
  served at the root of its host.
- No bearer token in gunicorn's logs (``on_starting``). gunicorn logs whole a request it cannot
  parse (a header line without a colon, a request line with a control character), and its
  access log, when asked for, holds the query string and any header its format names.

gunicorn's master loads this module: it imports neither Django nor the API.
"""

from __future__ import annotations

from typing import Any

from apiexample.log_redaction import redact_loggers

#: ``MAX_TOKEN_LENGTH`` (16 KiB) plus room for the field's name and scheme.
limit_request_field_size = 16 * 1024 + 256

forwarder_headers = ""

#: The loggers gunicorn writes its error and access logs with, whatever its logger class.
GUNICORN_LOGGERS = ("gunicorn.error", "gunicorn.access")


def on_starting(server: Any) -> None:
    """gunicorn server hook, in the master before any worker is forked: every record of
    gunicorn's logs passes through ``redact_record``. A filter on the logger itself outlasts a
    reload, ``--log-config`` and any ``--logger-class`` (its statsd one included)."""
    redact_loggers(GUNICORN_LOGGERS)
