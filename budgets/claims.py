"""How many orders of each integration a cycle's claims may take: as many as its request budget
can serve within the cycle (one request an order), less what the cycle already claimed and the
time the integration is paused. So a throttled integration never fills a claim and starves the
others: its other due orders stay due, the oldest first."""

import math
from collections import Counter
from collections.abc import Iterable

from django.utils import timezone

from budgets.defaults import budget_of_row
from budgets.models import RequestBudget
from providers.models import Integration


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
