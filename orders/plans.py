"""What each event of an order's life does to it, as pure plans: the order as stored and the event
in, one `Transition` (the outcome and the column changes) out. orders.transitions applies them.

The events: a status check's result (`plan_transition`, which also times an order out 24 h after
it was sent), a result the database refused to store (`plan_store_failure`), and the holds for an
operator (a PIN too long for "pinCode", a final answer whose money cannot be moved exactly:
`held_for_money`). A place answer's plans are orders.place_plans.

Every value written fits its live column (orders.columns): messages are shortened with an
ellipsis, "providerMessage" (text) keeps the provider's words whole, and a PIN is never cut.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db.models import F, Value
from django.db.models.functions import Coalesce

from orders.columns import fit, fits, max_length
from orders.models import STATUS_RANK, ExternalStatus, Order, PlatformStatus
from orders.outcomes import Outcome, Transition
from orders.platform_effects import duration_ms
from providers.base import CheckResult, CheckState
from schedules.backoff import next_check_time, scheduled_check_time
from schedules.rules import CheckRules

# What the platform's own checker appends to "lastMessage" of an order 24 h without an answer.
TIMEOUT_NOTE = "Timeout: No response after 24h"
# How last_check_error of an order answered with a status word the monitor does not know begins
# (monitor_health lists these words per integration).
UNKNOWN_STATUS_PREFIX = "unknown status word"


# The platform's order notes: `notes` is a jsonb list of {"by", "text", "at"} objects and
# `"notesCount"` its length. Every status change the monitor makes, and every place request,
# appends one, as the platform's own status change does.
NOTE_AUTHOR = "system"


def with_note(order: Order, text: str, at: datetime) -> dict:
    """The column changes that append one note to `order` (as read, under its row lock)."""
    notes = [*(order.notes or []), {"by": NOTE_AUTHOR, "text": text, "at": at.isoformat()}]
    return {"notes": notes, "notes_count": len(notes)}


def rejected_changes(last_message: str, provider_message: str | None = None) -> dict:
    """The columns of an order that ends failed ("rejected" for the platform): final, never
    checked again; `provider_message` (text, shown to the customer) only the provider's words."""
    changes = {
        "external_status": ExternalStatus.FAILED,
        "status": PlatformStatus.REJECTED,
        "last_message": fit("last_message", last_message),
        "next_check_at": None,
    }
    if provider_message:
        changes["provider_message"] = provider_message
    return changes


def final_changes(order: Order, now: datetime, note_text: str) -> dict:
    """What every final status of a check sets besides its own columns: times, duration, one note."""
    return {
        "completed_at": now,
        "last_sync_at": now,
        "duration_ms": duration_ms(order, now),
        "last_check_error": None,
        "permanent_error_since": None,
        "consecutive_errors": 0,
    } | with_note(order, note_text, now)


def plan_transition(
    order: Order, result: CheckResult, now: datetime, schedule: Sequence[float] | None = None, *, rules: CheckRules
) -> Transition:
    """The outcome of the check `result` for `order` (as stored now) and the columns to write.
    `schedule`: the check schedule of the order's integration (None: the default schedule)."""
    if order.is_held:
        # Held for an operator: no later answer may overwrite what is kept, time the order out
        # or finalize it without the operator.
        return Transition(Outcome.HELD)
    if result.state == CheckState.COMPLETED:
        return _completed(order, result, now)
    if result.state == CheckState.FAILED:
        reason = result.message or result.note or "no reason given"
        changes = rejected_changes(f"failed at the provider: {reason}", result.message)
        changes |= final_changes(order, now, f"rejected: the provider failed the order ({reason})")
        return Transition(Outcome.FAILED, changes, result.message)
    if now - order.age_counted_from >= timedelta(hours=rules.max_age_hours):
        return _timed_out(order, result, now)
    if result.state == CheckState.IN_PROGRESS:
        return _in_progress(order, result, now, schedule or rules.default_schedule(), rules)
    return _check_failed(order, result, now, rules)


def _completed(order: Order, result: CheckResult, now: datetime) -> Transition:
    has_pin = order.has_pin
    if result.pin and not has_pin and not fits("pin_code", result.pin):
        return _held_pin(result, result.pin, now)
    changes = {
        "external_status": ExternalStatus.DONE,
        "status": PlatformStatus.APPROVED,
        "next_check_at": None,
        "last_message": fit("last_message", "completed"),
    } | final_changes(order, now, "approved: the provider delivered the order")
    # A PIN already stored is never replaced, and never by an empty value; a placeholder the
    # platform's checker left (' ', ' - ') is not a PIN.
    if result.pin and not has_pin:
        changes["pin_code"] = result.pin
    if result.message:
        changes["provider_message"] = result.message
    return Transition(Outcome.COMPLETED, changes, result.message)


