"""Django settings for apiexample, from environment variables or a ``.env`` file.

The AUTH0_* values are copied into Django settings of the same names and read per request by
``apiexample.conf``; nothing here contacts the identity provider.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

from apiexample import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


def _load_dotenv(path: Path) -> None:
    """Copy the ``.env`` file's variables into the environment. Real variables win, empty ones
    too: ``AUTH0_JWKS_URL=`` pins the default whatever the file says (``make run`` and
    ``make bench`` rely on it), and ``${VAR}`` in the file sees the real value."""
    try:
        load_dotenv(path, override=False)
    except UnicodeDecodeError as exc:
        raise ImproperlyConfigured(f"{path} is not UTF-8 text") from exc
    except ValueError as exc:  # a NUL character, which no environment variable can hold
        raise ImproperlyConfigured(f"{path} holds what no environment variable can: {exc}") from exc


_load_dotenv(BASE_DIR / ".env")


def _env(name: str, default: str = "") -> str:
    """The variable's value; set but empty (``AUTH0_LEEWAY=`` in a .env file) means unset."""
    return os.environ.get(name, "").strip() or default


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in _env(name, default).split(",") if item.strip()]


def _env_flag(name: str) -> bool:
    return _env(name).lower() in {"1", "true", "yes", "on"}


def _is_readable_url(value: str) -> bool:
    try:
        urlsplit(value)
    except ValueError:  # an unclosed "[" (RFC 3986 section 3.2.2), or a bracket unopened
        return False
    return True


# An API without sessions or signed cookies signs nothing with the secret key; when it is not
# configured a per-process random key is used and check apiexample.W001 says so.
SECRET_KEY_FROM_ENV = bool(_env("DJANGO_SECRET_KEY"))
SECRET_KEY = _env("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50)
DEBUG = _env_flag("DJANGO_DEBUG")
ALLOWED_HOSTS = _env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

AUTH0_DOMAIN = _env("AUTH0_DOMAIN")
AUTH0_AUDIENCE = _env("AUTH0_AUDIENCE")
AUTH0_ISSUER = _env("AUTH0_ISSUER")
AUTH0_JWKS_URL = _env("AUTH0_JWKS_URL")
# Unset or empty: apiexample.conf applies the documented default (conf.DEFAULT_*).
AUTH0_ALGORITHMS = _env("AUTH0_ALGORITHMS")
AUTH0_LEEWAY = _env("AUTH0_LEEWAY")
AUTH0_JWKS_CACHE_TTL = _env("AUTH0_JWKS_CACHE_TTL")
AUTH0_JWKS_COOLDOWN = _env("AUTH0_JWKS_COOLDOWN")
AUTH0_JWKS_STALE_IF_ERROR = _env("AUTH0_JWKS_STALE_IF_ERROR")
AUTH0_JWKS_TIMEOUT = _env("AUTH0_JWKS_TIMEOUT")
AUTH0_TOKEN_CACHE_SIZE = _env("AUTH0_TOKEN_CACHE_SIZE")

# An origin django-cors-headers cannot even split ("http://[::1") would crash its system check,
# and its middleware on every request with an Origin header (a 500): it is left out, and check
# apiexample.E010 names it.
CORS_ALLOWED_ORIGINS: list[str] = []
UNREADABLE_CORS_ORIGINS: list[str] = []
for _origin in _env_list("CORS_ALLOWED_ORIGINS"):
    (CORS_ALLOWED_ORIGINS if _is_readable_url(_origin) else UNREADABLE_CORS_ORIGINS).append(_origin)
# A browser hides response headers from scripts unless exposed (Fetch standard, CORS-safelisted
# response headers): a client reads why it was refused, and when to retry.
CORS_EXPOSE_HEADERS = ["WWW-Authenticate", "Retry-After"]

INSTALLED_APPS = [
    "corsheaders",
    "apiexample.apps.ApiExampleConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]

ROOT_URLCONF = "apiexample.urls"
WSGI_APPLICATION = "apiexample.wsgi.application"

# No models, nothing to store: an in-memory database keeps `manage.py migrate` working.
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Error reports never show the Authorization header (Django 4.2's own filter does), nor a token
# anywhere else log_redaction finds one (the path, the parameters, a frame's variables...).
DEFAULT_EXCEPTION_REPORTER_FILTER = "apiexample.error_reports.TokenSafeExceptionReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "apiexample.error_reports.TokenSafeExceptionReporter"

# Token-free logs, and a crashed view's traceback printed: see apiexample.logging_config.
LOGGING = logging_config.LOGGING
