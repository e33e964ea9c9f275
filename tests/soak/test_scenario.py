"""The soak scenario's settings, derived from its duration."""

from __future__ import annotations

import pytest

from mock_idp import forgeries
from soak.scenario import FORGERIES, SoakConfig
from tests.imports import packages_loaded_by


@pytest.mark.parametrize(("duration", "interval"), [(5.0, 0.125), (40.0, 1.0), (600.0, 1.0)])
def test_memory_is_sampled_ten_times_a_quarter_at_most_once_a_second(
    duration: float, interval: float
) -> None:
    """CI's 5 s run has quarters of 1.25 s: one sample a second could miss a quarter."""
    assert SoakConfig.for_duration(duration).rss_interval == interval


@pytest.mark.parametrize(("duration", "timeout"), [(5.0, 1.0), (60.0, 3.0), (3600.0, 60.0)])
def test_the_jwks_timeout_is_a_twentieth_within_what_the_api_accepts(
    duration: float, timeout: float
) -> None:
    """AUTH0_JWKS_TIMEOUT over 60 s is a misconfiguration (E007): the API would answer 503."""
    assert SoakConfig.for_duration(duration).jwks_timeout == timeout


@pytest.mark.parametrize("timeout", [0.0, 61.0])
def test_a_jwks_timeout_the_api_refuses_is_refused(timeout: float) -> None:
    with pytest.raises(ValueError, match="JWKS timeout"):
        SoakConfig.for_duration(600.0, jwks_timeout=timeout)


def test_client_processes_import_neither_django_nor_the_api() -> None:
    """soak/__init__.py: client processes import ``soak.load`` only, and stay light."""
    assert packages_loaded_by("import soak.load", among=("django", "apiexample")) == []


@pytest.mark.parametrize("duration", [5.0, 60.0])
def test_the_slow_jwks_answers_within_the_fetch_timeout_and_the_hung_one_beyond_it(
    duration: float,
) -> None:
    config = SoakConfig.for_duration(duration)
    assert config.idp_delay("jwks_slow") == config.slow_delay < config.jwks_timeout
    assert config.idp_delay("jwks_hung") == config.hung_delay > config.jwks_timeout
    assert config.idp_delay("jwks_down") == config.idp_delay("recovered") == 0.0


def test_the_api_runs_with_the_cache_timings_the_report_judges_by() -> None:
    config = SoakConfig.for_duration(60.0, cache_ttl=9.5, cooldown=1.5)
    assert config.environment() == {
        "AUTH0_JWKS_CACHE_TTL": "9.5",
        "AUTH0_JWKS_COOLDOWN": "1.5",
        "AUTH0_JWKS_TIMEOUT": "3",
    }


def test_the_forgeries_are_known_to_the_mock_idp_and_include_the_classic_attacks() -> None:
    assert set(FORGERIES) <= set(forgeries.FORGERIES)
    assert len(set(FORGERIES)) == len(FORGERIES)
    classic = {"alg_none", "hmac_public_key", "foreign_key", "tampered_signature", "embedded_jwk"}
    assert classic <= set(FORGERIES)
