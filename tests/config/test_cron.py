"""SENTRY_CRONS_SCHEDULE's check: every crontab schedule is taken, nothing else, and no text raises."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.cron import is_crontab

LIMITS = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


@st.composite
def field(draw, lowest, highest):
    """One crontab field within its values: *, n, a-b, with an optional /step, or a list."""

    def part():
        start = draw(st.integers(lowest, highest))
        end = draw(st.integers(start, highest))
        base = draw(st.sampled_from(["*", str(start), f"{start}-{end}"]))
        step = draw(st.one_of(st.just(""), st.integers(1, highest - lowest + 1).map(lambda n: f"/{n}")))
        return base + step

    return ",".join(part() for _ in range(draw(st.integers(1, 3))))


SCHEDULES = st.tuples(*(field(lowest, highest) for lowest, highest in LIMITS)).map(" ".join)


@given(SCHEDULES)
def test_every_schedule_within_the_fields_values_is_taken(schedule):
    assert is_crontab(schedule)


@given(st.text())
def test_any_text_is_answered_without_an_exception(text):
    assert is_crontab(text) in (True, False)


@pytest.mark.parametrize(
    "schedule", ["*/5 * * * *", "0 3 * * sun", "15 9-17 * jan-jun mon-fri", "0 0 1 * *", "@daily", "@HOURLY"]
)
def test_common_schedules_are_taken(schedule):
    assert is_crontab(schedule)


@pytest.mark.parametrize(
    "schedule", ["", "* * * *", "* * * * * *", "60 * * * *", "*/0 * * * *", "1-60 * * * *", "* * * * mon-xyz", "@every"]
)
def test_anything_else_is_refused(schedule):
    assert not is_crontab(schedule)
