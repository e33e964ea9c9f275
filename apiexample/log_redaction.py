"""Bearer tokens kept out of log lines: ``logging`` filters, for logs that hold what a client
sent: gunicorn's (``apiexample.gunicorn_config``), uvicorn's (``apiexample.asgi``) and
``runserver``'s (``LOGGING`` in ``apiexample.logging_config``).

Token material is a compact JWS or JWE (RFC 7515 section 7.1, RFC 7516 section 7.1), or the part
of one after a line break, its dots written as they are or percent-encoded, whatever stands
before it (``%3D``, ``repr``'s ``\\t``); and whatever follows ``Bearer`` or ``Basic`` (RFC 6750
section 2.1, RFC 7617) or an ``access_token`` parameter (RFC 6750 section 2.3), whatever its
shape: an opaque token is a credential too. A request's method and path shown apart (uvicorn's
trace of each ASGI scope) are read as the request line they make.
"""

from __future__ import annotations

import binascii
import contextlib
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

REDACTED = "[redacted]"
UNPRINTABLE = "[unprintable]"

#: A run of characters a token can be written with (base64url, dots, percent-escapes): each
#: character is read once, and each run is then judged whole (linear in the line's length).
_RUN = re.compile(r"(?:[A-Za-z0-9_.-]|%[0-9A-Fa-f]{2})+")
#: A dot, percent-encoded once or twice.
_DOT = re.compile(r"\.|%(?:25)?2[Ee]")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
#: ``{"`` in base64url, then 13 more characters: how a JOSE header or a claims set begins
#: (``{"alg":"RS256"}`` takes 20). ``token_format`` holds the alphabet too, but gunicorn's master
#: loads this module, and ``token_format`` would bring Django with it.
_JSON_OBJECT = re.compile(r"ey[IJ][A-Za-z0-9_-]{13}")
#: JSON's whitespace (RFC 8259 section 2), which may come before a header's ``{``.
_JSON_WHITESPACE = b" \t\r\n"
_TO_STANDARD = str.maketrans("-_", "+/")

#: What may stand between a scheme and its credential: a blank or a control character other
#: than a line break, ``+``, a space, tab or no-break space percent-encoded (twice too), or an
#: escape as ``repr`` writes one. The alternatives begin differently, so a long run of them is
#: read once.
_SEPARATOR = (
    r"(?:[\x00-\x09\x0b\x0c\x0e-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000+]"
    r"|%(?:25)?(?:20|09|[Aa]0|[Cc]2%(?:25)?[Aa]0)|\\(?:t|x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}))"
)
#: A quote that may open a credential, as written or as gunicorn escapes it (``\\"``).
_OPENING_QUOTE = r"(?:\\?['\"])?"


def _any_spelling(name: str) -> str:
    """A pattern for ``name`` with any of its characters percent-encoded (RFC 3986 section 2.1),
    as a query parser decodes it: ``%61ccess_token`` is Django's ``access_token`` too."""
    return "".join(f"(?:{re.escape(character)}|%{ord(character):02X})" for character in name)


