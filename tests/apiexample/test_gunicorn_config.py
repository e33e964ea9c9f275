"""gunicorn's production settings: the header limit, no forwarded ``SCRIPT_NAME``, and logs that
hold no bearer token (the live answers are in ``test_gunicorn_live``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger
from gunicorn.instrument.statsd import Statsd

from apiexample import gunicorn_config
from apiexample.gunicorn_config import GUNICORN_LOGGERS, on_starting
from apiexample.log_redaction import REDACTED, redact_record
from apiexample.token_format import MAX_TOKEN_LENGTH
from mock_idp import MockIdP
from tests.imports import packages_loaded_by


def test_header_fields_take_the_longest_token_with_its_field_name() -> None:
    field = f"Authorization: Bearer {'a' * MAX_TOKEN_LENGTH}"
    assert len(field) < gunicorn_config.limit_request_field_size <= MAX_TOKEN_LENGTH + 256


def test_gunicorn_takes_the_module_s_settings() -> None:
    config = Config()
    for name in ("limit_request_field_size", "forwarder_headers", "on_starting"):
        config.set(name, getattr(gunicorn_config, name))
    assert config.limit_request_field_size == MAX_TOKEN_LENGTH + 256
    assert config.forwarder_headers == []  # no request header sets SCRIPT_NAME or PATH_INFO
    assert config.on_starting is on_starting


def test_gunicorn_s_master_loads_it_without_django() -> None:
    among = ("django", "authlib", "joserfc", "gunicorn", "apiexample.conf")
    assert packages_loaded_by("import apiexample.gunicorn_config", among) == []


@pytest.fixture
def gunicorn_logs() -> Iterator[tuple[logging.Logger, ...]]:
    """gunicorn's loggers (process-wide), left as found: no handler or filter of ours."""
    logs = tuple(logging.getLogger(name) for name in GUNICORN_LOGGERS)
    before = [(list(log.handlers), list(log.filters)) for log in logs]
    yield logs
    for log, (handlers, filters) in zip(logs, before, strict=True):
        for handler in set(log.handlers) - set(handlers):
            log.removeHandler(handler)
            handler.close()
        log.filters[:] = filters


@pytest.mark.parametrize("logger_class", [Logger, Statsd])
def test_on_starting_redacts_both_logs_whatever_the_logger_class(
    tmp_path: Path,
    mock_idp: MockIdP,
    gunicorn_logs: tuple[logging.Logger, ...],
    logger_class: type[Logger],
) -> None:
    token = mock_idp.mint()
    config = Config()
    config.set("errorlog", str(tmp_path / "error.log"))
    config.set("accesslog", str(tmp_path / "access.log"))
    logger = logger_class(config)
    on_starting(None)
    logger.warning("Invalid request from ip=%s: %s", "127.0.0.1", f"Invalid HTTP Header: {token}")
    logger.access_log.info("GET /api/private?access_token=%s HTTP/1.1", token)
    if isinstance(logger, Statsd) and logger.sock is not None:
        logger.sock.close()
    for log in gunicorn_logs:
        assert log.filters == [redact_record]
        for handler in log.handlers:
            handler.flush()
    error_log = (tmp_path / "error.log").read_text()
    access_log = (tmp_path / "access.log").read_text()
    assert f"Invalid request from ip=127.0.0.1: Invalid HTTP Header: {REDACTED}" in error_log
    assert f"GET /api/private?access_token={REDACTED} HTTP/1.1" in access_log
    assert token.split(".")[2] not in error_log + access_log


def test_a_reload_keeps_the_filters(gunicorn_logs: tuple[logging.Logger, ...]) -> None:
    config = Config()
    logger = Logger(config)
    on_starting(None)
    logger.setup(config)  # what a configuration reload (SIGHUP) runs
    assert [log.filters for log in gunicorn_logs] == [[redact_record], [redact_record]]
