"""The fault core both sandboxes share: queued faults first, then random ones at the configured rates."""

import random
from types import SimpleNamespace

import pytest

from sandbox.faults import CLOSE_WITHOUT_ANSWER, FaultPlan, place_fault_answer


def plan(**rates):
    kinds = tuple(kind.removesuffix("_rate") for kind in rates)
    return FaultPlan(kinds, rates=SimpleNamespace(**rates), rng=random.Random(7))


def test_queued_faults_come_first_in_order_then_the_random_ones():
    faults = plan(http500_rate=0.0, slow_rate=0.0)
    faults.queue("slow", times=2)
    faults.queue("http500")

    assert [faults.pick() for _ in range(4)] == ["slow", "slow", "http500", None]


def test_faults_queued_for_one_key_stay_with_it():
    faults = plan(http500_rate=0.0)
    faults.queue("http500", key="order-1")

    assert faults.pick("order-2") is None
    assert faults.pick() is None
    assert faults.pick("order-1") == "http500"
    assert faults.pick("order-1") is None


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown fault 'teapot'"):
        plan(http500_rate=0.0).queue("teapot")


def test_draws_follow_the_rates_read_at_each_draw():
    rates = SimpleNamespace(http500_rate=1.0, slow_rate=0.0)
    faults = FaultPlan(("http500", "slow"), rates=rates, rng=random.Random(1))
    assert {faults.draw() for _ in range(50)} == {"http500"}

    rates.http500_rate, rates.slow_rate = 0.0, 1.0  # a test changes a running sandbox's rates
    assert {faults.draw() for _ in range(50)} == {"slow"}

    rates.http500_rate = rates.slow_rate = 0.5  # shares add up: every draw is one of them
    drawn = [faults.draw() for _ in range(200)]
    assert set(drawn) == {"http500", "slow"}

    assert {faults.draw(kinds=("slow",)) for _ in range(200)} == {"slow", None}


def test_the_same_seed_draws_the_same_faults():
    first, second = plan(http500_rate=0.3, slow_rate=0.3), plan(http500_rate=0.3, slow_rate=0.3)
    assert [first.draw() for _ in range(100)] == [second.draw() for _ in range(100)]


def test_a_lost_place_answer():
    assert place_fault_answer("http500", 0.5) == (500, "Internal Server Error", 0.5)
    assert place_fault_answer("drop", 0) == (200, CLOSE_WITHOUT_ANSWER, 0)
    assert place_fault_answer(None, 0) is None
