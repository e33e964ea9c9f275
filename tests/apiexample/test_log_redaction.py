"""What counts as token material in a log line, and the filter that takes it out."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import pickle
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from gunicorn.glogging import SafeAtoms
from uvicorn.logging import TRACE_LOG_LEVEL, AccessFormatter, DefaultFormatter
from uvicorn.middleware.message_logger import MessageLoggerMiddleware

from apiexample.log_redaction import (
    REDACTED,
    UNPRINTABLE,
    TokenRedactingFilter,
    redact,
    redact_each_argument,
    redact_record,
)
from mock_idp import MockIdP
from tests.apiexample.helpers import asgi_http_scope
from tests.imports import ROOT


@pytest.mark.parametrize(
    "template",
    [
        "Invalid request from ip=127.0.0.1: Invalid HTTP Header: '{token}'",
        "Invalid HTTP request line: 'GET /api/private?access_token={token}\x7f HTTP/1.1'",
        "Invalid HTTP request line: 'GET /api/private?page=2&access_token={token} HTTP/1.1'",
        '127.0.0.1 - - "GET /?x=1&access_token={token}&y=2 HTTP/1.1" 400 99 "-" "curl/8"',
        "Authorization: Bearer {token}",
        "GET /api/{token} HTTP/1.1",
        "a JWS with its payload detached: '{header}..{signature}'",
        "a JWE (direct encryption, no key segment): '{header}..{claims}.{signature}.{claims}'",
        "dots percent-encoded: /?t={header}%2E{claims}%2e{signature}",
        "dots percent-encoded twice: /?next=%2F%3Ft%3D{header}%252E{claims}%252e{signature}",
        # gunicorn's access log (%(r)s, %(q)s, %(f)s): a token after a percent-escape
        '"GET /api/public?next=%2Fcb%3Faccess_token%3D{token} HTTP/1.1" 200',
        '"-" "http://spa.test/login?r=%2Fcb%3Ftoken%3D{token}"',
        "GET /?authorization=Bearer%20{token} HTTP/1.1",
        "GET /?authorization=Bearer+{token} HTTP/1.1",
        # gunicorn's Python parser logs a bad line with repr(): escapes before the token
        "Invalid HTTP request line: 'GET /api/private?t=\\x01{token} HTTP/1.1'",
        "Invalid HTTP request line: 'GET /\\t{token} HTTP/1.1'",
        "Invalid HTTP Header: 'Bearer\\t{token}'",
        "a word glued before it: x{token}",
    ],
)
def test_tokens_are_redacted_wherever_they_stand(mock_idp: MockIdP, template: str) -> None:
    token = mock_idp.mint(scope="read:messages")
    header, claims, signature = token.split(".")
    line = redact(template.format(token=token, header=header, claims=claims, signature=signature))
    assert claims not in line
    assert signature not in line
    assert REDACTED in line


def test_the_rest_of_a_token_broken_across_header_lines_is_redacted(mock_idp: MockIdP) -> None:
    """``Authorization: Bearer <60 characters>`` then ``<the rest>`` on a line of its own, which
    gunicorn logs whole: the header could be rebuilt from the JWKS's kid."""
    token = mock_idp.mint()
    rest = token[60:]
    assert rest.count(".") == 2
    line = redact(f"Invalid HTTP Header: '{rest}'")
    assert token.split(".")[1] not in line
    assert token.split(".")[2] not in line


@pytest.mark.parametrize(
    "claims",
    [
        b'{"sub":"ab"}',  # 16 characters in base64url: as short as a claims set that counts
        b'{"2fa":true,"sub":"client@clients"}',  # eyI...: a name beginning with a digit
    ],
)
def test_the_rest_of_a_token_is_redacted_however_its_claims_set_begins(claims: bytes) -> None:
    """The part after a line break is a claims set and a signature, with no header to go by."""
    signature = base64.urlsafe_b64encode(b"s" * 256).rstrip(b"=").decode()
    rest = f"{base64.urlsafe_b64encode(claims).rstrip(b'=').decode()}.{signature}"
    assert redact(f"Invalid HTTP Header: '{rest}'") == f"Invalid HTTP Header: '{REDACTED}'"


def test_a_token_whose_header_starts_with_whitespace_is_redacted(
    mock_idp: MockIdP, call: Any
) -> None:
    """JSON allows whitespace before ``{`` (RFC 8259 section 2), and the API accepts such a
    header: its base64url does not begin with ``e``."""
    kid = mock_idp.keys.signing_key.kid
    protected = b' {"alg":"RS256","typ":"JWT","kid":"' + kid.encode() + b'"}'
    token = mock_idp.mint(protected=protected)
    assert not token.startswith("e")
    assert call("/api/private", token).status_code == 200
    assert redact(f"Invalid HTTP Header: 'Bearer\r\n{token}'").count(REDACTED) == 1
    assert token.split(".")[2] not in redact(f"GET /{token} HTTP/1.1")


