"""The responses transport: same surface in-process, timeouts raised instead of slept."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import responses
import urllib3

from mock_idp import Fault, MockIdP
from mock_idp.http import JWKS, MAX_REQUEST_BODY, TOKEN
from mock_idp.responses_adapter import mocked_network, origin_pattern, read_timeout, register
from mock_idp.server import MockIdPServer


def test_routes_through_requests(
    mock_idp: MockIdP, mock_idp_network: responses.RequestsMock
) -> None:
    jwks = requests.get(mock_idp.jwks_uri, timeout=5)
    assert jwks.status_code == 200
    assert jwks.headers["Content-Type"] == "application/json; charset=utf-8"
    assert jwks.json() == mock_idp.jwks()
    discovery = requests.get(mock_idp.issuer + ".well-known/openid-configuration", timeout=5)
    assert discovery.json()["jwks_uri"] == mock_idp.jwks_uri
    token = requests.post(
        mock_idp.token_endpoint,
        data={"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"},
        timeout=5,
    )
    assert token.json()["token_type"] == "Bearer"
    as_json = requests.post(
        mock_idp.token_endpoint,
        json={"grant_type": "client_credentials", "client_id": "a"},
        timeout=5,
    )
    assert as_json.status_code == 200
    assert requests.get(mock_idp.issuer + "nope?x=1", timeout=5).status_code == 404
    assert requests.delete(mock_idp.jwks_uri, timeout=5).status_code == 405
    assert [(h.method, h.path) for h in mock_idp.hits] == [
        ("GET", JWKS),
        ("GET", "/.well-known/openid-configuration"),
        ("POST", "/oauth/token"),
        ("POST", "/oauth/token"),
        ("GET", "/nope"),
        ("DELETE", JWKS),
    ]


def test_other_hosts_are_refused_and_other_mocks_can_be_added(
    mock_idp_network: responses.RequestsMock,
) -> None:
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get("https://elsewhere.test/", timeout=5)
    mock_idp_network.get("https://elsewhere.test/", json={"ok": True})
    assert requests.get("https://elsewhere.test/", timeout=5).json() == {"ok": True}


def test_delay_beyond_the_read_timeout_raises_at_once(
    mock_idp: MockIdP, mock_idp_network: responses.RequestsMock
) -> None:
    mock_idp.inject_fault(JWKS, Fault.slow(3600))
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(mock_idp.jwks_uri, timeout=(1, 2))
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(mock_idp.jwks_uri, timeout=2)
    assert mock_idp.hit_count(JWKS) == 2


def test_delays_up_to_the_read_timeout_sleep_through_the_injected_sleeper(
    mock_idp: MockIdP,
) -> None:
    slept: list[float] = []
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        register(mock_idp, mock, sleep=slept.append)
        mock_idp.inject_fault(JWKS, Fault.slow(1.5))
        assert requests.get(mock_idp.jwks_uri, timeout=2).status_code == 200
        assert requests.get(mock_idp.jwks_uri).status_code == 200  # noqa: S113 - no timeout
        mock_idp.clear_faults()
        mock_idp.inject_fault(JWKS, Fault.slow(2))
        assert requests.get(mock_idp.jwks_uri, timeout=2).status_code == 200  # equal: no timeout
    assert slept == [1.5, 1.5, 2]


def test_faults_and_redirects(mock_idp: MockIdP, mock_idp_network: responses.RequestsMock) -> None:
    mock_idp.inject_fault(JWKS, Fault.redirect(), times=2)
    response = requests.get(mock_idp.jwks_uri, timeout=5, allow_redirects=False)
    assert response.status_code == 302
    with pytest.raises(requests.exceptions.ConnectionError):  # the other host is not mocked
        requests.get(mock_idp.jwks_uri, timeout=5)
    mock_idp.inject_fault(JWKS, Fault.oversized(), times=1)
    streamed = requests.get(mock_idp.jwks_uri, timeout=5, stream=True)
    assert len(next(streamed.iter_content(1024))) == 1024
    streamed.close()


def test_mocked_network_context_manager() -> None:
    idp = MockIdP("http://127.0.0.1:9/", keys=[])
    with mocked_network(idp, assert_all_requests_are_fired=False):
        assert requests.get(idp.jwks_uri, timeout=5).json() == {"keys": []}


def test_helpers() -> None:
    assert read_timeout(None) is None
    assert read_timeout(3) == 3.0
    assert read_timeout((1, 4)) == 4.0
    assert read_timeout((1, None)) is None
    pattern = origin_pattern("https://host.test:8443/tenant/")
    assert pattern.match("https://host.test:8443/x")
    assert pattern.match("https://host.test:8443")
    assert pattern.match("https://host.test:8443?q")
    assert not pattern.match("https://host.test:84430/")
    assert not pattern.match("https://host.test.evil/")


def test_the_default_port_written_out_is_the_same_origin() -> None:
    assert origin_pattern("https://host.test/").match("https://host.test:443/x")
    assert origin_pattern("http://host.test/").match("http://host.test:80/x")
    assert not origin_pattern("https://host.test/").match("https://host.test:80/x")


def test_a_urllib3_timeout_is_read_like_a_number() -> None:
    assert read_timeout(urllib3.Timeout(connect=1, read=2)) == 2.0
    assert read_timeout(urllib3.Timeout(connect=1, read=None)) is None


def _token_body() -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"}


#: Requests each transport must answer alike: (name, method, path, keyword arguments, status).
ODD_REQUESTS: list[tuple[str, str, str, dict[str, Any], int]] = [
    ("jwks", "GET", JWKS, {}, 200),
    ("head", "HEAD", JWKS, {}, 405),  # the JWKS route is GET only; no body either way
    ("double-slash-path", "GET", "/" + JWKS, {}, 200),
    ("bytes-header", "POST", "/oauth/token",
     {"data": _token_body(), "headers": {"Content-Type": b"application/x-www-form-urlencoded"}},
     200),
    ("chunked-body", "POST", "/oauth/token",
     {"chunks": [b"grant_type=client_credentials&", b"client_id=c&client_secret=s"],
      "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 200),
    ("body-over-1-mib", "POST", "/oauth/token", {"json": {"pad": "x" * (3 * 1024 * 1024 // 2)}},
     413),
    ("json-body", "POST", "/oauth/token", {"json": _token_body()}, 200),
    ("text-body-in-utf-8", "POST", "/oauth/token",
     {"data": "grant_type=client_credentials&client_id=\u00e9",
      "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 200),
    ("text-chunks-in-utf-8", "POST", "/oauth/token",
     {"chunks": ["grant_type=client_credentials&", "client_id=\u00e9"],
      "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 200),
]  # fmt: skip


def _answer(response: requests.Response) -> tuple[int, str, bool, Any]:
    """Status, type, whether ``Content-Length`` frames the body, and the body but its token."""
    body = response.json() if response.content else None
    if isinstance(body, dict):
        body.pop("access_token", None)  # signed for each issuer; the rest must agree
    length = response.headers.get("Content-Length")
    # A HEAD answer's length is the server's alone (see responses_adapter._answer).
    framed = response.request.method == "HEAD" or length == str(len(response.content))
    return response.status_code, response.headers.get("Content-Type", ""), framed, body


@pytest.mark.parametrize(("method", "path", "options", "status"), [r[1:] for r in ODD_REQUESTS],
                         ids=[r[0] for r in ODD_REQUESTS])  # fmt: skip
def test_both_transports_answer_alike(
    mock_idp: MockIdP,
    mock_idp_network: responses.RequestsMock,
    mock_idp_live: MockIdPServer,
    method: str,
    path: str,
    options: dict[str, Any],
    status: int,
) -> None:
    """The HTTP surface is identical in every transport."""
    mock_idp_live.idp.audience = mock_idp.audience
    mock_idp_network.add_passthru(mock_idp_live.url)
    answers = []
    for idp in (mock_idp, mock_idp_live.idp):
        sent = dict(options)
        if "chunks" in sent:  # a generator body: requests sends it chunked
            sent["data"] = iter(sent.pop("chunks"))
        url = idp.issuer.rstrip("/") + path
        answers.append(_answer(requests.request(method, url, timeout=30, **sent)))
    assert answers[0] == answers[1]
    assert answers[0][0] == status
    hits = [[(h.method, h.path, h.status) for h in i.hits] for i in (mock_idp, mock_idp_live.idp)]
    assert hits[0] == hits[1] == [(method, "/" + path.lstrip("/"), status)]  # every hit recorded


@pytest.mark.parametrize("status", [204, 304])
def test_a_fault_with_a_status_that_has_no_content_sends_none_in_both_transports(
    mock_idp: MockIdP,
    mock_idp_network: responses.RequestsMock,
    mock_idp_live: MockIdPServer,
    status: int,
) -> None:
    """RFC 9110 sections 15.3.5 and 15.4.5: the route's body is dropped, so no client reads it
    in a transport's own way (``requests`` raised ChunkedEncodingError through responses)."""
    mock_idp_network.add_passthru(mock_idp_live.url)
    answers = []
    for idp in (mock_idp, mock_idp_live.idp):
        idp.inject_fault(JWKS, Fault(status=status))
        answers.append(requests.get(idp.jwks_uri, timeout=30))
    assert [(a.status_code, a.content) for a in answers] == [(status, b"")] * 2
    lengths = {a.headers.get("Content-Length") for a in answers}
    assert lengths == ({None} if status == 204 else {"0"})


