"""`check_pending_orders --loop`: one process keeps checking orders as they come due, until its
deadline. A plain run (`run_batch`) is one such cycle and its record.

It runs claim -> check cycles (orders.monitor.check_due_orders), each with its own deadline of
MONITOR_LOOP_CYCLE_SECONDS and a lease to match, so a loop that dies frees its orders that long
(plus the lease margin) after its last claim, not after its whole remaining time. The claim, the
lease and SKIP LOCKED are those of a single run: loops, runs and hosts may overlap. When a
claim comes back full (`limit` orders), the cycle claims the next `limit` while the last checks
are in flight, so a busy loop's workers do not wait for the slowest answer of each batch.

Between cycles it sleeps until the earliest due time among the orders waiting for a check, at
most MAX_SLEEP_SECONDS, re-read with one indexed query each time: an idle loop costs about one
small query a second, and an order that comes due (or is inserted due) while it sleeps is
claimed within about a second. A stop signal ends the sleep at once, and on PostgreSQL so does
a webhook that made an order due (hooks.wakeup: LISTEN / NOTIFY).

Every RECORD_SECONDS, and at the end, the stretch since the last record becomes one
order_monitor_runs row (monitor_health's "last successful run" stays current during a long
loop), and `on_progress` gets the totals so far (the command writes its metrics file).
"""

import logging
import socket
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db import DatabaseError
from django.db.models import Min
from django.utils import timezone

from hooks import wakeup
from orders.claiming import NO_FILTER, OrderFilter, RunConfig
from orders.connection_loss import (
    close_lost_connection,
    first_line,
    is_connection_error,
    reconnecting,
    skipped_when_lost,
)
from orders.models import MonitorRun, Order, due_at
from orders.monitor import check_due_orders
from orders.outcomes import RunReport
from schedules.book import ScheduleBook

log = logging.getLogger(__name__)

MAX_SLEEP_SECONDS = 1.0
RECORD_SECONDS = 60.0
# After a lost database connection, the loop waits this long before it claims again.
RECONNECT_WAIT_SECONDS = 5.0


@dataclass
class _Stretch:
    """What the loop did since its last order_monitor_runs row."""

    started_at: datetime = field(default_factory=timezone.now)
    started: float = field(default_factory=time.monotonic)
    report: RunReport = field(default_factory=RunReport)


def run_batch(config: RunConfig, stop_event=None, on_checked=None, order_filter=NO_FILTER) -> RunReport:
    """The plain run (no --loop): the loop's first cycle and its record, nothing more. Up to
    `config.limit` orders in one claim, checked within `config.max_seconds` and at most a cycle
    (MONITOR_LOOP_CYCLE_SECONDS), under a cycle's lease."""
    stop_event = stop_event or threading.Event()
    started_at = timezone.now()
    cycle_config = config.for_cycle(min(config.max_seconds, config.cycle_seconds))
    report = check_due_orders(cycle_config, stop_event=stop_event, on_checked=on_checked, order_filter=order_filter)
    record_run(report, started_at, stop_event, config)
    return report


def run_loop(
    config: RunConfig, stop_event=None, on_checked=None, on_progress=None, order_filter=NO_FILTER
) -> RunReport:
    """Check due orders (those `order_filter` lets through), up to `config.limit` per claim,
    until `config.max_seconds` have passed or `stop_event` is set. Returns the totals over all
    cycles; `seconds` is the loop's time."""
    stop_event = stop_event or threading.Event()
    started = time.monotonic()
    deadline = started + config.max_seconds
    total = RunReport()
    stretch = _Stretch()
    book = ScheduleBook(config.rules)  # the loop's schedules, learned again at most once a minute
    while not stop_event.is_set() and (remaining := deadline - time.monotonic()) > 0:
        try:
            _one_step(config, remaining, stop_event, on_checked, (total, stretch.report), order_filter, book)
        except DatabaseError as exc:
            if not is_connection_error(exc):
                raise
            log.error("database connection lost (%s); claiming again in %g s", first_line(exc), RECONNECT_WAIT_SECONDS)
            close_lost_connection()
            stop_event.wait(min(RECONNECT_WAIT_SECONDS, remaining))
        if time.monotonic() - stretch.started >= RECORD_SECONDS and not stop_event.is_set():
            record_run(stretch.report, stretch.started_at, stop_event, config)
            stretch = _Stretch()
            total.seconds = time.monotonic() - started
            if on_progress:
                on_progress(total)
    stretch.report.interrupted = total.interrupted = stop_event.is_set()
    record_run(stretch.report, stretch.started_at, stop_event, config)
    total.seconds = time.monotonic() - started
    return total


def _one_step(config, remaining, stop_event, on_checked, reports, order_filter, book):
    """A cycle if an order is due; else sleep until one is (at most MAX_SLEEP_SECONDS)."""
    wait = seconds_until_due(order_filter)
    if wait is None or wait > 0:
        wait_between_cycles(stop_event, min(MAX_SLEEP_SECONDS if wait is None else wait, remaining))
        return
    cycle_config = config.for_cycle(min(remaining, config.cycle_seconds))
    cycle = check_due_orders(
        cycle_config,
        stop_event=stop_event,
        on_checked=on_checked,
        claim_more=True,
        order_filter=order_filter,
        book=book,
    )
    for report in reports:
        add_up(report, cycle)
    if not cycle.claimed:
        # Due, but locked by another run's claim (SKIP LOCKED): not a reason to spin.
        wait_between_cycles(stop_event, remaining)


def wait_between_cycles(stop_event: threading.Event, seconds: float) -> None:
    """The loop's one wait between cycles: at most `seconds` and MAX_SLEEP_SECONDS, ended early by
    the stop signal, and by a webhook making an order due (NOTIFY on PostgreSQL: hooks.wakeup)."""
    wakeup.wait(min(seconds, MAX_SLEEP_SECONDS), stop_event)


def seconds_until_due(order_filter: OrderFilter = NO_FILTER) -> float | None:
    """Seconds until the earliest order waiting for a check is due (0 or less: one is due now);
    None when no order waits. The minimum of the due expression that product_orders_monitor_due_idx
    is built on, so PostgreSQL reads it from the first index entries."""
    waiting = order_filter.apply(Order.objects.waiting())
    earliest = waiting.aggregate(earliest=Min(due_at()))["earliest"]
    return None if earliest is None else (earliest - timezone.now()).total_seconds()


def add_up(total: RunReport, cycle: RunReport) -> None:
    """Add one cycle's report to a loop's totals (RunReport.merge), without the per-order
    details (outcomes by order id, store failures): a loop checks too many orders to keep them."""
    total.merge(replace(cycle, outcomes={}, store_failures={}))


def record_run(report: RunReport, started_at: datetime, stop_event: threading.Event, config: RunConfig) -> None:
    """The order_monitor_runs row of a run, or of one stretch of a loop, that ends now."""
    # The counts order_monitor_runs has a column for.
    columns = {column.name for column in MonitorRun._meta.fields}
    counts = {name: count for name, count in report.named_counts().items() if name in columns}
    # The summary line still reports a run that could not be recorded; monitor_health misses it.
    with skipped_when_lost("the run could not be recorded"):
        for attempt in reconnecting(
            config.reconnect.until(time.monotonic(), stop_event, config.shutdown_grace_seconds)
        ):
            with attempt:
                MonitorRun.objects.create(
                    started_at=started_at,
                    finished_at=timezone.now(),
                    succeeded=report.succeeded,
                    host=socket.gethostname(),
                    **counts,
                )