def test_the_shortest_jose_header_is_a_token() -> None:
    shortest = "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"  # {"alg":"RS256"} . {} . "sig"
    assert redact(f"line {shortest} end") == f"line {REDACTED} end"


@pytest.mark.parametrize(
    ("line", "redacted"),
    [
        ("Authorization: Bearer 8xLOxBtZp8", f"Authorization: Bearer {REDACTED}"),
        ("authorization: BEARER\t8xLOxBtZp8", f"authorization: BEARER\t{REDACTED}"),
        ("Authorization: Basic dXNlcjpwYXNz", f"Authorization: Basic {REDACTED}"),
        ("GET /?ACCESS_TOKEN=mF_9.B5f-4.1JqM&a=b", f"GET /?ACCESS_TOKEN={REDACTED}&a=b"),
        ("GET /?access%5Ftoken=mF_9.B5f-4&a=b", f"GET /?access%5Ftoken={REDACTED}&a=b"),
        # any character of the name percent-encoded: Django's QueryDict decodes it (review)
        ("GET /?%61ccess_token=mF_9B5f4&a=b", f"GET /?%61ccess_token={REDACTED}&a=b"),
        ("GET /?%61%63cess%5f%74oken=mF_9B5f4", f"GET /?%61%63cess%5f%74oken={REDACTED}"),
        (
            "GET /?next=%2F%3F%61ccess_token%3DmF_9B5f4",
            f"GET /?next=%2F%3F%61ccess_token%3D{REDACTED}",
        ),
        (
            "GET /?next=%2Fcb%3Faccess_token%3DmF_9B5f4",
            f"GET /?next=%2Fcb%3Faccess_token%3D{REDACTED}",
        ),
        ("GET /x?a=%20Bearer%20mF_9B5f4 HTTP/1.1", f"GET /x?a=%20Bearer%20{REDACTED} HTTP/1.1"),
        ("GET /?my_access_token=not-ours&a=b", "GET /?my_access_token=not-ours&a=b"),
        # the scheme twice, quoted or punctuated credentials, a value Django does not split
        ("Bearer Bearer mF_9B5f4", f"Bearer Bearer {REDACTED}"),
        ('Bearer "mF_9B5f4"', f'Bearer "{REDACTED}"'),
        # a JSON or repr member named access_token (review)
        (
            '{"token_type": "Bearer", "access_token": "mF_9B5f4"}',
            f'{{"token_type": "Bearer", "access_token": "{REDACTED}"}}',
        ),
        ("{'access_token': 'mF_9B5f4'}", f"{{'access_token': '{REDACTED}'}}"),
        # in a list (a QueryDict's, parse_qs's) or as bytes (found by review)
        (
            "{'access_token': ['mF_9B5f4'], 'x': ['1']}",
            f"{{'access_token': ['{REDACTED}'], 'x': ['1']}}",
        ),
        ('{"access_token": ["mF_9B5f4"]}', f'{{"access_token": ["{REDACTED}"]}}'),
        (
            "<QueryDict: {'access_token': ['mF_9B5f4'], 'page': ['2']}>",
            f"<QueryDict: {{'access_token': ['{REDACTED}'], 'page': ['2']}}>",
        ),
        ("{'access_token': b'mF_9B5f4'}", f"{{'access_token': b'{REDACTED}'}}"),
        # every value of a repeated parameter, and parse_qs's bytes (found by review)
        (
            "<QueryDict: {'access_token': ['mF_9B5f4', 'xY-7']}>",
            f"<QueryDict: {{'access_token': ['{REDACTED}', '{REDACTED}']}}>",
        ),
        (
            "{b'access_token': [b'mF_9B5f4', b'xY-7']}",
            f"{{b'access_token': [b'{REDACTED}', b'{REDACTED}']}}",
        ),
        ("{'tags': ['mF_9B5f4', 'xY-7']}", "{'tags': ['mF_9B5f4', 'xY-7']}"),
        # words after a scheme's name in other text are no credential (review)
        ("expected 'Bearer', got 'Basic'", "expected 'Bearer', got 'Basic'"),
        ("GET /?basic=true&page=2", "GET /?basic=true&page=2"),
        ("{'auth': 'basic', 'timeout': 30}", "{'auth': 'basic', 'timeout': 30}"),
        ("login method: basic, fallback", "login method: basic, fallback"),
        ('"Bearer \\"mF_9B5f4\\""', f'"Bearer \\"{REDACTED}""'),  # gunicorn's escaped quote
        ("GET /?access_token=mF_9;B5f4,x&a=b", f"GET /?access_token={REDACTED}&a=b"),
        ("GET /?access_token='mF_9B5f4'", f"GET /?access_token='{REDACTED}'"),
        ("header 'Bearer abc' sent", f"header 'Bearer {REDACTED}' sent"),
        ('"Bearer abc"; next', f'"Bearer {REDACTED}"; next'),
        # other blanks and control characters, raw, encoded or escaped (found by review)
        ("GET /x?a=Bearer\xa0abc HTTP/1.1", f"GET /x?a=Bearer\xa0{REDACTED} HTTP/1.1"),
        ("GET /x\x01Bearer\x01abc HTTP/1.1", f"GET /x\x01Bearer\x01{REDACTED} HTTP/1.1"),
        ("GET /x?a=Bearer%09abc HTTP/1.1", f"GET /x?a=Bearer%09{REDACTED} HTTP/1.1"),
        ("GET /x?a=Bearer%2520abc HTTP/1.1", f"GET /x?a=Bearer%2520{REDACTED} HTTP/1.1"),
        ("Invalid HTTP Header: 'Bearer\\x0babc'", f"Invalid HTTP Header: 'Bearer\\x0b{REDACTED}'"),
        (
            "Invalid HTTP Header: 'Basic\\u3000abc'",
            f"Invalid HTTP Header: 'Basic\\u3000{REDACTED}'",
        ),
    ],
)
def test_an_opaque_credential_after_its_scheme_or_parameter_is_redacted(
    line: str, redacted: str
) -> None:
    assert redact(line) == redacted


