"""Taking due orders for one run, so that overlapping runs (or several hosts) never check the
same order twice.

A claim is one short transaction: lock the due rows (SKIP LOCKED on PostgreSQL, so concurrent
runs take disjoint sets instead of waiting), move their `next_check_at` to the lease end (and
`monitor_leased_until` with it, which tells a webhook event the order is held), commit.
No transaction stays open across provider calls. The lease end doubles as the claim's token:
an order still carrying it has not been touched by anyone else since. A run that dies leaves its
orders due again when the lease ends. A run's length and lease come from its `RunConfig`: the
settings of one run, read once (the command's options in place of the settings') and handed
to the run, its cycles and its fan-out.

A run may take all due orders, or only one tenant's, or one integration's (`OrderFilter`:
`check_pending_orders --tenant-id / --provider-id`, as in the platform's older poll command:
operators use them after a provider outage or for one tenant). A filter narrows the due query;
it never widens it, and the claim keeps its order (oldest first), its limit and its due index.
"""

import math
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, IntegerField, TextField, Value, When, Window
from django.db.models.functions import Cast, RowNumber
from django.utils import timezone

from config.env import range_of
from orders.connection_loss import Reconnect, reconnecting, skipped_when_lost
from orders.models import Order, OrderQuerySet, age
from orders.queries import NotAnId, parse_uuid
from providers.http import HttpLimits
from schedules.rules import CheckRules


@dataclass(frozen=True)
class OrderFilter:
    tenant_id: uuid.UUID | None = None  # "tenantId" (uuid)
    integration_id: uuid.UUID | None = None  # "providerId": the integration's id

    def apply(self, orders: OrderQuerySet) -> OrderQuerySet:
        """`orders` (an OrderQuerySet) narrowed to this filter."""
        if self.tenant_id is not None:
            orders = orders.filter(tenant_id=self.tenant_id)
        if self.integration_id is not None:
            # Compared as text: some copies declare "providerId" uuid, others varchar.
            orders = orders.of_integration(str(self.integration_id))
        return orders

    @property
    def is_empty(self) -> bool:
        return self.tenant_id is None and self.integration_id is None

    def describe(self) -> str:
        """`tenant=... provider=...` for the output, or "" without a filter."""
        parts = []
        if self.tenant_id is not None:
            parts.append(f"tenant={self.tenant_id}")
        if self.integration_id is not None:
            parts.append(f"provider={self.integration_id}")
        return " ".join(parts)


# Every due order: the default of the claim and of the runs.
NO_FILTER = OrderFilter()


@dataclass(frozen=True)
class Claim:
    orders: list[Order]
    lease_until: datetime


class OrderNotCheckable(Exception):
    """The order asked for by id cannot be checked; the message says why, in one line."""


def run_seconds(max_seconds: float) -> float:
    """How long a run may start checks: `max_seconds`, at most the top of MONITOR_MAX_SECONDS'
    range (an hour); NaN, zero or less: the range's bottom. Settings and options are refused
    outside the range; this bounds callers in code too (the admin's clicks pass what is left of
    theirs, which may be less than a second), so neither a run's deadline nor its lease can be
    pushed out of reach (the year 5195, inf)."""
    allowed = range_of("MONITOR_MAX_SECONDS")
    if math.isnan(max_seconds) or max_seconds <= 0:
        return allowed.minimum
    return min(max_seconds, allowed.maximum)


def lease_end(now: datetime, max_seconds: float, margin_seconds: float) -> datetime:
    """When the lease of a run starting `now` ends: its deadline (`run_seconds`) plus the
    margin for its last in-flight HTTP call (within MONITOR_LEASE_MARGIN_SECONDS' range).
    Whatever the inputs, at most 1.5 h after `now`, far inside an order's 24 h."""
    margin = range_of("MONITOR_LEASE_MARGIN_SECONDS").clamp(margin_seconds)
    return now + timedelta(seconds=run_seconds(max_seconds) + margin)


def claim_due_orders(
    now: datetime,
    limit: int,
    lease_until: datetime,
    order_filter: OrderFilter = NO_FILTER,
    caps: Mapping[str, int] | None = None,
) -> Claim:
    """Claim up to `limit` due orders (only those `order_filter` lets through), oldest first;
    with `caps` ({integration id: n}, budgets.budget.ClaimBudget), at most n of an integration."""
    with transaction.atomic():
        due = order_filter.apply(Order.objects.due(now))
        if caps is not None:
            due = _within_caps(due, caps, limit)
        orders = list(due.select_for_update(skip_locked=True)[:limit])
        if orders:
            _lease(Order.objects.filter(pk__in=[o.pk for o in orders]), lease_until)
    return Claim(orders=orders, lease_until=lease_until)


