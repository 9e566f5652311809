"""The gate every provider request of an integration passes (providers.http): at most its
budget's requests a second and in flight, every monitor process together.

On PostgreSQL the budget is kept in the monitor's tables, so every loop and host shares it
(docs/SCALING.md says why this design):

- a request first takes one of the integration's `in_flight` places (`budget_in_flight`, one
  row per place): one `UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`.
  The place is held until a time past the request's own timeouts, so a killed process frees it;
- then its start time: one `UPDATE integration_budgets SET next_slot_at = ... RETURNING` moves
  the integration's next free start by (1 s + the send margin) / rate (never before
  `paused_until`) and says how long to wait for the start it reserved.

The worker threads that send requests have no database connection of their own (the run's is
the main thread's): the gates of a process share one extra autocommit connection, guarded by a
lock (a statement takes well under a millisecond; opening a connection per request would cost
more than the statements). When that connection fails, the gate falls back to the process's
own limiter until it works again: the budget then holds per process.

On SQLite (one process) the in-process limiter is the gate.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.db import DatabaseError, connection, connections

if TYPE_CHECKING:  # budgets.budget builds the gates: a run-time import would be a cycle
    from budgets.budget import Budget

log = logging.getLogger(__name__)

_WAIT_FOR_PLACE_SECONDS = 0.02
# A place is held at most this much longer than the request's own connect and read timeouts.
_HOLD_MARGIN_SECONDS = 5.0
_NO_DEADLINE_SECONDS = 60.0
# N + 1 consecutive starts span (1 + margin) seconds. A request leaves up to its send delay
# after its start (a thread woken late, a busy process), so any N + 1 arrivals at the provider
# span at least 1 s while that delay stays under the margin (measured: docs/PERFORMANCE.md).
_SEND_MARGIN_SECONDS = 0.1
# A request this much past its start when it is about to leave (a thread woken late, a busy
# host, a slow pause check) takes the next start instead of sending late: the rest of the
# margin is for the send itself. Measured last, after every statement of the gate.
_LATE_WAKE_SECONDS = 0.03


class NoSlot(Exception):
    """The budget has no start for this request before its deadline: it was not sent."""


class LocalGate:
    """The budget within one process: start times (1 s + the send margin) / rate apart, `in_flight`
    places."""

    def __init__(self, budget: Budget, integration_id: str = ""):
        self.budget = budget
        self.integration_id = integration_id  # for the log
        self._places = threading.BoundedSemaphore(budget.in_flight)
        self._lock = threading.Lock()
        self._next_start = 0.0  # time.monotonic()
        self._paused_until = 0.0

    @contextmanager
    def request(self, deadline: float | None) -> Iterator[None]:
        """Hold a place and wait for a start within the budget while the block runs."""
        latest = _latest_start(deadline)
        if not self._places.acquire(timeout=max(latest - time.monotonic(), 0.0)):
            raise NoSlot("no place in flight before the deadline")
        try:
            self._wait_for_start(latest)
            yield
        finally:
            self._places.release()

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def _wait_for_start(self, latest: float) -> None:
        _wait_for_start(
            lambda: self._reserve(latest), lambda: time.monotonic() < self._paused_until, self.integration_id
        )

    def _reserve(self, latest: float) -> tuple[float, float, float]:
        """The next start, reserved, as `_wait_for_start` takes it (time.monotonic() twice: its
        own clock can make neither early nor late, and epoch seconds)."""
        with self._lock:
            start = max(self._next_start, time.monotonic(), self._paused_until)
            if start > latest:
                raise NoSlot("no start within the budget before the deadline")
            self._next_start = start + _interval(self.budget)
        return start, start, time.time() - (time.monotonic() - start)


class _SharedConnection:
    """The process's one connection for the gates, used by every worker thread in turn."""

    def __init__(self):
        self.lock = threading.Lock()
        self._wrapper = None

    def execute(self, sql: str, params: list) -> tuple | None:
        """The first row of `sql` (autocommit), or None."""
        with self.lock:
            if self._wrapper is None:
                self._wrapper = connections.create_connection("default")
                self._wrapper.inc_thread_sharing()
            try:
                with self._wrapper.cursor() as cursor:
                    cursor.execute(sql, params)
                    return cursor.fetchone() if cursor.description else None
            except DatabaseError:
                self._drop()
                raise

    def close(self) -> None:
        """Close the connection (it is opened again when a gate needs it)."""
        with self.lock:
            if self._wrapper is not None:
                self._drop()

    def _drop(self) -> None:
        try:
            if self._wrapper is not None:
                self._wrapper.close()
        except DatabaseError:
            pass
        self._wrapper = None


