"""The one policy for a lost database connection: tell it from every other database error,
reconnect and try again, and give up at a given time.

A lost connection (server restart, failover, the backend terminated) passes: a new connection
may well work a moment later, so a write is worth trying again (`with_reconnect`, after closing
the broken connection, which Django would otherwise reuse). Any other error (a value too long for
its column, a constraint, a missing column) repeats every time the same write is tried, and an
operator has to fix its cause: it is raised at once. `unless_lost` is the run's guard for a step
it can do without (a further claim, releasing orders, the run's row): a connection that stays
lost is logged and the step skipped; any other error goes on up.
"""

import logging
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection

from providers.retrying import retrying

log = logging.getLogger(__name__)

T = TypeVar("T")

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


def retry_wait(attempt: int) -> float:
    """The wait after the `attempt`-th failed try: MONITOR_DB_RETRY_WAIT_SECONDS, doubling, at most 10 s."""
    return min(settings.MONITOR_DB_RETRY_WAIT_SECONDS * 2 ** min(attempt - 1, 32), _MAX_WAIT_SECONDS)


def retry_round_seconds() -> float:
    """How long one write's full round of tries waits in all."""
    return sum(retry_wait(attempt) for attempt in range(1, settings.MONITOR_DB_RETRY_ATTEMPTS))


def with_reconnect(write: Callable[[], T], give_up_at: float, attempts: int | None = None) -> T:
    """Run `write()`; when the database connection is lost, close it, wait and run `write()`
    again on a new connection. At most `attempts` tries (default MONITOR_DB_RETRY_ATTEMPTS),
    none after `give_up_at` (a time.monotonic() value). Raises the last error.

    Only outside a transaction: inside one, the whole transaction went with the connection and
    only its owner can start it again."""
    if connection.in_atomic_block:
        return write()
    tries = retrying(
        attempts=attempts or settings.MONITOR_DB_RETRY_ATTEMPTS,
        deadline=give_up_at,
        retry=is_connection_error,
        wait=lambda state: retry_wait(state.attempt_number),
        before_sleep=_log_retry,
    )
    return tries(_closing_a_lost_connection, write)


def unless_lost(write: Callable[[], T], give_up_at: float, fallback: T, what: str, attempts: int | None = None) -> T:
    """`with_reconnect(write, ...)`, or `fallback` when the connection is still lost at
    `give_up_at`: logged as "`what` (database unavailable: ...)". Any other error is raised."""
    try:
        return with_reconnect(write, give_up_at, attempts)
    except DatabaseError as exc:
        if not is_connection_error(exc):
            raise
        log.error("%s (database unavailable: %s)", what, first_line(exc))
        return fallback


def close_lost_connection() -> None:
    """Drop the broken connection: Django reuses one until it is closed; the next query opens a new one."""
    try:
        connection.close()
    except DatabaseError:
        pass


def _closing_a_lost_connection(write):
    try:
        return write()
    except DatabaseError as exc:
        if is_connection_error(exc):
            close_lost_connection()
        raise


def _log_retry(state):
    log.warning(
        "database connection lost (%s); trying again in %.1f s (try %d of %d)",
        first_line(state.outcome.exception()),
        state.upcoming_sleep,
        state.attempt_number + 1,
        settings.MONITOR_DB_RETRY_ATTEMPTS,
    )