@pytest.mark.parametrize(
    "line",
    [
        "Booting worker with pid: 4242",
        "Listening at: http://ip-172-31-10-200.eu-west-1.compute.internal:8000 (4241)",
        "jwks fetched from https://dev-abc123xyz4567890.us.auth0.com/.well-known/jwks.json",
        "pod api-deployment-7d9f8b6c5d-x2k4q.api.svc.cluster.local",
        "loaded requests_toolbelt-1.0.0 and django_cors_headers-4.9.0.dist-info",
        "GET /static/application-bundle.min.js HTTP/1.1",
        'File "/srv/api/event_dispatcher_v2.py", line 3, in handle',
        "Invalid request from ip=::1: Invalid HTTP Header: 'X-Thing'",
        "Bearer\nnext line",
        '"GET /docs/basic HTTP/1.1" 404 179',  # a request line's version is no credential
        "GET /auth/Bearer HTTP/1.0",
    ],
)
def test_lines_without_a_token_are_left_alone(line: str) -> None:
    assert redact(line) == line


def test_a_long_run_without_dots_is_redacted_in_linear_time() -> None:
    """A header line as long as gunicorn takes, made of token characters only, must not make
    the filter backtrack: a quadratic pattern spends hours on a million characters."""
    probe = (
        "from apiexample.log_redaction import redact; redact('e' * 1_000_000 + '.'); "
        "redact('bearer' + chr(0x1c) * 100_000 + chr(10)); redact('bearer \\\\t%2509' * 50_000); "
        "redact('%61%63%63%65%73%73%5F%74%6F%6B%65' * 50_000); "
        "redact('Bearer ' * 100_000 + chr(10)); redact('bearer:\\\\\\'' * 100_000); "
        "redact('access_token' + ' ' * 1_000_000); redact('access_token: ' * 100_000)"
    )
    subprocess.run([sys.executable, "-c", probe], cwd=ROOT, check=True, timeout=60)


def test_a_record_s_message_and_traceback_are_redacted(mock_idp: MockIdP) -> None:
    token = mock_idp.mint()
    try:
        raise ValueError(f"bad request line: {token}")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("gunicorn.error", logging.ERROR, "", 1, "%s", (token,), exc_info)
    assert redact_record(record) is True
    assert record.exc_info is None  # no handler can format the original again
    formatted = logging.Formatter().format(record)
    assert token not in formatted
    assert formatted.count(REDACTED) == 2
    assert "ValueError: bad request line: [redacted]" in formatted


def test_named_arguments_keep_their_names(mock_idp: MockIdP) -> None:
    """gunicorn's access log passes its atoms by name; structured formatters read them."""
    token = mock_idp.mint()
    atoms = {"h": "127.0.0.1", "r": f"GET /?access_token={token} HTTP/1.1", "s": 400}
    record = logging.LogRecord(
        "gunicorn.access", logging.INFO, "", 1, "%(h)s %(r)s", (atoms,), None
    )
    assert redact_record(record) is True
    assert record.args == {"h": "127.0.0.1", "r": f"GET /?access_token={REDACTED} HTTP/1.1"}
    assert record.getMessage() == f"127.0.0.1 GET /?access_token={REDACTED} HTTP/1.1"


def uvicorn_access_record(path: str, method: str = "GET", status: int = 401) -> logging.LogRecord:
    """A record as uvicorn's access log makes it (``uvicorn.protocols.http``)."""
    arguments = ("127.0.0.1:5000", method, path, "1.1", status)
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 1, '%s - "%s %s HTTP/%s" %d', arguments, None
    )


