"""The fixtures: session keys, a fresh IdP per test, the mocked network, the live server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import requests
import responses

from mock_idp import ControllableClock, Fault, KeyState, MockIdP
from mock_idp.http import JWKS
from mock_idp.pytest_plugin import MockIdPKeys
from mock_idp.server import MockIdPServer

_seen: dict[str, object] = {}


def test_session_keys(mock_idp_keys: MockIdPKeys) -> None:
    keys = mock_idp_keys
    assert [k.key_size for k in (keys.primary, keys.secondary, keys.foreign)] == [2048] * 3
    assert keys.rsa_1024.key_size == 1024
    assert keys.ec_p256.crv == "P-256"
    assert len({keys.primary.kid, keys.secondary.kid, keys.foreign.kid}) == 3


@pytest.mark.parametrize("round_", [1, 2])
def test_a_fresh_idp_per_test_with_the_same_keys(
    round_: int, mock_idp: MockIdP, mock_idp_keys: MockIdPKeys
) -> None:
    assert mock_idp.issuer == "https://tenant.mock-idp.test/"
    assert mock_idp.audience == "https://api.example.test"
    assert mock_idp.keys.signing_key is mock_idp_keys.primary
    assert mock_idp.foreign_key is mock_idp_keys.foreign
    assert [k.kid for k in mock_idp.keys] == [mock_idp_keys.primary.kid]
    assert isinstance(mock_idp.clock, ControllableClock)
    assert not mock_idp.clock.frozen
    assert mock_idp.hits == []
    # changes made in round 1 must not leak into round 2
    assert "idp" not in _seen or _seen["idp"] is not mock_idp
    _seen["idp"] = mock_idp
    mock_idp.keys.add(mock_idp_keys.secondary, KeyState.SIGNING)
    mock_idp.inject_fault(JWKS, Fault.error())
    mock_idp.clock.freeze(0)


def test_mint_token_is_mock_idp_mint(mint_token: Callable[..., str], mock_idp: MockIdP) -> None:
    assert mint_token.__self__ is mock_idp  # type: ignore[attr-defined]
    assert mint_token(scope="read:messages").count(".") == 2


def test_mocked_network_fixture(
    mock_idp: MockIdP, mock_idp_network: responses.RequestsMock
) -> None:
    assert isinstance(mock_idp_network, responses.RequestsMock)
    assert requests.get(mock_idp.jwks_uri, timeout=30).json() == mock_idp.jwks()
    assert mock_idp.hit_count(JWKS) == 1


def test_live_fixture(mock_idp_live: MockIdPServer, mock_idp_keys: MockIdPKeys) -> None:
    assert mock_idp_live.idp.issuer == mock_idp_live.url
    assert mock_idp_live.idp.keys.signing_key is mock_idp_keys.primary
    jwks = requests.get(mock_idp_live.url + ".well-known/jwks.json", timeout=30).json()
    assert jwks == mock_idp_live.idp.jwks()


def _live_and_mocked_network_both_answer(live: MockIdPServer, mock_idp: MockIdP) -> None:
    """The mock lets the live server's own URL through, and no other."""
    assert requests.get(live.url + ".well-known/jwks.json", timeout=30).json() == live.idp.jwks()
    assert requests.get(mock_idp.jwks_uri, timeout=30).json() == mock_idp.jwks()
    with pytest.raises(requests.ConnectionError, match="Connection refused by Responses"):
        requests.get(f"http://127.0.0.1:{live.port + 1}/", timeout=30)


def test_the_live_server_is_reachable_under_the_mocked_network(
    mock_idp_live: MockIdPServer, mock_idp_network: responses.RequestsMock, mock_idp: MockIdP
) -> None:
    _live_and_mocked_network_both_answer(mock_idp_live, mock_idp)


def test_the_live_server_is_reachable_when_the_network_is_mocked_first(
    mock_idp_network: responses.RequestsMock, mock_idp_live: MockIdPServer, mock_idp: MockIdP
) -> None:
    _live_and_mocked_network_both_answer(mock_idp_live, mock_idp)


def test_usage_block_in_the_docstring() -> None:
    import mock_idp.pytest_plugin as plugin

    assert plugin.__doc__ is not None
    assert 'pytest_plugins = ["mock_idp.pytest_plugin"]' in plugin.__doc__


#: A suite of its own, run by pytest in a subprocess with only the plugin loaded.
SCOPES_SUITE = """
import socket
from pathlib import Path

import pytest

seen = {}


@pytest.mark.parametrize("round_", [1, 2])
def test_keys_are_made_once_per_session(mock_idp_keys, round_):
    assert seen.setdefault("keys", mock_idp_keys) is mock_idp_keys
    Path("kid-seen.txt").write_text(mock_idp_keys.primary.kid)


def test_a_live_server(mock_idp_live):
    seen["server"] = mock_idp_live
    socket.create_connection(("127.0.0.1", mock_idp_live.port), timeout=5).close()


def test_the_live_server_is_stopped_after_its_test():
    with pytest.raises(RuntimeError, match="not running"):
        seen["server"].url
"""


#: Run after ``SCOPES_SUITE``: another module, the same session (found by mutation testing: with
#: one module, a module-scoped ``mock_idp_keys`` passed too).
SCOPES_SUITE_NEXT_MODULE = """
from pathlib import Path


def test_keys_are_the_same_in_another_module(mock_idp_keys):
    assert mock_idp_keys.primary.kid == Path("kid-seen.txt").read_text()
"""


def test_fixture_scopes_and_teardown(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``mock_idp_keys`` is session-scoped (RSA keys are made once); ``mock_idp_live`` stops
    its server when its test ends."""
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[2]))
    pytester.makepyfile(test_scopes=SCOPES_SUITE, test_scopes_z=SCOPES_SUITE_NEXT_MODULE)
    result = pytester.runpytest_subprocess(
        "-p", "mock_idp.pytest_plugin", "-p", "no:django", "-p", "no:xdist", "-p", "no:randomly",
        "-p", "no:cacheprovider", "-q",
    )  # fmt: skip
    result.assert_outcomes(passed=5)


WITHOUT_RESPONSES_SUITE = """
import pytest
import requests

def test_the_live_server(mock_idp_live, mint_token):
    assert requests.get(mock_idp_live.url + ".well-known/jwks.json", timeout=30).ok
    assert mint_token().count(".") == 2

def test_the_mocked_network_needs_responses(mock_idp_network):
    pass
"""


def test_the_plugin_loads_without_responses(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``responses`` is needed for ``mock_idp_network`` only, as the README says."""
    pytester.makepyfile(
        responses="raise ImportError('responses is not installed here')",
        test_without=WITHOUT_RESPONSES_SUITE,
    )
    monkeypatch.setenv("PYTHONPATH", f"{pytester.path}:{Path(__file__).resolve().parents[2]}")
    result = pytester.runpytest_subprocess(
        "-p", "mock_idp.pytest_plugin", "-p", "no:django", "-p", "no:xdist", "-p", "no:randomly",
        "-p", "no:cacheprovider", "-q", "test_without.py",
    )  # fmt: skip
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ImportError: responses is not installed here*"])
