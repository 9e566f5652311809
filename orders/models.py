"""Orders as the platform stores them (the existing table `product_orders`), their history, and
the record of monitor runs."""

import uuid
from decimal import Decimal

from django.db import models
from django.db.models import Value
from django.utils import timezone

from orders.outcomes import ACTIVE_STATUSES, DELIVERED_STATUSES, STATUS_RANK, ExternalStatus, PlatformStatus

# The platform's tables a final status changes (customers' balances, the wallet ledger, the
# exchange rates); importing them here registers them with the app.
from orders.platform_tables import Currency, Customer, LedgerUser, Tenant, WalletTransaction  # noqa: F401

# The order's states and the questions asked of the table have their own modules; they are
# imported from here too (`from orders.models import Order, ACTIVE_STATUSES, due_at, age`).
from orders.queries import NEVER_CHECKED, OrderQuerySet, age, due_at

__all__ = [
    "ACTIVE_STATUSES",
    "DELIVERED_STATUSES",
    "NEVER_CHECKED",
    "PLACEHOLDER_PINS",
    "STATUS_RANK",
    "EventSource",
    "ExternalStatus",
    "IntegrationIdField",
    "MonitorRun",
    "Order",
    "OrderEvent",
    "OrderQuerySet",
    "PlatformStatus",
    "age",
    "due_at",
]

# What the platform's checker stores as the PIN of an order still pending at znet (after strip).
PLACEHOLDER_PINS = frozenset({"", "-"})


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
    # The customer who pays: users.id, of the order's tenant (orders.platform_tables.Customer).
    user_id = models.UUIDField(db_column="userId", null=True, blank=True)
    quantity = models.IntegerField(default=1, db_default=1)
    # The total in the customer's currency, fixed when the order was created: what a rejection refunds.
    sell_price_currency = models.CharField(
        max_length=10, db_column="sellPriceCurrency", default="USD", db_default="USD"
    )
    sell_price_amount = models.DecimalField(
        max_digits=10, decimal_places=2, db_column="sellPriceAmount", default=Decimal(0), db_default=Decimal(0)
    )
    # The total in USD.
    price = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal(0), db_default=Decimal(0))
    # What the provider charged (znet answers its dealer cost in TRY when the order is placed).
    cost_currency = models.CharField(max_length=10, db_column="costCurrency", default="USD", db_default="USD")
    cost_amount = models.DecimalField(
        max_digits=10, decimal_places=2, db_column="costAmount", default=Decimal(0), db_default=Decimal(0)
    )
    # Place requests sent to the provider.
    attempts = models.IntegerField(default=0, db_default=0)
    # The platform's notes: a list of {"by", "text", "at"}; notesCount is its length.
    notes = models.JSONField(default=list, db_default=Value([], output_field=models.JSONField()))
    notes_count = models.IntegerField(db_column="notesCount", default=0, db_default=0)
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
    duration_ms = models.IntegerField(db_column="durationMs", null=True, blank=True)
    # The exchange-rate freeze of an approval, which the platform's reports sum.
    fx_usd_try_at_approval = models.DecimalField(
        max_digits=12, decimal_places=6, db_column="fxUsdTryAtApproval", null=True, blank=True
    )
    sell_try_at_approval = models.DecimalField(
        max_digits=12, decimal_places=2, db_column="sellTryAtApproval", null=True, blank=True
    )
    cost_try_at_approval = models.DecimalField(
        max_digits=12, decimal_places=2, db_column="costTryAtApproval", null=True, blank=True
    )
    profit_try_at_approval = models.DecimalField(
        max_digits=12, decimal_places=2, db_column="profitTryAtApproval", null=True, blank=True
    )
    profit_usd_at_approval = models.DecimalField(
        max_digits=12, decimal_places=2, db_column="profitUsdAtApproval", null=True, blank=True
    )
    fx_captured_at = models.DateTimeField(db_column="fxCapturedAt", null=True, blank=True)
    fx_source = models.CharField(max_length=50, db_column="fxSource", null=True, blank=True)
    fx_locked = models.BooleanField(db_column="fxLocked", null=True, default=False, db_default=False)
    approved_at = models.DateTimeField(db_column="approvedAt", null=True, blank=True)
    # The reports count an approval on its Istanbul date (approvedAt + 3 h) and month (YYYY-MM).
    approved_local_date = models.DateField(db_column="approvedLocalDate", null=True, blank=True)
    approved_local_month = models.CharField(max_length=7, db_column="approvedLocalMonth", null=True, blank=True)

    # Columns the monitor adds. The old application inserts rows without them, so each is
    # nullable or has a database default.
    # varchar(255) on the live table (the platform's Django side added it first).
    provider_referans = models.CharField(max_length=255, null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True, help_text="NULL means due now.")
    # Every check (the operators' queries read it); consecutive_errors only the failed checks
    # since the last answer, for the error backoff.
    check_attempts = models.IntegerField(default=0, db_default=0)
    consecutive_errors = models.IntegerField(default=0, db_default=0)
    # The lease end the order's last claim wrote into next_check_at. A run holds the order while
    # next_check_at still equals it and it is ahead: every store and release writes another
    # next_check_at, so nothing has to clear it (hooks.leases reads it).
    monitor_leased_until = models.DateTimeField(null=True, blank=True)
    last_check_error = models.TextField(null=True, blank=True)
    # A delivered PIN longer than "pinCode" holds, kept whole; the order waits for an operator.
    pin_code_full = models.TextField(null=True, blank=True)
    # Why the order waits for an operator (NULL: not held): a PIN too long for "pinCode", a final
    # answer whose money the monitor cannot move (no "userId", a user of another tenant). The
    # monitor never claims a held order.
    hold_reason = models.TextField(null=True, blank=True)
    # When the current run of permanent or configuration errors began (monitor_health).
    permanent_error_since = models.DateTimeField(null=True, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        db_table = "product_orders"
        # The partial index that serves the due query is created in SQL (migration 0001 and
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
    def has_pin(self):
        """A PIN is stored: the placeholders the platform's checker leaves (' ', '-', ' - ') are none."""
        return (self.pin_code or "").strip() not in PLACEHOLDER_PINS

    @property
    def is_held(self):
        return self.hold_reason is not None

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

    @classmethod
    def record(cls, order_id, from_status: str, to_status: str, when, source: str, message: str | None = ""):
        """The history row of a change, written in the change's transaction: a rolled-back
        change leaves none."""
        return cls.objects.create(
            order_id=order_id,
            from_status=from_status,
            to_status=to_status,
            created_at=when,
            source=source,
            message=message or "",
        )

    @classmethod
    def recorded(cls, order_id, when, source: str) -> bool:
        """Whether a change of `order_id` at `when` by `source` is in the history: the mark a
        write leaves when it committed (asked after a connection lost while committing)."""
        return cls.objects.filter(order_id=order_id, created_at=when, source=source).exists()


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
