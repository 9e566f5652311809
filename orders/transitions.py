"""What one status check does to an order, and storing it without ever losing data.

`plan_transition` is pure: the order as stored + the check result -> the outcome and the column
changes. `apply_check_result` writes them in one transaction, only if the order is still active
(a final order never changes again) and, for non-final outcomes, only while the caller still
holds its claim; it adds a history row for a status change and sends order_finalized after
commit.

Every value written fits its live column (orders.columns): messages are shortened with an
ellipsis, "providerMessage" (text) keeps the provider's words whole, and a PIN is never cut: a
completed answer whose PIN does not fit "pinCode" is held for an operator instead (HELD).
"""

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce

from orders.backoff import next_check_time, scheduled_check_time
from orders.columns import fit, fits, max_length
from orders.history import record_status_change
from orders.models import STATUS_RANK, EventSource, ExternalStatus, Order, PlatformStatus
from orders.notes import with_note
from orders.platform_effects import MoneyUnsettled, approval_changes, check_refundable, duration_ms, refund
from orders.schedule import default_schedule
from orders.signals import send_order_finalized
from providers.base import CheckResult, CheckState
from providers.redaction import mask_pin

log = logging.getLogger(__name__)


class Outcome(enum.StrEnum):
    """What a check did to an order: the one list the run's report, its summary line and its
    metrics count (in this order)."""

    COMPLETED = "completed"
    FAILED = "failed"
    PROCESSING = "processing"
    ERROR = "error"  # the check failed; the order is rescheduled
    TIMED_OUT = "timed_out"
    SKIPPED = "skipped"  # the order changed under us (final elsewhere, or claim lost)
    # Completed at the provider, but the PIN does not fit "pinCode": kept whole in pin_code_full,
    # the order stays active and is never claimed again until an operator resolves it.
    HELD = "held"

    @property
    def is_final(self):
        return self in (Outcome.COMPLETED, Outcome.FAILED, Outcome.TIMED_OUT)

    @property
    def moves_money(self):
        """A status change with the platform's money effects: decided under the row lock."""
        return self in (Outcome.COMPLETED, Outcome.FAILED)

    @property
    def keeps_provider_answer(self):
        """Written even after the claim was lost: the provider has finished, and throwing its
        answer (maybe a PIN in hand) away would only delay delivery."""
        return self.is_final or self == Outcome.HELD

    @property
    def count_name(self):
        """The name of its count in the summary line and in order_monitor_runs."""
        return "errors" if self == Outcome.ERROR else self.value


@dataclass(frozen=True)
class Transition:
    outcome: Outcome
    changes: dict = field(default_factory=dict)
    message: str = ""  # for the history row


# What the platform's own checker appends to "lastMessage" of an order 24 h without an answer.
TIMEOUT_NOTE = "Timeout: No response after 24h"
# How last_check_error of an order answered with a status word the monitor does not know begins
# (monitor_health lists these words per integration).
UNKNOWN_STATUS_PREFIX = "unknown status word"


def timeout_last_message(order: Order) -> str | None:
    """ "lastMessage" of an order the 24 h rule stops following: the platform's own wording,
    after what the field said."""
    said = (order.last_message or "").strip()
    return fit("last_message", f"{said} | {TIMEOUT_NOTE}" if said else TIMEOUT_NOTE)


def unknown_status_message(word: str) -> str:
    return f'{UNKNOWN_STATUS_PREFIX} "{word}": followed as still in progress'


def rejected_changes(last_message: str, provider_message: str | None = None) -> dict:
    """The columns of an order that ends failed ("rejected" for the platform): final, never
    checked again; `last_message` shortened to fit, `provider_message` (text, shown to the
    customer) only the provider's own words, kept whole. The refund is orders.platform_effects'."""
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
    """What every final status sets besides its own columns: the times, the duration, one note."""
    return {
        "completed_at": now,
        "last_sync_at": now,
        "duration_ms": duration_ms(order, now),
        "last_check_error": None,
        "permanent_error_since": None,
        "consecutive_errors": 0,
    } | with_note(order, note_text, now)


def held_pin_message(pin: str) -> str:
    """hold_reason of an order held because its PIN does not fit "pinCode"."""
    return (
        f'PIN of {len(pin)} characters does not fit "pinCode" ({max_length("pin_code")}): '
        "kept whole in pin_code_full; deliver it by hand"
    )


def held_money_message(result: CheckResult, reason: str) -> str:
    """hold_reason of a final answer whose money the monitor cannot move exactly."""
    if result.state == CheckState.COMPLETED:
        kept = "; the PIN is kept in pin_code_full" if result.pin else ""
        return f"completed at the provider, not approved: {reason}{kept}; settle it on the platform"
    return f"failed at the provider, not rejected or refunded: {reason}; settle it on the platform"


