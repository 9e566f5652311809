import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.schedule_eval import expected_delay, expected_requests
from schedules.candidates import Candidates
from schedules.learning import learn_schedule
from schedules.offsets import HORIZON_SECONDS, default_schedule, next_check_offset

CAP = 600.0

# Completion times as they come: clusters of fast orders, long tails, duplicates, zeros.
completion_times = st.one_of(
    st.floats(0, 60),
    st.floats(0, 3_000),
    st.floats(0, HORIZON_SECONDS),
    st.sampled_from([0.0, 1.0, 20.0, 599.5, 600.0, 601.0]),
)
samples = st.lists(completion_times, min_size=1, max_size=250)
caps = st.sampled_from([15.0, 60.0, 250.5, 600.0])
budgets = st.floats(1.0, 12.0)


def reference_mix(count, seed):
    """The issue's reference mix: 70 % 5-30 s, 25 % 30-300 s, 5 % 5-120 min after sending."""
    rng = random.Random(seed)
    parts = rng.choices([(5, 30), (30, 300), (300, 7200)], weights=[70, 25, 5], k=count)
    return [rng.uniform(low, high) for low, high in parts]


def assert_valid(offsets, cap, slowest):
    assert offsets[0] > 0
    assert all(earlier < later for earlier, later in zip(offsets, offsets[1:], strict=False))
    gaps = [later - earlier for earlier, later in zip([0.0, *offsets], offsets, strict=False)]
    assert max(gaps) <= cap + 1e-9
    assert offsets[-1] >= slowest  # the listed checks catch every sample


# Property tests -------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(samples, caps, budgets)
def test_check_times_increase_and_every_gap_stays_within_the_cap(completions, cap, budget):
    offsets = learn_schedule(completions, budget, cap, min_samples=1)
    assert_valid(offsets, cap, max(completions))


@settings(max_examples=100, deadline=None)
@given(samples, caps, budgets)
def test_the_budget_holds_on_the_samples_it_was_built_from(completions, cap, budget):
    offsets = learn_schedule(completions, budget, cap, min_samples=1)
    # Budget 1 asks for the fewest requests the cap allows: the limit when the budget cannot be met.
    fewest = expected_requests(learn_schedule(completions, 1.0, cap, min_samples=1), completions, cap)
    assert expected_requests(offsets, completions, cap) <= max(budget, fewest) + 1e-9


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, CAP - 1), min_size=1, max_size=250), budgets)
def test_a_budget_is_always_met_when_one_check_can_catch_every_sample(completions, budget):
    offsets = learn_schedule(completions, budget, CAP, min_samples=1)
    assert expected_requests(offsets, completions, CAP) <= budget + 1e-9


@pytest.mark.slow
@settings(max_examples=50, deadline=None)
@given(st.lists(completion_times, min_size=50, max_size=150), samples, caps, budgets)
def test_more_samples_never_break_it(completions, more, cap, budget):
    for learned_from in (completions, completions + more):
        offsets = learn_schedule(learned_from, budget, cap)
        assert_valid(offsets, cap, max(learned_from))
        fewest = expected_requests(learn_schedule(learned_from, 1.0, cap), learned_from, cap)
        assert expected_requests(offsets, learned_from, cap) <= max(budget, fewest) + 1e-9


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(st.lists(completion_times, min_size=1, max_size=40), caps, st.sampled_from([0.0, 0.01, 1.0, 30.0, 1e4]))
def test_the_programme_finds_the_best_schedule_for_a_price(completions, cap, price):
    """The fast O(n log n) programme against the plain O(n^2) one it replaces."""
    candidates = Candidates(sorted(completions), cap, 60.0)
    plan = candidates.solve(price)
    assert (plan.delay + price * plan.requests) * candidates.total == pytest.approx(
        plain_programme(candidates, price), rel=1e-9, abs=1e-9
    )


def plain_programme(candidates, price):
    offsets, caught, weight, weighted_sum = (
        candidates.offsets,
        candidates.caught,
        candidates.weight,
        candidates.weighted_sum,
    )
    cost = [0.0] + [math.inf] * (len(offsets) - 1)
    for j in range(1, len(offsets)):
        for i in range(j):
            if offsets[j] - offsets[i] <= candidates.cap:
                step = price * (candidates.total - caught[i]) + offsets[j] * (weight[j] - weight[i])
                cost[j] = min(cost[j], cost[i] + step - (weighted_sum[j] - weighted_sum[i]))
    return cost[-1]


