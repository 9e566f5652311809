"""The states of an order: at the provider ("externalStatus"), in the platform (`status`), and
which of them the monitor follows. orders.models re-exports them."""

from django.db import models


class ExternalStatus(models.TextChoices):
    """The order's state at the provider (`"externalStatus"`)."""

    NOT_SENT = "not_sent"
    PENDING = "pending"
    SENT = "sent"
    PROCESSING = "processing"
    # Still at the provider: the platform writes "wait" from a provider's answer and "unknown"
    # after a provider's error line.
    WAIT = "wait"
    UNKNOWN = "unknown"
    # Final. The platform's own status change writes "done" for an approved order; older rows
    # (and the older monitor) say "completed".
    DONE = "done"
    COMPLETED = "completed"
    FAILED = "failed"


# An order delivered by its provider: "done" as the platform writes it, "completed" in older rows.
DELIVERED_STATUSES = (ExternalStatus.DONE, ExternalStatus.COMPLETED)
# The monitor follows orders in these states (still at the provider); any other state is final,
# not yet sent (not_sent, queued) or not the monitor's (forwarded, manual_required).
ACTIVE_STATUSES = (
    ExternalStatus.PENDING,
    ExternalStatus.SENT,
    ExternalStatus.PROCESSING,
    ExternalStatus.WAIT,
    ExternalStatus.UNKNOWN,
)
# The order of states an order moves through; the monitor never moves one backwards.
STATUS_RANK: dict[str, int] = {
    ExternalStatus.NOT_SENT: 0,
    ExternalStatus.PENDING: 1,
    ExternalStatus.UNKNOWN: 1,
    ExternalStatus.WAIT: 2,
    ExternalStatus.SENT: 2,
    ExternalStatus.PROCESSING: 3,
}


class PlatformStatus(models.TextChoices):
    """The platform's own view of the order (`status`)."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
