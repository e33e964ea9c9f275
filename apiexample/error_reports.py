"""Django's error reports (the ``DEBUG`` page, ``mail_admins``) without the caller's bearer token.

A report lists the request's headers. Django 5.2 hides those whose name holds ``AUTH``; Django
4.2 shows ``HTTP_AUTHORIZATION`` in full, and a bearer token in an email or a page is a
credential anyone reading it can use until it expires (RFC 6750 section 5.3). A report also
shows the request's path and URL, its query and form parameters, cookies and uploads, the
exception and those that caused it, and the ``repr`` of every frame's variables (a request's
``repr`` names its path with the query string): a token sent as ``access_token`` (RFC 6750
sections 2.2 and 2.3), or in a path, to a view that crashed would show there.
"""

from __future__ import annotations

import pprint
import re
import sys
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from apiexample.log_redaction import REDACTED, redact

#: The parameter a bearer token is sent in, in a form body or a query (RFC 6750 section 2.2).
TOKEN_PARAMETER = "access_token"
#: What stands for a value whose ``str()`` or ``repr()`` raises.
UNPRINTABLE = "[unprintable]"


class TokenSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, hiding ``AUTH`` names (``HTTP_AUTHORIZATION``) on every Django release,
    and redacting each frame variable as one line, before the report pretty-prints it
    (``pprint`` cuts bytes into 76-character pieces, none of them a whole token) and trims it."""

    hidden_settings = re.compile(
        SafeExceptionReporterFilter.hidden_settings.pattern + "|AUTH", flags=re.IGNORECASE
    )

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        return [
            (name, _Shown(value, _one_line))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]


class TokenSafeExceptionReporter(ExceptionReporter):
    """Django's report with every credential ``log_redaction.redact`` finds redacted: in the
    request's path, URL, ``META`` values, parameter names, cookies and uploads, the exception's
    message and notes, the exceptions that caused it, the frames' variables and a template's
    debug information; and the ``access_token`` query and form parameters hidden whole."""

    def get_traceback_data(self) -> dict[str, Any]:
        if self.exc_value is not None and not _prints(self.exc_value):
            self.exc_value = _Unprintable(self.exc_value)  # Django calls its str() unguarded
        if self.request is not None:
            self.request = _with_readable_parameters(self.request)
        data: dict[str, Any] = super().get_traceback_data()
        _redact_frames(data.get("frames", ()))
        for name in ("request_insecure_uri", "exception_value", "exception_notes", "user_str"):
            if data.get(name) is not None:  # Django 6 gives the exception itself as its value
                data[name] = _shown_text(data[name])
        _redact_request_data(data)
        if data.get("template_info"):
            data["template_info"] = _redacted_template_info(data["template_info"])
        return data


def _with_readable_parameters(request: HttpRequest) -> HttpRequest:
    """``request``, or a copy of it whose query or body parameters show as none: those Django
    refuses to parse (more than ``DATA_UPLOAD_MAX_NUMBER_FIELDS``, a body over its limit, a
    multipart body without a boundary: RFC 7578 section 4.1), and a body nothing has read.

    The report reads them unguarded, and Django's ``mail_admins`` handler makes a report for the
    ``DisallowedHost`` of an unknown ``Host`` (every time on Django 4.2, with ``ADMINS`` set on
    later ones): a refused ``Host`` plus ``?a&a&...`` would raise again from the logging call,
    outside the handler's exception handling, and be a 500; a refused ``Host`` on a form whose
    body is shorter than its ``Content-Length`` would hold a sync worker until it timed out.
    """
    shown = request
    try:
        request.GET  # noqa: B018 (parsed now, as the report would)
    except Exception:
        shown = _copy_of(request)
        shown.GET = QueryDict()
    if not _body_parameters_readable(request):
        shown = _copy_of(shown) if shown is request else shown
        shown._post, shown._files = QueryDict(), MultiValueDict()  # type: ignore[attr-defined]
    return shown


def _body_parameters_readable(request: HttpRequest) -> bool:
    """Whether the body's parameters are parsed, or parse from a body already read whole.

    A body nothing has read stays unread: under WSGI reading it waits on the client (RFC 9112
    section 6.3), and a report is no reason to (under ASGI the body is buffered already, and
    the report shows no form parameters all the same).
    """
    if not hasattr(request, "_post") and not hasattr(request, "_body"):
        return False
    try:
        request.POST  # noqa: B018
        request.FILES  # noqa: B018
    except Exception:
        return False
    return True


def _copy_of(request: HttpRequest) -> HttpRequest:
    """A shallow copy of ``request``'s attributes. Not ``copy.copy``, which goes through
    ``__getstate__``: Django 4.2.0's leaves out the WSGI environ and deletes ``wsgi.input`` from
    the very ``META`` the request itself still holds."""
    shown = object.__new__(type(request))
    shown.__dict__.update(request.__dict__)
    return shown


def _redact_frames(frames: Any) -> None:
    """Each frame's variables (strings already, as the report shows them) and the exception
    that caused its own ("The above exception (...) was the direct cause")."""
    for frame in frames:
        frame["vars"] = [(name, redact(value)) for name, value in frame.get("vars", ())]
        if frame.get("exc_cause") is not None:
            frame["exc_cause"] = _shown_text(frame["exc_cause"])


def _redact_request_data(data: dict[str, Any]) -> None:
    """The request's parameters, cookies, uploads, ``META`` values, and the path the
    templates print from the request itself."""
    for name in ("request_GET_items", "filtered_POST_items"):
        if name in data:
            data[name] = [(redact(key), _shown_parameter(key, v)) for key, v in data[name]]
    for name in ("request_COOKIES_items", "request_FILES_items"):
        if name in data:
            data[name] = [(redact(key), _Shown(value)) for key, value in data[name]]
    data["request_meta"] = {
        key: redact(value) if isinstance(value, str) else value
        for key, value in data["request_meta"].items()
    }
    if data.get("request") is not None:
        shown = _copy_of(data["request"])
        shown.path_info = redact(shown.path_info)
        data["request"] = shown


def _redacted_template_info(template_info: dict[str, Any]) -> dict[str, Any]:
    """A template error's debug information: its message and the source lines around it."""
    info = dict(template_info)
    for name in ("message", "before", "during", "after"):
        info[name] = _shown_text(info.get(name, ""))
    info["source_lines"] = [(n, redact(line)) for n, line in info.get("source_lines", ())]
    return info


class _Unprintable(Exception):
    """Stands for an exception whose ``str()`` fails, with its chain and traceback."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(f"[{type(original).__name__}: str() failed]")
        self.__cause__ = original.__cause__
        self.__context__ = original.__context__
        self.__suppress_context__ = original.__suppress_context__
        self.__traceback__ = original.__traceback__


class _Shown:
    """A value as the report shows it (its ``repr``, or ``show``'s text), redacted."""

    def __init__(self, value: Any, show: Callable[[Any], str] = repr) -> None:
        try:
            self.text = redact(show(value))
        except Exception:
            self.text = UNPRINTABLE

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__


def _one_line(value: Any) -> str:
    return pprint.pformat(value, width=sys.maxsize)


def _prints(value: Any) -> bool:
    try:
        str(value)
    except Exception:
        return False
    return True


def _shown_text(value: Any) -> str:
    return _Shown(value, str).text


def _shown_parameter(name: str, value: Any) -> Any:
    if name.casefold() == TOKEN_PARAMETER:
        return REDACTED
    return redact(value) if isinstance(value, str) else value