SHARED = _SharedConnection()

_ENSURE_BUDGET = """
INSERT INTO integration_budgets (integration_id, requests_per_second, max_in_flight)
VALUES (%s, %s, %s) ON CONFLICT (integration_id) DO NOTHING
"""
_ENSURE_PLACES = """
INSERT INTO budget_in_flight (integration_id, number, held_until)
SELECT %s, n, '-infinity' FROM generate_series(1, %s) AS n ON CONFLICT DO NOTHING
"""
_TAKE_PLACE = """
UPDATE budget_in_flight SET held_until = now() + %s * interval '1 second'
WHERE id = (
    SELECT id FROM budget_in_flight WHERE integration_id = %s AND number <= %s AND held_until < now()
    ORDER BY number LIMIT 1 FOR UPDATE SKIP LOCKED
) RETURNING id
"""
_FREE_PLACE = "UPDATE budget_in_flight SET held_until = '-infinity' WHERE id = %s"
# The reserved start is GREATEST(...); RETURNING sees the new next_slot_at, one interval later:
# the wait for the start, and the start (epoch seconds).
_TAKE_START = """
UPDATE integration_budgets
SET next_slot_at = GREATEST(next_slot_at, now(), paused_until) + %s * interval '1 second'
WHERE integration_id = %s AND GREATEST(next_slot_at, now(), paused_until) <= now() + %s * interval '1 second'
RETURNING EXTRACT(EPOCH FROM next_slot_at - clock_timestamp()) - %s, EXTRACT(EPOCH FROM next_slot_at) - %s
"""
_PAUSED = "SELECT 1 FROM integration_budgets WHERE integration_id = %s AND paused_until > now()"
_PAUSE = """
UPDATE integration_budgets SET paused_until = GREATEST(paused_until, now() + %s * interval '1 second')
WHERE integration_id = %s
"""


