"""Completed orders as the history a check schedule is learned from (schedules.book)."""

import uuid
from datetime import datetime, timedelta

from django.utils import timezone

from orders.models import ExternalStatus, Order, PlatformStatus


def completed_orders(integration_id, seconds, completed_at: datetime | None = None, **fields) -> list[Order]:
    """One completed order of `integration_id` per completion time in `seconds` ("completedAt" -
    "sentAt"), completed at `completed_at` (default now) minus a second per order, newest first."""
    completed_at = completed_at or timezone.now()
    orders = []
    for number, took in enumerate(seconds):
        done = completed_at - timedelta(seconds=number)
        values = {
            "external_status": ExternalStatus.DONE,
            "status": PlatformStatus.APPROVED,
            "integration_id": None if integration_id is None else str(integration_id),
            "provider_referans": uuid.uuid4().hex,
            "pin_code": f"PIN-{number}",
            "sent_at": done - timedelta(seconds=took),
            "completed_at": done,
        }
        values.update(fields)
        orders.append(Order(**values))
    return Order.objects.bulk_create(orders)