# Concrete cases -------------------------------------------------------------------------------


def test_fewer_than_50_samples_give_the_default_schedule():
    assert learn_schedule([20.0] * 49, 3.0, CAP) == default_schedule(CAP) == [10, 25, 45, 90, 150, 240, 360]
    assert learn_schedule([20.0] * 50, 3.0, CAP) != default_schedule(CAP)


def test_orders_that_all_finish_at_20_s_are_checked_once_at_20_s():
    assert learn_schedule([20.0] * 200, 3.0, CAP) == [20.0]
    assert learn_schedule([20.3] * 200, 3.0, CAP) == [21.0]


def test_a_fast_majority_gets_early_checks_and_the_tail_spends_little():
    rng = random.Random(7)
    completions = [rng.uniform(5, 10) for _ in range(900)] + [rng.uniform(100, 200) for _ in range(100)]
    offsets = learn_schedule(completions, 3.0, CAP)
    assert offsets[0] <= 10
    assert expected_delay(offsets, completions, CAP) < expected_delay(default_schedule(CAP), completions, CAP)


def test_on_the_reference_mix_learning_beats_the_default_with_fewer_requests():
    training, orders = reference_mix(2_000, seed=1), reference_mix(20_000, seed=2)
    learned = learn_schedule(training, 3.0, CAP)
    default = default_schedule(CAP)
    assert expected_requests(learned, orders, CAP) <= 3.0 < expected_requests(default, orders, CAP)
    assert expected_delay(learned, orders, CAP) < expected_delay(default, orders, CAP)


def test_a_larger_budget_buys_shorter_delays():
    training = reference_mix(2_000, seed=3)
    delays = [expected_delay(learn_schedule(training, budget, CAP), training, CAP) for budget in (2.0, 3.0, 6.0)]
    assert delays[0] > delays[1] > delays[2]


def test_without_the_sampling_margin_the_samples_spend_up_to_the_whole_budget():
    training = reference_mix(2_000, seed=4)
    with_margin = learn_schedule(training, 2.5, CAP)
    without = learn_schedule(training, 2.5, CAP, safety_errors=0.0)
    assert expected_requests(with_margin, training, CAP) < expected_requests(without, training, CAP) <= 2.5
    assert expected_delay(without, training, CAP) < expected_delay(with_margin, training, CAP)


def test_a_budget_the_cap_cannot_meet_gives_the_fewest_requests():
    offsets = learn_schedule([1_000.0] * 100, 1.0, CAP)
    assert len(offsets) == 2 and offsets[0] <= CAP and offsets[-1] == 1_000.0
    assert expected_requests(offsets, [1_000.0] * 100, CAP) == 2


def test_requests_and_delay_count_the_check_at_or_after_completion():
    offsets, completions = [10.0, 20.0], [5.0, 10.0, 15.0, 25.0]
    # 5 and 10: the check at 10; 15: at 20 (two requests); 25: at 30, the tail (three requests).
    assert expected_requests(offsets, completions, CAP) == (1 + 1 + 2 + 3) / 4
    assert expected_delay(offsets, completions, CAP) == (5 + 0 + 5 + 5) / 4


def test_unusable_samples_are_ignored_and_negative_ones_count_as_zero():
    assert learn_schedule([math.nan, math.inf] + [20.0] * 60, 3.0, CAP) == [20.0]
    assert learn_schedule([-5.0] * 60, 3.0, CAP) == [1.0]


@pytest.mark.parametrize(
    "call",
    [
        lambda: learn_schedule([20.0] * 60, 0.5, CAP),
        lambda: learn_schedule([20.0] * 60, 3.0, 0.0),
        lambda: learn_schedule([20.0] * 60, 3.0, CAP, delay_weight_seconds=0),
        lambda: next_check_offset([], 5.0, CAP),
        lambda: default_schedule(-1.0),
        lambda: expected_delay([10.0], [], CAP),
    ],
)
def test_bad_arguments_raise_value_error(call):
    with pytest.raises(ValueError):
        call()