def test_no_signing_key_is_a_500_from_both_transports(
    mock_idp: MockIdP, mock_idp_network: responses.RequestsMock, mock_idp_live: MockIdPServer
) -> None:
    mock_idp_network.add_passthru(mock_idp_live.url)
    for idp in (mock_idp, mock_idp_live.idp):
        idp.keys.retire(idp.keys.signing_key.kid)
        answer = requests.post(idp.token_endpoint, data=_token_body(), timeout=30)
        assert answer.status_code == 500
        assert answer.json()["error"] == "server_error"
        assert "no key is in the SIGNING state" in answer.json()["error_description"]
        assert idp.hit_count("/oauth/token") == 1


# -- pinned by a mutation run of mock_idp ---------------------------------------------------


def test_bytes_headers_are_latin_1(
    mock_idp: MockIdP, mock_idp_network: responses.RequestsMock
) -> None:
    assert requests.get(mock_idp.jwks_uri, headers={"X-Odd": b"\xe9"}, timeout=5).ok


def test_options_is_answered(mock_idp: MockIdP, mock_idp_network: responses.RequestsMock) -> None:
    answer = requests.options(mock_idp.jwks_uri, timeout=5)
    assert (answer.status_code, answer.headers["Allow"]) == (405, "GET")


def test_a_test_s_own_mocks_on_the_issuer_answer_first_and_the_idp_stays(
    mock_idp: MockIdP,
) -> None:
    userinfo = mock_idp.issuer + "userinfo"
    with mocked_network(mock_idp) as network:
        network.get(userinfo, json={"sub": "user"})
        for _ in range(3):  # responses' own registry dropped the IdP's routes on the 2nd round
            assert requests.get(userinfo, timeout=5).json() == {"sub": "user"}
            assert requests.get(mock_idp.issuer + JWKS[1:], timeout=5).json() == mock_idp.jwks()
        assert mock_idp.hit_count(JWKS) == 3
        assert mock_idp.hit_count("/userinfo") == 0