def plan_transition(
    order: Order, result: CheckResult, now: datetime, schedule: Sequence[float] | None = None
) -> Transition:
    """The outcome of `result` for `order` (as stored now) and the columns to write. `schedule`
    is the check schedule of the order's integration (orders.schedule_book; None: the default
    schedule): when the next check of a still-processing order comes."""
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
    if now - order.age_counted_from >= timedelta(hours=settings.MONITOR_MAX_AGE_HOURS):
        return _timed_out(order, result, now)
    return _still_open(order, result, now, schedule)


def _completed(order: Order, result: CheckResult, now: datetime) -> Transition:
    has_pin = order.has_pin
    if result.pin and not has_pin and not fits("pin_code", result.pin):
        return _held(result, now)
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
    changes: dict = {
        "external_status": ExternalStatus.FAILED,
        "last_message": timeout_last_message(order),
        "next_check_at": None,
        "permanent_error_since": None,
    }
    if result.is_error:
        changes["last_check_error"] = result.describe_error()
    else:
        changes["last_sync_at"] = now
        changes["last_check_error"] = None
    return Transition(Outcome.TIMED_OUT, changes, TIMEOUT_NOTE)


def _still_open(order: Order, result: CheckResult, now: datetime, schedule: Sequence[float] | None) -> Transition:
    changes: dict = {"check_attempts": F("check_attempts") + 1}
    if result.state == CheckState.IN_PROGRESS:
        changes["consecutive_errors"] = 0
        schedule = schedule or default_schedule(settings.MONITOR_BACKOFF_CAP_SECONDS)
        changes["next_check_at"] = scheduled_check_time(order.age_counted_from, now, schedule)
        changes["last_sync_at"] = now
        changes["last_check_error"] = _progress_note(result)
        changes["permanent_error_since"] = None
        if STATUS_RANK.get(order.external_status, 0) < STATUS_RANK[ExternalStatus.PROCESSING]:
            changes["external_status"] = ExternalStatus.PROCESSING
        if result.message:
            changes["provider_message"] = result.message
        return Transition(Outcome.PROCESSING, changes, result.message)
    # The backoff counts the failed checks in a row only: "still processing" answers before
    # them were the schedule's, not errors.
    changes["consecutive_errors"] = F("consecutive_errors") + 1
    changes["next_check_at"] = next_check_time(now, order.consecutive_errors + 1, permanent=result.permanent)
    changes["last_check_error"] = result.describe_error()
    # monitor_health reports orders failing permanently since this time (the earliest kept).
    changes["permanent_error_since"] = Coalesce(F("permanent_error_since"), Value(now)) if result.permanent else None
    return Transition(Outcome.ERROR, changes)


def _progress_note(result: CheckResult) -> str | None:
    """last_check_error of a still-processing answer: what the monitor noticed about it, if anything."""
    if result.unknown_status:
        return unknown_status_message(result.unknown_status)
    return result.note or None


def _held(result, now):
    """A completed answer whose PIN does not fit "pinCode": keep the PIN whole in the monitor's
    own text column and leave the order active (no final status, no signal, no refund). The due
    query skips held orders, so it is not checked or timed out again."""
    changes = {
        "pin_code_full": result.pin,
        "hold_reason": held_pin_message(result.pin),
        "last_check_error": held_pin_message(result.pin),
        "last_sync_at": now,
        "next_check_at": None,
    }
    if result.message:
        changes["provider_message"] = result.message
    return Transition(Outcome.HELD, changes, result.message)


def apply_check_result(
    order: Order,
    result: CheckResult,
    now: datetime,
    lease_until: datetime | None = None,
    source: str = EventSource.RUN,
    schedule: Sequence[float] | None = None,
) -> Outcome:
    """Store what the check found about the claimed `order`. Returns the Outcome (SKIPPED when
    nothing was written because the order changed; HELD, writing nothing, for an order already
    held for an operator). `schedule`: see plan_transition.

    `lease_until` is the claim token: a non-final change is written only while the order still
    carries it, so a run whose claim expired cannot undo a newer run's work. A final result (and
    a PIN held because it does not fit) is written whenever the order is still active: a PIN in
    hand is never thrown away. A final status is always decided under the order's row lock, with
    its money effects in the same transaction (orders.platform_effects).
    """
    with transaction.atomic():
        written = _write_if_unchanged(order, result, now, lease_until, schedule) or _write_locked(
            order, result, now, lease_until, schedule
        )
        if written is None:
            log.info("order %s skipped: final, gone or changed by someone else since it was claimed", order.pk)
            return Outcome.SKIPPED
        stored, transition = written
        _record_change(stored, transition, now, source)
    _log_outcome(stored, transition.outcome, result)
    return transition.outcome