def _within_caps(due, caps: Mapping[str, int], limit: int):
    """The oldest `caps[integration]` of each integration's due orders (any number up to `limit`
    of an integration without a cap), oldest first."""
    integration = Cast("integration_id", TextField())  # "providerId" is uuid in some copies
    ranked = due.alias(budget_integration=integration).annotate(
        integration_rank=Window(RowNumber(), partition_by=[integration], order_by=[age().asc(), F("id").asc()]),
        integration_cap=Case(
            *[When(budget_integration=key, then=Value(cap)) for key, cap in caps.items()],
            default=Value(limit),
            output_field=IntegerField(),
        ),
    )
    capped = ranked.filter(integration_rank__lte=F("integration_cap")).values("pk")
    return Order.objects.filter(pk__in=capped).order_by(age(), "id")


def claim_order(order_id: object, lease_until: datetime) -> Claim:
    """Claim one order by id, whatever its next_check_at. Raises OrderNotCheckable."""
    try:
        order_uuid = parse_uuid(order_id)
    except NotAnId as exc:
        raise OrderNotCheckable(str(exc)) from None
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_uuid).first()
        if order is None:
            raise OrderNotCheckable(f"order {order_uuid} does not exist")
        if not order.was_sent:
            raise OrderNotCheckable(
                f"order {order_uuid} was never sent to a provider (externalStatus={order.external_status})"
            )
        if not order.is_active:
            raise OrderNotCheckable(f"order {order_uuid} is already final (externalStatus={order.external_status})")
        if not order.reference:
            raise OrderNotCheckable(f"order {order_uuid} has no provider reference to ask about")
        _lease(Order.objects.filter(pk=order.pk), lease_until)
    return Claim(orders=[order], lease_until=lease_until)


def _lease(orders, lease_until: datetime) -> None:
    orders.update(next_check_at=lease_until, monitor_leased_until=lease_until)


def release_orders(order_ids: Collection[uuid.UUID], lease_until: datetime, now: datetime) -> int:
    """Make claimed but unchecked orders due again at once, unless someone else changed them."""
    if not order_ids:
        return 0
    return Order.objects.filter(pk__in=order_ids, next_check_at=lease_until).update(next_check_at=now)


def preview_due_orders(now: datetime, limit: int, order_filter: OrderFilter = NO_FILTER) -> list[Order]:
    """The orders a run would claim now, without claiming them (--dry-run)."""
    return list(order_filter.apply(Order.objects.due(now))[:limit])


def release_unless_lost(order_ids: list, lease_until: datetime, reconnect: Reconnect) -> int:
    """release_orders, through a lost connection as `reconnect` allows: how many were released.
    With the database still away they keep their lease and are due again when it ends."""
    if not order_ids:
        return 0
    due_again = lease_until.isoformat(timespec="seconds")
    released = 0
    with skipped_when_lost(f"{len(order_ids)} orders could not be released, due again at {due_again}"):
        for attempt in reconnecting(reconnect):
            with attempt:
                released = release_orders(order_ids, lease_until, timezone.now())
    return released


@dataclass(frozen=True)
class RunConfig:
    """What a run of check_pending_orders (plain, `--loop` or `--order-id`) goes by."""

    limit: int  # orders per claim
    max_seconds: float  # the run's length (bounded: orders.claiming.run_seconds)
    cycle_seconds: float  # a loop cycle's length, and its lease's
    lease_margin_seconds: float
    workers: int
    per_integration: int
    shutdown_grace_seconds: float
    rules: CheckRules  # how the orders' next checks are timed
    reconnect: Reconnect  # how the run's database steps go through a lost connection
    http: HttpLimits  # the provider requests' timeouts, tries, answer size and budgets (on or off)

    @classmethod
    def from_settings(cls, limit: int | None = None, max_seconds: float | None = None) -> "RunConfig":
        """The settings, with `limit` / `max_seconds` (the command's options) in place of theirs."""
        return cls(
            limit=limit or settings.MONITOR_BATCH_LIMIT,
            max_seconds=run_seconds(max_seconds or settings.MONITOR_MAX_SECONDS),
            cycle_seconds=settings.MONITOR_LOOP_CYCLE_SECONDS,
            lease_margin_seconds=settings.MONITOR_LEASE_MARGIN_SECONDS,
            workers=settings.MONITOR_WORKERS,
            per_integration=settings.MONITOR_PER_INTEGRATION_CONCURRENCY,
            shutdown_grace_seconds=settings.MONITOR_SHUTDOWN_GRACE_SECONDS,
            rules=CheckRules.from_settings(),
            reconnect=Reconnect.from_settings(),
            http=HttpLimits.from_settings(),
        )

    @property
    def longest_lease_seconds(self) -> float:
        """The longest lease a run with this configuration takes: a plain run's or a loop
        cycle's, plus the margin. monitor_health and release_stuck_orders take a later next
        check for no lease of a run."""
        margin = range_of("MONITOR_LEASE_MARGIN_SECONDS").clamp(self.lease_margin_seconds)
        return run_seconds(max(self.max_seconds, self.cycle_seconds)) + margin

    def for_cycle(self, seconds: float) -> "RunConfig":
        """The same, for one cycle of `seconds` (a loop's: at most cycle_seconds)."""
        return RunConfig(**{**self.__dict__, "max_seconds": run_seconds(seconds)})