def uvicorn_access_line(record: logging.LogRecord) -> str:
    """The line uvicorn's access formatter writes for ``record``."""
    return AccessFormatter("%(client_addr)s %(request_line)s %(status_code)s").format(record)


@pytest.mark.parametrize("path", ["/api/private?access_token={token}", "/{token}", "/x?t={token}"])
def test_each_argument_is_redacted_and_uvicorn_s_formatter_reads_them(
    mock_idp: MockIdP, path: str
) -> None:
    record = uvicorn_access_record(path.format(token=mock_idp.mint()))
    assert redact_each_argument(record) is True
    assert record.args == ("127.0.0.1:5000", "GET", path.format(token=REDACTED), "1.1", 401)
    line = uvicorn_access_line(record)
    assert line == f"127.0.0.1:5000 GET {path.format(token=REDACTED)} HTTP/1.1 401 Unauthorized"


def test_a_path_ending_in_a_scheme_s_name_is_no_credential_to_the_access_log() -> None:
    """``GET /docs/basic HTTP/1.1``: the version after it is no credential (found by review:
    the line had been redacted whole, and uvicorn's formatter needs the arguments)."""
    record = uvicorn_access_record("/docs/basic")
    assert redact_each_argument(record) is True
    assert record.args == ("127.0.0.1:5000", "GET", "/docs/basic", "1.1", 401)


def test_a_scheme_in_one_argument_and_its_credential_in_the_next_redacts_every_text() -> None:
    """A request line ``BEARER an-opaque-token HTTP/1.1`` (found by review)."""
    record = uvicorn_access_record("an-opaque-token", method="BEARER", status=400)
    assert redact_each_argument(record) is True
    assert record.args == (REDACTED, REDACTED, REDACTED, REDACTED, 400)
    line = uvicorn_access_line(record)
    assert line == f"{REDACTED} {REDACTED} {REDACTED} HTTP/{REDACTED} 400 Bad Request"


def uvicorn_trace_of(scope: dict[str, Any], caplog: pytest.LogCaptureFixture) -> str:
    """What uvicorn's trace (``--log-level trace``: ``uvicorn.asgi``, whose records
    ``apiexample.asgi`` filters) logs of a request with ``scope``."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        return None

    with caplog.at_level(TRACE_LOG_LEVEL, logger="uvicorn.asgi"):
        asyncio.run(MessageLoggerMiddleware(app)(scope, None, None))  # type: ignore[arg-type]
    assert "Started scope=" in caplog.text
    return caplog.text


@pytest.mark.parametrize("method", ["Bearer", "BEARER", "basic"])
def test_a_request_line_holding_a_credential_is_masked_in_uvicorn_s_trace(
    method: str, caplog: pytest.LogCaptureFixture
) -> None:
    """``Bearer an-opaque-token HTTP/1.1``: h11 reads a method and a path, which the trace
    shows apart in the scope, with a query too (found by review)."""
    scope = asgi_http_scope("an-opaque-token")
    scope.update(method=method, query_string=b"an-opaque-query")
    trace = uvicorn_trace_of(scope, caplog)
    assert f"'method': '{method}'" in trace
    assert f"'path': '{REDACTED}'" in trace
    assert "an-opaque" not in trace


def test_a_request_line_without_a_credential_shows_in_uvicorn_s_trace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    scope = asgi_http_scope("/docs/basic")
    scope.update(query_string=b"page=2")
    trace = uvicorn_trace_of(scope, caplog)
    assert "'path': '/docs/basic'" in trace
    assert "b'page=2'" in trace


class _Unreadable(dict):  # type: ignore[type-arg]
    """A mapping whose ``get`` raises."""

    def get(self, key: Any, default: Any = None) -> Any:
        raise RuntimeError("unreadable")


def test_a_mapping_argument_that_cannot_be_read_is_formatted_as_it_is() -> None:
    record = logging.LogRecord("x", logging.INFO, "", 1, "scope=%s", (_Unreadable(a=1),), None)
    assert redact_record(record) is True
    assert record.getMessage() == "scope={'a': 1}"


class _Masked(str):
    """A ``str`` that shows as asterisks."""

    __slots__ = ()

    def __str__(self) -> str:
        return "****"


class _Headers:
    """Shown one way by ``%s``, another by a structured formatter's ``repr``."""

    def __str__(self) -> str:
        return "(headers)"

    def __repr__(self) -> str:
        return "{'authorization': 'Bearer an-opaque-token'}"


@pytest.mark.parametrize(
    ("argument", "shown"), [(_Masked("an-opaque-token"), "****"), (_Headers(), "(headers)")]
)
def test_an_argument_other_than_a_number_is_kept_as_its_str(argument: Any, shown: str) -> None:
    """``redact`` would turn a masking ``str`` subclass into its value (found by review), by
    position or by name."""
    for log_filter in (redact_record, redact_each_argument):
        for msg, args in (("got %s", (argument,)), ("got %(it)s", ({"it": argument},))):
            record = logging.LogRecord("x", logging.INFO, "", 1, msg, args, None)
            assert log_filter(record) is True
            assert record.getMessage() == f"got {shown}"
            assert "an-opaque-token" not in repr(record.args)


