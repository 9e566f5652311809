"""An integration's request budget and what follows from it.

- Its budget: the integration's row in the admin (`monitor_request_budgets`), else its provider
  family's default, from the providers' own guidance (platform.md, "Request budgets";
  docs/SCALING.md).
- The gate every request of its client passes (providers.base builds it with the client, in the
  run's main thread, which has the database connection; budgets.limiter spaces the starts).
- How many of its orders a cycle's claims may take: as many as the budget serves within the
  cycle (one request an order), less what the cycle already claimed and the time the
  integration is paused. So a throttled integration never fills a claim and starves the others:
  its other due orders stay due, the oldest first.
"""

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import DatabaseError
from django.utils import timezone

from budgets.limiter import LocalGate, SharedGate, gate_for
from budgets.models import RequestBudget
from providers.models import Integration


@dataclass(frozen=True)
class Budget:
    """At most `per_second` requests a second and `in_flight` at once, every process together."""

    per_second: float
    in_flight: int


FAMILY_BUDGETS = {
    # znet's notes: wait 100-500 ms between requests, no dense parallel requests.
    "znet": Budget(5.0, 2),
    # barakat (the apstore software): no more than 10 requests a second.
    "apstore": Budget(10.0, 4),
    "barakat": Budget(10.0, 4),
    # the client API: the other tenant's per-minute limit when entered (RequestBudget), else this.
    "internal": Budget(10.0, 4),
}
OTHER_FAMILY = Budget(10.0, 4)


def family_budget(provider: str | None) -> Budget:
    return FAMILY_BUDGETS.get((provider or "").strip().lower(), OTHER_FAMILY)


def budget_of_row(row, provider: str | None) -> Budget:
    """The budget a RequestBudget row (or None) gives: a per-minute limit, when entered, bounds
    the second's budget to a sixtieth of it."""
    if row is None:
        return family_budget(provider)
    per_second = row.requests_per_second
    if row.requests_per_minute:
        per_second = min(per_second, row.requests_per_minute / 60.0)
    return Budget(max(per_second, 0.01), max(row.max_in_flight, 1))


def budget_for(integration) -> Budget:
    """The integration's budget: its row in the admin, else its family's default."""
    try:
        row = RequestBudget.objects.filter(pk=integration.pk).first()
    except DatabaseError:  # no budgets table yet (migrate not run): the defaults hold
        row = None
    return budget_of_row(row, integration.provider)


def request_gate(integration, budgets_on: bool, request_seconds: float) -> LocalGate | SharedGate | None:
    """The gate every request of `integration` passes, or None (budgets off, an unsaved one).
    `request_seconds`: the longest one request waits (its connect and read timeouts)."""
    if not budgets_on or integration.pk is None:
        return None
    return gate_for(integration.pk, budget_for(integration), request_seconds)


class ClaimBudget:
    """The claims of one cycle of `seconds` starting now: `caps()` before each claim, `took()`
    after it."""

    def __init__(self, seconds: float):
        now = timezone.now()
        rows = {row.integration_id: row for row in RequestBudget.objects.all()}
        self._serves: dict[str, int] = {}
        for integration in Integration.objects.only("id", "provider"):
            row = rows.get(integration.pk)
            budget = budget_of_row(row, integration.provider)
            paused = (row.paused_until - now).total_seconds() if row is not None and row.paused_until else 0.0
            # At least one order while not paused: a budget under one request a cycle still moves.
            usable = max(seconds - max(paused, 0.0), 0.0)
            self._serves[str(integration.pk)] = max(math.floor(budget.per_second * usable), 1 if usable else 0)
        self._claimed: Counter[str] = Counter()

    def caps(self) -> dict[str, int]:
        """{integration id: orders the next claim may take of it}."""
        return {key: max(serves - self._claimed[key], 0) for key, serves in self._serves.items()}

    def took(self, orders: Iterable) -> None:
        self._claimed.update(str(order.integration_id) for order in orders)
