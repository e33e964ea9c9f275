"""gunicorn's production settings: the header limit, no forwarded ``SCRIPT_NAME``, and a logger
that writes no bearer token (the live answers are in ``test_gunicorn_live``)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from gunicorn.config import Config

from apiexample import gunicorn_config
from apiexample.gunicorn_config import REDACTED, TokenRedactingLogger, redact, redact_record
from apiexample.token_format import MAX_TOKEN_LENGTH
from mock_idp import MockIdP
from tests.imports import packages_loaded_by


def test_header_fields_take_the_longest_token_with_its_field_name() -> None:
    field = f"Authorization: Bearer {'a' * MAX_TOKEN_LENGTH}"
    assert len(field) < gunicorn_config.limit_request_field_size <= MAX_TOKEN_LENGTH + 256


def test_no_request_header_sets_script_name_or_path_info() -> None:
    assert gunicorn_config.forwarder_headers == ""


def test_gunicorn_takes_the_module_s_settings() -> None:
    config = Config()
    for name in ("limit_request_field_size", "forwarder_headers", "logger_class"):
        config.set(name, getattr(gunicorn_config, name))
    assert config.limit_request_field_size == MAX_TOKEN_LENGTH + 256
    assert config.forwarder_headers == []
    assert config.logger_class is TokenRedactingLogger


def test_gunicorn_s_master_loads_it_without_django() -> None:
    among = ("django", "authlib", "joserfc", "apiexample.conf", "apiexample.token_format")
    assert packages_loaded_by("import apiexample.gunicorn_config", among) == []


@pytest.mark.parametrize(
    "template",
    [
        "Invalid request from ip=127.0.0.1: Invalid HTTP Header: '{token}'",
        "Invalid HTTP request line: 'GET /api/private?access_token={token}\x7f HTTP/1.1'",
        "Invalid HTTP request line: 'GET /api/private?page=2&access_token={token} HTTP/1.1'",
        '127.0.0.1 - - "GET /?x=1&access_token={token}&y=2 HTTP/1.1" 400 99 "-" "curl/8"',
        "Authorization: Bearer {token}",
        "authorization: bearer\t{token}, Bearer {token}",
        "a JWS with its payload detached: '{header}..{signature}'",
        "a JWE (direct encryption, no key segment): '{header}..{claims}.{signature}.{claims}'",
    ],
)
def test_tokens_are_redacted_wherever_they_stand(mock_idp: MockIdP, template: str) -> None:
    token = mock_idp.mint(scope="read:messages")
    header, claims, signature = token.split(".")
    line = redact(template.format(token=token, header=header, claims=claims, signature=signature))
    assert claims not in line
    assert signature not in line
    assert REDACTED in line


def test_an_opaque_token_after_its_scheme_or_parameter_is_redacted() -> None:
    line = redact("Authorization: Bearer 8xLOxBtZp8 and GET /?access_token=mF_9.B5f-4.1JqM&a=b")
    assert line == f"Authorization: Bearer {REDACTED} and GET /?access_token={REDACTED}&a=b"


@pytest.mark.parametrize(
    "line",
    [
        "Booting worker with pid: 4242",
        "Listening at: http://127.0.0.1:8000 (4241)",
        "Invalid request from ip=::1: Invalid HTTP Header: 'X-Thing'",
        "Worker (pid:4242) was sent SIGTERM! See host api.example-tenant.us.auth0.com",
        "Using gunicorn_h1c-0.6.10 with python-requests/2.32.3 and cryptography-50.0.2",
        '127.0.0.1 - - "GET /api/public HTTP/1.1" 200 95 "-" "python-requests/2.32"',
    ],
)
def test_lines_without_a_token_are_left_alone(line: str) -> None:
    assert redact(line) == line


def test_a_record_s_arguments_and_traceback_are_redacted(mock_idp: MockIdP) -> None:
    token = mock_idp.mint()
    try:
        raise ValueError(f"bad request line: {token}")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "gunicorn.error", logging.ERROR, __file__, 1, "%s", (token,), exc_info
    )
    assert redact_record(record) is True
    formatted = logging.Formatter().format(record)
    assert token not in formatted
    assert formatted.count(REDACTED) == 2
    assert "ValueError: bad request line: [redacted]" in formatted


@pytest.fixture
def gunicorn_logs() -> Iterator[tuple[logging.Logger, logging.Logger]]:
    """gunicorn's two loggers (process-wide), left as found: no handler or filter of ours."""
    logs = (logging.getLogger("gunicorn.error"), logging.getLogger("gunicorn.access"))
    before = [(list(log.handlers), list(log.filters)) for log in logs]
    yield logs
    for log, (handlers, filters) in zip(logs, before, strict=True):
        for handler in set(log.handlers) - set(handlers):
            log.removeHandler(handler)
            handler.close()
        log.filters[:] = filters


def test_a_reload_adds_the_filter_once(gunicorn_logs: tuple[logging.Logger, ...]) -> None:
    config = Config()
    logger = TokenRedactingLogger(config)
    logger.setup(config)  # as a configuration reload (SIGHUP) does
    assert [log.filters.count(redact_record) for log in gunicorn_logs] == [1, 1]


def test_the_logger_redacts_its_error_and_access_logs(
    tmp_path: Path, mock_idp: MockIdP, gunicorn_logs: tuple[logging.Logger, ...]
) -> None:
    token = mock_idp.mint()
    config = Config()
    config.set("errorlog", str(tmp_path / "error.log"))
    config.set("accesslog", str(tmp_path / "access.log"))
    logger = TokenRedactingLogger(config)
    logger.warning("Invalid request from ip=%s: %s", "127.0.0.1", f"Invalid HTTP Header: {token}")
    logger.access_log.info("GET /api/private?access_token=%s HTTP/1.1", token)
    for log in gunicorn_logs:
        for handler in log.handlers:
            handler.flush()
    error_log = (tmp_path / "error.log").read_text()
    access_log = (tmp_path / "access.log").read_text()
    assert f"Invalid request from ip=127.0.0.1: Invalid HTTP Header: {REDACTED}" in error_log
    assert f"GET /api/private?access_token={REDACTED} HTTP/1.1" in access_log
    assert token.split(".")[2] not in error_log + access_log
