"""The order's state machine: every event of an order's life is planned (orders.plans,
orders.place_plans: pure) and applied here, in one transaction with what goes with it.

Applying a plan is a conditional update (the row as the plan saw it: same status, not held, for a
non-final change still under the caller's lease), the platform's money effects of a final status
(orders.platform_effects: the approval's frozen rates, a rejection's refund, or a hold for an
operator when the money cannot be moved exactly), the history row of a status change, and, after
commit, the only `order_finalized` send. A final order never changes again; a PIN in hand is
never thrown away (a final answer, and a hold, are written even after the claim was lost).
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

from orders.models import ACTIVE_STATUSES, EventSource, ExternalStatus, Order, OrderEvent, PlatformStatus
from orders.outcomes import Outcome, Transition
from orders.place_plans import held_refusal, plan_place
from orders.plans import held_for_money, plan_store_failure, plan_transition
from orders.platform_effects import MoneyUnsettled, Payer, approval_changes, check_refundable, refund
from orders.signals import send_order_finalized
from providers.base import CheckResult, PlaceResult
from providers.redaction import mask_pin
from schedules.rules import CheckRules

log = logging.getLogger(__name__)


def apply_check_result(
    order: Order,
    result: CheckResult,
    now: datetime,
    lease_until: datetime | None = None,
    source: str = EventSource.RUN,
    schedule: Sequence[float] | None = None,
    *,
    rules: CheckRules,
) -> Outcome:
    """Store what the check found about the claimed `order`. Returns the Outcome (SKIPPED when
    nothing was written because the order changed; HELD, writing nothing, for an order already
    held for an operator). `schedule`: see plans.plan_transition.

    `lease_until` is the claim token: a non-final change is written only while the order still
    carries it, so a run whose claim expired cannot undo a newer run's work. A final status is
    always decided under the order's row lock, with its money effects in the same transaction.
    """
    with transaction.atomic():
        planned = (schedule, rules)
        written = _write_if_unchanged(order, result, now, lease_until, planned, source) or _write_locked(
            order, result, now, lease_until, planned, source
        )
    if written is None:
        log.info("order %s skipped: final, gone or changed by someone else since it was claimed", order.pk)
        return Outcome.SKIPPED
    _log_outcome(order, written, result)
    return written


def _write_if_unchanged(claimed, result, now, lease_until, planned, source):
    """The common case of a check that changes no status for the platform, in one UPDATE: the
    row is as claimed (same status, still our lease, not held), so the plan made from the
    claimed copy holds. None when anything changed, or for a final status (decided locked)."""
    if lease_until is None:
        return None
    transition = _plan(claimed, result, now, *planned)
    if not transition.changes or transition.moves_money:
        return None
    rows = Order.objects.filter(
        pk=claimed.pk, external_status=claimed.external_status, next_check_at=lease_until, hold_reason__isnull=True
    )
    if transition.keeps_provider_answer:
        rows = _same_pin(rows, claimed.pin_code)
    return transition.outcome if _commit(rows, claimed, transition, now, source) else None


def _write_locked(order, result, now, lease_until, planned, source):
    """Decide from the row as stored, under its lock: the row changed since the claim, or the
    answer is final and moves money."""
    current = Order.objects.select_for_update().filter(pk=order.pk).first()
    if current is None or not current.is_active:
        return None
    transition = _plan(current, result, now, *planned)
    if not transition.changes:
        return transition.outcome  # held for an operator: nothing changes
    payer = None
    if transition.outcome == Outcome.FAILED and current.status == PlatformStatus.REJECTED:
        # Already rejected (and refunded) by the platform: the provider agrees; no money moves
        # again, no status change for the platform, so no note.
        changes = {k: v for k, v in transition.changes.items() if k not in ("notes", "notes_count")}
        transition = replace(transition, changes=changes)
    elif transition.moves_money:
        transition, payer = _with_money(current, transition, now, lambda reason: held_for_money(result, reason, now))
    # The WHERE clause repeats the checks, so the write is safe even where the row lock is
    # not real (SQLite) and the platform changed the row meanwhile.
    rows = Order.objects.filter(
        pk=current.pk, external_status=current.external_status, status=current.status, hold_reason__isnull=True
    )
    if transition.keeps_provider_answer:
        rows = _same_pin(rows, current.pin_code)
    elif lease_until is not None:
        rows = rows.filter(next_check_at=lease_until)
    return transition.outcome if _commit(rows, current, transition, now, source, payer) else None


def _plan(order, result, now, schedule, rules) -> Transition:
    return plan_transition(order, result, now, schedule, rules=rules)


def _same_pin(rows, pin_code):
    return rows.filter(pin_code=pin_code) if pin_code is not None else rows.filter(pin_code__isnull=True)


def _with_money(
    current: Order, transition: Transition, now: datetime, hold: Callable[[str], Transition]
) -> tuple[Transition, Payer | None]:
    """The final `transition` with its money effects (the approval's rates; for a rejection, the
    payer, locked, whom _commit refunds once the status is written), or `hold(reason)` when they
    cannot be made exactly (no "userId", a user of another tenant, no usable rate)."""
    try:
        if transition.outcome == Outcome.COMPLETED:
            return replace(transition, changes=transition.changes | approval_changes(current, now)), None
        return transition, check_refundable(current)
    except MoneyUnsettled as exc:
        return hold(str(exc)), None


def apply_store_failure(
    order: Order, problem: str, now: datetime, lease_until: datetime, rules: CheckRules, pin: str | None = None
) -> bool:
    """Note on `order` that its check result could not be stored (plans.plan_store_failure), only
    while it is active and still carries our lease. True when written."""
    rows = Order.objects.filter(pk=order.pk, external_status__in=ACTIVE_STATUSES, next_check_at=lease_until)
    return _commit(rows, order, plan_store_failure(order, problem, now, rules, pin), now, EventSource.RUN)


def apply_place_result(
    order: Order,
    answer: PlaceResult,
    reference: str,
    now: datetime,
    schedule: Sequence[float],
    note: str | None,
    *,
    rules: CheckRules,
) -> tuple[str, bool]:
    """Store a place answer on `order`, pending under our `reference` (place_plans.plan_place).
    Returns (the order's "externalStatus" afterwards, whether it was written)."""
    with transaction.atomic():
        # Still ours: pending under our reference (nobody else can have taken it since).
        ours = Order.objects.filter(pk=order.pk, external_status=ExternalStatus.PENDING, provider_referans=reference)
        current = ours.select_for_update().first()
        transition = plan_place(current or order, answer, reference, now, schedule, rules, note)
        if current is None:
            return transition.changes.get("external_status", ExternalStatus.PENDING), False
        payer = None
        if transition.outcome == Outcome.FAILED:
            transition, payer = _with_money(
                current, transition, now, lambda reason: held_refusal(current, answer, reference, reason, now)
            )
        written = _commit(ours, current, transition, now, EventSource.DISPATCH, payer)
    return transition.changes.get("external_status", ExternalStatus.PENDING), written


def _commit(
    rows: QuerySet, stored: Order, transition: Transition, now: datetime, source: str, payer: Payer | None = None
) -> bool:
    """Write `transition` to `rows` (the conditional update: one row or none) and, in the same
    transaction, what goes with it: the refund to `payer` (locked by _with_money) of a status
    that has just moved into "rejected", the history row of a status change, order_finalized
    after commit for a final outcome."""
    if rows.update(**transition.changes) != 1:
        return False
    if transition.outcome == Outcome.FAILED and stored.status != PlatformStatus.REJECTED:
        if payer is None:  # every rejection passes _with_money first; never refund nobody
            raise MoneyUnsettled(f"order {stored.pk}: a rejection without its payer")
        refund(stored, payer, stored.status, now)  # the customer's money back, exactly once
    from_status = stored.external_status
    new_status = transition.changes.get("external_status", from_status)
    if new_status != from_status:
        OrderEvent.record(stored.pk, from_status, new_status, now, source, transition.message)
    if transition.outcome is not None and transition.outcome.is_final:
        _as_written(stored, transition.changes)
        _announce_final(stored, transition.outcome)
    return True


def _as_written(stored: Order, changes: dict) -> None:
    """`stored` as the update left it: the values set, or read back where one was an expression."""
    for name, value in changes.items():
        setattr(stored, name, value)
    if any(hasattr(value, "resolve_expression") for value in changes.values()):
        stored.refresh_from_db()


def _announce_final(order: Order, outcome: Outcome) -> None:
    """order_finalized after commit (at once outside a transaction): the one place it is sent."""
    transaction.on_commit(lambda: send_order_finalized(order, outcome))


def confirm_lost_commit(order: Order, now: datetime, source: str) -> Outcome | None:
    """A try whose connection was lost while it committed may have stored the result all the
    same; then its history row (this order, this time) is there, and trying again found nothing
    to do. Returns the outcome that try stored, read from the row (a final one is announced
    now, since that try could not), or None. A try that changed no status leaves no row."""
    if not OrderEvent.recorded(order.pk, now, source):
        return None
    stored = Order.objects.get(pk=order.pk)
    outcome = _outcome_of(stored)
    log.warning("order %s: stored by a try that lost its connection while committing (%s)", order.pk, outcome)
    if outcome.is_final:
        _announce_final(stored, outcome)
    return outcome


def _outcome_of(stored: Order) -> Outcome:
    """The outcome a check left on the row as stored."""
    if stored.external_status == ExternalStatus.DONE:
        return Outcome.COMPLETED
    if stored.external_status == ExternalStatus.FAILED:
        return Outcome.FAILED if stored.status == PlatformStatus.REJECTED else Outcome.TIMED_OUT
    return Outcome.HELD if stored.is_held else Outcome.PROCESSING


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