#: A scheme, said once or more (``Bearer Bearer <token>``, a common client mistake), and what
#: follows it (not a request line's ``HTTP/1.1``, after a path ending in ``/basic``).
_SCHEME = rf"(?:(?:bearer|basic){_SEPARATOR}+)+(?!HTTP/){_OPENING_QUOTE}"
#: What stands between an ``access_token`` parameter's or JSON or ``repr`` member's name and
#: its value: a quote closing the name, then ``=`` or ``:``.
_TOKEN_SEPARATOR = r"(?:\\?['\"])?[ \t]*[:=][ \t]*"
#: An ``access_token`` parameter, however its name is spelt, or JSON or ``repr`` member of that
#: name, and its value up to the next parameter (Django splits on ``&`` only), quoted or not, in
#: a list (a ``QueryDict``'s, ``parse_qs``'s) or bytes (``b'...'``) too.
_PARAMETER = (
    rf"{_any_spelling('access_token')}(?:{_TOKEN_SEPARATOR}|%3D)"
    rf"(?:\[[ \t]*(?=b?\\?['\"]))?(?:b?\\?['\"])?"  # a list opener only before a quote
)
#: Either, beginning a word, or right after a percent-escape (``%20Bearer%20...``,
#: ``%3Faccess_token%3D...``) or an escape as ``repr`` writes one (gunicorn's
#: ``Invalid HTTP Header: 'Authorization\\tBasic ...'``); group 1 or 2 is what stays.
_CREDENTIAL = re.compile(
    r"(?i)(?:(?<!\w)|(?<=%[0-9A-F]{2})|(?<=\\t)|(?<=\\x[0-9A-F]{2})|(?<=\\u[0-9A-F]{4}))"
    rf"(?:({_SCHEME})[^\s'\"&;,]+|({_PARAMETER})[^\s'\"&]+)"
)


#: A list given as an ``access_token`` member's value (a ``QueryDict``'s, ``parse_qs``'s), up
#: to its end, and each quoted item in it: every value of a repeated parameter.
_TOKEN_LIST = re.compile(rf"(?i)({_any_spelling('access_token')}{_TOKEN_SEPARATOR}\[)([^\]]*)")
_LIST_ITEM = re.compile(r"(b?\\?(['\"]))(.*?)(\\?\2)")


def redact(text: str) -> str:
    """``text`` with every bearer token in it replaced by ``[redacted]``."""
    text = _TOKEN_LIST.sub(_redacted_list, text)
    text = _CREDENTIAL.sub(_redacted_credential, text)
    return _RUN.sub(_redacted_run, text)


def _redacted_list(match: re.Match[str]) -> str:
    items = _LIST_ITEM.sub(lambda item: f"{item.group(1)}{REDACTED}{item.group(4)}", match[2])
    return f"{match[1]}{items}"


def _redacted_credential(match: re.Match[str]) -> str:
    return f"{match.group(1) or match.group(2)}{REDACTED}"


def _redacted_run(match: re.Match[str]) -> str:
    return REDACTED if _holds_token(match.group()) else match.group()


def _holds_token(run: str) -> bool:
    """Whether a segment before a dot begins a JSON object: anywhere in it (after whatever
    escape or character stands before the token), or, for a header that starts with
    whitespace, at its start with two more dots to come."""
    segments = _DOT.split(run)
    for position, segment in enumerate(segments[:-1]):
        tail = _ESCAPE.split(segment)[-1]
        if _JSON_OBJECT.search(tail):
            return True
        if len(segments) - position >= 3 and len(tail) >= 16 and _starts_an_object(tail[:16]):
            return True
    return False


def _starts_an_object(segment: str) -> bool:
    try:
        decoded = binascii.a2b_base64(segment.translate(_TO_STANDARD) + "==")
    except binascii.Error:
        return False
    return decoded.lstrip(_JSON_WHITESPACE).startswith(b"{")


def redact_record(record: logging.LogRecord, *, keep_exception: bool = False) -> bool:
    """A ``logging`` filter that redacts a record and keeps it; it never raises.

    Named arguments (gunicorn's access log: one per atom) become those the template reads, each
    redacted (``redacted_arguments``); otherwise the message is formatted, then redacted, and so
    is uvicorn's colored template (``color_message``). One that does not format keeps its
    template, redacted, without its arguments. A traceback is formatted and redacted too, and
    the exception dropped from the record, so that no handler formats it again from the
    original; with ``keep_exception``, the exception stays for the handlers that build a report
    from it (Django's error emails), its text redacted for the formatters, which use that text.
    """
    record.args = _request_lines_masked(record.args)
    named = isinstance(record.args, Mapping) and not _holds_a_credential(record.msg)
    if not (named and _redacted_by_name(record)):
        _format_whole(record)
    _redact_traceback(record, keep_exception)
    return True


