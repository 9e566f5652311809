"""What monitor_health reads from the database, apart from the report built of it (health.report):
the orders' figures (their own questions are the Order queryset's, orders.queries), the runs,
the history's timeouts and the integrations' names.

Timeouts in the last 24 h are counted from the history (order_status_events): rows moving an
order to 'failed' with the timeout's message (orders.transitions.TIMEOUT_NOTE).
The history row is written in the same transaction as the change and records when it happened;
lastSyncAt is not a usable clock for this, because a timeout after a failed check leaves it
untouched.
"""

from datetime import datetime

from django.db.models import Count, Min, OuterRef, Q, QuerySet, Subquery

from orders.formats import iso
from orders.models import ExternalStatus, MonitorRun, Order, OrderEvent, OrderQuerySet, age
from orders.plans import TIMEOUT_NOTE, UNKNOWN_STATUS_PREFIX
from orders.queries import integration_key
from providers.models import Integration

# How many orders of each list monitor_health names one by one.
LISTED_ORDERS = 50


def integration_names() -> dict[str, str]:
    """{integration id as text: name}."""
    return {str(i.pk): i.name for i in Integration.objects.only("name")}


def name_of(names: dict[str, str], integration_id: str | None) -> str | None:
    """The name of the integration a "providerId" text names, None if none: ids written in
    another form (upper case, braces) are found too, as providers.fanout finds them."""
    return names.get(integration_key(integration_id))


def active_by_status() -> dict[str, int]:
    """{"externalStatus": active orders in it}."""
    rows = Order.objects.active().values("external_status").annotate(n=Count("pk")).order_by("external_status")
    return {row["external_status"]: row["n"] for row in rows}


def active_by_provider(names: dict[str, str]) -> list[dict]:
    """Active orders per "providerId", the most active first."""
    rows = Order.objects.active().values("integration_id").annotate(n=Count("pk")).order_by("-n", "integration_id")
    return [
        {"provider_id": r["integration_id"], "name": name_of(names, r["integration_id"]), "active": r["n"]}
        for r in rows
    ]


def failing_rows(cutoff: datetime) -> QuerySet:
    """Per "providerId", the active orders failing with a permanent or configuration error: how
    many ("orders"), since when ("since"), how many since before `cutoff` ("too_long") and the
    error of the longest-failing one ("sample"), the longest-failing group first. One query: the
    sample error is a subquery per group, not a query per integration."""
    failing = Order.objects.failing_permanently()
    # The longest-failing order's error: the one that started the trouble. A NULL "providerId"
    # matches no OuterRef, so that group's sample comes from the orders without one.
    by_age = failing.order_by("permanent_error_since", "id").values("last_check_error")
    return (
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


def held_for_operator() -> OrderQuerySet:
    """Active orders held for an operator (hold_reason says why; docs/OPERATIONS.md)."""
    return Order.objects.active().held()


def held_orders() -> list[dict]:
    rows = held_for_operator().oldest_first().values("id", "integration_id", "hold_reason")
    return [
        {"order_id": str(row["id"]), "integration_id": row["integration_id"], "reason": row["hold_reason"]}
        for row in rows[:LISTED_ORDERS]
    ]


def timed_out_for_operator() -> list[dict]:
    rows = Order.objects.timed_out_for_operator().oldest_first().values("id", "integration_id", "sent_at")
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


def oldest_active_order() -> Order | None:
    """The active order nearest its 24 h limit, with what its age counts from."""
    return (
        Order.objects.active()
        .annotate(age_from=age())
        .order_by("age_from", "id")
        .only("id", "sent_at", "created_at")
        .first()
    )


def timed_out_since(since: datetime) -> int:
    # "timed out: ..." is how the monitor worded it before it followed the platform's wording.
    timeout = Q(message__startswith=TIMEOUT_NOTE) | Q(message__startswith="timed out")
    return OrderEvent.objects.filter(timeout, to_status=ExternalStatus.FAILED, created_at__gte=since).count()


def last_run() -> MonitorRun | None:
    """The check_pending_orders run that finished last, on any host."""
    return MonitorRun.objects.filter(finished_at__isnull=False).order_by("-finished_at").first()


def last_success_at() -> datetime | None:
    run = MonitorRun.objects.filter(succeeded=True, finished_at__isnull=False).order_by("-finished_at").first()
    return run.finished_at if run else None
