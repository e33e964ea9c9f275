"""The pure HTTP surface: routes, token endpoint, faults, hits."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from mock_idp import ControllableClock, Fault, MockIdP, Request, Response
from mock_idp.http import JWKS, MAX_REQUEST_BODY, OPENID_CONFIGURATION, TOKEN, too_large, unread
from mock_idp.jws import decode_unverified


def get(idp: MockIdP, path: str) -> Request:
    return Request("GET", path)


def token_request(
    body: bytes | str, content_type: str = "application/x-www-form-urlencoded", **headers: str
) -> Request:
    raw = body.encode() if isinstance(body, str) else body
    return Request("POST", TOKEN, {"Content-Type": content_type, **headers}, raw)


def test_openid_configuration(mock_idp: MockIdP) -> None:
    response = mock_idp.handle(Request("GET", OPENID_CONFIGURATION))
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/json")
    document = response.json()
    assert document["issuer"] == "https://tenant.mock-idp.test/"
    assert document["jwks_uri"] == "https://tenant.mock-idp.test/.well-known/jwks.json"
    assert document["token_endpoint"] == "https://tenant.mock-idp.test/oauth/token"
    assert "RS256" in document["id_token_signing_alg_values_supported"]


def test_jwks(mock_idp: MockIdP) -> None:
    response = mock_idp.handle(Request("GET", JWKS))
    assert response.status == 200
    assert response.json() == mock_idp.jwks()
    assert "max-age=15" in response.headers["Cache-Control"]
    member = response.json()["keys"][0]
    assert set(member) == {"kty", "use", "alg", "kid", "n", "e"}


def test_unknown_route_and_wrong_method(mock_idp: MockIdP) -> None:
    assert mock_idp.handle(Request("GET", "/nope")).status == 404
    response = mock_idp.handle(Request("POST", JWKS))
    assert response.status == 405
    assert response.headers["Allow"] == "GET"
    assert mock_idp.handle(Request("GET", TOKEN)).headers["Allow"] == "POST"


def test_token_form_body(mock_idp: MockIdP) -> None:
    body = (
        "grant_type=client_credentials&client_id=abc&client_secret=s"
        "&audience=https%3A%2F%2Fapi&scope=read%3Amessages"
    )
    response = mock_idp.handle(token_request(body))
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    document = response.json()
    assert document["token_type"] == "Bearer"
    assert document["expires_in"] == 86400
    assert document["scope"] == "read:messages"
    _, claims, _ = decode_unverified(document["access_token"])
    assert claims["sub"] == "abc@clients"
    assert claims["aud"] == "https://api"
    assert claims["scope"] == "read:messages"


def test_token_json_body_and_default_audience(mock_idp: MockIdP) -> None:
    body = json.dumps({"grant_type": "client_credentials", "client_id": "abc"})
    response = mock_idp.handle(token_request(body, "application/json; charset=utf-8"))
    assert response.status == 200
    _, claims, _ = decode_unverified(response.json()["access_token"])
    assert claims["aud"] == "https://api.example.test"
    assert response.json()["scope"] == ""


def test_token_basic_client_authentication(mock_idp: MockIdP) -> None:
    mock_idp.register_client("abc", "s:1+")
    for sent in (b"abc:s%3A1%2B", b"abc:s:1+"):  # percent-encoded as RFC 6749 says, or raw
        credentials = base64.b64encode(sent).decode()
        request = token_request(
            "grant_type=client_credentials", Authorization=f"Basic {credentials}"
        )
        assert mock_idp.handle(request).status == 200
    credentials = base64.b64encode(b"abc:s%3A1%2B").decode()
    request = token_request("grant_type=client_credentials", Authorization=f"Basic {credentials}")
    assert mock_idp.handle(request).status == 200


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error"),
    [
        ("client_id=abc", "application/x-www-form-urlencoded", 400, "invalid_request"),
        (
            "grant_type=password&client_id=a",
            "application/x-www-form-urlencoded",
            400,
            "unsupported_grant_type",
        ),
        ("[1]", "application/json", 400, "invalid_request"),
        ("{not json", "application/json", 400, "invalid_request"),
        pytest.param("[" * 100_000, "application/json", 400, "invalid_request", id="deep-json"),
        (b"\xff", "application/x-www-form-urlencoded", 400, "invalid_request"),
        (
            "grant_type=client_credentials",
            "application/x-www-form-urlencoded",
            401,
            "access_denied",
        ),
    ],
)
def test_token_errors(
    mock_idp: MockIdP, body: str | bytes, content_type: str, status: int, error: str
) -> None:
    response = mock_idp.handle(token_request(body, content_type))
    assert (response.status, response.json()["error"]) == (status, error)


def test_token_bad_basic_header(mock_idp: MockIdP) -> None:
    request = token_request("grant_type=client_credentials", Authorization="Basic !!!")
    assert mock_idp.handle(request).status == 400


def test_registered_clients_need_their_secret(mock_idp: MockIdP) -> None:
    mock_idp.register_client("abc", "right")
    for body in (
        "grant_type=client_credentials&client_id=abc&client_secret=wrong",
        "grant_type=client_credentials&client_id=abc",
        "grant_type=client_credentials&client_id=other&client_secret=right",
    ):
        response = mock_idp.handle(token_request(body))
        assert response.status == 401
        assert response.json() == {"error": "access_denied", "error_description": "Unauthorized"}
    ok = "grant_type=client_credentials&client_id=abc&client_secret=right"
    assert mock_idp.handle(token_request(ok)).status == 200


def test_registered_scopes_narrow_the_grant(mock_idp: MockIdP) -> None:
    mock_idp.register_client("abc", "s", scopes=["read:messages", "write:messages"])
    base = "grant_type=client_credentials&client_id=abc&client_secret=s"
    assert mock_idp.handle(token_request(base)).json()["scope"] == "read:messages write:messages"
    narrowed = mock_idp.handle(token_request(base + "&scope=read%3Amessages+admin"))
    assert narrowed.json()["scope"] == "read:messages"


def test_no_audience_anywhere(mock_idp: MockIdP) -> None:
    mock_idp.audience = None
    response = mock_idp.handle(token_request("grant_type=client_credentials&client_id=a"))
    assert (response.status, response.json()["error"]) == (403, "access_denied")


def test_non_root_issuer_paths(mock_idp: MockIdP) -> None:
    mock_idp.issuer = "https://host.test/tenant/"
    assert mock_idp.handle(Request("GET", "/tenant/.well-known/jwks.json")).status == 200
    assert mock_idp.handle(Request("GET", "/.well-known/jwks.json")).status == 404
    assert [hit.path for hit in mock_idp.hits] == [JWKS, "/.well-known/jwks.json"]


def test_hits_are_recorded_with_the_clock(mock_idp: MockIdP) -> None:
    assert isinstance(mock_idp.clock, ControllableClock)
    mock_idp.clock.freeze(1000)
    mock_idp.handle(Request("GET", JWKS))
    mock_idp.clock.advance(5)
    mock_idp.handle(Request("GET", JWKS))
    mock_idp.handle(Request("get", JWKS))  # methods are case-sensitive (RFC 9110 section 9.1)
    mock_idp.handle(Request("GET", "/nope"))
    assert [(h.method, h.path, h.time, h.status) for h in mock_idp.hits] == [
        ("GET", JWKS, 1000, 200),
        ("GET", JWKS, 1005, 200),
        ("get", JWKS, 1005, 405),
        ("GET", "/nope", 1005, 404),
    ]
    assert mock_idp.hit_count(JWKS) == 3
    assert mock_idp.hit_count(JWKS, method="GET") == 2
    assert mock_idp.hit_count(JWKS, method="POST") == 0
    assert mock_idp.hit_count() == 4
    mock_idp.clear_hits()
    assert mock_idp.hits == []


def test_fault_for_the_next_n_requests(mock_idp: MockIdP) -> None:
    mock_idp.inject_fault(JWKS, Fault.error(503, **{"Retry-After": "3"}), times=2)
    first = mock_idp.handle(Request("GET", JWKS))
    assert first.status == 503
    assert first.headers["Retry-After"] == "3"
    assert first.json()["error"] == "injected_fault"
    assert mock_idp.handle(Request("GET", JWKS)).status == 503
    assert mock_idp.handle(Request("GET", JWKS)).status == 200
    assert [h.status for h in mock_idp.hits] == [503, 503, 200]


#: Each fault factory, and what its answer must show whatever the route.
FAULT_SIGNS: dict[str, tuple[Fault, Callable[[Response], bool]]] = {
    "error": (Fault.error(503), lambda r: r.status == 503),
    "html": (Fault.html(), lambda r: r.headers["Content-Type"].startswith("text/html")),
    "garbage": (Fault.garbage(), lambda r: r.body.startswith(b"\x89")),
    "oversized": (Fault.oversized(), lambda r: len(r.body) > 1024 * 1024),
    "redirect": (Fault.redirect(), lambda r: r.status == 302 and "Location" in r.headers),
}


@pytest.mark.parametrize("route", [OPENID_CONFIGURATION, JWKS, TOKEN])
@pytest.mark.parametrize("fault", list(FAULT_SIGNS))
def test_every_fault_applies_on_every_route(mock_idp: MockIdP, route: str, fault: str) -> None:
    """Fault injection on each route, for the next request only here."""
    injected, shows = FAULT_SIGNS[fault]
    method = "POST" if route == TOKEN else "GET"
    mock_idp.inject_fault(route, injected, times=1)
    assert shows(mock_idp.handle(Request(method, route)))
    assert not shows(mock_idp.handle(Request(method, route)))
    assert mock_idp.hit_count(route) == 2


def test_faults_queue_and_clear(mock_idp: MockIdP) -> None:
    mock_idp.inject_fault(JWKS, Fault.garbage(), times=1)
    mock_idp.inject_fault(JWKS, Fault.html())  # until cleared
    mock_idp.inject_fault(TOKEN, Fault.error(500))
    garbage = mock_idp.handle(Request("GET", JWKS))
    assert garbage.body.startswith(b"\x89")
    for _ in range(3):
        html = mock_idp.handle(Request("GET", JWKS))
        assert html.headers["Content-Type"].startswith("text/html")
        assert html.body.startswith(b"<!DOCTYPE html>")
    mock_idp.clear_faults(JWKS)
    assert mock_idp.handle(Request("GET", JWKS)).status == 200
    assert mock_idp.handle(token_request("")).status == 500
    mock_idp.clear_faults()
    assert mock_idp.handle(token_request("")).status == 400


def test_error_fault_takes_unregistered_statuses(mock_idp: MockIdP) -> None:
    """A CDN in front of an IdP answers 520-527, which ``HTTPStatus`` does not know."""
    mock_idp.inject_fault(JWKS, Fault.error(520), times=1)
    answer = mock_idp.handle(Request("GET", JWKS))
    assert answer.status == 520
    assert answer.json() == {"error": "injected_fault", "error_description": "HTTP 520"}
    assert (
        Fault.error(429).body
        == b'{"error": "injected_fault", "error_description": "Too Many Requests"}'
    )


@pytest.mark.parametrize("status", [200, 302, 399, 600, 99])
def test_error_fault_needs_an_error_status(status: int) -> None:
    with pytest.raises(ValueError, match="4xx or 5xx"):
        Fault.error(status)


def test_zero_times_is_no_fault(mock_idp: MockIdP) -> None:
    mock_idp.inject_fault(JWKS, Fault.error(), times=0)
    assert mock_idp.handle(Request("GET", JWKS)).status == 200


def test_oversized_body_is_valid_json_of_the_exact_size(mock_idp: MockIdP) -> None:
    mock_idp.inject_fault(JWKS, Fault.oversized())
    response = mock_idp.handle(Request("GET", JWKS))
    assert len(response.body) == 20 * 1024 * 1024
    assert response.json()["keys"] == []
    assert len(Fault.oversized(10).body or b"") == 27  # never shorter than the JSON frame
    keys = mock_idp.jwks()["keys"]
    holding = json.loads(Fault.oversized(300 * 1024, keys=keys).body or b"")
    assert holding["keys"] == keys


def test_slow_redirect_and_combined_faults(mock_idp: MockIdP) -> None:
    mock_idp.inject_fault(JWKS, Fault.slow(2.5), times=1)
    slow = mock_idp.handle(Request("GET", JWKS))
    assert (slow.status, slow.delay) == (200, 2.5)
    mock_idp.inject_fault(JWKS, Fault.redirect(), times=1)
    redirect = mock_idp.handle(Request("GET", JWKS))
    assert redirect.status == 302
    assert redirect.headers["Location"] == "https://attacker.example/.well-known/jwks.json"
    mock_idp.inject_fault(JWKS, replace(Fault.error(429), delay=1.0), times=1)
    combined = mock_idp.handle(Request("GET", JWKS))
    assert (combined.status, combined.delay) == (429, 1.0)
    mock_idp.inject_fault(JWKS, Fault(status=500), times=1)
    plain = mock_idp.handle(Request("GET", JWKS))
    assert (plain.status, plain.json()) == (500, mock_idp.jwks())


def test_request_header_lookup_is_case_insensitive() -> None:
    request = Request("GET", "/", {"Content-Type": "x"})
    assert request.header("content-type") == "x"
    assert request.header("missing") is None


# -- pinned by a mutation run of mock_idp ---------------------------------------------------


def post(
    idp: MockIdP, body: str, content_type: str = "application/x-www-form-urlencoded", **headers: str
) -> Response:
    return idp.handle(
        Request("POST", TOKEN, {"Content-Type": content_type, **headers}, body.encode())
    )


def test_jwks_cache_control_is_auth0s(mock_idp: MockIdP) -> None:
    cache = mock_idp.handle(Request("GET", JWKS)).headers["Cache-Control"]
    assert cache == "public, max-age=15, stale-while-revalidate=15, stale-if-error=86400"


def test_599_is_an_error_status() -> None:
    assert Fault.error(599).status == 599


def test_several_zero_times_faults_are_no_fault(mock_idp: MockIdP) -> None:
    mock_idp.inject_fault(JWKS, Fault.error(), times=0)
    mock_idp.inject_fault(JWKS, Fault.error(), times=0)
    assert mock_idp.handle(Request("GET", JWKS)).status == 200


def test_json_content_type_is_case_insensitive(mock_idp: MockIdP) -> None:
    body = json.dumps({"grant_type": "client_credentials", "client_id": "abc"})
    assert post(mock_idp, body, "Application/JSON").status == 200


def test_an_empty_scope_parameter_is_an_empty_scope(mock_idp: MockIdP) -> None:
    mock_idp.default_scope = "read:messages"
    response = post(mock_idp, "grant_type=client_credentials&client_id=a&scope=")
    assert response.json()["scope"] == ""


def test_basic_scheme_is_case_insensitive(mock_idp: MockIdP) -> None:
    mock_idp.register_client("abc", "s")
    credentials = base64.b64encode(b"abc:s").decode()
    assert (
        post(mock_idp, "grant_type=client_credentials", Authorization=f"basic {credentials}").status
        == 200
    )


def test_body_credentials_win_over_basic(mock_idp: MockIdP) -> None:
    mock_idp.register_client("abc", "s")
    other = base64.b64encode(b"zzz:y").decode()
    body = "grant_type=client_credentials&client_id=abc&client_secret=s"
    assert post(mock_idp, body, Authorization=f"Basic {other}").status == 200


def test_non_string_json_parameters_are_ignored(mock_idp: MockIdP) -> None:
    mock_idp.register_client("abc", "s")
    body = json.dumps(
        {"grant_type": "client_credentials", "client_id": "abc", "client_secret": 123}
    )
    assert post(mock_idp, body, "application/json").status == 401
    body = json.dumps({"grant_type": ["client_credentials"], "client_id": "abc"})
    assert post(mock_idp, body, "application/json").json()["error"] == "invalid_request"


@pytest.mark.parametrize("secret", ["\ud800", "s\udfff"])
def test_a_lone_surrogate_in_a_json_secret_is_a_wrong_secret(
    mock_idp: MockIdP, secret: str
) -> None:
    mock_idp.register_client("abc", "s")
    body = json.dumps(
        {"grant_type": "client_credentials", "client_id": "abc", "client_secret": secret}
    )
    response = post(mock_idp, body, "application/json")
    assert (response.status, response.json()["error"]) == (401, "access_denied")


def test_a_longer_secret_is_a_wrong_secret(mock_idp: MockIdP) -> None:
    mock_idp.register_client("abc", "right")
    body = "grant_type=client_credentials&client_id=abc&client_secret=rightX"
    assert post(mock_idp, body).status == 401


def test_empty_scope_gets_the_clients_grant(mock_idp: MockIdP) -> None:
    mock_idp.register_client("abc", "s", scopes=["read:messages", "write:messages"])
    body = "grant_type=client_credentials&client_id=abc&client_secret=s&scope="
    assert post(mock_idp, body).json()["scope"] == "read:messages write:messages"


def test_token_answers_are_not_cached(mock_idp: MockIdP) -> None:
    mock_idp.register_client("abc", "s")
    ok = post(mock_idp, "grant_type=client_credentials&client_id=abc&client_secret=s")
    denied = post(mock_idp, "grant_type=client_credentials&client_id=abc&client_secret=x")
    for answer in (ok, denied):
        assert (answer.headers["Cache-Control"], answer.headers["Pragma"]) == (
            "no-store",
            "no-cache",
        )


def test_expires_in_follows_the_idp(mock_idp: MockIdP) -> None:
    mock_idp.expires_in = 600
    assert post(mock_idp, "grant_type=client_credentials&client_id=a").json()["expires_in"] == 600


def test_a_fault_applies_to_a_crashing_route_too(mock_idp: MockIdP) -> None:
    mock_idp.keys.retire(mock_idp.keys.signing_key.kid)
    mock_idp.inject_fault(TOKEN, Fault.error(503), times=1)
    assert post(mock_idp, "grant_type=client_credentials&client_id=a").status == 503


def test_a_blank_audience_is_the_default(mock_idp: MockIdP) -> None:
    response = post(mock_idp, "grant_type=client_credentials&client_id=a&audience=")
    assert response.status == 200
    assert decode_unverified(response.json()["access_token"])[1]["aud"] == mock_idp.audience


def test_clearing_one_path_removes_only_its_faults(mock_idp: MockIdP) -> None:
    mock_idp.inject_fault(JWKS, Fault.html())  # status 200: only the body shows it
    mock_idp.inject_fault(TOKEN, Fault.error(500))
    mock_idp.clear_faults(JWKS)
    assert mock_idp.handle(Request("GET", JWKS)).json() == mock_idp.jwks()
    assert mock_idp.handle(Request("POST", TOKEN)).status == 500


def test_fault_defaults(mock_idp: MockIdP) -> None:
    """``Fault.error()`` is a 503, 400 is an error status too, and only ``slow`` delays."""
    assert Fault.error().status == 503
    assert Fault.error(400).status == 400
    for fault in (Fault.error(), Fault.garbage(), Fault.oversized(10), Fault.html(),
                  Fault.redirect(), Fault(status=500)):  # fmt: skip
        assert fault.delay == 0.0
    mock_idp.inject_fault(JWKS, Fault.error(), times=1)
    assert mock_idp.handle(Request("GET", JWKS)).delay == 0.0


@pytest.mark.parametrize("credentials", ["not-base64!", base64.b64encode(b"x:y").decode()])
def test_a_bearer_header_on_the_token_endpoint_is_not_client_authentication(
    mock_idp: MockIdP, credentials: str
) -> None:
    request = Request(
        "POST",
        TOKEN,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": f"Bearer {credentials}",
        },
        b"grant_type=client_credentials&client_id=" + mock_idp.client_id.encode(),
    )
    response = mock_idp.handle(request)
    assert response.status == 200, response.body
    assert response.json()["token_type"] == "Bearer"


@pytest.mark.parametrize("status", [204, 304])
def test_a_fault_with_a_status_that_has_no_content_drops_the_body(
    mock_idp: MockIdP, status: int
) -> None:
    """RFC 9110 sections 15.3.5 and 15.4.5; a 204 has no ``Content-Length`` either."""
    mock_idp.inject_fault(JWKS, Fault(status=status))
    response = mock_idp.handle(Request("GET", JWKS))
    assert (response.status, response.body) == (status, b"")
    assert response.content_length == (None if status == 204 else "0")
    assert Response(200, body=b"abc").content_length == "3"


def test_leading_slashes_collapse_for_routes_faults_and_hits(mock_idp: MockIdP) -> None:
    """As CPython's ``http.server`` reads ``//path``, so that every transport routes it alike."""
    mock_idp.inject_fault(JWKS, Fault.error(503), times=1)
    assert mock_idp.handle(Request("GET", "//" + JWKS)).status == 503
    assert mock_idp.handle(Request("GET", "///" + JWKS)).status == 200
    assert [(h.path, h.status) for h in mock_idp.hits] == [(JWKS, 503), (JWKS, 200)]