def test_an_argument_in_bytes_is_redacted_as_its_str(mock_idp: MockIdP) -> None:
    """Bytes are no number: shown as their ``str``, ``b'...'``, and redacted like any text."""
    token = mock_idp.mint()
    for log_filter in (redact_record, redact_each_argument):
        for msg, args in (("got %s", (token.encode(),)), ("got %(it)s", ({"it": token.encode()},))):
            record = logging.LogRecord("x", logging.INFO, "", 1, msg, args, None)
            assert log_filter(record) is True
            assert record.getMessage() == f"got b'{REDACTED}'"
            assert token.split(".")[2] not in repr(record.args)


def test_a_named_argument_that_is_not_text_is_redacted_as_shown() -> None:
    headers = {"authorization": "Bearer an-opaque-token"}
    record = logging.LogRecord(
        "x", logging.INFO, "", 1, "%(h)s %(n)d", ({"h": headers, "n": 7},), None
    )
    assert redact_record(record) is True
    assert record.args == {"h": f"{{'authorization': 'Bearer {REDACTED}'}}", "n": 7}


@pytest.mark.parametrize(
    "value", ["an-opaque-token", ["an-opaque-token"], {"nested": "an-opaque-token"}]
)
@pytest.mark.parametrize("template", ["got: %s", "got: %r"])
@pytest.mark.parametrize("key", ["access_token", b"access_token", "Access_Token"])
def test_a_mapping_s_access_token_member_is_redacted_whole(
    template: str, value: Any, key: Any
) -> None:
    """``logger.info("got: %s", {"access_token": ...})``: logging takes a lone mapping as named
    arguments, each shown apart from its key (found by review: an opaque one stayed; then one
    under ``parse_qs``'s bytes keys)."""
    arguments = {key: value, "token_type": "Bearer", "expires_in": 86400}
    record = logging.LogRecord("x", logging.INFO, "", 1, template, (arguments,), None)
    assert redact_record(record) is True
    assert "an-opaque-token" not in record.getMessage()
    assert REDACTED in record.getMessage()


def test_a_credential_atom_is_redacted_whole() -> None:
    """The ``Authorization`` header's atom is a credential however it is spaced or quoted: a
    JWS with a blank in it would otherwise show its signature (found by review)."""
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0. c2lnbmF0dXJlLXBhcnQ"
    atoms = SafeAtoms({"{authorization}i": f"Bearer {token}", "{http_authorization}e": "x y"})
    record = logging.LogRecord(
        "gunicorn.access",
        logging.INFO,
        "",
        1,
        "%({Authorization}i)s|%({http_authorization}e)s|%({proxy-authorization}i)s",
        (atoms,),
        None,
    )
    assert redact_record(record) is True
    assert record.getMessage() == f"{REDACTED}|{REDACTED}|-"


def test_only_the_named_arguments_the_template_reads_are_redacted_and_kept() -> None:
    """gunicorn passes an atom per header and environ entry: redacting all of them cost about
    0.65 s of worker CPU for one request of 95 headers of 16 KiB (found by review). What is not
    read is dropped, so no raw value stays on the record."""
    shown: list[str] = []

    class Recorded:
        def __init__(self, name: str) -> None:
            self.name = name

        def __str__(self) -> str:
            shown.append(self.name)
            return self.name

    atoms: dict[str, Any] = {f"{{x-{n}}}i": Recorded(f"x-{n}") for n in range(100)}
    atoms |= {"h": Recorded("h"), "{authorization}i": "Bearer an-opaque-token"}
    record = logging.LogRecord("gunicorn.access", logging.INFO, "", 1, "%(h)s", (atoms,), None)
    assert redact_record(record) is True
    assert shown == ["h"]
    assert redact_record(record) is True  # a second filter redacts what is left, again
    assert record.args == {"h": "h"}
    assert record.getMessage() == "h"
    assert b"an-opaque-token" not in pickle.dumps(record)
    assert json.dumps(record.args) == '{"h": "h"}'


def test_a_named_argument_that_cannot_be_shown_shows_as_unprintable() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, "", 1, "%(it)s %(n)d", ({"it": _Unprintable(), "n": 7},), None
    )
    assert redact_record(record) is True
    assert record.getMessage() == f"{UNPRINTABLE} 7"


def test_a_mapping_whose_keys_are_not_text_formats_whole() -> None:
    """``logger.info("by status: %s", {200: 5})``: the keys are numbers (found by review: a
    first version lost the line)."""
    record = logging.LogRecord(
        "x", logging.INFO, "", 1, "by status: %s", ({200: 5, 401: "Bearer x-y"},), None
    )
    assert redact_record(record) is True
    assert record.getMessage() == f"by status: {{200: 5, 401: 'Bearer {REDACTED}'}}"


