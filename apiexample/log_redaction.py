"""Bearer tokens kept out of log lines: a ``logging`` filter, for logs that hold what a client
sent (gunicorn's, see ``apiexample.gunicorn_config``).

Token material is a compact JWS or JWE (RFC 7515 section 7.1, RFC 7516 section 7.1), its dots
written as they are or percent-encoded, and whatever follows ``Bearer`` or ``Basic`` (RFC 6750
section 2.1, RFC 7617) or an ``access_token`` parameter (RFC 6750 section 2.3), whatever its
shape: an opaque token is a credential too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping

REDACTED = "[redacted]"

#: ``token_format``'s base64url alphabet, written again: gunicorn's master loads this module,
#: and ``token_format`` would bring Django with it.
_B64URL = "[A-Za-z0-9_-]"
_DOT = r"(?:\.|%2[Ee])"

#: A JOSE header is a JSON object, so its base64url begins with ``e``; 16 characters at least
#: (``{"alg":"RS256"}`` takes 20). A match starts only where a base64url run starts: without the
#: lookbehind, a long run without dots would be tried from each of its characters (quadratic).
_COMPACT_TOKEN = re.compile(rf"(?<!{_B64URL})e{_B64URL}{{15,}}(?:{_DOT}{_B64URL}*){{2,}}")

_CREDENTIAL = re.compile(r"(?i)\b(bearer[ \t]+|basic[ \t]+|access(?:_|%5F)token=)[^\s'\"&;,]+")


def redact(text: str) -> str:
    """``text`` with every bearer token in it replaced by ``[redacted]``."""
    text = _CREDENTIAL.sub(rf"\1{REDACTED}", text)
    return _COMPACT_TOKEN.sub(REDACTED, text)


def redact_record(record: logging.LogRecord) -> bool:
    """A ``logging`` filter that redacts a record and keeps it.

    Named arguments (gunicorn's access log: one per atom, which structured formatters read) keep
    their names, each value redacted; otherwise the message is formatted, then redacted. A
    traceback is formatted and redacted too, and the exception dropped from the record, so
    that no handler formats it again from the original.
    """
    if isinstance(record.args, MutableMapping):
        for name, value in record.args.items():
            if isinstance(value, str):
                record.args[name] = redact(value)
    else:
        record.msg = redact(record.getMessage())
        record.args = None
    if record.exc_info:
        record.exc_text = record.exc_text or logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    return True