def _timed_out(order: Order, result: CheckResult, now: datetime) -> Transition:
    """24 h without a final answer: as the platform's own checker does, "externalStatus" failed
    and the reason in "lastMessage"; `status` stays, nothing is refunded (the provider may still
    deliver): monitor_health lists the order for an operator to decide."""
    said = (order.last_message or "").strip()
    changes: dict = {
        "external_status": ExternalStatus.FAILED,
        "last_message": fit("last_message", f"{said} | {TIMEOUT_NOTE}" if said else TIMEOUT_NOTE),
        "next_check_at": None,
        "permanent_error_since": None,
    }
    if result.is_error:
        changes["last_check_error"] = result.describe_error()
    else:
        changes["last_sync_at"] = now
        changes["last_check_error"] = None
    return Transition(Outcome.TIMED_OUT, changes, TIMEOUT_NOTE)


def _in_progress(
    order: Order, result: CheckResult, now: datetime, schedule: Sequence[float], rules: CheckRules
) -> Transition:
    """Still processing: the next check at the integration's schedule; an answer ends a run of errors."""
    changes: dict = {
        "check_attempts": F("check_attempts") + 1,
        "consecutive_errors": 0,
        "next_check_at": scheduled_check_time(order.age_counted_from, now, schedule, rules),
        "last_sync_at": now,
        "last_check_error": _progress_note(result),
        "permanent_error_since": None,
    }
    if STATUS_RANK.get(order.external_status, 0) < STATUS_RANK[ExternalStatus.PROCESSING]:
        changes["external_status"] = ExternalStatus.PROCESSING
    if result.message:
        changes["provider_message"] = result.message
    return Transition(Outcome.PROCESSING, changes, result.message)


def _check_failed(order: Order, result: CheckResult, now: datetime, rules: CheckRules) -> Transition:
    """The check failed: the error backoff over the failed checks in a row only ("still
    processing" answers before them were the schedule's, not errors)."""
    changes: dict = {
        "check_attempts": F("check_attempts") + 1,
        "consecutive_errors": F("consecutive_errors") + 1,
        "next_check_at": next_check_time(now, order.consecutive_errors + 1, rules, permanent=result.permanent),
        "last_check_error": result.describe_error(),
        # monitor_health reports orders failing permanently since this time (the earliest kept).
        "permanent_error_since": Coalesce(F("permanent_error_since"), Value(now)) if result.permanent else None,
    }
    return Transition(Outcome.ERROR, changes)


def _progress_note(result: CheckResult) -> str | None:
    """last_check_error of a still-processing answer: what the monitor noticed about it, if anything."""
    if result.unknown_status:
        return f'{UNKNOWN_STATUS_PREFIX} "{result.unknown_status}": followed as still in progress'
    return result.note or None


def _held_pin(result: CheckResult, pin: str, now: datetime) -> Transition:
    """A completed answer whose PIN does not fit "pinCode": the PIN kept whole in the monitor's
    own column, the order left active (no final status, no signal, no refund) and not claimed again."""
    reason = (
        f'PIN of {len(pin)} characters does not fit "pinCode" ({max_length("pin_code")}): '
        "kept whole in pin_code_full; deliver it by hand"
    )
    return _hold(reason, now, pin, result.message)


def held_for_money(result: CheckResult, reason: str, now: datetime) -> Transition:
    """A final answer whose money the monitor cannot move exactly (`reason`): held, its PIN kept."""
    if result.state == CheckState.COMPLETED:
        kept = "; the PIN is kept in pin_code_full" if result.pin else ""
        hold_reason = f"completed at the provider, not approved: {reason}{kept}; settle it on the platform"
        return _hold(hold_reason, now, result.pin, result.message)
    hold_reason = f"failed at the provider, not rejected or refunded: {reason}; settle it on the platform"
    return _hold(hold_reason, now, None, result.message)


def _hold(reason: str, now: datetime, pin: str | None, provider_message: str | None) -> Transition:
    changes: dict = {"hold_reason": reason, "last_check_error": reason, "last_sync_at": now, "next_check_at": None}
    if pin:
        changes["pin_code_full"] = pin
    if provider_message:
        changes["provider_message"] = provider_message
    return Transition(Outcome.HELD, changes, provider_message or "")


def plan_store_failure(
    order: Order, problem: str, now: datetime, rules: CheckRules, pin: str | None = None
) -> Transition:
    """A check result the database refused to store (`problem`), noted in the monitor's own
    columns only (the failed write may be the live columns' fault), with the error backoff, so it
    is not repeated at every run. With `pin` (a delivered PIN the database refuses for good), the
    PIN is kept whole and the order held for an operator: a PIN in hand is never thrown away."""
    error = f"storing the check result failed: {problem}"
    changes: dict = {
        "last_check_error": error,
        "check_attempts": F("check_attempts") + 1,
        "consecutive_errors": F("consecutive_errors") + 1,
        "next_check_at": next_check_time(now, order.consecutive_errors + 1, rules),
    }
    if not pin:
        return Transition(Outcome.ERROR, changes)
    error = f"{error}; the PIN is kept whole in pin_code_full: deliver it by hand"
    changes.update(last_check_error=error, pin_code_full=pin, hold_reason=error, next_check_at=None)
    return Transition(Outcome.HELD, changes)