#: The members of an ASGI HTTP scope that hold what followed its method in the request line.
_SCOPE_TARGET = ("path", "raw_path", "query_string")


def _request_lines_masked(arguments: Any) -> Any:
    """A record's arguments, each mapping that shows a request line whole (``_scope_masked``)."""
    if isinstance(arguments, tuple):
        return tuple(map(_scope_masked, arguments))
    return _scope_masked(arguments)


def _scope_masked(argument: object) -> object:
    """``argument``, or, for a mapping whose ``method`` and ``path`` make a line holding a
    credential, a copy with its target masked. h11 reads the request line ``Bearer <token>
    HTTP/1.1`` as a method and a path, which uvicorn's trace shows apart in the scope
    (``'method': 'Bearer', ..., 'path': '<token>'``), where the scheme rule cannot join them.
    """
    if not isinstance(argument, Mapping):
        return argument
    try:
        method, path = argument.get("method"), argument.get("path")
        if not (isinstance(method, str) and isinstance(path, str)):
            return argument
        if not _holds_a_credential(f"{method} {path}"):
            return argument
        masked = dict(argument)
    except Exception:  # a mapping that cannot be read: formatted as it is, then redacted
        return argument
    for name in _SCOPE_TARGET:
        if name in masked:
            masked[name] = REDACTED
    return masked


def _holds_a_credential(text: object) -> bool:
    """Whether ``redact`` changes ``text`` (a template, or a formatted line); what cannot be
    shown as text counts as holding one."""
    try:
        shown = str(text)
    except Exception:
        return True
    return redact(shown) != shown


def _redacted_by_name(record: logging.LogRecord) -> bool:
    try:
        record.args = redacted_arguments(record.msg, record.args)  # type: ignore[arg-type]
    except Exception:  # a mapping that cannot even be listed: formatted whole instead
        return False
    return True


#: gunicorn's atoms for a request's credentials, by header (``{...}i``) and environ
#: (``{...}e``): their whole value is a credential, however it is spaced or quoted.
CREDENTIAL_ATOMS = frozenset(
    {
        "{authorization}i",
        "{proxy-authorization}i",
        "{http_authorization}e",
        "{http_proxy_authorization}e",
    }
)
#: The user gunicorn decodes from ``Authorization: Basic`` (RFC 7617), often an API key: a
#: credential too. Compared as it is (``U`` is the path).
_USER_ATOM = "u"
#: A mapping's key that names its value a bearer token (RFC 6750 section 2.3), however spelt:
#: ``logger.info("got %s", {"access_token": ...})`` shows the value apart from its key.
_TOKEN_KEY = re.compile(rf"(?i){_any_spelling('access_token')}")
#: A named field of a ``%`` template: ``%(name)s``.
_NAMED_FIELD = re.compile(r"%\(([^()]*)\)")  # no "(" inside: linear on "%(%(%(..."


def redacted_arguments(template: object, arguments: Mapping[Any, Any]) -> dict[Any, object]:
    """The named arguments ``template`` reads, each redacted, in a new ``dict``; all of them when
    it names none (``logger.info("skipped: %s", counts)`` shows the mapping whole).

    gunicorn's access log passes one atom per request header, response header and environ
    entry, and its format reads a few: only those are redacted and kept, so a request's many
    headers cost nothing, and no raw value stays on the record (for a pickling handler or a
    structured formatter to find). A credential atom (``CREDENTIAL_ATOMS``) shows as
    ``[redacted]`` whole (gunicorn answers ``-`` for an absent one), a value that cannot be
    shown as text as ``[unprintable]``; a name the arguments lack is left for the formatter to
    report, as it would without the filter.
    """
    names = _NAMED_FIELD.findall(template) if isinstance(template, str) else []
    shown: dict[Any, object] = {}
    for name in dict.fromkeys(names) if names else list(arguments):
        with contextlib.suppress(KeyError):  # a name it lacks: the formatter says so
            shown[name] = _shown_argument(name, arguments[name])
    return shown