def test_faults_are_injected_at_the_path_relative_to_the_issuer(mock_idp: MockIdP) -> None:
    """The path a fault names is the one hits record: relative to a non-root issuer's path."""
    mock_idp.issuer = "https://host.test/tenant/"
    mock_idp.inject_fault(JWKS, Fault.error(503), times=1)
    assert mock_idp.handle(Request("GET", "/tenant" + JWKS)).status == 503
    assert mock_idp.handle(Request("GET", "/tenant" + JWKS)).status == 200


def test_a_transport_s_own_refusal_is_recorded_without_a_route_or_fault(
    mock_idp: MockIdP,
) -> None:
    mock_idp.inject_fault(TOKEN, Fault.error(503), times=1)
    answer = unread(mock_idp, "POST", "//" + TOKEN, too_large())
    assert (answer.status, answer.json()["error"]) == (413, "invalid_request")
    assert [(h.method, h.path, h.status) for h in mock_idp.hits] == [("POST", TOKEN, 413)]
    assert mock_idp.handle(token_request("grant_type=client_credentials")).status == 503


def test_the_largest_body_a_transport_takes_is_the_1_mib_its_413_names() -> None:
    assert MAX_REQUEST_BODY == 1024 * 1024
    assert "over 1 MiB" in too_large().json()["error_description"]


def test_every_fault_the_readme_names_is_injected_as_written(mock_idp: MockIdP) -> None:
    """README, "Faults per route": each factory as shown, given to ``inject_fault`` alone,
    changes the next answer and only that one."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    sentence = readme[readme.index("Faults per route") :].split("and\nevery hit recorded", 1)[0]
    shown = re.findall(r"`(Fault\.\w+\([^`]*\))`", sentence)
    assert len(shown) == 6, sentence
    normal = mock_idp.handle(get(mock_idp, JWKS))
    for expression in shown:
        fault = eval(expression, {"Fault": Fault})  # noqa: S307 (our own README)
        mock_idp.inject_fault(JWKS, fault, times=1)
        assert mock_idp.handle(get(mock_idp, JWKS)) != normal, expression
        assert mock_idp.handle(get(mock_idp, JWKS)) == normal, expression
