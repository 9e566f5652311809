"""What a verified `order-status` event does: it names an order of the integration, and a final
status word makes that order due now, so the next check reads the PIN (or the reason) as
usual. The event alone never completes or fails an order: it carries no PIN, and a late or
forged-looking event must not move money.

The order is found by `order_uuid` (our order id, sent to newOrder) or `order_id` (the other
tenant's order id, kept in "externalOrderId" or, for older orders, provider_referans), among
the orders of this integration only. It is made due with one conditional UPDATE: only an active
order not held for an operator whose next check is still ahead, so a final, held or already due
order is left as it is, and so is one a run holds a lease on (hooks.leases): its check is
under way.
"""

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from hooks import wakeup
from hooks.leases import movable_by_an_event
from orders.models import ACTIVE_STATUSES, Order
from orders.queries import uuid_or_none

log = logging.getLogger(__name__)

EVENT = "order-status"
# The client API's status words of an order that reached its end ("accept", "reject"); an event
# with any other word ("wait") is acknowledged and changes nothing: a check would find the order
# still in progress.
FINAL_WORDS = frozenset({"accept", "reject", "approved", "rejected", "done", "failed"})


@dataclass(frozen=True)
class Handled:
    """How an event was handled, in words for the DEBUG log (never the body)."""

    made_due: bool
    note: str


def handle_event(integration_id: uuid.UUID, body: bytes, now: datetime) -> Handled:
    """Apply one verified event of `integration_id` (inside the caller's transaction)."""
    event = _parsed(body)
    if event is None:
        return Handled(False, "not an order-status event")
    status = str(event.get("status") or "").strip().lower()
    if status not in FINAL_WORDS:
        return Handled(False, f"status {status[:20]!r} is not final")
    orders = _named_orders(integration_id, event)
    if orders is None:
        return Handled(False, "names no order")
    waiting = orders.filter(external_status__in=ACTIVE_STATUSES, hold_reason__isnull=True)
    woken = waiting.filter(movable_by_an_event(now)).order_by().update(next_check_at=now)
    if woken:
        wakeup.notify()
        return Handled(True, "order made due now")
    due = waiting.filter(Q(next_check_at__isnull=True) | Q(next_check_at__lte=now))
    if due.exists():
        wakeup.notify()
        return Handled(False, "order already due")
    if waiting.exists():
        return Handled(False, "order held by a run: left to its check")
    return Handled(False, "order unknown, final or held")


def _parsed(body: bytes) -> dict | None:
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(event, dict) or event.get("event") != EVENT:
        return None
    return event


def _named_orders(integration_id: uuid.UUID, event: dict):
    """The orders of this integration the event names (normally one), or None."""
    names = Q()
    order_uuid = event.get("order_uuid")
    our_id = uuid_or_none(order_uuid.strip()) if isinstance(order_uuid, str) else None
    if our_id is not None:
        names |= Q(pk=our_id)
    their_id = event.get("order_id")
    if isinstance(their_id, str | int) and not isinstance(their_id, bool) and str(their_id).strip():
        text = str(their_id).strip()[:255]
        names |= Q(external_order_id=text) | Q(provider_referans=text)
    if not names:
        return None
    return Order.objects.of_integration(str(integration_id)).filter(names)
