"""Is the order monitor keeping up? The report behind `manage.py monitor_health`.

The monitor is degraded when
  - orders are overdue: active orders sent to a provider whose next check time (or, when it is
    NULL, sentAt/createdAt) lies more than MONITOR_OVERDUE_MINUTES in the past, or
  - no check_pending_orders run succeeded within the last MONITOR_OVERDUE_MINUTES.
Both mean cron is not running the monitor, or its runs keep failing. It is degraded too when
  - active orders have failed with permanent or configuration errors (bad credentials, unknown
    reference, disabled, missing or unknown integration) for longer than
    MONITOR_OVERDUE_MINUTES: runs go on, but retrying will not help and the orders head for the
    24 h failure, or
  - orders are held for an operator (hold_reason: a PIN too long for "pinCode", a final answer
    whose money cannot be moved exactly), or
  - orders timed out waiting for their provider ("externalStatus" failed, `status` still
    pending, nothing refunded): an operator decides whether to refund or wait.
It also lists, per integration, the status words providers answered that the monitor does not
know (such orders are followed as still in progress): not a problem by itself, but worth a look.
  - active orders are stuck (orders.stuck): their next check lies past their 24 h limit or
    further ahead than any lease or check gap, or they are past their limit and not timed out.

Timeouts in the last 24 h are counted from the history (order_status_events): rows moving an
order to 'failed' with the timeout's message (orders.transitions.TIMEOUT_NOTE).
The history row is written in the same transaction as the change and records when it happened;
lastSyncAt is not a usable clock for this, because a timeout after a failed check leaves it
untouched.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from budgets.health import budget_bound_rows, budget_rows
from hooks.health import webhook_rows
from orders.health_text import find_problems, integration_label, iso, seconds_between
from orders.ids import integration_key
from orders.models import ExternalStatus, MonitorRun, Order, OrderEvent, PlatformStatus, age
from orders.plans import TIMEOUT_NOTE, UNKNOWN_STATUS_PREFIX
from orders.stuck import StuckCounts, count_stuck
from providers.models import Integration
from schedules.book import BOOK

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


def build_report(now=None):
    now = now or timezone.now()
    overdue_minutes = settings.MONITOR_OVERDUE_MINUTES
    cutoff = now - timedelta(minutes=overdue_minutes)
    oldest = oldest_active_order()
    last_run = MonitorRun.objects.filter(finished_at__isnull=False).order_by("-finished_at").first()
    names = integration_names()  # one read for every list that names integrations
    report = HealthReport(
        now=now,
        overdue_minutes=overdue_minutes,
        active_by_status=active_by_status(),
        active_by_provider=active_by_provider(names),
        due_now=Order.objects.due(now).count(),
        overdue=overdue_orders(cutoff).count(),
        oldest_active_order_id=str(oldest.pk) if oldest else None,
        oldest_active_age_seconds=seconds_between(oldest.age_counted_from, now) if oldest else None,
        timed_out_last_24h=timed_out_since(now - TIMEOUT_WINDOW),
        last_success_at=last_success_at(),
        last_run_at=last_run.finished_at if last_run else None,
        last_run_succeeded=last_run.succeeded if last_run else None,
        failing_integrations=failing_integrations(cutoff, names),
        held_for_operator=held_for_operator().count(),
        held_orders=held_orders(),
        timed_out_waiting=timed_out_for_operator_orders().count(),
        timed_out_for_operator=timed_out_for_operator(),
        unknown_status_words=unknown_status_words(names),
        check_schedules=check_schedules(names),
        stuck=count_stuck(now),
        webhooks=webhook_rows(),
        budgets=budget_rows(),
    )
    report.problems = find_problems(report, cutoff)
    return report


def active_by_status():
    rows = Order.objects.active().values("external_status").annotate(n=Count("pk")).order_by("external_status")
    return {row["external_status"]: row["n"] for row in rows}


def active_by_provider(names: dict[str, str]):
    rows = Order.objects.active().values("integration_id").annotate(n=Count("pk")).order_by("-n", "integration_id")
    return [
        {"provider_id": r["integration_id"], "name": name_of(names, r["integration_id"]), "active": r["n"]}
        for r in rows
    ]


def integration_names() -> dict[str, str]:
    """{integration id as text: name}."""
    return {str(i.pk): i.name for i in Integration.objects.only("name")}


def name_of(names: dict[str, str], integration_id: str | None) -> str | None:
    """The name of the integration a "providerId" text names, None if none: ids written in
    another form (upper case, braces) are found too, as providers.fanout finds them."""
    return names.get(integration_key(integration_id))


def failing_integrations(cutoff: datetime, names: dict[str, str] | None = None) -> list[FailingIntegration]:
    """Per "providerId", active orders whose last check failed with a permanent or configuration
    error (orders.transitions sets permanent_error_since), the longest-failing first. One query:
    the sample error is a subquery per group, not a query per integration."""
    failing = Order.objects.active().filter(permanent_error_since__isnull=False)
    # The longest-failing order's error: the one that started the trouble. A NULL "providerId"
    # matches no OuterRef, so that group's sample comes from the orders without one.
    by_age = failing.order_by("permanent_error_since", "id").values("last_check_error")
    rows = (
        failing.values("integration_id")
        .annotate(
            orders=Count("pk"),
            since=Min("permanent_error_since"),
            too_long=Count("pk", filter=Q(permanent_error_since__lt=cutoff)),
            sample=Subquery(by_age.filter(integration_id=OuterRef("integration_id"))[:1]),
            sample_without_id=Subquery(by_age.filter(integration_id__isnull=True)[:1]),
        )
        .order_by("since", "integration_id")
    )
    names = integration_names() if names is None else names
    return [
        FailingIntegration(
            integration_id=row["integration_id"],
            name=name_of(names, row["integration_id"]),
            orders=row["orders"],
            failing_since=row["since"],
            failing_too_long=row["too_long"],
            sample_error=row["sample"] if row["integration_id"] is not None else row["sample_without_id"],
        )
        for row in rows
    ]


def check_schedules(names: dict[str, str]) -> list[dict]:
    """Per integration (every configured one, and any other "providerId" with completions), the
    check schedule in use (schedules.book): how many recent completions it was learned
    from, their median completion time, and when an order is first checked after sending."""
    learned = BOOK.entries()
    keys = sorted(set(map(integration_key, names)) | set(learned), key=lambda key: (name_of(names, key) or "~", key))
    return [{**BOOK.entry_for(key).as_dict(), "name": name_of(names, key)} for key in keys]


def held_for_operator() -> QuerySet:
    """Active orders held for an operator (hold_reason says why; docs/OPERATIONS.md)."""
    return Order.objects.active().held()


# How many orders of each list monitor_health names one by one.
LISTED_ORDERS = 50


def held_orders() -> list[dict]:
    rows = held_for_operator().order_by(age(), "id").values("id", "integration_id", "hold_reason")
    return [
        {"order_id": str(row["id"]), "integration_id": row["integration_id"], "reason": row["hold_reason"]}
        for row in rows[:LISTED_ORDERS]
    ]


def timed_out_for_operator_orders() -> QuerySet:
    """Orders stopped by the 24 h rule (the monitor's or the platform's checker): "externalStatus"
    failed while `status` is still pending, nothing refunded. The provider may still deliver;
    an operator decides."""
    return Order.objects.filter(external_status=ExternalStatus.FAILED, status=PlatformStatus.PENDING)


def timed_out_for_operator() -> list[dict]:
    rows = timed_out_for_operator_orders().order_by(age(), "id").values("id", "integration_id", "sent_at")
    return [
        {"order_id": str(row["id"]), "integration_id": row["integration_id"], "sent_at": iso(row["sent_at"])}
        for row in rows[:LISTED_ORDERS]
    ]


def unknown_status_words(names: dict[str, str]) -> list[dict]:
    """Per integration, the status words its provider answered that the monitor does not know,
    with how many active orders last heard one."""
    rows = (
        Order.objects.active()
        .filter(last_check_error__startswith=UNKNOWN_STATUS_PREFIX)
        .values("integration_id", "last_check_error")
        .annotate(n=Count("pk"))
        .order_by("integration_id", "last_check_error")
    )
    return [
        {
            "integration_id": row["integration_id"],
            "name": name_of(names, row["integration_id"]),
            "word": _quoted_word(row["last_check_error"]),
            "orders": row["n"],
        }
        for row in rows
    ]


def _quoted_word(text: str) -> str:
    """The word between the first pair of double quotes of an unknown-status message."""
    _, _, rest = text.partition('"')
    return rest.rpartition('"')[0] or rest


def overdue_orders(cutoff):
    """Active orders a run should have checked before `cutoff`. A claimed order carries its
    lease end (in the future), so orders being checked right now never count; orders held for
    an operator are reported on their own."""
    return Order.objects.overdue(cutoff)


def oldest_active_order():
    return (
        Order.objects.active()
        .annotate(age_from=age())
        .order_by("age_from", "id")
        .only("id", "sent_at", "created_at")
        .first()
    )


def timed_out_since(since):
    # "timed out: ..." is how the monitor worded it before it followed the platform's wording.
    timeout = Q(message__startswith=TIMEOUT_NOTE) | Q(message__startswith="timed out")
    return OrderEvent.objects.filter(timeout, to_status=ExternalStatus.FAILED, created_at__gte=since).count()


def last_success_at():
    run = MonitorRun.objects.filter(succeeded=True, finished_at__isnull=False).order_by("-finished_at").first()
    return run.finished_at if run else None
