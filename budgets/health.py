"""What monitor_health says about request budgets: every integration's budget (its own row or
its family's default) and a pause the provider asked for."""

from datetime import datetime

from django.utils import timezone

from budgets.defaults import budget_of_row, family_budget
from budgets.models import RequestBudget
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
        line = f"  {row['name']} ({row['integration_id']}): {row['per_second']:g}/s, {row['in_flight']} in flight"
        if row["paused_until"]:
            until = timezone.localtime(datetime.fromisoformat(row["paused_until"])).isoformat(timespec="seconds")
            line += f", paused until {until}"
        lines.append(line)
    return lines
