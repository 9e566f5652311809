"""One run of the monitor: claim due orders, ask their providers, store what they said.

The management command is a thin shell over `run_batch` and `check_single_order`; the admin's
"check now" calls `check_single_order` too.
"""

import logging
import socket
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from orders.checking import check_orders
from orders.claiming import claim_due_orders, claim_order, lease_end, release_orders
from orders.models import EventSource, MonitorRun
from orders.transitions import Outcome, apply_check_result

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    claimed: int = 0
    checked: int = 0
    completed: int = 0
    failed: int = 0
    processing: int = 0
    errors: int = 0
    timed_out: int = 0
    skipped: int = 0  # changed by someone else between claim and update
    held: int = 0  # PIN too long for "pinCode": kept in pin_code_full for an operator
    released: int = 0  # claimed but not checked (deadline or stop): due again at once
    update_failures: int = 0  # database errors while storing a result
    seconds: float = 0.0
    interrupted: bool = False
    deadline_reached: bool = False
    outcomes: dict = field(default_factory=dict)  # order id -> Outcome

    def count(self, order, outcome):
        self.outcomes[order.pk] = outcome
        self.checked += 1
        attribute = {
            Outcome.COMPLETED: "completed",
            Outcome.FAILED: "failed",
            Outcome.PROCESSING: "processing",
            Outcome.ERROR: "errors",
            Outcome.TIMED_OUT: "timed_out",
            Outcome.SKIPPED: "skipped",
            Outcome.HELD: "held",
        }[outcome]
        setattr(self, attribute, getattr(self, attribute) + 1)

    def summary_line(self):
        line = (
            f"checked={self.checked} completed={self.completed} failed={self.failed} "
            f"processing={self.processing} errors={self.errors} timed_out={self.timed_out} "
            f"released={self.released} skipped={self.skipped} seconds={self.seconds:.2f}"
        )
        if self.held:
            line += f" held={self.held}"
        if self.update_failures:
            line += f" update_failures={self.update_failures}"
        if self.interrupted:
            line += " (interrupted)"
        elif self.deadline_reached:
            line += " (deadline reached)"
        return line


def run_batch(limit=None, max_seconds=None, stop_event=None, on_checked=None):
    """Claim up to `limit` due orders and check them within `max_seconds`. Returns a RunReport."""
    limit = limit or settings.MONITOR_BATCH_LIMIT
    max_seconds = max_seconds or settings.MONITOR_MAX_SECONDS
    stop_event = stop_event or threading.Event()
    started = time.monotonic()
    started_at = timezone.now()
    lease_until = lease_end(started_at, max_seconds, settings.MONITOR_LEASE_MARGIN_SECONDS)
    claim = claim_due_orders(started_at, limit, lease_until)
    report = _check_claimed(claim, started + max_seconds, stop_event, EventSource.RUN, on_checked)
    report.seconds = time.monotonic() - started
    _record_run(report, started_at)
    return report


def check_single_order(order_id, source=EventSource.MANUAL, max_seconds=None):
    """Check one order now, whatever its next_check_at (--order-id, the admin's "check now").
    Returns (order as stored afterwards, outcome). Raises OrderNotCheckable, before any provider
    call, when the order cannot be checked."""
    max_seconds = max_seconds or settings.MONITOR_MAX_SECONDS
    started = time.monotonic()
    lease_until = lease_end(timezone.now(), max_seconds, settings.MONITOR_LEASE_MARGIN_SECONDS)
    claim = claim_order(order_id, lease_until)
    report = _check_claimed(claim, started + max_seconds, threading.Event(), source, None)
    order = claim.orders[0]
    order.refresh_from_db()
    return order, report.outcomes.get(order.pk, "not checked (released)")


def _check_claimed(claim, deadline, stop_event, source, on_checked):
    report = RunReport(claimed=len(claim.orders))
    unchecked = []
    answers = check_orders(
        claim.orders,
        deadline=deadline,
        stop_event=stop_event,
        workers=settings.MONITOR_WORKERS,
        per_integration=settings.MONITOR_PER_INTEGRATION_CONCURRENCY,
        grace_seconds=settings.MONITOR_SHUTDOWN_GRACE_SECONDS,
    )
    for order, result in answers:
        if result is None:
            unchecked.append(order.pk)
            continue
        try:
            outcome = apply_check_result(order, result, timezone.now(), claim.lease_until, source)
        except DatabaseError as exc:
            # One order's failed update must not abort the batch; its lease makes it due later.
            report.update_failures += 1
            log.error("order %s: storing the check result failed: %s", order.pk, exc)
            continue
        report.count(order, outcome)
        if on_checked:
            on_checked(order, outcome, result)
    report.interrupted = stop_event.is_set()
    report.deadline_reached = bool(unchecked) and not report.interrupted
    report.released = release_orders(unchecked, claim.lease_until, timezone.now())
    return report


def _record_run(report, started_at):
    MonitorRun.objects.create(
        started_at=started_at,
        finished_at=timezone.now(),
        succeeded=not report.interrupted,
        host=socket.gethostname(),
        checked=report.checked,
        completed=report.completed,
        failed=report.failed,
        processing=report.processing,
        errors=report.errors,
        timed_out=report.timed_out,
        released=report.released,
    )
