"""Every case of the security catalogue, through the API: ``test_attack[<case id>]``."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import responses
from django.test import Client

from mock_idp import MockIdP
from mock_idp.forgeries import ATTACKER_URL, FORGERIES
from mock_idp.pytest_plugin import MockIdPKeys
from tests.apiexample.helpers import assert_refused, jwks_fetches
from tests.security.catalogue import CASES, REQUEST, Attack, Case, Scene

pytestmark = pytest.mark.security

#: Shorter segments (``e30``, an empty signature) may appear in logs by coincidence.
_MIN_SEGMENT = 8


def send(api: Client, attack: Attack, path: str) -> Any:
    """One request as a WSGI server would hand it to Django."""
    url = f"{path}?{urlencode(attack.query)}" if attack.query else path
    extra: dict[str, Any] = {}
    if attack.authorization is not None:
        extra["HTTP_AUTHORIZATION"] = attack.authorization
    if attack.form is None:
        return api.generic(attack.method, url, **extra)
    body = urlencode(attack.form)
    return api.generic(
        attack.method, url, body, content_type="application/x-www-form-urlencoded", **extra
    )


@pytest.fixture
def attacker_host(mock_idp: MockIdP, mock_idp_network: Any) -> Iterator[None]:
    """The attacker's host really serves its key set and certificate (``jku``, ``x5u``), so a
    validator that followed those headers would verify the forgery; and it is never called."""
    attacker = mock_idp.foreign_key
    everything = re.compile(re.escape(ATTACKER_URL) + r".*")
    mock_idp_network.add(responses.GET, everything, json={"keys": [attacker.public_jwk()]})
    yield
    called = [
        c.request.url for c in mock_idp_network.calls if c.request.url.startswith(ATTACKER_URL)
    ]
    assert called == [], "the validator fetched from the attacker's host"


@pytest.fixture
def scene(
    api: Client,
    api_settings: Any,
    mock_idp: MockIdP,
    mock_idp_keys: MockIdPKeys,
    monkeypatch: pytest.MonkeyPatch,
    attacker_host: None,
) -> Scene:
    return Scene(
        mock_idp,
        mock_idp_keys,
        api_settings,
        lambda attack, path: send(api, attack, path),
        monkeypatch,
    )


def assert_answer(response: Any, case: Case) -> None:
    """Status, ``error``, ``WWW-Authenticate`` (via assert_refused) or an exact success."""
    if case.status == 200:
        assert response.status_code == 200, response.content
        assert "WWW-Authenticate" not in response
    elif case.status == 405:
        assert response.status_code == 405
        assert response["Allow"] == "GET"
        assert "WWW-Authenticate" not in response
    else:
        assert case.error is not None
        assert_refused(response, case.status, case.error)
        if case.status == 403:
            assert 'scope="read:messages"' in response["WWW-Authenticate"]


def refusal_reasons(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The reason codes of the refusals logged, in order (the records' ``reason`` field, so a
    hostile ``kid`` in the message cannot pass for one)."""
    return [
        record.reason
        for record in caplog.records
        if record.name == "apiexample.protector" and hasattr(record, "reason")
    ]


#: ``mint`` options that take bytes as they are: a case needing one sends a forgery with no name.
_RAW_MINT_OPTIONS = {"payload", "protected", "signature", "encode_payload"}


class _Made:
    """The tokens ``idp.mint`` and ``idp.forge`` hand the catalogue (not those a forgery mints
    on its way). ``mint``'s raw options, given by the catalogue to ``mint`` or passed through a
    forgery that has no option of that name, fail the case; a forgery itself may use them."""

    def __init__(self, idp: MockIdP, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tokens: set[str] = set()
        self._depth = 0
        self._mint, self._forge = idp.mint, idp.forge
        monkeypatch.setattr(idp, "mint", self.mint)
        monkeypatch.setattr(idp, "forge", self.forge)

    def mint(self, **options: Any) -> str:
        self._refuse_raw(options)
        return self._made(self._mint, **options)

    def forge(self, name: str, **options: Any) -> str:
        self._refuse_raw(options, own=FORGERIES[name].options)  # alg_none's "signature" mode
        return self._made(self._forge, name, **options)

    def _refuse_raw(self, options: dict[str, Any], own: Iterable[str] = ()) -> None:
        raw = sorted((_RAW_MINT_OPTIONS & set(options)) - set(own))
        assert self._depth or not raw, f"{', '.join(raw)} given raw: a forgery with no name"

    def _made(self, make: Callable[..., str], *args: Any, **options: Any) -> str:
        self._depth += 1
        try:
            token = make(*args, **options)
        finally:
            self._depth -= 1
        if not self._depth:
            self.tokens.add(token)
        return token


def test_made_fails_a_token_edited_or_given_as_bytes_by_the_catalogue(
    mock_idp: MockIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _Made(mock_idp, monkeypatch)
    assert mock_idp.forge("respelled_signature", mode="nul_appended") in made.tokens
    assert mock_idp.mint(scope="edited") + "A" not in made.tokens
    for raw in ({"payload": b"{}"}, {"payload": "{}"}, {"protected": '"alg"'}):
        with pytest.raises(AssertionError, match=f"{next(iter(raw))} given raw"):
            mock_idp.mint(**raw)
    with pytest.raises(AssertionError, match="encode_payload, signature given raw"):
        mock_idp.forge("other_algorithm", signature=bytes(64), encode_payload=False)
    assert mock_idp.forge("alg_none", signature="original") in made.tokens  # its own option


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_attack(
    case: Case, scene: Scene, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    made = _Made(scene.idp, monkeypatch)
    attack = case.build(scene)
    response = scene.send(attack, case.path)
    assert_answer(response, case)
    reasons = refusal_reasons(caplog)
    if case.reason is None:
        assert reasons == []
    else:
        assert reasons, "refused without a log line"
        assert reasons[-1] == case.reason, f"refused by {reasons[-1]}, not {case.reason}"
    # refused by a rule, not by the fail-closed handler around a crash
    assert "token validation crashed" not in caplog.text
    # one record, one line: nothing a client sends can forge another (CWE-117)
    assert not [r for r in caplog.records if "\n" in r.getMessage()]
    if case.fetches is not None:
        assert jwks_fetches(scene.idp) == case.fetches
    token = (attack.authorization or "").strip().partition(" ")[2]
    for segment in token.split("."):
        if len(segment) >= _MIN_SEGMENT:
            assert segment not in caplog.text, "token material in the logs"
    # SPEC section 3: every forgery in the catalogue can be produced by name. So a case sends
    # a token ``forge`` or a plain ``mint`` returned, never one edited afterwards; the request
    # cases attack what surrounds the token (scheme, header, query, form, method).
    if case.category != REQUEST:
        assert attack.authorization == f"Bearer {token}"
        assert token in made.tokens, "an edited token: name it in mock_idp.forgeries"


def test_the_catalogue_is_large_and_every_case_cites_a_source() -> None:
    assert len(CASES) >= 100
    assert all(c.source and c.attack for c in CASES)
