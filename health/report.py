"""Is the order monitor keeping up? The report behind `manage.py monitor_health`.

The report gathers the figures (health.queries; the orders' own questions are the Order
queryset's, orders.queries), finds its problems (health.rules: when the monitor is
degraded) and gives its JSON shape (`as_dict`, here beside it); health.text writes it out.

It also lists, per integration, the status words providers answered that the monitor does not
know (such orders are followed as still in progress): not a problem by itself, but worth a look.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from budgets.health import budget_bound_rows, budget_rows
from health import queries
from health.rules import find_problems
from health.stuck import StuckCounts, StuckLimits, count_stuck
from hooks.health import webhook_rows
from orders.formats import integration_label, iso, seconds_between
from orders.models import Order
from orders.queries import integration_key
from schedules.book import ScheduleBook
from schedules.rules import CheckRules

TIMEOUT_WINDOW = timedelta(hours=24)


@dataclass
class FailingIntegration:
    """Active orders of one "providerId" whose checks fail with errors retrying cannot fix."""

    integration_id: str | None
    name: str | None  # None when no integration has that id
    orders: int
    failing_since: datetime  # the earliest permanent_error_since among them
    failing_too_long: int  # failing for longer than MONITOR_OVERDUE_MINUTES
    sample_error: str | None  # one of their last_check_error texts

    @property
    def label(self):
        return integration_label(self.name, self.integration_id)

    def as_dict(self, now):
        return {
            "integration_id": self.integration_id,
            "name": self.name,
            "orders": self.orders,
            "failing_since": iso(self.failing_since),
            "failing_seconds": seconds_between(self.failing_since, now),
            "failing_too_long": self.failing_too_long,
            "sample_error": self.sample_error,
        }


@dataclass
class HealthReport:
    now: datetime
    overdue_minutes: float
    rules: CheckRules  # the checks' rules the report was made with (the 24 h, the check budget)
    active_by_status: dict[str, int]
    active_by_provider: list[dict]  # {"provider_id", "name", "active"}, most active first
    due_now: int
    overdue: int
    oldest_active_order_id: str | None
    oldest_active_age_seconds: float | None
    timed_out_last_24h: int
    last_success_at: datetime | None
    last_run_at: datetime | None
    last_run_succeeded: bool | None
    failing_integrations: list[FailingIntegration] = field(default_factory=list)
    held_for_operator: int = 0
    held_orders: list[dict] = field(default_factory=list)  # {"order_id", "integration_id", "reason"}
    timed_out_waiting: int = 0  # orders timed out, still pending, not refunded
    timed_out_for_operator: list[dict] = field(default_factory=list)  # the first of them: {"order_id", ...}
    unknown_status_words: list[dict] = field(default_factory=list)  # {"integration_id", "name", "word", "orders"}
    check_schedules: list[dict] = field(default_factory=list)  # see check_schedules()
    stuck: StuckCounts = StuckCounts(0, 0, 0, 0)  # see stuck_problems()
    webhooks: list[dict] = field(default_factory=list)  # hooks.health.webhook_rows()
    budgets: list[dict] = field(default_factory=list)  # budgets.health.budget_rows()
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self):
        return not self.problems

    @property
    def active_total(self):
        return sum(self.active_by_status.values())

    @property
    def seconds_since_last_success(self):
        return seconds_between(self.last_success_at, self.now)

    def as_dict(self):
        return {
            "healthy": self.healthy,
            "problems": self.problems,
            "checked_at": iso(self.now),
            "overdue_minutes": self.overdue_minutes,
            "active_total": self.active_total,
            "active_by_status": self.active_by_status,
            "active_by_provider": self.active_by_provider,
            "due_now": self.due_now,
            "overdue": self.overdue,
            "oldest_active_order_id": self.oldest_active_order_id,
            "oldest_active_age_seconds": self.oldest_active_age_seconds,
            "timed_out_last_24h": self.timed_out_last_24h,
            "last_success_at": iso(self.last_success_at),
            "seconds_since_last_success": self.seconds_since_last_success,
            "last_run_at": iso(self.last_run_at),
            "last_run_succeeded": self.last_run_succeeded,
            "permanent_errors": [row.as_dict(self.now) for row in self.failing_integrations],
            "held_for_operator": self.held_for_operator,
            "held_orders": self.held_orders,
            "timed_out_waiting": self.timed_out_waiting,
            "timed_out_for_operator": self.timed_out_for_operator,
            "unknown_status_words": self.unknown_status_words,
            "check_schedules": self.check_schedules,
            "budget_bound": budget_bound_rows(self.check_schedules),
            "stuck_orders": self.stuck.as_dict(),
            "webhooks": self.webhooks,
            "budgets": self.budgets,
        }


def build_report(limits: StuckLimits, now=None):
    """The report on the monitor's orders and runs `now`, with the checks' rules and lease in
    `limits` (made by monitor_health from the settings)."""
    now = now or timezone.now()
    rules = limits.rules
    overdue_minutes = rules.overdue_minutes
    cutoff = now - timedelta(minutes=overdue_minutes)
    oldest = queries.oldest_active_order()
    last_run = queries.last_run()
    names = queries.integration_names()  # one read for every list that names integrations
    report = HealthReport(
        now=now,
        overdue_minutes=overdue_minutes,
        rules=rules,
        active_by_status=queries.active_by_status(),
        active_by_provider=queries.active_by_provider(names),
        due_now=Order.objects.due(now).count(),
        # A claimed order carries its lease end (in the future), so orders being checked right
        # now never count; orders held for an operator are reported on their own.
        overdue=Order.objects.overdue(cutoff).count(),
        oldest_active_order_id=str(oldest.pk) if oldest else None,
        oldest_active_age_seconds=seconds_between(oldest.age_counted_from, now) if oldest else None,
        timed_out_last_24h=queries.timed_out_since(now - TIMEOUT_WINDOW),
        last_success_at=queries.last_success_at(),
        last_run_at=last_run.finished_at if last_run else None,
        last_run_succeeded=last_run.succeeded if last_run else None,
        failing_integrations=failing_integrations(cutoff, names),
        held_for_operator=queries.held_for_operator().count(),
        held_orders=queries.held_orders(),
        timed_out_waiting=Order.objects.timed_out_for_operator().count(),
        timed_out_for_operator=queries.timed_out_for_operator(),
        unknown_status_words=queries.unknown_status_words(names),
        check_schedules=check_schedules(names, rules),
        stuck=count_stuck(now, limits),
        webhooks=webhook_rows(),
        budgets=budget_rows(),
    )
    report.problems = find_problems(report, cutoff)
    return report


def failing_integrations(cutoff: datetime, names: dict[str, str] | None = None) -> list[FailingIntegration]:
    """Per "providerId", active orders whose last check failed with a permanent or configuration
    error (orders.transitions sets permanent_error_since), the longest-failing first."""
    names = queries.integration_names() if names is None else names
    return [
        FailingIntegration(
            integration_id=row["integration_id"],
            name=queries.name_of(names, row["integration_id"]),
            orders=row["orders"],
            failing_since=row["since"],
            failing_too_long=row["too_long"],
            sample_error=row["sample"] if row["integration_id"] is not None else row["sample_without_id"],
        )
        for row in queries.failing_rows(cutoff)
    ]


def check_schedules(names: dict[str, str], rules: CheckRules) -> list[dict]:
    """Per integration (every configured one, and any other "providerId" with completions), the
    check schedule in use (schedules.book): how many recent completions it was learned
    from, their median completion time, and when an order is first checked after sending."""
    schedules = ScheduleBook(rules).current()
    name_of = queries.name_of
    keys = set(map(integration_key, names)) | set(schedules.entries)
    ordered = sorted(keys, key=lambda key: (name_of(names, key) or "~", key))
    return [{**schedules.entry_for(key).as_dict(), "name": name_of(names, key)} for key in ordered]