def test_a_mapping_formatted_whole_shows_as_a_dict_of_redacted_values() -> None:
    counts = {"not_rsa": 1, "note": "Bearer an-opaque-token"}
    record = logging.LogRecord("x", logging.INFO, "", 1, "skipped: %s", (counts,), None)
    assert redact_record(record) is True
    assert record.getMessage() == f"skipped: {{'not_rsa': 1, 'note': 'Bearer {REDACTED}'}}"


def test_uvicorn_s_colored_template_is_formatted_and_redacted_too(mock_idp: MockIdP) -> None:
    """uvicorn's formatter shows ``color_message`` instead of the message, with colors on
    (found by review: its start-up lines lost their values)."""
    token = mock_idp.mint()
    record = logging.LogRecord(
        "uvicorn.error", logging.INFO, "", 1, "Process [%d] got %s", (4242, token), None
    )
    record.color_message = "Process [\x1b[36m%d\x1b[0m] got %s"
    assert redact_record(record) is True
    line = DefaultFormatter("%(message)s", use_colors=True).format(record)
    assert line == f"Process [\x1b[36m4242\x1b[0m] got {REDACTED}"


def test_a_colored_template_that_does_not_format_is_dropped() -> None:
    record = logging.LogRecord("uvicorn.error", logging.INFO, "", 1, "%s", ("a",), None)
    record.color_message = "%s and %s"
    assert redact_record(record) is True
    assert "color_message" not in record.__dict__
    assert DefaultFormatter("%(message)s", use_colors=True).format(record) == "a"


@pytest.mark.parametrize(
    ("msg", "args"),
    [
        ("Authorization: Bearer %s", ("an-opaque-token",)),  # the scheme in the template
        ("access_token=%s", ("an-opaque-token",)),
        ("%s.%s.%s", ("{header}", "{claims}", "{signature}")),  # a JWS in three arguments
        ("%s.%s", ("{header}.{claims}", "{signature}")),  # found by review
        ("%s%s", ("{header}.", "{claims}.{signature}")),
        ("%s", (b"Bearer an-opaque-token",)),  # shown by its repr
    ],
)
def test_a_token_split_between_template_and_arguments_is_redacted_in_the_formatted_line(
    mock_idp: MockIdP, msg: str, args: tuple[Any, ...]
) -> None:
    header, claims, signature = mock_idp.mint().split(".")
    parts = {"header": header, "claims": claims, "signature": signature}
    arguments = tuple(
        arg.format_map(parts) if isinstance(arg, str) and "{" in arg else arg for arg in args
    )
    record = logging.LogRecord("uvicorn.error", logging.INFO, "", 1, msg, arguments, None)
    assert redact_record(record) is True
    assert record.args is None
    assert REDACTED in record.msg
    for secret in ("an-opaque-token", header, claims, signature):
        assert secret not in record.msg


def test_a_template_holding_a_credential_is_formatted_whole() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 1, "Bearer %s", ("an-opaque-token",), None
    )
    assert redact_each_argument(record) is True
    assert (record.msg, record.args) == (f"Bearer {REDACTED}", None)


def test_a_message_without_arguments_is_kept_as_it_is() -> None:
    """A ``%`` in it stays: ``getMessage`` formats only a record with arguments."""
    record = logging.LogRecord("uvicorn.error", logging.INFO, "", 1, "100% done", (), None)
    assert redact_each_argument(record) is True
    assert (record.msg, record.args, record.getMessage()) == ("100% done", (), "100% done")


def test_named_arguments_go_to_redact_record(mock_idp: MockIdP) -> None:
    token = mock_idp.mint()
    record = logging.LogRecord("x", logging.INFO, "", 1, "%(q)s", ({"q": token},), None)
    assert redact_each_argument(record) is True
    assert record.args == {"q": REDACTED}


def test_the_filter_class_redacts_what_its_handler_writes(mock_idp: MockIdP) -> None:
    """What ``LOGGING``'s ``redact_tokens`` filter is (``apiexample.logging_config``)."""
    token = mock_idp.mint()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(TokenRedactingFilter())
    record = logging.LogRecord(
        "django.server", logging.WARNING, "", 1, "GET /?t=%s", (token,), None
    )
    handler.handle(record)
    assert stream.getvalue() == f"GET /?t={REDACTED}\n"


class _Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no")


