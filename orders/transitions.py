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
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce

from orders.backoff import next_check_time, scheduled_check_time
from orders.columns import fit, fits, max_length
from orders.history import record_status_change
from orders.models import STATUS_RANK, EventSource, ExternalStatus, Order, PlatformStatus
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


# How the message of an order failed by the 24 h rule begins (monitor_health counts them by it).
TIMED_OUT_PREFIX = "timed out"


def timeout_message() -> str:
    hours = settings.MONITOR_MAX_AGE_HOURS
    return f"{TIMED_OUT_PREFIX}: not final {hours:g} h after it was sent"


def rejected_changes(last_message: str, provider_message: str | None = None) -> dict:
    """The columns of an order that ends failed ("rejected" for the platform): final, never
    checked again; `last_message` shortened to fit, `provider_message` (text) kept whole."""
    changes = {
        "external_status": ExternalStatus.FAILED,
        "status": PlatformStatus.REJECTED,
        "last_message": fit("last_message", last_message),
        "next_check_at": None,
    }
    if provider_message is not None:
        changes["provider_message"] = provider_message
    return changes


def held_pin_message(pin: str) -> str:
    """last_check_error of an order held because its PIN does not fit "pinCode"."""
    return (
        f'PIN of {len(pin)} characters does not fit "pinCode" ({max_length("pin_code")}): '
        "kept whole in pin_code_full; deliver it by hand"
    )


def plan_transition(
    order: Order, result: CheckResult, now: datetime, schedule: Sequence[float] | None = None
) -> Transition:
    """The outcome of `result` for `order` (as stored now) and the columns to write. `schedule`
    is the check schedule of the order's integration (orders.schedule_book; None: the default
    schedule): when the next check of a still-processing order comes."""
    if order.pin_code_full:
        # Held for an operator: no later answer may overwrite the PIN kept, time the order out
        # or complete it without the operator.
        return Transition(Outcome.HELD)
    if result.state == CheckState.COMPLETED:
        if result.pin and not order.pin_code and not fits("pin_code", result.pin):
            return _held(result, now)
        changes = {
            "external_status": ExternalStatus.COMPLETED,
            "status": PlatformStatus.APPROVED,
            "completed_at": now,
            "last_sync_at": now,
            "next_check_at": None,
            "last_check_error": None,
            "permanent_error_since": None,
            "last_message": fit("last_message", "completed"),
        }
        # A PIN already stored is never replaced, and never by an empty value.
        if result.pin and not order.pin_code:
            changes["pin_code"] = result.pin
        if result.message:
            changes["provider_message"] = result.message
        return Transition(Outcome.COMPLETED, changes, result.message)
    if result.state == CheckState.FAILED:
        changes = rejected_changes(f"failed at the provider: {result.message}", result.message)
        changes.update(last_sync_at=now, last_check_error=None, permanent_error_since=None)
        return Transition(Outcome.FAILED, changes, result.message)
    if now - order.age_counted_from >= timedelta(hours=settings.MONITOR_MAX_AGE_HOURS):
        changes = rejected_changes(timeout_message())
        changes["permanent_error_since"] = None
        if result.is_error:
            changes["last_check_error"] = result.describe_error()
        else:
            changes["last_sync_at"] = now
        return Transition(Outcome.TIMED_OUT, changes, timeout_message())
    attempt = order.check_attempts + 1
    changes = {"check_attempts": F("check_attempts") + 1}
    if result.state == CheckState.IN_PROGRESS:
        schedule = schedule or default_schedule(settings.MONITOR_BACKOFF_CAP_SECONDS)
        changes["next_check_at"] = scheduled_check_time(order.age_counted_from, now, schedule)
        changes["last_sync_at"] = now
        changes["last_check_error"] = None
        changes["permanent_error_since"] = None
        if STATUS_RANK.get(order.external_status, 0) < STATUS_RANK[ExternalStatus.PROCESSING]:
            changes["external_status"] = ExternalStatus.PROCESSING
        if result.message:
            changes["provider_message"] = result.message
        return Transition(Outcome.PROCESSING, changes, result.message)
    changes["next_check_at"] = next_check_time(now, attempt, permanent=result.permanent)
    changes["last_check_error"] = result.describe_error()
    # monitor_health reports orders failing permanently since this time (the earliest kept).
    changes["permanent_error_since"] = Coalesce(F("permanent_error_since"), Value(now)) if result.permanent else None
    return Transition(Outcome.ERROR, changes)


def _held(result, now):
    """A completed answer whose PIN does not fit "pinCode": keep the PIN whole in the monitor's
    own text column and leave the order active (no final status, no signal, no refund). The due
    query skips orders with pin_code_full, so it is not checked or timed out again."""
    changes = {
        "pin_code_full": result.pin,
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
    hand is never thrown away.
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
    """The common case in one UPDATE: the row is as claimed (same status, still our lease, same
    PIN, not held), so the plan made from the claimed copy holds. None when anything changed."""
    if lease_until is None:
        return None
    transition = plan_transition(claimed, result, now, schedule)
    if not transition.changes:
        return None  # nothing to write: decided again under the row lock
    rows = Order.objects.filter(
        pk=claimed.pk, external_status=claimed.external_status, next_check_at=lease_until, pin_code_full__isnull=True
    )
    if transition.outcome.keeps_provider_answer:
        rows = rows.filter(pin_code=claimed.pin_code) if claimed.pin_code else rows.filter(pin_code__isnull=True)
    if rows.update(**transition.changes) != 1:
        return None
    return claimed, transition


def _write_locked(order, result, now, lease_until, schedule):
    """The row changed since the claim: decide again from the row as stored, under its lock."""
    current = Order.objects.select_for_update().filter(pk=order.pk).first()
    if current is None or not current.is_active:
        return None
    transition = plan_transition(current, result, now, schedule)
    if not transition.changes:
        return current, transition  # held for an operator: nothing changes
    # The WHERE clause repeats the checks, so the write is safe even where the row lock is
    # not real (SQLite) and the old application changed the row meanwhile.
    rows = Order.objects.filter(pk=current.pk, external_status=current.external_status, pin_code_full__isnull=True)
    if transition.outcome.keeps_provider_answer:
        rows = rows.filter(pin_code=current.pin_code) if current.pin_code else rows.filter(pin_code__isnull=True)
    elif lease_until is not None:
        rows = rows.filter(next_check_at=lease_until)
    if rows.update(**transition.changes) != 1:
        return None
    return current, transition


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
        log.warning('order %s held for an operator: its PIN does not fit "pinCode", see pin_code_full', order.pk)
    elif outcome == Outcome.ERROR:
        log.warning("order %s check failed: %s", order.pk, result.describe_error())
    else:
        log.log(_OUTCOME_LOG_LEVEL.get(outcome, logging.DEBUG), "order %s %s", order.pk, outcome)
