"""Waking a sleeping `check_pending_orders --loop` when a webhook made an order due.

On PostgreSQL the webhook sends `NOTIFY order_monitor_due` in the transaction that made the
order due (delivered at commit, to every listening connection on every host), and a loop
between cycles waits with `wait()`: LISTEN on its own connection, then select() on the socket,
so it wakes within milliseconds instead of at its next poll. On SQLite (one process, tests and
the demo) `wait()` is a plain sleep: the loop's poll finds the order.
"""

import select
import threading
import time

from django.db import connection

CHANNEL = "order_monitor_due"
# How often a wait looks at the stop event: a stop signal still ends the sleep at once.
_STOP_POLL_SECONDS = 0.05


def notify() -> None:
    """Tell every listening loop that an order is due (at commit, when inside a transaction)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])


def wait(seconds: float, stop_event: threading.Event) -> bool:
    """Sleep up to `seconds`, less when an order is made due (PostgreSQL) or `stop_event` is set.
    True when a notification ended the wait."""
    if seconds <= 0:
        return False
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        stop_event.wait(seconds)
        return False
    raw = _listening_connection()
    # A lost connection surfaces as Django's DatabaseError, which the loop handles (reconnects).
    with connection.wrap_database_errors:
        if _drain(raw):
            return True
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0 and not stop_event.is_set():
            readable, _, _ = select.select([raw], [], [], min(remaining, _STOP_POLL_SECONDS))
            if readable and _drain(raw):
                return True
    return False


# The connection that LISTENs, per database alias: a new one (after a reconnect) LISTENs again.
_listening: dict[str, object] = {}


def _listening_connection():
    """The loop's psycopg2 connection, LISTENing."""
    connection.ensure_connection()
    raw = connection.connection
    if _listening.get(connection.alias) is not raw:
        with connection.cursor() as cursor:
            cursor.execute(f"LISTEN {CHANNEL}")
        _listening[connection.alias] = raw
    return raw


def _drain(raw) -> bool:
    """Read what arrived; True if it held a notification."""
    raw.poll()
    woken = bool(raw.notifies)
    raw.notifies.clear()
    return woken