@pytest.mark.parametrize(
    ("msg", "args"),
    [
        ("%s and %s", ("only one",)),
        ("%s", (_Unprintable(),)),
        (_Unprintable(), ()),
    ],
)
@pytest.mark.parametrize("log_filter", [redact_record, redact_each_argument])
def test_a_record_that_does_not_format_is_kept_and_the_filter_never_raises(
    msg: Any, args: tuple[Any, ...], log_filter: Callable[[logging.LogRecord], bool]
) -> None:
    """A filter that raises hands the error to the code that logged; logging itself would only
    have printed "--- Logging error ---"."""
    record = logging.LogRecord("gunicorn.error", logging.ERROR, "", 1, msg, args, None)
    assert log_filter(record) is True
    assert record.getMessage().endswith("[arguments dropped: they did not format]")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "header",
    [
        b' {"alg":"RS256","kid":"k1"}',  # only the whitespace rule finds it
        b'\n{"kid":"a"}',  # exactly 16 base64url characters
    ],
)
def test_a_token_whose_segments_all_begin_with_whitespace_is_redacted(header: bytes) -> None:
    """Found by mutation testing: the whitespace rule could go, as the other tests' payloads
    begin with ``ey``."""
    payload = _b64url(b' {"sub":"x"}')
    token = f"{_b64url(header)}.{payload}.c2lnbmF0dXJl"
    assert "ey" not in token
    assert redact(f"token {token} end") == f"token {REDACTED} end"


#: A segment decoding to whitespace and ``{``, as a file name's first part.
_WHITESPACE_OBJECT = _b64url(b' {"file":"report","v":2}')


@pytest.mark.parametrize(
    "text", [f"saved {_WHITESPACE_OBJECT}.json", f"{_WHITESPACE_OBJECT}.json ok"]
)
def test_a_whitespace_object_with_one_dot_after_it_is_no_token(text: str) -> None:
    """The whitespace rule's other side (found by mutation testing): such a segment starts a
    token only with two more dots to come, as a JWS has."""
    assert not _WHITESPACE_OBJECT.startswith("ey")
    assert redact(text) == text


def test_the_filter_class_drops_the_exception_by_default() -> None:
    try:
        raise ValueError("Bearer abc.def.ghi")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "m", None, sys.exc_info())
    assert TokenRedactingFilter().filter(record) is True
    assert record.exc_info is None
    assert "abc.def.ghi" not in (record.exc_text or "")


# Found by mutation testing of the day's diff (second review).
@pytest.mark.parametrize(
    ("line", "redacted"),
    [
        # each separator the rule names, raw or as repr writes it
        ("GET /x?a=Bearer+mF_9B5f4 HTTP/1.1", f"GET /x?a=Bearer+{REDACTED} HTTP/1.1"),
        ("x Bearer\x0bmF_9B5f4 y", f"x Bearer\x0b{REDACTED} y"),
        ("x Bearer\x0cmF_9B5f4 y", f"x Bearer\x0c{REDACTED} y"),
        ("Invalid HTTP Header: 'Bearer\\tmF_9B5f4'", f"Invalid HTTP Header: 'Bearer\\t{REDACTED}'"),
        ("x Bearer\x1fmF_9B5f4 y", f"x Bearer\x1f{REDACTED} y"),
        ("x Bearer\u3000mF_9B5f4 y", f"x Bearer\u3000{REDACTED} y"),
        ("GET /x?a=Bearer%A0mF_9B5f4 HTTP/1.1", f"GET /x?a=Bearer%A0{REDACTED} HTTP/1.1"),
        ("Authorization: Bearer  mF_9B5f4", f"Authorization: Bearer  {REDACTED}"),
        ('{"access_token" : "mF_9B5f4"}', f'{{"access_token" : "{REDACTED}"}}'),
        # where a scheme's credential ends: the next parameter, a comma, a semicolon
        ("GET /?a=Bearer%20mF_9B5f4&page=2", f"GET /?a=Bearer%20{REDACTED}&page=2"),
        ("Bearer mF_9B5f4, Basic dXNlcjpwYXNz", f"Bearer {REDACTED}, Basic {REDACTED}"),
        ("Bearer mF_9B5f4;q=1", f"Bearer {REDACTED};q=1"),
        # an empty parameter holds no credential
        ("GET /?access_token=&a=b", "GET /?access_token=&a=b"),
        ("Bearer \nnext line", "Bearer \nnext line"),
    ],
)
def test_each_separator_and_where_a_credential_ends(line: str, redacted: str) -> None:
    assert redact(line) == redacted


def test_the_proxy_credential_atoms_are_redacted_whole() -> None:
    """``Proxy-Authorization`` is a credential too, whatever its scheme (``Digest`` here, which
    no text rule knows)."""
    atoms = SafeAtoms(
        {
            "{proxy-authorization}i": 'Digest username="u", response="6629fae49393a053"',
            "{http_proxy_authorization}e": "Negotiate YIIB",
        }
    )
    record = logging.LogRecord(
        "gunicorn.access",
        logging.INFO,
        "",
        1,
        "%({Proxy-Authorization}i)s|%({http_proxy_authorization}e)s",
        (atoms,),
        None,
    )
    assert redact_record(record) is True
    assert record.getMessage() == f"{REDACTED}|{REDACTED}"


