"""Storing a run's check results so that a database problem costs no answer and strands no order.

Each result is written by orders.transitions.apply_check_result in its own transaction, which
reads the row again first, so the same write can safely be tried again.

- The connection was lost (server restart, failover, the backend terminated): drop the broken
  connection, wait, try again on a new one (`reconnecting`), a few times, never past the
  run's deadline plus one round of waits. While the database stays away, later results wait
  in memory, with one quick try at most every `MONITOR_DB_RETRY_WAIT_SECONDS`, and are stored
  as soon as it answers again. The caller releases the orders whose results still could not
  be stored when the run ends. A try that lost its connection while committing may have
  stored the result all the same: its history row tells, and its order_finalized is sent then.
- Any other database error (a value too long for its column, a constraint, a missing column)
  would fail the same way at every check. It is recorded on that order alone, in the monitor's
  own columns (orders.transitions.apply_store_failure), and the order waits the error backoff. So is any other
  exception raised while one order's result is stored (a value Python cannot compute, a bug):
  one answer never stops the run for the orders after it.

Before a result is stored, its texts are made storable (orders.columns.storable_check_result):
a NUL or a lone surrogate is replaced, and last_check_error says so.
"""

import logging
import time
from collections import deque
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError, DataError, IntegrityError, transaction
from django.utils import timezone

from orders.columns import fit, storable, storable_check_result
from orders.connection_loss import Reconnect, first_line, is_connection_error, reconnecting
from orders.models import Order
from orders.outcomes import Outcome
from orders.transitions import apply_check_result, apply_store_failure, confirm_lost_commit
from providers.base import CheckResult, CheckState
from providers.redaction import excerpt
from schedules.book import LearnedSchedules

log = logging.getLogger(__name__)

# The longest error text recorded for a failed write: its first line is enough to act on.
_MAX_PROBLEM_LENGTH = 200


def _pin_to_keep(result: CheckResult, exc: DatabaseError) -> str | None:
    """The PIN of a completed answer whose write the database refuses for good (a value that
    does not fit, a constraint): writing it again would fail the same way. None otherwise (a
    deadlock or a lock timeout: the next check tries again)."""
    if result.state == CheckState.COMPLETED and result.pin and isinstance(exc, DataError | IntegrityError):
        return result.pin
    return None


@dataclass
class _Pending:
    """A check result not stored yet."""

    order: Order
    result: CheckResult  # made storable
    now: datetime
    note: str | None = None  # what had to be replaced to make it storable, for last_check_error
    connection_lost: bool = False  # a try lost its connection: it may have committed all the same


@dataclass(frozen=True)
class Stored:
    """What became of one check result: its Outcome, or (outcome None) why its write failed."""

    order: Order  # as claimed
    result: CheckResult
    outcome: Outcome | None
    problem: str = ""  # the error's first line, redacted


