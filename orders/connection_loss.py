"""The one policy for a lost database connection: tell it from every other database error,
reconnect and try again, and give up at a given time.

A lost connection (server restart, failover, the backend terminated) passes: a new connection
may well work a moment later, so a write is worth trying again (`reconnecting`, after closing
the broken connection, which Django would otherwise reuse). Any other error (a value too long for
its column, a constraint, a missing column) repeats every time the same write is tried, and an
operator has to fix its cause: it is raised at once. `skipped_when_lost` is the run's guard for a
step it can do without (a further claim, releasing orders, the run's row): a connection that
stays lost is logged and the step skipped; any other error goes on up. The tries are a loop in
the caller's own code: nothing here calls back into it. How many tries, how long between them
and until when is one `Reconnect` value, made from the settings with the run's configuration.
"""

import logging
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from tenacity import Retrying

from providers.retrying import retrying

log = logging.getLogger(__name__)

# The longest wait between two tries.
_MAX_WAIT_SECONDS = 10.0

# SQLSTATEs of a server that is going away or not there yet: admin_shutdown (the backend was
# terminated), crash_shutdown, cannot_connect_now (starting up or shutting down).
_SERVER_GOING_AWAY = {"57P01", "57P02", "57P03"}
# SQLite's only "connection" failure: the database file cannot be opened.
_SQLITE_CANNOT_OPEN = "unable to open database file"


def driver_error(exc: BaseException) -> BaseException | None:
    """The driver's exception behind Django's wrapper (psycopg2, sqlite3), if any."""
    cause = exc.__cause__
    while cause is not None and isinstance(cause, DatabaseError) and cause.__cause__ is not None:
        cause = cause.__cause__
    return cause


def sqlstate(exc: BaseException) -> str | None:
    """The server's SQLSTATE code of the error (PostgreSQL), else None."""
    for candidate in (exc, driver_error(exc)):
        code = getattr(candidate, "pgcode", None) or getattr(candidate, "sqlstate", None)
        if code:
            return code
    return None


def is_connection_error(exc: BaseException) -> bool:
    """True when the error says the connection to the database failed or was lost."""
    from_psycopg = type(driver_error(exc)).__module__.startswith("psycopg")
    if isinstance(exc, InterfaceError):
        # psycopg2: "connection already closed" / "cursor already closed" after a lost
        # connection. sqlite3 raises InterfaceError for unbindable parameters: a bug, not this.
        return from_psycopg or "closed" in str(exc)
    if not isinstance(exc, OperationalError):
        return False
    code = sqlstate(exc)
    if code:
        return code.startswith("08") or code in _SERVER_GOING_AWAY
    if from_psycopg:
        # libpq reports refused, broken and closed connections without a SQLSTATE; every
        # error the server itself sends has one.
        return True
    return _SQLITE_CANNOT_OPEN in str(exc).lower()


def first_line(exc: BaseException) -> str:
    """The error's first line (driver messages run to several: DETAIL, LINE, HINT...)."""
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


@dataclass(frozen=True)
class Reconnect:
    """How a run's database steps go on through a lost connection: `attempts` tries at most,
    the waits between them from `wait_seconds` doubling (at most 10 s), none after `give_up_at`."""

    attempts: int  # MONITOR_DB_RETRY_ATTEMPTS
    wait_seconds: float  # MONITOR_DB_RETRY_WAIT_SECONDS
    give_up_at: float = math.inf  # a time.monotonic() value; set for a run by `until`

    @classmethod
    def from_settings(cls) -> "Reconnect":
        return cls(settings.MONITOR_DB_RETRY_ATTEMPTS, settings.MONITOR_DB_RETRY_WAIT_SECONDS)

    def wait(self, attempt: int) -> float:
        """The wait after the `attempt`-th failed try."""
        return min(self.wait_seconds * 2 ** min(attempt - 1, 32), _MAX_WAIT_SECONDS)

    def round_seconds(self) -> float:
        """How long one write's full round of tries waits in all."""
        return sum(self.wait(attempt) for attempt in range(1, self.attempts))

    def before(self, moment: float) -> "Reconnect":
        """These tries, none starting after `moment`."""
        return replace(self, give_up_at=moment)

    def until(self, deadline: float, stop_event: threading.Event, grace_seconds: float) -> "Reconnect":
        """These tries for a run that ends at `deadline`: one round of tries past it (far inside
        the lease margin: the orders are still ours); once a stop signal came, only the
        shutdown grace, before the process is killed."""
        limit = deadline + self.round_seconds()
        if stop_event.is_set():
            limit = min(limit, time.monotonic() + grace_seconds)
        return self.before(limit)


def reconnecting(reconnect: Reconnect, attempts: int | None = None) -> Retrying:
    """The tries of one database step through a lost connection, written in the caller:

        for attempt in reconnecting(reconnect):
            with attempt:
                ...the step...

    A lost connection is closed (Django would reuse it) and the step tried again on a new one
    after a wait. At most `attempts` tries (default: the Reconnect's), none after its
    `give_up_at`; any other error, and the last one, is raised. Inside a transaction, one try:
    the whole transaction went with the connection and only its owner can start it again."""
    if connection.in_atomic_block:
        attempts = 1
    return retrying(
        attempts=attempts or reconnect.attempts,
        deadline=reconnect.give_up_at,
        retry=_lost_and_closed,
        wait=lambda state: reconnect.wait(state.attempt_number),
        before_sleep=partial(_log_retry, reconnect.attempts),
    )


@contextmanager
def skipped_when_lost(what: str) -> Iterator[None]:
    """For a step the run can do without (a further claim, releasing orders, the run's row): a
    connection still lost when its tries end is logged as "`what` (database unavailable: ...)"
    and the step skipped (and the broken connection closed). Any other error is raised."""
    try:
        yield
    except DatabaseError as exc:
        if not is_connection_error(exc):
            raise
        close_lost_connection()
        log.error("%s (database unavailable: %s)", what, first_line(exc))


def close_lost_connection() -> None:
    """Drop the broken connection: Django reuses one until it is closed; the next query opens a new one."""
    try:
        connection.close()
    except DatabaseError:
        pass


def _lost_and_closed(exc: BaseException) -> bool:
    """Whether to try again after `exc`: a lost connection, closed here so the next try opens a new one."""
    if not is_connection_error(exc):
        return False
    close_lost_connection()
    return True


def _log_retry(attempts, state):
    log.warning(
        "database connection lost (%s); trying again in %.1f s (try %d of %d)",
        first_line(state.outcome.exception()),
        state.upcoming_sleep,
        state.attempt_number + 1,
        attempts,
    )
