"""Following a check schedule: the default one, the next check after a moment, the tail."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.schedule_eval import check_offsets
from schedules.offsets import HORIZON_SECONDS, default_schedule, next_check_offset

CAP = 600.0
caps = st.sampled_from([15.0, 60.0, 250.5, 600.0])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.01, 1.0), min_size=1, max_size=12), st.floats(-100, 2 * HORIZON_SECONDS), caps)
def test_the_next_check_comes_after_elapsed_and_within_the_cap(gaps, elapsed, cap):
    schedule = list(itertools.accumulate(gap * cap for gap in gaps))
    following = next_check_offset(schedule, elapsed, cap)
    assert elapsed < following <= max(elapsed, 0.0) + cap + 1e-6
    assert next_check_offset(schedule, following, cap) > following


def test_default_schedule_keeps_every_gap_within_a_small_cap():
    assert default_schedule(20.0) == [10, 25, 45, 65, 85, 105, 125]


def test_after_the_listed_checks_the_gap_grows_by_half_up_to_the_cap():
    assert check_offsets(default_schedule(CAP), 3_000, CAP) == [
        *[10, 25, 45, 90, 150, 240, 360],
        *[540, 810, 1215, 1815, 2415, 3015],
    ]
    # A day later: one jump gives the check that stepping through every check in between gives.
    assert next_check_offset([10.0], 86_400.5, CAP) == pytest.approx(check_offsets([10.0], 86_400.5, CAP)[-1])


def test_a_late_check_skips_the_offsets_already_passed():
    assert next_check_offset(default_schedule(CAP), 0.0, CAP) == 10
    assert next_check_offset(default_schedule(CAP), 10.0, CAP) == 25
    assert next_check_offset(default_schedule(CAP), 100.0, CAP) == 150
