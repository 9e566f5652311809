"""An integration's budget: its family's default or its row; and a claim takes of each
integration only what its request budget serves within the cycle: a throttled integration never
fills a claim, its other orders stay due, the oldest first."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from budgets.budget import ClaimBudget, budget_of_row, family_budget
from budgets.models import RequestBudget
from orders.claiming import claim_due_orders
from providers.models import Integration
from tests.factories import create_sent_order

pytestmark = pytest.mark.django_db


def test_each_family_has_its_providers_guidance_as_default():
    assert (family_budget("znet").per_second, family_budget("znet").in_flight) == (5.0, 2)
    assert (family_budget("apstore").per_second, family_budget("apstore").in_flight) == (10.0, 4)
    assert (family_budget(" Barakat ").per_second, family_budget("barakat").in_flight) == (10.0, 4)
    assert (family_budget("internal").per_second, family_budget("internal").in_flight) == (10.0, 4)


def test_an_operators_row_overrides_the_default_and_a_per_minute_limit_bounds_the_second():
    row = RequestBudget(integration_id=uuid.uuid4(), requests_per_second=8.0, max_in_flight=3)
    assert budget_of_row(row, "znet") == family_budget("znet").__class__(8.0, 3)
    row.requests_per_minute = 120
    assert budget_of_row(row, "internal").per_second == 2.0
    row.requests_per_minute = 6000
    assert budget_of_row(row, "internal").per_second == 8.0


def integration(name, provider="znet"):
    return Integration.objects.create(name=name, provider=provider, base_url="http://127.0.0.1:9")


def claim(budget, limit=100):
    now = timezone.now()
    orders = claim_due_orders(now, limit, now + timedelta(minutes=6), caps=budget.caps()).orders
    budget.took(orders)
    return orders


def test_a_throttled_integration_gets_its_budgets_share_and_the_others_the_rest():
    slow, other = integration("znet-slow"), integration("apstore", "apstore")
    RequestBudget.objects.create(integration_id=slow.pk, requests_per_second=1.0, max_in_flight=1)
    slow_orders = [create_sent_order(str(slow.pk), sent_ago=timedelta(hours=5, minutes=m)) for m in range(40)]
    other_orders = [create_sent_order(str(other.pk), sent_ago=timedelta(minutes=m)) for m in range(10)]

    budget = ClaimBudget(seconds=5)
    claimed = claim(budget)

    # 1 a second for 5 s: its 5 oldest; every order of the other integration.
    oldest_slow = {o.pk for o in slow_orders[-5:]}
    assert {o.pk for o in claimed if o.integration_id == str(slow.pk)} == oldest_slow
    assert {o.pk for o in claimed if o.integration_id == str(other.pk)} == {o.pk for o in other_orders}
    # A second claim of the same cycle takes nothing more of it.
    assert claim(budget) == []


def test_a_paused_integration_is_not_claimed_until_its_pause_ends():
    paused = integration("znet-paused")
    RequestBudget.objects.create(
        integration_id=paused.pk,
        requests_per_second=5.0,
        max_in_flight=2,
        paused_until=timezone.now() + timedelta(minutes=5),
    )
    create_sent_order(str(paused.pk))
    assert claim(ClaimBudget(seconds=30)) == []
    RequestBudget.objects.filter(pk=paused.pk).update(paused_until=timezone.now() - timedelta(seconds=1))
    assert len(claim(ClaimBudget(seconds=30))) == 1


def test_the_family_default_serves_without_a_row():
    znet = integration("znet")
    for minutes in range(20):
        create_sent_order(str(znet.pk), sent_ago=timedelta(minutes=minutes))
    assert len(claim(ClaimBudget(seconds=2))) == 10  # 5 a second