def _shown_argument(name: object, value: object) -> object:
    try:
        key = name.decode("latin-1") if isinstance(name, (bytes, bytearray)) else str(name)
        named_a_credential = name == _USER_ATOM or key.lower() in CREDENTIAL_ATOMS
        if (named_a_credential or _TOKEN_KEY.fullmatch(key)) and value != "-":
            return REDACTED
        return _redacted_argument(value)
    except Exception:  # a value (or name) that cannot be shown as text
        return UNPRINTABLE


def _format_whole(record: logging.LogRecord) -> None:
    arguments = record.args
    try:
        message = record.getMessage()
    except Exception:  # a filter that raises hands the error to the code that logged
        template = record.msg if isinstance(record.msg, str) else "(a message)"
        message = f"{template} [arguments dropped: they did not format]"
    record.msg = redact(message)
    record.args = None
    colored = record.__dict__.get("color_message")
    if isinstance(colored, str):
        try:
            record.__dict__["color_message"] = redact(colored % arguments if arguments else colored)
        except Exception:  # uvicorn's formatter then shows the plain message
            del record.__dict__["color_message"]


def redact_each_argument(record: logging.LogRecord) -> bool:
    """A ``logging`` filter for a log whose formatter reads the positional arguments and writes
    them apart, spaces or quotes between: uvicorn's access log (client, method, path with query,
    HTTP version, status). The record keeps its template and as many arguments, each redacted
    on its own: a number or ``None`` as it is, anything else as its ``str`` (which a ``str``
    subclass may mask). Should the line they make still hold a credential (a scheme's name in
    one argument, what follows it in the next), every text argument becomes ``[redacted]``. A
    record of another shape, or whose template holds a token, goes to ``redact_record``. It
    never raises.
    """
    arguments = record.args
    if not (isinstance(arguments, tuple) and isinstance(record.msg, str)):
        return redact_record(record)
    if _holds_a_credential(record.msg):
        return redact_record(record)
    try:
        redacted = tuple(map(_redacted_argument, arguments))
        line = record.msg % redacted if redacted else record.msg  # as getMessage makes it
    except Exception:  # formatted whole instead, which says so when it cannot be
        return redact_record(record)
    if _holds_a_credential(line):
        redacted = tuple(REDACTED if isinstance(arg, str) else arg for arg in redacted)
    record.args = redacted
    _redact_traceback(record, keep_exception=False)
    return True


def _redacted_argument(argument: object) -> object:
    if argument is None or isinstance(argument, (int, float)):
        return argument
    return redact(str(argument))


def _redact_traceback(record: logging.LogRecord, keep_exception: bool) -> None:
    if record.exc_info:
        record.exc_text = record.exc_text or logging.Formatter().formatException(record.exc_info)
        if not keep_exception:
            record.exc_info = None
    if record.exc_text:
        record.exc_text = redact(record.exc_text)


class TokenRedactingFilter(logging.Filter):
    """``redact_record`` as a filter class, for ``LOGGING``'s ``filters`` (``"()"``, and
    ``"keep_exception": True`` for loggers whose records feed Django's error emails)."""

    def __init__(self, keep_exception: bool = False) -> None:
        super().__init__()
        self.keep_exception = keep_exception

    def filter(self, record: logging.LogRecord) -> bool:
        return redact_record(record, keep_exception=self.keep_exception)


def redact_loggers(
    names: Iterable[str],
    log_filter: Callable[[logging.LogRecord], bool] = redact_record,
) -> None:
    """Pass every record of the named loggers through ``log_filter``: a filter on the logger
    itself holds whatever handlers and formatters a server's logging config gives it later."""
    for name in names:
        logging.getLogger(name).addFilter(log_filter)
