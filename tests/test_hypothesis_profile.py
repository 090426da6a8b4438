"""The hypothesis profile of the suite (tests/conftest.py) drops only what flakes on a loaded
machine: the per-case deadline and the too_slow health check. The number of cases is kept."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

from tests.fuzz import test_fuzz


def test_the_profile_drops_the_deadline_and_the_too_slow_check_only() -> None:
    current, stock = settings(), settings.get_profile("lmsprofiles-base")
    assert current.deadline is None
    assert list(current.suppress_health_check) == [HealthCheck.too_slow]
    assert current.max_examples == stock.max_examples
    assert current.derandomize == stock.derandomize
    assert current.phases == stock.phases


def test_the_fuzz_suite_keeps_its_own_settings() -> None:
    assert test_fuzz.SETTINGS.deadline is not None
    assert {HealthCheck.too_slow, HealthCheck.data_too_large} <= set(
        test_fuzz.SETTINGS.suppress_health_check
    )
