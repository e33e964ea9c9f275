"""Django's error reports (the ``DEBUG`` page, ``mail_admins``) without the caller's bearer token.

A report lists the request's headers. Django 5.2 hides those whose name holds ``AUTH``; Django
4.2 shows ``HTTP_AUTHORIZATION`` in full, and a bearer token in an email or a page is a
credential anyone reading it can use until it expires (RFC 6750 section 5.3). A report also
shows the request's URL, its query and form parameters and the ``repr`` of every frame's
variables (a request's ``repr`` names its path with the query string): a token sent as
``access_token`` (RFC 6750 sections 2.2 and 2.3) to a view that crashed would show there.
"""

from __future__ import annotations

import re
from typing import Any

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from apiexample.log_redaction import REDACTED, redact

#: The parameter a bearer token is sent in, in a form body or a query (RFC 6750 section 2.2).
TOKEN_PARAMETER = "access_token"


class TokenSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, hiding ``AUTH`` names (``HTTP_AUTHORIZATION``) on every Django release."""

    hidden_settings = re.compile(
        SafeExceptionReporterFilter.hidden_settings.pattern + "|AUTH", flags=re.IGNORECASE
    )


class TokenSafeExceptionReporter(ExceptionReporter):
    """Django's report with every credential ``log_redaction.redact`` finds redacted: in the
    request's URL, its ``META`` values, the exception's message and notes, the frames'
    variables and the exceptions that caused it; and the ``access_token`` query and form
    parameters hidden whole."""

    def get_traceback_data(self) -> dict[str, Any]:
        data: dict[str, Any] = super().get_traceback_data()
        for frame in data.get("frames", ()):  # each value already a string, as the report shows it
            frame["vars"] = [(name, redact(value)) for name, value in frame.get("vars", ())]
            if frame.get("exc_cause") is not None:  # "The above exception (...) was the cause"
                frame["exc_cause"] = redact(str(frame["exc_cause"]))
        for name in ("request_insecure_uri", "exception_value", "exception_notes"):
            if name in data:
                # str(): Django 6 gives the exception itself as its value, for the template.
                data[name] = redact(str(data[name]))
        for name in ("request_GET_items", "filtered_POST_items"):
            if name in data:
                data[name] = [(key, _shown_parameter(key, value)) for key, value in data[name]]
        data["request_meta"] = {
            key: redact(value) if isinstance(value, str) else value
            for key, value in data["request_meta"].items()
        }
        return data


def _shown_parameter(name: str, value: Any) -> Any:
    if name.casefold() == TOKEN_PARAMETER:
        return REDACTED
    return redact(value) if isinstance(value, str) else value