class ResultStore:
    """Stores one run's check results as they arrive (in the calling thread, which owns the
    run's database connection) and says what became of each: `store` and `finish` return the
    results dealt with by then, oldest first."""

    def __init__(
        self,
        lease_until: datetime,
        source: str,
        reconnect: Reconnect,
        schedules: LearnedSchedules,
        max_answer_bytes: int,
    ):
        self._lease_until = lease_until
        self._schedules = schedules  # the next check times of the answers still in progress
        self._source = source
        self._reconnect = reconnect
        self._max_answer_bytes = max_answer_bytes  # a provider's message is cut to this
        self._waiting: deque[_Pending] = deque()  # oldest first
        self._next_try: float | None = None  # while the database is away: when to try again (time.monotonic())
        self._done: list[Stored] = []

    def store(self, order: Order, result) -> list[Stored]:
        """Store `result` (and the results waiting for the database, if it is back)."""
        result, note = storable_check_result(result, self._max_answer_bytes)
        # The time the answer came in: a result waiting for the database is stored with it.
        self._waiting.append(_Pending(order, result, timezone.now(), note))
        if self._next_try is None or time.monotonic() >= self._next_try:
            problem = self._store_waiting()
            if problem:
                log.error("database unavailable, %d results wait to be stored: %s", len(self._waiting), problem)
        return self._take_done()

    def finish(self, reconnect: Reconnect) -> tuple[list[Stored], list[Order]]:
        """One last round, as `reconnect` allows, for the results still waiting for the database.
        Returns (what became of those stored or failed now, the orders whose results could not
        be stored: the database is still away)."""
        self._reconnect = reconnect
        self._next_try = None
        problem = self._store_waiting()
        if problem:
            log.error(
                "database still unavailable at the end of the run, %d results not stored: %s",
                len(self._waiting),
                problem,
            )
        return self._take_done(), [pending.order for pending in self._waiting]

    def _take_done(self) -> list[Stored]:
        done, self._done = self._done, []
        return done

    def _store_waiting(self):
        """Store the waiting results, oldest first. Returns None, or why the database is away."""
        while self._waiting:
            try:
                self._store_oldest()
            except DatabaseError as exc:
                if not is_connection_error(exc):
                    raise
                self._next_try = time.monotonic() + self._reconnect.wait(1)
                return first_line(exc)
            self._next_try = None
        return None

    def _store_oldest(self):
        pending = self._waiting[0]
        # While the database is away, one quick try; a full round again once it answers.
        attempts = 1 if self._next_try is not None else None
        try:
            for attempt in reconnecting(self._reconnect, attempts):
                with attempt:
                    outcome = self._write(pending)
        except DatabaseError as exc:
            if is_connection_error(exc):
                raise
            self._record_failure(pending, exc, _pin_to_keep(pending.result, exc))
            self._waiting.popleft()
            return
        except Exception as exc:  # whatever one answer does, the others are stored
            self._record_failure(pending, exc)
            self._waiting.popleft()
            return
        self._waiting.popleft()
        self._done.append(Stored(pending.order, pending.result, outcome))

    def _write(self, pending):
        try:
            schedule = self._schedules.schedule_for(pending.order.integration_id)
            # With a note, the result and the note are one change.
            with transaction.atomic() if pending.note else nullcontext():
                outcome = apply_check_result(
                    pending.order,
                    pending.result,
                    pending.now,
                    self._lease_until,
                    self._source,
                    schedule,
                    rules=self._schedules.rules,
                )
                if pending.note:
                    _note_replaced_characters(pending, outcome)
        except DatabaseError as exc:
            pending.connection_lost = pending.connection_lost or is_connection_error(exc)
            raise
        if outcome == Outcome.SKIPPED and pending.connection_lost:
            return confirm_lost_commit(pending.order, pending.now, self._source) or outcome
        return outcome

    def _record_failure(self, pending, exc, pin=None):
        order, problem = pending.order, problem_of(exc)
        log.error("order %s: storing the check result failed: %s", order.pk, problem)
        try:
            for attempt in reconnecting(self._reconnect):
                with attempt:
                    apply_store_failure(order, problem, timezone.now(), self._lease_until, self._schedules.rules, pin)
        except DatabaseError as second:
            if is_connection_error(second):
                raise
            # The order keeps its lease and is due again when it ends.
            log.error("order %s: recording that failure failed too: %s", order.pk, problem_of(second))
        except Exception as second:  # as above: the order keeps its lease
            log.error("order %s: recording that failure failed too: %s", order.pk, problem_of(second))
        self._done.append(Stored(order, pending.result, None, problem))


def problem_of(exc: BaseException) -> str:
    """An error as recorded on its order and logged: one line, redacted, storable, short. A
    database error by its first line (PostgreSQL's DETAIL line can repeat the row, PIN
    included); any other exception with its type, which says more than its text alone."""
    text = first_line(exc) if isinstance(exc, DatabaseError) else f"{type(exc).__name__}: {first_line(exc)}"
    return storable(excerpt(text, _MAX_PROBLEM_LENGTH)) or type(exc).__name__


def _note_replaced_characters(pending: _Pending, outcome: Outcome) -> None:
    """Say in last_check_error that characters of the answer were replaced to store it, in the
    same transaction as the result (not for a result that was not written, or a held order)."""
    if outcome in (Outcome.SKIPPED, Outcome.HELD) or not pending.note:
        return
    result = pending.result
    text = f"{result.describe_error()}; {pending.note}" if result.is_error else pending.note
    Order.objects.filter(pk=pending.order.pk).update(last_check_error=fit("last_check_error", text))
