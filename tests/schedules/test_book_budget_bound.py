"""An integration sent orders faster than its request budget checks them at MONITOR_CHECK_BUDGET
requests each: its schedule is learned with the allowance its budget serves (budgets.allowance)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from bench.schedule_eval import expected_requests
from budgets.models import RequestBudget
from providers.models import Integration
from schedules.book import ScheduleBook
from schedules.learning import learn_schedule
from schedules.rules import CheckRules
from tests.factories import create_sent_order
from tests.schedules.completions import completed_orders

pytestmark = pytest.mark.django_db

CAP = 600.0
# 70 % 5-30 s, 25 % 30-300 s, 5 % 10-60 min: the reference mix's shape, in 100 orders.
SAMPLES = [5 + n % 26 for n in range(70)] + [30 + 11 * n for n in range(25)] + [600 + 600 * n for n in range(5)]
WINDOW = 900.0


@pytest.fixture(autouse=True)
def check_budget(settings):
    settings.MONITOR_CHECK_BUDGET = 3


def integration_with_budget(per_second: float | None) -> str:
    """A znet integration with 100 completions sent in the last 15 minutes (and 100 older ones),
    and a budget of `per_second` (None: the family's 5/s)."""
    integration = Integration.objects.create(name="znet main", provider="znet")
    if per_second is not None:
        RequestBudget.objects.create(integration_id=integration.pk, requests_per_second=per_second, max_in_flight=1)
    completed_orders(integration.pk, SAMPLES[:95])  # sent within the last 15 minutes
    completed_orders(integration.pk, SAMPLES[95:], completed_at=timezone.now() - timedelta(minutes=20))
    for _ in range(5):
        create_sent_order(str(integration.pk), sent_ago=timedelta(minutes=3))  # still waiting
    return str(integration.pk)


def test_orders_sent_faster_than_the_budget_serves_get_a_schedule_within_the_allowance():
    integration = integration_with_budget(0.2)  # 0.2/s x 900 s = 180 requests for 100 orders

    entry = ScheduleBook(CheckRules.from_settings()).entry_for(integration)

    assert entry.budget_bound is not None
    assert entry.budget_bound.requests_per_order == pytest.approx(1.8)
    assert entry.budget_bound.orders_per_second == pytest.approx(100 / WINDOW)
    assert entry.offsets == tuple(learn_schedule(SAMPLES, 1.8, CAP, safety_errors=0.0))
    assert expected_requests(entry.offsets, SAMPLES, CAP) <= 1.8
    # At the check budget the same samples would cost more than the budget serves.
    assert expected_requests(learn_schedule(SAMPLES, 3, CAP), SAMPLES, CAP) > 1.8


def test_orders_sent_slower_than_the_budget_serves_keep_the_check_budget():
    integration = integration_with_budget(None)  # znet's 5/s: 45 requests an order

    entry = ScheduleBook(CheckRules.from_settings()).entry_for(integration)

    assert entry.budget_bound is None
    assert entry.offsets == tuple(learn_schedule(SAMPLES, 3, CAP))
    assert expected_requests(entry.offsets, SAMPLES, CAP) > 1.8


def test_an_allowance_under_one_request_gets_the_cheapest_schedule():
    integration = integration_with_budget(0.05)  # 45 requests for 100 orders

    entry = ScheduleBook(CheckRules.from_settings()).entry_for(integration)

    assert entry.budget_bound is not None
    assert entry.budget_bound.requests_per_order == pytest.approx(0.45)
    assert entry.offsets == tuple(learn_schedule(SAMPLES, 1, CAP, safety_errors=0.0))
    assert entry.as_dict()["budget_bound"] == {
        "requests_per_order": 0.45,
        "orders_per_second": 0.111,
        "budget_per_second": 0.05,
    }


def test_a_failing_budget_read_keeps_the_allowances_in_use_and_still_learns_the_samples(time_machine, caplog):
    time_machine.move_to(timezone.now(), tick=False)
    integration = integration_with_budget(0.2)
    book = ScheduleBook(CheckRules.from_settings())
    bound = book.entry_for(integration).budget_bound
    completed_orders(integration, [20.0] * 100)  # what the next read learns from
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {RequestBudget._meta.db_table}")  # rolled back with the test
    time_machine.shift(timedelta(minutes=2))

    entry = book.entry_for(integration)

    assert "budget-bound schedules not refreshed" in caplog.text
    assert entry.samples == 200 and entry.budget_bound == bound
    assert entry.offsets == tuple(
        learn_schedule([20.0] * 100 + SAMPLES, bound.requests_per_order, CAP, safety_errors=0.0)
    )