def test_a_test_s_own_sequence_on_an_idp_route_keeps_responses_rules(
    mock_idp: MockIdP,
) -> None:
    """Two mocks of one URL answer in turn, the last one from then on; then nothing of the
    IdP is lost for its other routes."""
    jwks = mock_idp.issuer + JWKS[1:]
    with mocked_network(mock_idp) as network:
        network.get(jwks, status=503)
        network.get(jwks, json={"keys": []})
        statuses = [requests.get(jwks, timeout=5).status_code for _ in range(3)]
        assert statuses == [503, 200, 200]
        discovery = requests.get(mock_idp.issuer + ".well-known/openid-configuration", timeout=5)
        assert discovery.json()["jwks_uri"] == jwks
        assert mock_idp.hit_count(JWKS) == 0


def test_the_routes_keep_their_order_and_list_across_requests(mock_idp: MockIdP) -> None:
    userinfo = mock_idp.issuer + "userinfo"
    with mocked_network(mock_idp) as network:
        network.get(userinfo, json={})
        routes = network.registered()
        before = list(routes)
        requests.get(userinfo, timeout=5)
        requests.get(mock_idp.issuer + JWKS[1:], timeout=5)
        assert network.registered() is routes
        assert routes == before


@pytest.mark.parametrize("called", [True, False])
def test_asserting_all_requests_fired_counts_the_test_s_routes_only(
    mock_idp: MockIdP, called: bool
) -> None:
    userinfo = mock_idp.issuer + "userinfo"

    def run() -> None:
        with mocked_network(mock_idp, assert_all_requests_are_fired=True) as network:
            network.get(userinfo, json={})
            if called:
                requests.get(userinfo, timeout=5)

    if called:
        run()  # none of the IdP's seven routes was called: they do not count
    else:
        with pytest.raises(AssertionError, match="Not all requests have been executed"):
            run()


