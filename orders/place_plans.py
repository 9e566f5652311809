"""What a place answer does to the order it placed, as pure plans (orders.plans for the other
events of an order's life; orders.transitions applies them).

The order was taken for dispatch (pending under our reference) before the provider was asked:
- accepted, or "this reference was already used" (the provider has the order): sent, first
  checked at the first offset of its integration's check schedule; a duplicate is never a refusal;
- lost or unreadable: stays pending, due for a status check MONITOR_FIRST_CHECK_DELAY_SECONDS later;
- refused: failed (rejected and refunded; held when the refund cannot be made exactly);
- the request provably never left: back to not_sent.
Every request that may have reached the provider adds one to `attempts` and a `notes` entry.
"""

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import F

from orders.columns import fit, fits
from orders.models import ExternalStatus, Order
from orders.outcomes import Outcome, Transition
from orders.plans import rejected_changes, with_note
from providers.base import PlaceResult, PlaceState
from schedules.backoff import scheduled_check_time
from schedules.rules import CheckRules

log = logging.getLogger(__name__)


def plan_place(
    current: Order,
    answer: PlaceResult,
    reference: str,
    now: datetime,
    schedule: Sequence[float],
    rules: CheckRules,
    storage_note: str | None = None,
) -> Transition:
    """What a place answer does to `current`, the order it placed (pending under `reference`, as
    locked): FAILED for a refusal, else no outcome. `storage_note`: what was replaced to make the
    answer storable (orders.columns.storable_place_result), for last_check_error."""
    changes = _placed_changes(answer, reference, now, schedule, rules) | _cost_changes(current, answer)
    if storage_note:
        error = changes.get("last_check_error")
        changes["last_check_error"] = fit("last_check_error", f"{error}; {storage_note}" if error else storage_note)
    outcome = Outcome.FAILED if changes.get("external_status") == ExternalStatus.FAILED else None
    return Transition(outcome, changes | _sent_note(current, answer, reference, now), answer.message)


def _placed_changes(
    answer: PlaceResult, reference: str, now: datetime, schedule: Sequence[float], rules: CheckRules
) -> dict:
    if answer.provider_has_order:
        note = (
            "sent to the provider"
            if answer.accepted
            else "the provider already had this order (repeated reference); following it"
        )
        changes = {
            "external_status": ExternalStatus.SENT,
            "sent_at": now,
            # The first check at the first offset of the integration's schedule, from "sentAt".
            "next_check_at": scheduled_check_time(now, now, schedule, rules),
            "last_message": fit("last_message", note),
        }
        # The provider's own id, kept only whole (a cut id names nothing); checks ask by ours.
        if answer.reference and answer.reference != reference and fits("external_order_id", answer.reference):
            changes["external_order_id"] = answer.reference
        return changes
    if answer.uncertain:
        # The provider may have the order: keep it pending so the monitor asks about it soon, but
        # not before a provider that took it slowly has had time to record it.
        return {
            "sent_at": now,
            "next_check_at": now + timedelta(seconds=rules.first_check_delay_seconds),
            "last_check_error": fit("last_check_error", f"dispatch answer unknown: {answer.message}"),
        }
    if answer.state == PlaceState.NOT_SENT:
        return {
            "external_status": ExternalStatus.NOT_SENT,
            "next_check_at": None,
            "last_check_error": fit("last_check_error", f"not sent: {answer.message}"),
        }
    changes = rejected_changes(f"refused by the provider: {answer.message}", answer.provider_text)
    return changes | {"completed_at": now, "last_sync_at": now}


def _sent_note(current: Order, answer: PlaceResult, reference: str, now: datetime) -> dict:
    """One more attempt and its notes entry, for a request that may have reached the provider."""
    if not answer.request_sent:
        return {}
    if answer.state == PlaceState.ACCEPTED:
        text = f"sent to the provider, reference {reference}"
    elif answer.state == PlaceState.DUPLICATE:
        text = f"sent to the provider, which already had reference {reference}; following it"
    elif answer.uncertain:
        text = f"sent to the provider, reference {reference}; its answer was lost: {answer.message}"
    else:
        text = f"refused by the provider: {answer.message}"
    return {"attempts": F("attempts") + 1} | with_note(current, text, now)


def _cost_changes(order: Order, answer: PlaceResult) -> dict:
    """What the provider charged, when its answer says and the amount fits "costAmount"; a cost
    without a currency is in the order's own cost currency. Otherwise nothing changes."""
    if answer.cost_amount is None:
        return {}
    field = Order._meta.get_field("cost_amount")
    if abs(answer.cost_amount) >= Decimal(10) ** (field.max_digits - field.decimal_places):
        log.warning(
            "order %s: the provider's cost %s does not fit costAmount; not stored", order.pk, answer.cost_amount
        )
        return {}
    changes: dict = {"cost_amount": answer.cost_amount}
    if answer.cost_currency and fits("cost_currency", answer.cost_currency):
        changes["cost_currency"] = answer.cost_currency
    return changes


def held_refusal(current: Order, answer: PlaceResult, reference: str, reason: str, now: datetime) -> Transition:
    """A refused placement whose refund cannot be made exactly (`reason`): held, still pending."""
    hold_reason = (
        f"refused by the provider when placed ({answer.message}), not rejected or refunded: {reason}; "
        "settle it on the platform"
    )
    changes = _sent_note(current, answer, reference, now)
    changes.update(hold_reason=hold_reason, last_check_error=fit("last_check_error", hold_reason), next_check_at=None)
    if answer.provider_text:
        changes["provider_message"] = answer.provider_text
    return Transition(Outcome.HELD, changes, answer.message)
