"""The questions asked of the orders table: the Order manager's queryset (active, waiting, due,
overdue, held, timed out for an operator) and the expressions it orders and filters by.
orders.models re-exports `due_at`, `age` and `OrderQuerySet`."""

from datetime import UTC, datetime

from django.db import models
from django.db.models import TextField, Value
from django.db.models.functions import Cast, Coalesce

from orders.statuses import ACTIVE_STATUSES, ExternalStatus, PlatformStatus

# An order never checked (next_check_at NULL) is due since the epoch. The due query filters on
# this one expression, which the partial index product_orders_monitor_due_idx is built on, so the index
# scan stops at the first order not yet due however many orders are active.
NEVER_CHECKED = datetime(1970, 1, 1, tzinfo=UTC)


def due_at():
    return Coalesce("next_check_at", Value(NEVER_CHECKED))


def _integration_text() -> Cast:
    return Cast("integration_id", TextField())


def age() -> Coalesce:
    """The time an order's age (and the 24 h limit) counts from, as in Order.age_counted_from."""
    return Coalesce("sent_at", "created_at")


class OrderQuerySet(models.QuerySet):
    def active(self):
        return self.filter(external_status__in=ACTIVE_STATUSES)

    # "providerId" is compared as text: some copies declare the column uuid, where comparing it
    # with '' or any other text that is not a uuid is an error.
    def with_provider(self) -> "OrderQuerySet":
        """Orders whose "providerId" is neither NULL nor ''."""
        return self.alias(integration_text=_integration_text()).filter(integration_text__gt="")

    def of_integration(self, integration_id: str) -> "OrderQuerySet":
        """Orders whose "providerId" is `integration_id` (any text)."""
        return self.alias(integration_text=_integration_text()).filter(integration_text=str(integration_id))

    def waiting(self) -> "OrderQuerySet":
        """Active orders sent to a provider that runs check: all but those held for an operator
        (hold_reason set)."""
        return self.active().with_provider().filter(hold_reason__isnull=True)

    def held(self) -> "OrderQuerySet":
        """Orders held for an operator: the monitor does not touch them until one resolves them."""
        return self.filter(hold_reason__isnull=False)

    def failing_permanently(self) -> "OrderQuerySet":
        """Active orders whose last check failed with a permanent or configuration error
        (orders.transitions sets permanent_error_since; monitor_health reports them)."""
        return self.active().filter(permanent_error_since__isnull=False)

    def timed_out_for_operator(self) -> "OrderQuerySet":
        """Orders stopped by the 24 h rule (the monitor's or the platform's checker): "externalStatus"
        failed while `status` is still pending, nothing refunded. The provider may still deliver;
        an operator decides."""
        return self.filter(external_status=ExternalStatus.FAILED, status=PlatformStatus.PENDING)

    def oldest_first(self) -> "OrderQuerySet":
        """By age (what the 24 h limit counts from), then id."""
        return self.order_by(age(), "id")

    def overdue(self, cutoff: datetime) -> "OrderQuerySet":
        """Waiting orders that should have been checked before `cutoff`: by their next check
        time, or by their age when never checked. A claimed order carries its lease end (in the
        future), so orders being checked right now never count."""
        return self.waiting().alias(overdue_at=Coalesce("next_check_at", age())).filter(overdue_at__lt=cutoff)

    def due(self, now):
        """Waiting orders whose next check time has come, the oldest order first (nearest the
        24 h limit). The index scan on due_at stops at the first order not yet due; only the due
        orders are then sorted by age."""
        return self.waiting().alias(due_at=due_at()).filter(due_at__lte=now).order_by(age(), "id")
