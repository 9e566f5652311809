"""Telling a lost database connection from every other database error.

A lost connection (server restart, failover, the backend terminated) passes: a new connection
may well work a moment later, so a write is worth trying again. Any other error (a value too
long for its column, a constraint, a missing column) repeats every time the same write is
tried, and an operator has to fix its cause.
"""

from django.db import DatabaseError, InterfaceError, OperationalError

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
