"""Django's error reports (the ``DEBUG`` page, ``mail_admins``) without the caller's bearer token.

A report lists the request's headers. Django 5.2 hides those whose name holds ``AUTH``; Django
4.2 shows ``HTTP_AUTHORIZATION`` in full, and a bearer token in an email or a page is a
credential anyone reading it can use until it expires (RFC 6750 section 5.3). A token in the
query string, which the API refuses, still shows.
"""

from __future__ import annotations

import re

from django.views.debug import SafeExceptionReporterFilter


class TokenSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, hiding ``AUTH`` names (``HTTP_AUTHORIZATION``) on every Django release."""

    hidden_settings = re.compile(
        SafeExceptionReporterFilter.hidden_settings.pattern + "|AUTH", flags=re.IGNORECASE
    )