def test_sub_second_delays_are_slept_and_time_out_too(mock_idp: MockIdP) -> None:
    slept: list[float] = []
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        register(mock_idp, mock, sleep=slept.append)
        mock_idp.inject_fault(JWKS, Fault.slow(0.5))
        assert requests.get(mock_idp.jwks_uri, timeout=2).status_code == 200
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(mock_idp.jwks_uri, timeout=0.1)
    assert slept == [0.5]


def test_a_test_s_mock_added_after_a_used_one_answers_next(mock_idp: MockIdP) -> None:
    """``responses``' own rule among a test's mocks: a used first match gives way."""
    userinfo = mock_idp.issuer + "userinfo"
    with mocked_network(mock_idp) as network:
        network.get(userinfo, json={"n": 1})
        assert requests.get(userinfo, timeout=5).json() == {"n": 1}
        network.get(userinfo, json={"n": 2})
        assert requests.get(userinfo, timeout=5).json() == {"n": 2}
        assert requests.get(userinfo, timeout=5).json() == {"n": 2}


def test_a_body_of_1_mib_is_taken_and_one_byte_more_is_413_and_recorded(
    mock_idp: MockIdP, mock_idp_network: responses.RequestsMock
) -> None:
    head = b"grant_type=client_credentials&client_id=a&pad="
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for size, status in ((MAX_REQUEST_BODY, 200), (MAX_REQUEST_BODY + 1, 413)):
        body = head + b"A" * (size - len(head))
        answer = requests.post(mock_idp.token_endpoint, data=body, headers=form, timeout=5)
        assert answer.status_code == status
    assert [(h.path, h.status) for h in mock_idp.hits] == [(TOKEN, 200), (TOKEN, 413)]


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_a_body_of_any_bytes_like_type_is_read(
    mock_idp: MockIdP, mock_idp_network: responses.RequestsMock, kind: type
) -> None:
    """``requests`` sends a ``bytearray`` or ``memoryview`` body as it is (found by mutation
    testing: one of them was read as no body at all, a 400)."""
    body = b"grant_type=client_credentials&client_id=a&client_secret=b"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    answer = requests.post(mock_idp.token_endpoint, data=kind(body), headers=form, timeout=5)
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "Bearer"
