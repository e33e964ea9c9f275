"""gunicorn's settings for serving the API: ``gunicorn -c python:apiexample.gunicorn_config
apiexample.wsgi``.

- Header fields as long as the longest token the API takes (``token_format.MAX_TOKEN_LENGTH``)
  plus ``Authorization: Bearer ``: gunicorn's default of 8190 bytes answers an HTML 431 to the
  longer tokens of Auth0 RBAC with a few hundred permissions.
- No ``SCRIPT_NAME`` or ``PATH_INFO`` taken from request headers: gunicorn trusts them from
  ``forwarded_allow_ips`` (loopback by default, so any client of a proxy on the same host that
  passes them) and answers 500 to a ``SCRIPT_NAME`` that does not begin the path. The API is
  served at the root of its host.
- A logger that keeps bearer tokens out of every line gunicorn writes. gunicorn logs whole a
  request it cannot parse (a header line without a colon, a request line with a control
  character), and its access log, when asked for, holds the query string.

gunicorn's master loads this module: it imports neither Django nor the rest of the project.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

#: ``MAX_TOKEN_LENGTH`` (16 KiB) plus room for the field's name and scheme.
limit_request_field_size = 16 * 1024 + 256

forwarder_headers = ""

#: A compact JWS or JWE (RFC 7515 section 7.1, RFC 7516 section 7.1): base64url segments joined by
#: dots, the first (the header) at least 16 characters long, as any header with an ``alg`` is.
_COMPACT_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,}(?:\.[A-Za-z0-9_-]*){2,}")

#: What follows ``Bearer`` (RFC 6750 section 2.1) or ``access_token=`` (section 2.3), whatever
#: its shape: an opaque token is token material too.
_CREDENTIAL = re.compile(r"(?i)\b(bearer\s+|access_token=)[^\s'\"&;,]+")

REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``text`` with every bearer token in it replaced by ``[redacted]``."""
    text = _CREDENTIAL.sub(rf"\1{REDACTED}", text)
    return _COMPACT_TOKEN.sub(REDACTED, text)


def redact_record(record: logging.LogRecord) -> bool:
    """A ``logging`` filter that redacts a record's message and traceback, and keeps it."""
    record.msg = redact(record.getMessage())
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    return True


class TokenRedactingLogger(Logger):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn's logger, its error and access logs passed through ``redact_record``."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)  # run again on a configuration reload (SIGHUP)
        for log in (self.error_log, self.access_log):
            if redact_record not in log.filters:
                log.addFilter(redact_record)


logger_class = TokenRedactingLogger
