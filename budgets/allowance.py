"""How many status requests an order of each integration may cost so that its request budget
keeps up with the orders it is sent (docs/SCALING.md, "Budget-bound schedules").

An integration sent more orders in the last WINDOW_SECONDS than its budget can check at
MONITOR_CHECK_BUDGET requests each would build a queue at its gate: every check waits for a
free start, and the PIN delay grows for as long as the orders keep coming. Spending fewer
requests per order instead (schedules.book learns the schedule with the allowance) trades
a little delay on every order for no queue at all.

`allowance` and `budget_bound` are pure; `sent_counts` and `budgets_per_second` read what they
need for every integration at once, one query each.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, OuterRef, Subquery

from budgets.budget import Budget, budget_of_row
from budgets.models import RequestBudget
from orders.models import Order
from orders.queries import integration_key
from providers.models import Integration

# Long enough that a minute's burst does not make a schedule cheaper for the whole day, short
# enough that a rush hour is seen while it lasts.
WINDOW_SECONDS = 15 * 60.0
# The whole budget is planned for, with nothing held back: checks picked up a little after they
# are due already leave some 7 % of the starts unused (bench/steady.py), and a schedule a little
# over the allowance only makes checks wait a moment (a late check skips the times it missed).
# Holding 10 % back cost the reference mix 4 s of median delay at 2 orders a second and
# 150 s at 3 (docs/PERFORMANCE.md, "Steady state at the request budget").


@dataclass(frozen=True)
class BudgetBound:
    """An integration whose budget cannot check its orders at MONITOR_CHECK_BUDGET requests each."""

    requests_per_order: float  # the allowance its schedule is learned with
    orders_per_second: float  # orders sent to it, over the window
    budget_per_second: float  # its request budget

    def as_dict(self) -> dict:
        return {
            "requests_per_order": round(self.requests_per_order, 2),
            "orders_per_second": round(self.orders_per_second, 3),
            "budget_per_second": self.budget_per_second,
        }


def allowance(per_second: float, orders_sent: int, window_seconds: float = WINDOW_SECONDS) -> float:
    """Status requests per order that `per_second` serves for `orders_sent` orders in
    `window_seconds`; infinite without orders."""
    if orders_sent <= 0:
        return float("inf")
    return per_second * window_seconds / orders_sent


def budget_bound(
    per_second: float, orders_sent: int, check_budget: float, window_seconds: float = WINDOW_SECONDS
) -> BudgetBound | None:
    """The integration's budget-bound state when its allowance is below `check_budget`
    (MONITOR_CHECK_BUDGET), else None."""
    requests = allowance(per_second, orders_sent, window_seconds)
    if requests >= check_budget:
        return None
    return BudgetBound(requests, orders_sent / window_seconds, per_second)


def sent_counts(now: datetime, window_seconds: float = WINDOW_SECONDS) -> dict[str, int]:
    """{integration key: orders sent to it in the window before `now`}, every integration in one
    query (whatever became of the orders since: each one was checked from its sending on)."""
    rows = (
        Order.objects.with_provider()
        .filter(sent_at__gte=now - timedelta(seconds=window_seconds), sent_at__lte=now)
        .values("integration_id")
        .annotate(sent=Count("pk"))
        .values_list("integration_id", "sent")
    )
    counts: dict[str, int] = {}
    for integration_id, sent in rows:
        key = integration_key(integration_id)  # ids written in other forms are the same integration
        counts[key] = counts.get(key, 0) + sent
    return counts


def budgets_per_second() -> dict[str, float]:
    """{integration key: requests a second} of every integration (its row, else its family's),
    in one query: the row's columns are subqueries of the integrations' query."""
    row_of = RequestBudget.objects.filter(integration_id=OuterRef("pk"))
    integrations = Integration.objects.annotate(
        **{column: Subquery(row_of.values(column)[:1]) for column in _ROW_COLUMNS}
    ).values_list("pk", "provider", *_ROW_COLUMNS)
    return {integration_key(str(pk)): _budget(provider, values).per_second for pk, provider, *values in integrations}


_ROW_COLUMNS = ("requests_per_second", "max_in_flight", "requests_per_minute")


def _budget(provider: str | None, values: list) -> Budget:
    per_second, in_flight, per_minute = values
    if per_second is None:
        return budget_of_row(None, provider)
    row = RequestBudget(requests_per_second=per_second, max_in_flight=in_flight, requests_per_minute=per_minute)
    return budget_of_row(row, provider)
