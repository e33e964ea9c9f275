"""Per-token figures: every measurement over the same tokens, ours really validating them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from joserfc import jwt as jose_jwt

from apiexample.errors import InvalidToken
from apiexample.validator import Auth0JWTBearerTokenValidator
from bench import per_token as per_token_module
from bench.per_token import ROWS, per_token, signing_input
from mock_idp import MockIdP
from tests.bench.conftest import IdPMinter


def test_the_signing_input_is_what_the_signature_covers(mock_idp: MockIdP) -> None:
    signed, signature = signing_input(mock_idp.mint())
    public_key = mock_idp.keys.signing_key.private_key.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())  # raises if not


def test_every_row_is_measured_and_read_against_the_raw_verify(
    api: Any, mock_idp: MockIdP, minter: IdPMinter
) -> None:
    result = per_token(mock_idp, minter, mock_idp.mint(), rounds=2, tokens_per_round=3)
    assert minter.minted == 6
    names = [name for _, name in ROWS]
    assert list(result.us) == list(result.ratio) == names
    assert all(us > 0 for us in result.us.values())
    assert result.ratio["raw"] == 1.0
    lines = result.lines()
    assert lines[0] == "per-token validation, RS256 (median of 2 interleaved rounds of 3)"
    assert [line.split("  ")[1] for line in lines[2:]] == [label for label, _ in ROWS]


@pytest.mark.parametrize(
    "invalid", [{"expires_in": -3600}, {"audience": "https://elsewhere.example"}]
)
def test_a_token_ours_would_refuse_stops_the_run(
    api: Any, mock_idp: MockIdP, invalid: dict[str, Any]
) -> None:
    with pytest.raises(InvalidToken):
        per_token(
            mock_idp, IdPMinter(mock_idp, **invalid), mock_idp.mint(), rounds=1, tokens_per_round=2
        )


#: Seconds per token of each timed function, round by round: chosen so that the medians of the
#: rounds differ from their means, from the last round and from the ratio of the medians.
SCRIPT = {
    "raw": [20, 10, 30],
    "miss": [30, 30, 60],  # x raw: 1.5, 3.0, 2.0
    "hit": [2, 4, 3],  # 0.1, 0.4, 0.1
    "joserfc": [40, 30, 60],  # 2.0, 3.0, 2.0
    "pyjwt_decode": [50, 40, 90],  # 2.5, 4.0, 3.0
}


def test_each_figure_is_per_token_and_the_median_of_its_rounds_ratios(
    api: Any, mock_idp: MockIdP, minter: IdPMinter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the timer scripted: microseconds per token, each round's ratio to that round's raw
    verify, and the median over the rounds; what each timed function validates is recorded."""
    n = 2
    scripted = {name: iter(seconds) for name, seconds in SCRIPT.items()}
    running: list[str | None] = [None]
    seen: list[tuple[str | None, str, str]] = []  # (timed function, what was called, token)

    def timed(fn: Callable[[], None]) -> float:
        running[0] = fn.__name__
        fn()
        running[0] = None
        return next(scripted[fn.__name__]) * n / 1e6

    def spy(what: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def called(token: str, *args: Any, **kwargs: Any) -> Any:
            seen.append((running[0], what, token))
            return real(token, *args, **kwargs)

        return called

    validate = Auth0JWTBearerTokenValidator.authenticate_token
    monkeypatch.setattr(
        Auth0JWTBearerTokenValidator,
        "authenticate_token",
        lambda self, token: spy("ours", lambda t: validate(self, t))(token),
    )
    monkeypatch.setattr(per_token_module, "timed", timed)
    monkeypatch.setattr(per_token_module, "signing_input", spy("raw", signing_input))
    monkeypatch.setattr(jose_jwt, "decode", spy("joserfc", jose_jwt.decode))
    monkeypatch.setattr(pyjwt, "decode", spy("pyjwt", pyjwt.decode))
    repeated = mock_idp.mint()
    result = per_token(mock_idp, minter, repeated, rounds=3, tokens_per_round=n)

    assert result.us == {"raw": 20, "miss": 30, "hit": 3, "joserfc": 40, "pyjwt": 50}
    assert result.ratio == pytest.approx(
        {"raw": 1.0, "miss": 2.0, "hit": 0.1, "joserfc": 2.0, "pyjwt": 3.0}
    )
    assert result.lines()[3] == f"  {ROWS[1][0]:40s} {30:9.1f} {2:8.2f}"

    def tokens(run: str | None, what: str) -> list[str]:
        return [token for r, w, token in seen if (r, w) == (run, what)]

    assert tokens(None, "ours") == [repeated] * 2  # the JWKS fetched, the token stored
    assert tokens("hit", "ours") == [repeated] * n * 3
    fresh = tokens("miss", "ours")
    assert len(set(fresh)) == len(fresh) == n * 3  # each fresh token validated once, no repeat
    assert repeated not in fresh
    assert tokens(None, "raw") == fresh  # the raw verify's inputs, prepared before each round
    assert tokens("joserfc", "joserfc") == tokens("pyjwt_decode", "pyjwt") == fresh
