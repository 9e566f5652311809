"""What monitor_health says about request budgets: every integration's budget (its own row or
its family's default), a pause the provider asked for, and the integrations whose schedules are
budget-bound (budgets.allowance).

Budget-bound is listed but does not make the monitor degraded: the schedule spends fewer requests
per order precisely so that the budget keeps up and no queue builds; the orders are a little
later, none is left behind. (Had the budget not kept up, the overdue backlog would say so.)"""

from django.utils import timezone

from budgets.budget import budget_of_row, family_budget
from budgets.models import RequestBudget
from orders.formats import integration_label, local_iso
from providers.models import Integration


def budget_rows() -> list[dict]:
    """{"integration_id", "name", "per_second", "in_flight", "source": "admin" (not the family's) | "default",
    "paused_until"} of every integration, by name."""
    rows_by_id = {row.integration_id: row for row in RequestBudget.objects.all()}
    now = timezone.now()
    rows = []
    for integration in Integration.objects.order_by("name", "id").only("id", "name", "provider"):
        row = rows_by_id.get(integration.pk)
        budget = budget_of_row(row, integration.provider)
        paused = row.paused_until if row is not None and row.paused_until and row.paused_until > now else None
        rows.append(
            {
                "integration_id": str(integration.pk),
                "name": integration.name,
                "per_second": budget.per_second,
                "in_flight": budget.in_flight,
                # The limiter adds a row with the family's default for every integration it serves.
                "source": "default" if budget == family_budget(integration.provider) else "admin",
                "paused_until": paused.isoformat() if paused else None,
            }
        )
    return rows


def budget_lines(rows: list[dict]) -> list[str]:
    """The text of monitor_health's budget section (nothing without integrations)."""
    if not rows:
        return []
    lines = ["request budgets (every process together):"]
    for row in rows:
        label = integration_label(row["name"], row["integration_id"])
        line = f"  {label}: {row['per_second']:g}/s, {row['in_flight']} in flight"
        if row["paused_until"]:
            line += f", paused until {local_iso(row['paused_until'])}"
        lines.append(line)
    return lines


def budget_bound_rows(check_schedules: list[dict]) -> list[dict]:
    """{"integration_id", "name", "requests_per_order", "orders_per_second", "budget_per_second"}
    of the budget-bound integrations among monitor_health's check_schedules rows."""
    return [
        {"integration_id": row["integration_id"], "name": row["name"], **row["budget_bound"]}
        for row in check_schedules
        if row["budget_bound"]
    ]


def budget_bound_lines(rows: list[dict], check_budget_requests: float) -> list[str]:
    """The text of monitor_health's budget-bound section (nothing without such integrations);
    `check_budget_requests`: MONITOR_CHECK_BUDGET, as the report's rules have it."""
    if not rows:
        return []
    check_budget = f"{check_budget_requests:g}"
    lines = [f"budget-bound (sent more orders than their budget checks at {check_budget} requests each):"]
    for row in rows:
        label = integration_label(row["name"], row["integration_id"])
        lines.append(
            f"  {label}: budget-bound: {row['requests_per_order']:.1f} requests per order "
            f"({_rate(row['orders_per_second'])} orders/s sent, {row['budget_per_second']:g}/s budget)"
        )
    return lines


def _rate(per_second: float) -> str:
    return f"{per_second:.1f}" if per_second >= 1 else f"{per_second:.2g}"
