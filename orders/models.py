"""Orders as the platform stores them (the existing table `product_orders`), their history, and
the record of monitor runs."""

import uuid
from datetime import UTC, datetime

from django.db import models
from django.db.models import TextField, Value
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone


class ExternalStatus(models.TextChoices):
    """The order's state at the provider (`"externalStatus"`)."""

    NOT_SENT = "not_sent"
    PENDING = "pending"
    SENT = "sent"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


# The monitor polls orders in these states; any other state is final or not yet sent.
ACTIVE_STATUSES = (ExternalStatus.PENDING, ExternalStatus.SENT, ExternalStatus.PROCESSING)
# The order of states an order moves through; the monitor never moves one backwards.
STATUS_RANK: dict[str, int] = {
    ExternalStatus.NOT_SENT: 0,
    ExternalStatus.PENDING: 1,
    ExternalStatus.SENT: 2,
    ExternalStatus.PROCESSING: 3,
}


class PlatformStatus(models.TextChoices):
    """The platform's own view of the order (`status`)."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


# An order never checked (next_check_at NULL) is due since the epoch. The due query filters on
# this one expression, which the partial index product_orders_due_idx is built on, so the index
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
        (a PIN kept in pin_code_full)."""
        return self.active().with_provider().filter(pin_code_full__isnull=True)

    def due(self, now):
        """Waiting orders whose next check time has come, the oldest order first (nearest the
        24 h limit). The index scan on due_at stops at the first order not yet due; only the due
        orders are then sorted by age."""
        return self.waiting().alias(due_at=due_at()).filter(due_at__lte=now).order_by(age(), "id")


class IntegrationIdField(models.CharField):
    """The "providerId" column as text, whatever its type: the driver returns a uuid column's
    values as uuid.UUID, which would compare unequal to the same id as text."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else str(value)


class Order(models.Model):
    # The live table's columns, with the sizes the older application declared: every value the
    # monitor writes must fit them (orders.columns.fit shortens messages; PINs are never cut).
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = models.UUIDField(db_column="tenantId", null=True, blank=True)
    status = models.CharField(max_length=50, choices=PlatformStatus.choices, default=PlatformStatus.PENDING)
    external_status = models.CharField(max_length=30, db_column="externalStatus", default=ExternalStatus.NOT_SENT)
    # Text, not a foreign key: the old application stores the integration id as text (some
    # hand-built copies declare the column uuid, so it is compared as text, never with '' as is).
    integration_id = IntegrationIdField(max_length=255, db_column="providerId", null=True, blank=True)
    external_order_id = models.CharField(max_length=255, db_column="externalOrderId", null=True, blank=True)
    pin_code = models.CharField(max_length=120, db_column="pinCode", null=True, blank=True)
    provider_message = models.TextField(db_column="providerMessage", null=True, blank=True)
    last_message = models.CharField(max_length=250, db_column="lastMessage", null=True, blank=True)
    sent_at = models.DateTimeField(db_column="sentAt", null=True, blank=True)
    last_sync_at = models.DateTimeField(db_column="lastSyncAt", null=True, blank=True)
    completed_at = models.DateTimeField(db_column="completedAt", null=True, blank=True)
    created_at = models.DateTimeField(db_column="createdAt", default=timezone.now)

    # Columns the monitor adds. The old application inserts rows without them, so each is
    # nullable or has a database default.
    provider_referans = models.TextField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True, help_text="NULL means due now.")
    check_attempts = models.IntegerField(default=0, db_default=0)
    last_check_error = models.TextField(null=True, blank=True)
    # A delivered PIN longer than "pinCode" holds, kept whole; the order waits for an operator.
    pin_code_full = models.TextField(null=True, blank=True)
    # When the current run of permanent or configuration errors began (monitor_health).
    permanent_error_since = models.DateTimeField(null=True, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        db_table = "product_orders"
        # The partial index that serves the due query is created in SQL (migration 0002 and
        # sql/upgrade_existing_database.sql), identical on a fresh and on an existing database.

    def __str__(self):
        return str(self.id)

    @property
    def reference(self):
        """What the provider is asked about: our reference, else the provider's order id."""
        return (self.provider_referans or "").strip() or (self.external_order_id or "").strip() or None

    @property
    def is_active(self):
        return self.external_status in ACTIVE_STATUSES

    @property
    def was_sent(self):
        return bool(self.integration_id) and self.external_status != ExternalStatus.NOT_SENT

    @property
    def age_counted_from(self):
        """The time the 24-hour limit counts from."""
        return self.sent_at or self.created_at


class EventSource(models.TextChoices):
    RUN = "run"  # check_pending_orders run
    MANUAL = "manual"  # --order-id or the admin's "check now"
    DISPATCH = "dispatch"


class OrderEvent(models.Model):
    """One change of an order's `"externalStatus"`, written in the transaction of the change."""

    # No database constraint: the old application may delete orders without knowing this table.
    order = models.ForeignKey(
        Order, on_delete=models.DO_NOTHING, db_constraint=False, related_name="events", db_column="order_id"
    )
    from_status = models.TextField()
    to_status = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    source = models.TextField(choices=EventSource.choices)
    message = models.TextField(blank=True, default="")

    class Meta:
        db_table = "order_status_events"
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.from_status} -> {self.to_status}"


class MonitorRun(models.Model):
    """One check_pending_orders run: what monitor_health reads to tell whether cron runs."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True, db_index=True)
    succeeded = models.BooleanField(default=False)
    host = models.TextField(blank=True, default="")
    checked = models.IntegerField(default=0)
    completed = models.IntegerField(default=0)
    failed = models.IntegerField(default=0)
    processing = models.IntegerField(default=0)
    errors = models.IntegerField(default=0)
    timed_out = models.IntegerField(default=0)
    released = models.IntegerField(default=0)

    class Meta:
        db_table = "order_monitor_runs"
        ordering = ["-started_at"]
