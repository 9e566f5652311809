"""Active orders that no run will check in time: their next check lies where neither a check
schedule nor a lease puts it, or they are past their 24 h limit and still not final.

A still-processing order's next check is at most MONITOR_BACKOFF_CAP_SECONDS away (an hour
while an integration's webhooks arrive: hooks.schedule), a failed check's at most that plus the
jitter (`longest_check_gap`), and a run's lease at most the longest the settings give
(RunConfig.longest_lease_seconds). So an order is stuck when its next check is

  - later than its 24 h limit (MONITOR_MAX_AGE_HOURS after "sentAt", else "createdAt") plus the
    longest check gap: it would be timed out late, or never (`past_limit`), or
  - later than now plus the longest lease plus the longest check gap: no run wrote that, or one
    did with a clock or a length gone wrong (`too_far_ahead`);

or when it is older than its limit plus MONITOR_OVERDUE_MINUTES (`too_old`): a run should have
timed it out by then. Orders held for an operator (hold_reason) wait for the operator, not a
run, and are never stuck.

`release_stuck_orders` makes the stuck orders whose next check lies beyond any lease of a
running check due now, each with a conditional update: an order a run claimed or checked since
it was read keeps what that run wrote. Both commands make the `StuckLimits` once, from the settings.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import BooleanField, Count, DateTimeField, DurationField, ExpressionWrapper, Q, Value

from hooks import schedule as pushed
from hooks.schedule import WIDEST_GAP_SECONDS
from orders.claiming import RunConfig
from orders.models import Order, age
from schedules.rules import CheckRules

REASONS = ("past_limit", "too_far_ahead", "too_old")


@dataclass(frozen=True)
class StuckLimits:
    """What tells a stuck order: the checks' rules, and the longest lease a run takes."""

    rules: CheckRules
    lease_seconds: float

    @classmethod
    def from_settings(cls) -> "StuckLimits":
        config = RunConfig.from_settings()
        return cls(config.rules, config.longest_lease_seconds)

    @property
    def limit(self) -> timedelta:
        """An order's 24 h: how long after "sentAt" (else "createdAt") it is timed out."""
        return timedelta(hours=self.rules.max_age_hours)

    def longest_check_gap(self) -> timedelta:
        """The longest wait a check writes: the backoff cap, stretched by the jitter; while an
        integration's webhooks arrive, its safety net's widest gap if that is longer."""
        cap = self.rules.backoff_cap_seconds
        if pushed.PUSHED.keys():
            cap = max(cap, WIDEST_GAP_SECONDS)
        return timedelta(seconds=cap * (1 + self.rules.backoff_jitter))


def conditions(now: datetime, limits: StuckLimits) -> dict[str, Q]:
    """{reason: the condition on an order's row}, in REASONS' order."""
    gap = limits.longest_check_gap()
    past_limit_at = ExpressionWrapper(
        age() + Value(limits.limit + gap, output_field=DurationField()), output_field=DateTimeField()
    )
    too_old_before = now - limits.limit - timedelta(minutes=limits.rules.overdue_minutes)
    return {
        "past_limit": Q(next_check_at__gt=past_limit_at),
        "too_far_ahead": Q(next_check_at__gt=now + timedelta(seconds=limits.lease_seconds) + gap),
        "too_old": Q(sent_at__lt=too_old_before) | Q(sent_at__isnull=True, created_at__lt=too_old_before),
    }


def any_condition(now: datetime, limits: StuckLimits) -> Q:
    past_limit, too_far_ahead, too_old = conditions(now, limits).values()
    return past_limit | too_far_ahead | too_old


@dataclass(frozen=True)
class StuckCounts:
    """Stuck orders by reason (an order may have several) and in all."""

    total: int
    past_limit: int
    too_far_ahead: int
    too_old: int

    def as_dict(self) -> dict[str, int]:
        return {
            "total": self.total,
            "past_limit": self.past_limit,
            "too_far_ahead": self.too_far_ahead,
            "too_old": self.too_old,
        }


def count_stuck(now: datetime, limits: StuckLimits) -> StuckCounts:
    """The counts monitor_health reports and the metrics file carries, in one query."""
    counts = {reason: Count("pk", filter=condition) for reason, condition in conditions(now, limits).items()}
    row = Order.objects.waiting().aggregate(total=Count("pk", filter=any_condition(now, limits)), **counts)
    return StuckCounts(**row)


@dataclass(frozen=True)
class StuckOrder:
    """One stuck order as read, with why it is stuck."""

    pk: object
    next_check_at: datetime | None
    age_from: datetime
    reasons: tuple[str, ...]


def stuck_orders(now: datetime, limits: StuckLimits) -> list[StuckOrder]:
    """Every stuck order, the oldest first."""
    checks = conditions(now, limits)
    flags = {
        f"is_{reason}": ExpressionWrapper(condition, output_field=BooleanField())
        for reason, condition in checks.items()
    }
    rows = (
        Order.objects.waiting()
        .filter(any_condition(now, limits))
        .values("pk", "next_check_at")
        .annotate(age_from=age(), **flags)
        .order_by("age_from", "pk")
    )
    return [
        StuckOrder(
            row["pk"],
            row["next_check_at"],
            row["age_from"],
            tuple(reason for reason in REASONS if row[f"is_{reason}"]),
        )
        for row in rows
    ]


def beyond_any_lease(now: datetime, limits: StuckLimits) -> datetime:
    """A next check after this is no lease of a run in progress (one started with the settings)."""
    return now + timedelta(seconds=limits.lease_seconds)


def is_releasable(order: StuckOrder, now: datetime, limits: StuckLimits) -> bool:
    return order.next_check_at is not None and order.next_check_at > beyond_any_lease(now, limits)


def release(order: StuckOrder, now: datetime, limits: StuckLimits) -> bool:
    """Make `order` due now, only if its row still carries the next check read (no run claimed
    or rescheduled it since), it is still waiting for a run (active, not held) and that next
    check is still beyond any lease. True when it was released."""
    if not is_releasable(order, now, limits):
        return False
    rows = Order.objects.waiting().filter(
        pk=order.pk, next_check_at=order.next_check_at, next_check_at__gt=beyond_any_lease(now, limits)
    )
    return rows.update(next_check_at=now) == 1