def test_a_named_field_in_parentheses_is_read() -> None:
    atoms = SafeAtoms({"h": "192.0.2.1", "D": 1500})
    record = logging.LogRecord(
        "gunicorn.access", logging.INFO, "", 1, "%(h)s (%(D)s us)", (atoms,), None
    )
    assert redact_record(record) is True
    assert record.getMessage() == "192.0.2.1 (1500 us)"


def test_a_name_the_arguments_lack_is_left_for_the_formatter_to_report() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, "", 1, "%(a)s %(b)s", ({"a": "Bearer an-opaque-token"},), None
    )
    assert redact_record(record) is True
    assert record.args == {"a": f"Bearer {REDACTED}"}
    with pytest.raises(KeyError):
        record.getMessage()


def test_a_mapping_other_than_a_dict_and_a_template_other_than_a_str_are_redacted_by_name() -> None:
    """A credential atom is redacted whole whatever holds it: a read-only mapping, or a lazy
    template (which names no field, so every argument is kept, redacted)."""
    from types import MappingProxyType

    class Lazy:
        def __str__(self) -> str:
            return "%({authorization}i)s"

    for template in ("%({authorization}i)s", Lazy()):
        arguments = MappingProxyType({"{authorization}i": "Bearer eyJhbGciOiJSUzI1NiJ9. sig"})
        record = logging.LogRecord("x", logging.INFO, "", 1, template, (arguments,), None)
        assert redact_record(record) is True
        assert record.getMessage() == REDACTED


def test_a_mapping_that_cannot_be_read_is_formatted_whole_without_its_arguments() -> None:
    """No raw value stays on the record when a named argument cannot even be read."""

    class Unreadable(dict):  # type: ignore[type-arg]
        def __getitem__(self, name: str) -> Any:
            if name == "b":
                raise RuntimeError("unreadable")
            return super().__getitem__(name)

    arguments = Unreadable(a="Bearer an-opaque-token", b=1)
    record = logging.LogRecord("x", logging.INFO, "", 1, "%(a)s %(b)s", (arguments,), None)
    assert redact_record(record) is True
    assert record.args is None
    assert "an-opaque-token" not in record.getMessage()


# Found by the second review of the day's diff.
def test_gunicorn_s_user_atom_is_a_credential() -> None:
    """``%(u)s``, in gunicorn's default access format, is the user decoded from ``Basic``: an
    API key sent as ``key:`` would be logged whole. The path atom ``U`` is no credential."""
    atoms = SafeAtoms({"u": "sk_live_51HxSECRET", "U": "/api/private"})
    record = logging.LogRecord(
        "gunicorn.access", logging.INFO, "", 1, "%(u)s %(U)s", (atoms,), None
    )
    assert redact_record(record) is True
    assert record.getMessage() == f"{REDACTED} /api/private"
    absent = logging.LogRecord(
        "gunicorn.access", logging.INFO, "", 1, "%(u)s", (SafeAtoms({"u": "-"}),), None
    )
    assert redact_record(absent) is True
    assert absent.getMessage() == "-"


@pytest.mark.parametrize("escape", ["\\t", "\\x0b", "\\u3000"])
def test_a_scheme_right_after_a_repr_escape_is_redacted(escape: str) -> None:
    """gunicorn logs a header line without a colon whole, as ``repr`` writes it."""
    line = f"Invalid HTTP Header: 'Authorization{escape}Basic YWxpY2U6czNjcmV0'"
    assert redact(line) == f"Invalid HTTP Header: 'Authorization{escape}Basic {REDACTED}'"


def test_a_template_holding_a_credential_is_formatted_whole_though_its_arguments_are_named() -> (
    None
):
    record = logging.LogRecord(
        "x", logging.INFO, "", 1, "sent Bearer an-opaque-token, status %(s)s", ({"s": 401},), None
    )
    assert redact_record(record) is True
    assert record.getMessage() == f"sent Bearer {REDACTED}, status 401"


def test_named_fields_are_found_in_linear_time() -> None:
    probe = (
        "import logging; from apiexample.log_redaction import redact_record; "
        "redact_record(logging.LogRecord('x', 20, '', 1, '%(' * 200_000, ({'a': 1},), None))"
    )
    subprocess.run([sys.executable, "-c", probe], cwd=ROOT, check=True, timeout=60)


@pytest.mark.parametrize(
    ("line", "redacted"),
    [
        ("GET /x?a=Bearer%C2%A0mF_9B5f4 HTTP/1.1", f"GET /x?a=Bearer%C2%A0{REDACTED} HTTP/1.1"),
        # the value's closing backslash goes with it
        ('{\\"access_token\\": \\"mF_9B5f4\\"}', f'{{\\"access_token\\": \\"{REDACTED}"}}'),
    ],
)
def test_a_no_break_space_in_utf_8_and_gunicorn_s_escaped_json(line: str, redacted: str) -> None:
    assert redact(line) == redacted
