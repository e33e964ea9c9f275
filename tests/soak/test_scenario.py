"""The soak scenario's settings, derived from its duration."""

from __future__ import annotations

import pytest

from soak.scenario import SoakConfig


@pytest.mark.parametrize(("duration", "interval"), [(5.0, 0.125), (40.0, 1.0), (600.0, 1.0)])
def test_memory_is_sampled_ten_times_a_quarter_at_most_once_a_second(
    duration: float, interval: float
) -> None:
    """CI's 5 s run has quarters of 1.25 s: one sample a second could miss a quarter."""
    assert SoakConfig.for_duration(duration).rss_interval == interval