def _write_if_unchanged(claimed, result, now, lease_until, schedule):
    """The common case of a check that changes no status for the platform, in one UPDATE: the
    row is as claimed (same status, still our lease, not held), so the plan made from the
    claimed copy holds. None when anything changed, or for a final status (decided locked)."""
    if lease_until is None:
        return None
    transition = plan_transition(claimed, result, now, schedule)
    if not transition.changes or transition.outcome.moves_money:
        return None
    rows = Order.objects.filter(
        pk=claimed.pk, external_status=claimed.external_status, next_check_at=lease_until, hold_reason__isnull=True
    )
    if transition.outcome.keeps_provider_answer:
        rows = _same_pin(rows, claimed.pin_code)
    if rows.update(**transition.changes) != 1:
        return None
    return claimed, transition


def _write_locked(order, result, now, lease_until, schedule):
    """Decide from the row as stored, under its lock: the row changed since the claim, or the
    answer is final and moves money."""
    current = Order.objects.select_for_update().filter(pk=order.pk).first()
    if current is None or not current.is_active:
        return None
    transition = plan_transition(current, result, now, schedule)
    if not transition.changes:
        return current, transition  # held for an operator: nothing changes
    if transition.outcome.moves_money:
        transition = _with_money(current, result, transition, now)
    # The WHERE clause repeats the checks, so the write is safe even where the row lock is
    # not real (SQLite) and the platform changed the row meanwhile.
    rows = Order.objects.filter(
        pk=current.pk, external_status=current.external_status, status=current.status, hold_reason__isnull=True
    )
    if transition.outcome.keeps_provider_answer:
        rows = _same_pin(rows, current.pin_code)
    elif lease_until is not None:
        rows = rows.filter(next_check_at=lease_until)
    if rows.update(**transition.changes) != 1:
        return None
    if transition.outcome == Outcome.FAILED and current.status != PlatformStatus.REJECTED:
        # The status has just moved into "rejected" in this transaction: refund exactly once.
        refund(current, current.status, now)
    return current, transition


def _same_pin(rows, pin_code):
    return rows.filter(pin_code=pin_code) if pin_code is not None else rows.filter(pin_code__isnull=True)


def _with_money(current: Order, result: CheckResult, transition: Transition, now: datetime) -> Transition:
    """The final transition with its money effects, or a hold when they cannot be made exactly."""
    try:
        if transition.outcome == Outcome.COMPLETED:
            return replace(transition, changes=transition.changes | approval_changes(current, now))
        if current.status == PlatformStatus.REJECTED:
            # Already rejected (and refunded) by the platform: the provider agrees; no money
            # moves again, no status change, so no note.
            changes = {k: v for k, v in transition.changes.items() if k not in ("notes", "notes_count")}
            return replace(transition, changes=changes)
        check_refundable(current)
    except MoneyUnsettled as exc:
        return _held_for_money(result, str(exc), now)
    return transition


def _held_for_money(result: CheckResult, reason: str, now: datetime) -> Transition:
    hold_reason = held_money_message(result, reason)
    changes: dict = {
        "hold_reason": hold_reason,
        "last_check_error": hold_reason,
        "last_sync_at": now,
        "next_check_at": None,
    }
    if result.state == CheckState.COMPLETED and result.pin:
        changes["pin_code_full"] = result.pin
    if result.message:
        changes["provider_message"] = result.message
    return Transition(Outcome.HELD, changes, result.message)


def _record_change(stored, transition, now, source):
    """The history row of a status change; order_finalized after commit for a final one."""
    from_status = stored.external_status
    new_status = transition.changes.get("external_status", from_status)
    if new_status != from_status:
        record_status_change(stored.pk, from_status, new_status, now, source, transition.message)
    if transition.outcome.is_final:
        # Final changes are plain values (no F() expressions): the stored row is known.
        for name, value in transition.changes.items():
            setattr(stored, name, value)
        transaction.on_commit(lambda: send_order_finalized(stored, transition.outcome))


# Healthy progress (completed, processing) is DEBUG, shown by -v 2; what an operator may act on
# stays visible at the default level.
_OUTCOME_LOG_LEVEL = {Outcome.FAILED: logging.INFO, Outcome.TIMED_OUT: logging.WARNING}


def _log_outcome(order, outcome, result):
    if outcome == Outcome.COMPLETED:
        log.debug("order %s completed, pin %s", order.pk, mask_pin(result.pin))
    elif outcome == Outcome.HELD:
        log.warning("order %s held for an operator: see its hold_reason", order.pk)
    elif outcome == Outcome.ERROR:
        log.warning("order %s check failed: %s", order.pk, result.describe_error())
    else:
        log.log(_OUTCOME_LOG_LEVEL.get(outcome, logging.DEBUG), "order %s %s", order.pk, outcome)
