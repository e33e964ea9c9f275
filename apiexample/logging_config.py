"""``LOGGING`` for a Django project protected by ``require_auth`` (Django's ``LOGGING`` setting,
``logging.config.dictConfig``): ``apiexample.settings`` uses it, and a project of your own can
too (``from apiexample.logging_config import LOGGING``), since this module reads no setting and
no environment.

- ``apiexample``'s refusal lines (``auth refused: ... reason=...``) at INFO on the console;
- Django's loggers that write what a client sent (``runserver``'s request log with the query
  string, ``django.request``'s paths, the ``django.security`` loggers' Host headers and CSRF
  failures, the error emails) pass through ``TokenRedactingFilter`` (RFC 6750 section 5.3 asks
  that bearer tokens be safeguarded; section 2.3 warns that a URL holding one is likely to be
  logged), the exception kept on the record for the error emails;
- with ``DEBUG`` off, the traceback of a view that crashed is printed, redacted (``crashes``):
  Django itself only mails it to ``ADMINS`` then.
"""

from __future__ import annotations

import logging
from typing import Any


def has_exception(record: logging.LogRecord) -> bool:
    """An exception on the record: a view that crashed, not a 5xx it answered (a 503)."""
    return record.exc_info is not None


#: ``django.security.<name>``: the CSRF middleware's, and one per ``SuspiciousOperation`` that
#: Django raises (``django.core.handlers.exception`` logs each under its class's name), as of
#: Django 6.1. One of your own, or a newer Django's, is still redacted by Django's handlers.
SECURITY_LOGGERS = (
    "csrf",
    "DisallowedHost",
    "DisallowedModelAdminLookup",
    "DisallowedModelAdminToField",
    "DisallowedRasterLookup",
    "DisallowedRedirect",
    "InvalidSessionKey",
    "RequestDataTooBig",
    "SuspiciousFileOperation",
    "SuspiciousMultipartForm",
    "SuspiciousOperation",
    "SuspiciousSession",
    "TooManyFieldsSent",
    "TooManyFilesSent",
)

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_tokens": {"()": "apiexample.log_redaction.TokenRedactingFilter"},
        # The exception stays on the record for the error emails (mail_admins) to report it.
        "redact_tokens_keep_exception": {
            "()": "apiexample.log_redaction.TokenRedactingFilter",
            "keep_exception": True,
        },
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
        "require_debug_true": {"()": "django.utils.log.RequireDebugTrue"},
        "with_exception": {"()": "django.utils.log.CallbackFilter", "callback": has_exception},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        # Django's own two handlers of the ``django`` logger, each redacting what it is given: a
        # filter on a logger misses its children (django.security.csrf logs a Referer).
        "django_console": {
            "level": "INFO",
            "class": "logging.StreamHandler",
            "filters": ["require_debug_true", "redact_tokens_keep_exception"],
        },
        "mail_admins": {
            "level": "ERROR",
            "class": "django.utils.log.AdminEmailHandler",
            "filters": ["require_debug_false", "redact_tokens_keep_exception"],
        },
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_tokens"],
        },
        "django.server": {
            "level": "INFO",
            "class": "logging.StreamHandler",
            "formatter": "django.server",
        },
        # No redacting filter of its own: it would drop the exception the error emails need.
        # django.request's filter has already redacted the message and the traceback's text.
        # A handler you add on the root logger prints the crash too (records propagate).
        "crashes": {
            "level": "ERROR",
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["require_debug_false", "with_exception"],
        },
    },
    "loggers": {
        "django": {"handlers": ["django_console", "mail_admins"], "level": "INFO"},
        "apiexample": {"handlers": ["console"], "level": "INFO", "propagate": True},
        "django.server": {
            "handlers": ["django.server"],
            "level": "INFO",
            "propagate": False,
            "filters": ["redact_tokens"],
        },
        # They propagate to Django's handlers: a filter on each is all they need, and a crash's
        # traceback printed. One logs the path of every 4xx and 5xx, the other a Host header it
        # refused.
        "django.request": {"handlers": ["crashes"], "filters": ["redact_tokens_keep_exception"]},
        # Django's security loggers write what a client sent (a Host header, a CSRF failure's
        # path and Referer, a file name, a redirect): redacted on the logger itself, so that a
        # handler you add on the root logger gets them redacted with DEBUG off too.
        **{
            f"django.security.{name}": {"filters": ["redact_tokens_keep_exception"]}
            for name in SECURITY_LOGGERS
        },
    },
}
