"""The history of status changes (`order_status_events`): one row per change of an order's
`"externalStatus"`, written in the transaction of the change (so a rolled-back change leaves
none), by the checks (orders.transitions) and by dispatch (orders.dispatch)."""

import uuid
from datetime import datetime

from orders.models import OrderEvent


def record_status_change(
    order_id: uuid.UUID, from_status: str, to_status: str, when: datetime, source: str, message: str | None = ""
) -> OrderEvent:
    """Add the history row of `order_id`'s change from `from_status` to `to_status`."""
    return OrderEvent.objects.create(
        order_id=order_id,
        from_status=from_status,
        to_status=to_status,
        created_at=when,
        source=source,
        message=message or "",
    )


def status_change_recorded(order_id: uuid.UUID, when: datetime, source: str) -> bool:
    """Whether a change of `order_id` at `when` by `source` is in the history: the mark a write
    leaves when it committed (orders.storing asks after a connection lost while committing)."""
    return OrderEvent.objects.filter(order_id=order_id, created_at=when, source=source).exists()
