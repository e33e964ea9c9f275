"""Issue 2 acceptance: gunicorn serving the API against the mock IdP's live JWKS server.

Only the documented environment variables configure the API. The JWKS fetch uses a
1 s total timeout here (AUTH0_JWKS_TIMEOUT) to keep the suite fast; the default is 8 s.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from gunicorn.config import KNOWN_SETTINGS

from apiexample.log_redaction import REDACTED
from apiexample.token_format import MAX_TOKEN_LENGTH
from devtools.processes import api_environment, api_server
from mock_idp import DEFAULT_AUDIENCE as AUDIENCE
from mock_idp import KeyPair
from mock_idp.http import JWKS as JWKS_PATH
from mock_idp.http import Fault
from mock_idp.server import MockIdPServer

pytestmark = pytest.mark.live


@contextmanager
def gunicorn(issuer: str, **env: str) -> Iterator[str]:
    """``gunicorn apiexample.wsgi`` on 127.0.0.1, configured by environment variables only."""
    options = ("--workers", "1", "--worker-class", "gthread", "--threads", "4")
    with api_server(api_environment(issuer, base=None, **env), *options) as server:
        yield server.base


def get(base: str, path: str, token: str | None = None, timeout: float = 15) -> requests.Response:
    """One request on its own connection: an idle keep-alive one would hold gunicorn's stop."""
    headers = {"Connection": "close"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(base + path, headers=headers, timeout=timeout)


def test_valid_tokens_work_through_rotation_and_the_idp_stopping(
    mock_idp_live: MockIdPServer,
) -> None:
    idp = mock_idp_live.idp
    with gunicorn(idp.issuer, AUTH0_JWKS_COOLDOWN="0") as api:
        old = idp.mint(audience=AUDIENCE, scope="read:messages")
        assert get(api, "/api/private", old).status_code == 200
        assert get(api, "/api/private-scoped", old).status_code == 200
        idp.keys.rotate(KeyPair.rsa())  # a new signing key, unknown to the running API
        token = idp.mint(audience=AUDIENCE, scope="read:messages")
        assert get(api, "/api/private-scoped", token).status_code == 200
        mock_idp_live.stop()  # the JWKS server is gone; keys are cached
        for _ in range(5):
            assert get(api, "/api/private", old).status_code == 200
            assert get(api, "/api/private", token).status_code == 200
            assert get(api, "/api/private-scoped", token).status_code == 200
        stranger = idp.mint(
            audience=AUDIENCE, key=idp.foreign_key, header={"kid": "never-published"}
        )
        # Unknown kid, IdP gone: the key set cannot be checked for it, so 503, never 200 or 500.
        assert get(api, "/api/private", stranger).status_code == 503
        assert get(api, "/api/private", "garbage").status_code == 401


def test_past_the_ttl_a_hung_idp_holds_no_request_whose_key_is_cached(
    mock_idp_live: MockIdPServer,
) -> None:
    idp = mock_idp_live.idp
    env = {"AUTH0_JWKS_CACHE_TTL": "1", "AUTH0_JWKS_COOLDOWN": "0", "AUTH0_JWKS_TIMEOUT": "30"}
    with gunicorn(idp.issuer, **env) as api:
        cached = idp.mint(audience=AUDIENCE)
        assert get(api, "/api/private", cached).status_code == 200
        idp.inject_fault(JWKS_PATH, Fault.slow(60))
        time.sleep(1.1)  # the TTL runs out
        # Not a timing assertion: a request waiting for the refresh would wait 5 s (the read
        # timeout: the IdP says nothing); these give up after 3 s, and are answered in ms.
        assert get(api, "/api/private", cached, timeout=3).status_code == 200  # starts it
        fresh = idp.mint(audience=AUDIENCE)
        assert get(api, "/api/private", fresh, timeout=3).status_code == 200


COLD_START_FAULTS = {
    "down": Fault.error(503),
    "slow_30s": Fault.slow(30),
    "html": Fault.html(),
    "garbage": Fault.garbage(),
    "oversized_20mb": Fault.oversized(),
}


def test_unobtainable_keys_at_cold_start_give_503_then_recover(
    mock_idp_live: MockIdPServer,
) -> None:
    idp = mock_idp_live.idp
    # Cooldown 0: each request retries the fetch, so one cold process sees every fault.
    with gunicorn(idp.issuer, AUTH0_JWKS_COOLDOWN="0", AUTH0_JWKS_TIMEOUT="1") as api:
        token = idp.mint(audience=AUDIENCE, scope="read:messages")
        for name, fault in COLD_START_FAULTS.items():
            idp.clear_faults()
            idp.inject_fault(JWKS_PATH, fault)
            # Not a timing assertion: a fetch the deadline did not cut short would end in keys
            # (the slow fault answers after 30 s) and a 200, never in this 503.
            response = get(api, "/api/private", token)
            assert response.status_code == 503, name
            assert response.json()["error"] == "temporarily_unavailable"
            assert int(response.headers["Retry-After"]) >= 1
        idp.clear_faults()
        # Each request fetches again (cooldown 0); under load one may overrun the 1 s deadline.
        statuses = [get(api, "/api/private-scoped", token).status_code]
        deadline = time.monotonic() + 30
        while statuses[-1] == 503 and time.monotonic() < deadline:
            time.sleep(0.2)
            statuses.append(get(api, "/api/private-scoped", token).status_code)
        assert statuses[-1] == 200, statuses


def test_tokens_up_to_the_longest_accepted_pass_gunicorn(mock_idp_live: MockIdPServer) -> None:
    """gunicorn's own header limit (8190 bytes by default) must not refuse, with an HTML 431,
    a token the API accepts: Auth0 RBAC tokens with hundreds of permissions run past 8 KiB."""
    idp = mock_idp_live.idp
    permissions = [f"read:resource-{n:04d}" for n in range(450)]
    token = idp.mint(audience=AUDIENCE, claims={"permissions": permissions})
    assert 12 * 1024 < len(token) <= MAX_TOKEN_LENGTH
    with gunicorn(idp.issuer) as api:
        assert get(api, "/api/private", token).status_code == 200
        too_long = get(api, "/api/private", "a" * (MAX_TOKEN_LENGTH + 1))
        assert too_long.status_code == 401
        assert too_long.json()["error"] == "invalid_token"


def raw_status(base: str, request: bytes) -> int:
    """The status gunicorn answers to ``request``, sent byte for byte on a connection of its own."""
    address = urlsplit(base)
    assert address.port is not None
    with socket.create_connection((address.hostname, address.port), timeout=15) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def test_no_token_reaches_gunicorn_s_logs_and_a_script_name_header_is_no_500(
    mock_idp_live: MockIdPServer, tmp_path: Path
) -> None:
    """gunicorn logs whole the requests it cannot parse, and its access log the query string;
    it would answer 500 to a ``SCRIPT_NAME`` header not beginning the path. Found by probing
    the served API with raw requests (apiexample/gunicorn_config.py)."""
    idp = mock_idp_live.idp
    token = idp.mint(audience=AUDIENCE, scope="read:messages").encode()
    access = '%(h)s "%(r)s" %(s)s "%({authorization}i)s"'  # the header too, as operators may
    options: tuple[str, ...] = (
        "--workers",
        "1",
        "-k",
        "gthread",
        "--access-logfile",
        "-",
        "--access-logformat",
        access,
    )
    if "http_parser" in {setting.name for setting in KNOWN_SETTINGS}:  # gunicorn >= 27
        options += ("--http-parser", "python")  # the C parser (gunicorn_h1c) logs no request
    log = tmp_path / "gunicorn.log"
    with api_server(api_environment(idp.issuer), *options, log=log) as api:
        close = b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n"
        no_colon = b"GET /api/private HTTP/1.1\r\nAuthorization: Bearer\r\n" + token + b"\r\n"
        assert raw_status(api.base, no_colon + close) == 400
        control = b"GET /api/private?access_token=" + token + b"\x7f HTTP/1.1\r\n"
        assert raw_status(api.base, control + close) in {400, 401}  # gunicorn 23 takes it
        both = b"GET /api/private?access_token=" + token + b" HTTP/1.1\r\n"
        bearer = b"Authorization: Bearer " + token + b"\r\n"
        assert raw_status(api.base, both + bearer + close) == 400  # the API's invalid_request
        script_name = b"GET /api/private HTTP/1.1\r\nSCRIPT_NAME: /elsewhere\r\n"
        assert raw_status(api.base, script_name + bearer + close) == 200
        twice = b"GET /api/private HTTP/1.1\r\nAuthorization: Bearer Bearer an-opaque-one\r\n"
        assert raw_status(api.base, twice + close) == 401  # a common client mistake (review)
    written = log.read_bytes()
    for segment in [*token.split(b".")[1:], b"an-opaque-one"]:
        assert segment not in written
    redacted = REDACTED.encode()
    assert b"Invalid HTTP Header: '" + redacted + b"'" in written
    assert written.count(b"access_token=" + redacted) == 2  # gunicorn 23: two access lines
    assert written.count(b' "' + redacted + b'"\n') == 3  # the header's atom, whole


def test_the_readme_deploys_with_the_production_config() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "gunicorn apiexample.wsgi -c python:apiexample.gunicorn_config" in readme