class SharedGate:
    """The budget of one integration for every process, kept in PostgreSQL."""

    def __init__(self, integration_id, budget: Budget, request_seconds: float):
        self.integration_id = str(integration_id)
        self.budget = budget
        # The longest one request waits (its connect and read timeouts): a place is held past it.
        self.request_seconds = request_seconds
        self.local = LocalGate(budget, self.integration_id)
        self._ready = False

    @contextmanager
    def request(self, deadline: float | None) -> Iterator[None]:
        latest = _latest_start(deadline)
        try:
            place = self._take_place(latest)
        except DatabaseError as exc:
            log.warning(
                "request budget of %s: shared limiter unavailable, this process's own: %s", self.integration_id, exc
            )
            with self.local.request(deadline):
                yield
            return
        try:
            self._wait_for_start(latest)
            yield
        finally:
            self._free(place)

    def pause(self, seconds: float) -> None:
        """No request to this integration from any process for `seconds`."""
        self.local.pause(seconds)
        try:
            SHARED.execute(_PAUSE, [seconds, self.integration_id])
        except DatabaseError as exc:
            log.warning("request budget of %s: the pause is this process's only: %s", self.integration_id, exc)

    def _take_place(self, latest: float) -> int:
        if not self._ready:
            SHARED.execute(_ENSURE_BUDGET, [self.integration_id, self.budget.per_second, self.budget.in_flight])
            SHARED.execute(_ENSURE_PLACES, [self.integration_id, self.budget.in_flight])
            self._ready = True
        hold = max(latest - time.monotonic(), 0.0) + self.request_seconds + _HOLD_MARGIN_SECONDS
        while True:
            row = SHARED.execute(_TAKE_PLACE, [hold, self.integration_id, self.budget.in_flight])
            if row is not None:
                return row[0]
            if time.monotonic() >= latest:
                raise NoSlot("no place in flight before the deadline")
            time.sleep(_WAIT_FOR_PLACE_SECONDS)

    def _wait_for_start(self, latest: float) -> None:
        # A pause set by any process costs one more statement, only for a request that waited.
        _wait_for_start(
            lambda: self._reserve(latest),
            lambda: SHARED.execute(_PAUSED, [self.integration_id]) is not None,
            self.integration_id,
        )

    def _reserve(self, latest: float) -> tuple[float, float, float]:
        """The next start, reserved: when to leave (time.monotonic(), the database's wait counted
        from its answer, so never early), the earliest it can have been (the wait counted from
        before the statement, so lateness is never underestimated), and epoch seconds on the
        database's clock."""
        interval = _interval(self.budget)
        asked = time.monotonic()
        left = max(latest - asked, 0.0)
        row = SHARED.execute(_TAKE_START, [interval, self.integration_id, left, interval, interval])
        if row is None:
            raise NoSlot("no start within the budget before the deadline")
        wait = float(row[0])
        return time.monotonic() + wait, asked + wait, float(row[1])

    def _free(self, place: int) -> None:
        try:
            SHARED.execute(_FREE_PLACE, [place])
        except DatabaseError as exc:  # the place frees itself when its hold ends
            log.warning("request budget of %s: a place stays held until it expires: %s", self.integration_id, exc)


def _wait_for_start(reserve, paused, integration_id: str) -> None:
    """Reserve a start and wait for it, the same in one process or shared: a pause that began
    while it waited, or a request too late for its start, takes a new start. `reserve()` gives
    (when to leave, the earliest the start can have been, the start in epoch seconds) and
    `paused()` says whether the integration is paused now."""
    while True:
        start, earliest, epoch = reserve()
        if _sleep_until(start) and paused():
            continue
        if not _too_late(earliest, integration_id):
            log.debug("request budget of %s: start at %.6f", integration_id, epoch)
            return


def _sleep_until(start: float) -> bool:
    """Sleep until `start` (time.monotonic()); did that take a wait?"""
    wait = start - time.monotonic()
    time.sleep(max(wait, 0.0))
    return wait > 0


def _too_late(start: float, integration_id: str) -> bool:
    """Is a request about to leave now too far past its `start` (time.monotonic())?"""
    late = time.monotonic() - start
    if late > _LATE_WAKE_SECONDS:
        log.debug("request budget of %s: %.0f ms after its start, takes another", integration_id, late * 1000)
    return late > _LATE_WAKE_SECONDS


def _interval(budget: Budget) -> float:
    """Seconds between two starts."""
    return (1.0 + _SEND_MARGIN_SECONDS) / budget.per_second


def _latest_start(deadline: float | None) -> float:
    return deadline if deadline is not None else time.monotonic() + _NO_DEADLINE_SECONDS


_LOCAL_GATES: dict[str, LocalGate] = {}
_GATES_LOCK = threading.Lock()


def gate_for(integration_id, budget: Budget, request_seconds: float) -> LocalGate | SharedGate:
    """The gate of an integration: shared through PostgreSQL, else one per process (kept for
    every client of the integration, so the process's clients share it). `request_seconds`: the
    longest one request waits (SharedGate)."""
    if connection.vendor == "postgresql":
        return SharedGate(integration_id, budget, request_seconds)
    with _GATES_LOCK:
        gate = _LOCAL_GATES.get(str(integration_id))
        if gate is None or gate.budget != budget:
            gate = _LOCAL_GATES[str(integration_id)] = LocalGate(budget, str(integration_id))
        return gate
