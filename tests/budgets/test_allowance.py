"""The allowance of status requests per order: what an integration's budget serves for the
orders it is sent, and the reads behind it (every integration at once)."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from budgets.allowance import WINDOW_SECONDS, allowance, budget_bound, budgets_per_second, sent_counts
from budgets.models import RequestBudget
from providers.models import Integration
from tests.factories import create_sent_order
from tests.schedules.completions import completed_orders

budgets = st.floats(min_value=0.01, max_value=100.0)
orders = st.integers(min_value=1, max_value=1_000_000)
check_budgets = st.floats(min_value=1.0, max_value=50.0)


def test_two_orders_a_second_on_five_requests_a_second_get_2_5_requests_each():
    # 5/s x 900 s = 4,500 requests for 1,800 orders.
    assert allowance(5.0, 1800) == pytest.approx(2.5)
    bound = budget_bound(5.0, 1800, check_budget=3.0)
    assert bound is not None
    assert (bound.requests_per_order, bound.orders_per_second, bound.budget_per_second) == (
        pytest.approx(2.5),
        pytest.approx(2.0),
        5.0,
    )


def test_no_orders_sent_is_never_budget_bound():
    assert allowance(0.01, 0) == float("inf")
    assert budget_bound(0.01, 0, check_budget=50.0) is None


@given(budgets, orders, check_budgets)
def test_bound_exactly_when_the_checks_at_the_check_budget_would_need_more_than_the_budget(
    per_second, sent, check_budget
):
    bound = budget_bound(per_second, sent, check_budget)
    needed = sent * check_budget  # requests in the window at the check budget
    served = per_second * WINDOW_SECONDS
    if bound is None:
        assert needed <= served * (1 + 1e-9)
    else:
        assert needed > served * (1 - 1e-9)
        assert bound.requests_per_order < check_budget
        # What the allowance spends on the window's orders is what the budget serves in it.
        assert bound.requests_per_order * sent == pytest.approx(served)


@given(budgets, orders, orders)
def test_more_orders_or_a_smaller_budget_never_raise_the_allowance(per_second, sent, more):
    assert allowance(per_second, sent + more) <= allowance(per_second, sent)
    assert allowance(per_second / 2, sent) <= allowance(per_second, sent)


@pytest.mark.django_db
def test_orders_sent_in_the_last_15_minutes_are_counted_per_integration_in_one_query(django_assert_num_queries):
    integration, other = uuid.uuid4(), uuid.uuid4()
    for ago in (1, 5, 14):
        create_sent_order(str(integration), sent_ago=timedelta(minutes=ago))
    create_sent_order(str(integration).upper(), sent_ago=timedelta(minutes=2))  # the same integration
    create_sent_order(str(integration), sent_ago=timedelta(minutes=16))  # before the window
    completed_orders(other, [30.0] * 3)  # completed since: they were sent in the window all the same
    create_sent_order("", sent_ago=timedelta(minutes=1))  # no provider

    with django_assert_num_queries(1):
        counts = sent_counts(timezone.now())

    assert counts == {str(integration): 4, str(other): 3}


@pytest.mark.django_db
def test_every_integrations_budget_is_read_in_one_query(django_assert_num_queries):
    default = Integration.objects.create(name="znet default", provider="znet")
    own = Integration.objects.create(name="znet own", provider="znet")
    per_minute = Integration.objects.create(name="internal per minute", provider="internal")
    RequestBudget.objects.create(integration_id=own.pk, requests_per_second=2.0, max_in_flight=1)
    RequestBudget.objects.create(
        integration_id=per_minute.pk, requests_per_second=10.0, max_in_flight=4, requests_per_minute=60
    )

    with django_assert_num_queries(1):
        per_second = budgets_per_second()

    assert per_second == {str(default.pk): 5.0, str(own.pk): 2.0, str(per_minute.pk): 1.0}
