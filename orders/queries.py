"""Finding orders and integrations: the questions asked of the orders table (the Order manager's
queryset: active, waiting, due, overdue, held, timed out for an operator, and the expressions it
orders and filters by; orders.models re-exports `due_at`, `age` and `OrderQuerySet`), and the
reading of ids: an order id someone typed, and the integration ids `"providerId"` holds as text,
read one way everywhere, so that an id written in another form (upper case, braces, no hyphens)
names the same integration in the run, the health report and the admin."""

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from django.db import connection, models, transaction
from django.db.models import TextField, Value
from django.db.models.functions import Cast, Coalesce

from orders.connection_loss import Reconnect, reconnecting, skipped_when_lost
from orders.outcomes import ACTIVE_STATUSES, ExternalStatus, PlatformStatus
from providers.models import Integration

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


class NotAnId(ValueError):
    """The text is not a UUID; the message says so in one line."""


def uuid_or_none(text: object) -> uuid.UUID | None:
    """`text` as a UUID, in any form `uuid.UUID` reads; None when it is not one."""
    try:
        return uuid.UUID(str(text))
    except ValueError:
        return None


def parse_uuid(text: object, what: str = "an order id") -> uuid.UUID:
    """`text` as a UUID; NotAnId ("'x' is not an order id (expected a UUID)") when it is not one."""
    value = uuid_or_none(text)
    if value is None:
        raise NotAnId(f"{text!r} is not {what} (expected a UUID)")
    return value


def integration_key(provider_id: object) -> str:
    """The one key of the integration a "providerId" text names, as the run finds it: the id in
    its canonical form when it is a UUID in any form, any other text as it is."""
    value = uuid_or_none(provider_id)
    return str(value) if value is not None else str(provider_id or "")


def integrations_by_id(id_texts: Iterable[str], only: tuple[str, ...] = ()) -> dict[str, Integration]:
    """{"providerId" text: Integration} in one query (loading the fields `only`, default all);
    texts that are not a known integration's id are left out."""
    ids = {text: value for text in set(id_texts) if (value := uuid_or_none(text)) is not None}
    integrations = Integration.objects.only(*only) if only else Integration.objects.all()
    found = integrations.in_bulk(set(ids.values()))
    return {text: found[value] for text, value in ids.items() if value in found}


@contextmanager
def read_apart() -> Iterator[None]:
    """A block of reads whose failure must not abort the caller's transaction: inside one, a
    savepoint of its own (a schedule or a webhook list read while an order is stored)."""
    if connection.in_atomic_block:
        with transaction.atomic():
            yield
    else:
        yield


def integrations_of(orders: list, reconnect: Reconnect) -> dict[str, Integration] | None:
    """The claimed orders' integrations ({"providerId" text: Integration}), through a lost
    connection as `reconnect` allows; None when it is still lost then."""
    integrations = None
    with skipped_when_lost("the integrations could not be read"):
        for attempt in reconnecting(reconnect):
            with attempt:
                integrations = integrations_by_id([order.integration_id for order in orders])
    return integrations
