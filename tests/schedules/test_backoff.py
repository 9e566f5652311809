import random
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from schedules.backoff import backoff_seconds, next_check_time
from schedules.rules import CheckRules


def rules(**changes) -> CheckRules:
    """The rules of the default settings, 30 s base and 600 s cap, with `changes`."""
    return replace(CheckRules.from_settings(), backoff_base_seconds=30, backoff_cap_seconds=600, **changes)


@pytest.mark.parametrize("attempt,expected", [(1, 30), (2, 60), (3, 120), (4, 240), (5, 480), (6, 600), (50, 600)])
def test_exponential_from_30s_capped_at_600s(attempt, expected):
    assert backoff_seconds(attempt, rules(backoff_jitter=0)) == expected


def test_jitter_stays_within_ten_percent():
    rng = random.Random(5)
    delays = [backoff_seconds(3, rules(backoff_jitter=0.1), rng=rng) for _ in range(500)]
    assert min(delays) >= 108 and max(delays) <= 132
    assert max(delays) - min(delays) > 10  # really spread


def test_huge_attempt_counts_do_not_overflow():
    assert backoff_seconds(10**9, rules(backoff_jitter=0)) == 600


def test_permanent_failures_wait_the_maximum():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert (next_check_time(now, 1, rules(backoff_jitter=0), permanent=True) - now).total_seconds() == 600
    assert (next_check_time(now, 1, rules(backoff_jitter=0)) - now).total_seconds() == 30


def test_the_rules_are_the_settings(settings):
    settings.MONITOR_BACKOFF_BASE_SECONDS = 12.0
    settings.MONITOR_MAX_AGE_HOURS = 6.0
    made = CheckRules.from_settings()
    assert (made.backoff_base_seconds, made.max_age_hours) == (12.0, 6.0)
