"""One run of the monitor: claim due orders, ask their providers, store what they said.

The management command is a thin shell over `run_batch` and `check_single_order`; the admin's
"check now" calls `check_single_order` too.
"""

import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from budgets.claims import ClaimBudget
from orders.checking import check_orders
from orders.claiming import RunConfig, claim_due_orders, claim_order, lease_end, release_unless_lost
from orders.connection_loss import first_line, retry_round_seconds, unless_lost
from orders.filters import NO_FILTER, OrderFilter
from orders.models import EventSource, MonitorRun, Order
from orders.outcomes import Outcome, RunReport
from orders.storing import ResultStore, Stored, problem_of
from providers.base import CheckResult

log = logging.getLogger(__name__)


# Called in the main thread after each stored answer: (order as claimed, outcome, result).
OnChecked = Callable[[Order, Outcome, CheckResult], None]


def run_batch(
    limit: int | None = None,
    max_seconds: float | None = None,
    stop_event: threading.Event | None = None,
    on_checked: OnChecked | None = None,
    order_filter: OrderFilter = NO_FILTER,
    config: RunConfig | None = None,
) -> RunReport:
    """Claim up to `limit` due orders (only those `order_filter` lets through) and check them
    within `max_seconds`, then record the run (order_monitor_runs). Returns a RunReport.
    `config`: the run's settings (default: RunConfig.from_settings(limit, max_seconds))."""
    config = config or RunConfig.from_settings(limit, max_seconds)
    stop_event = stop_event or threading.Event()
    started_at = timezone.now()
    report = check_due_orders(stop_event=stop_event, on_checked=on_checked, order_filter=order_filter, config=config)
    record_run(report, started_at, stop_event, config.shutdown_grace_seconds)
    return report


def check_due_orders(
    limit: int | None = None,
    max_seconds: float | None = None,
    stop_event: threading.Event | None = None,
    on_checked: OnChecked | None = None,
    claim_more: bool = False,
    order_filter: OrderFilter = NO_FILTER,
    config: RunConfig | None = None,
) -> RunReport:
    """One claim -> check cycle: claim up to `limit` due orders (those `order_filter` lets
    through), leased for `max_seconds` plus the margin, and check them within `max_seconds`.
    With `claim_more` (a loop's cycle), while the last checks of a full claim are in flight,
    claim up to `limit` more under the same lease, as long as each claim comes back full.
    Records nothing. Returns a RunReport."""
    config = config or RunConfig.from_settings(limit, max_seconds)
    limit = config.limit
    stop_event = stop_event or threading.Event()
    started = time.monotonic()
    started_at = timezone.now()
    # The deadline and the lease from the same bounded length: the lease always outlasts the
    # run's checks by the margin, and nothing else.
    lease_until = lease_end(started_at, config.max_seconds, config.lease_margin_seconds)
    budget = ClaimBudget(config.max_seconds) if settings.MONITOR_REQUEST_BUDGETS else None
    claim = _budgeted_claim(budget, started_at, limit, lease_until, order_filter)
    more = _more_claims(limit, lease_until, order_filter, budget) if claim_more and len(claim.orders) == limit else None
    report = _check_claimed(claim, started + config.max_seconds, stop_event, EventSource.RUN, on_checked, config, more)
    report.seconds = time.monotonic() - started
    return report


def _budgeted_claim(budget, now, limit, lease_until, order_filter):
    """claim_due_orders, of each integration no more than its request budget serves this cycle."""
    claim = claim_due_orders(now, limit, lease_until, order_filter, budget.caps() if budget else None)
    if budget is not None:
        budget.took(claim.orders)
    return claim


def _more_claims(limit, lease_until, order_filter=NO_FILTER, budget=None):
    """The next claims of a cycle: none once a claim comes back short (nothing more was due) or
    the database connection is lost (the orders already claimed are still checked)."""
    exhausted = False

    def more():
        nonlocal exhausted
        if exhausted:
            return []
        # One try: the orders already claimed are checked meanwhile.
        claim: list[Order] = unless_lost(
            lambda: _budgeted_claim(budget, timezone.now(), limit, lease_until, order_filter).orders,
            time.monotonic(),
            [],
            "no further claim in this cycle",
            attempts=1,
        )
        orders = list(claim)
        exhausted = len(orders) < limit
        return orders

    return more


def check_single_order(
    order_id: object,
    source: str = EventSource.MANUAL,
    max_seconds: float | None = None,
    config: RunConfig | None = None,
) -> tuple[Order, Outcome | str]:
    """Check one order now, whatever its next_check_at (--order-id, the admin's "check now").
    Returns (order as stored afterwards, outcome: an Outcome, or a text saying why nothing was
    stored). Raises OrderNotCheckable, before any provider call, when the order cannot be checked."""
    config = config or RunConfig.from_settings(max_seconds=max_seconds)
    started = time.monotonic()
    lease_until = lease_end(timezone.now(), config.max_seconds, config.lease_margin_seconds)
    claim = claim_order(order_id, lease_until)
    report = _check_claimed(claim, started + config.max_seconds, threading.Event(), source, None, config)
    order = claim.orders[0]
    order.refresh_from_db()
    outcome = report.outcomes.get(order.pk) or report.store_failures.get(order.pk) or "not checked (released)"
    return order, outcome


def _give_up_at(deadline, stop_event, grace_seconds):
    """Until when the run's database writes may go on trying to reconnect: one round of tries
    past its deadline (far inside the lease margin: the orders are still ours); once a stop
    signal came, only the shutdown grace, before the process is killed."""
    limit = deadline + retry_round_seconds()
    if stop_event.is_set():
        limit = min(limit, time.monotonic() + grace_seconds)
    return limit


def _check_claimed(claim, deadline, stop_event, source, on_checked, config, more=None):
    """Ask about the claimed orders and store each answer as it comes; then store what still
    waits for the database, release what was not checked or not stored, and report."""
    report = RunReport(claimed=len(claim.orders))
    claimed = list(claim.orders)
    grace = config.shutdown_grace_seconds

    def claimed_more():
        orders = more()
        report.claimed += len(orders)
        claimed.extend(orders)
        return orders

    results = ResultStore(claim.lease_until, source, _give_up_at(deadline, stop_event, grace))
    unchecked = []
    answers = check_orders(
        claim.orders,
        deadline=deadline,
        stop_event=stop_event,
        workers=config.workers,
        per_integration=config.per_integration,
        grace_seconds=grace,
        more=claimed_more if more else None,
    )
    try:
        for order, result in answers:
            if result is None:
                unchecked.append(order.pk)
            else:
                _report(report, results.store(order, result), on_checked)
    except Exception:
        # Not one order's doing (those are recorded on their order): the error goes on up.
        _release_not_stored(claimed, report, claim.lease_until, _give_up_at(deadline, stop_event, grace))
        raise
    report.interrupted = stop_event.is_set()
    report.deadline_reached = bool(unchecked) and not report.interrupted
    _finish(report, results, unchecked, claim.lease_until, _give_up_at(deadline, stop_event, grace), on_checked)
    return report


def _finish(report, results, unchecked, lease_until, give_up_at, on_checked):
    """The end of a run's checks: the results still waiting for the database stored (or given
    up on), the orders not checked or not stored released."""
    stored, not_stored = results.finish(give_up_at)
    _report(report, stored, on_checked)
    for order in not_stored:
        report.store_failed(order, "database unavailable")
    report.released = release_unless_lost(unchecked, lease_until, give_up_at)
    if not_stored:
        released = release_unless_lost([order.pk for order in not_stored], lease_until, give_up_at)
        log.error(
            "%d check results could not be stored (database unavailable); %d of their orders released",
            len(not_stored),
            released,
        )


def _report(report: RunReport, stored: list[Stored], on_checked: OnChecked | None) -> None:
    """Count what became of each result, and hand each stored one to `on_checked`."""
    for each in stored:
        if each.outcome is None:
            report.store_failed(each.order, each.problem)
            continue
        report.count(each.order, each.outcome)
        if on_checked is None:
            continue
        try:
            on_checked(each.order, each.outcome, each.result)
        except Exception as exc:  # the result is stored; what follows it must not stop the run
            log.error(
                "order %s: stored (%s), then reporting it failed: %s", each.order.pk, each.outcome, problem_of(exc)
            )


def _release_not_stored(claimed, report, lease_until, give_up_at):
    """After an error that stops the run: release the claimed orders whose results were not
    stored, rather than leave them leased until the lease ends."""
    done = report.outcomes.keys() | report.store_failures.keys()
    left = [order.pk for order in claimed if order.pk not in done]
    try:
        released = release_unless_lost(left, lease_until, give_up_at)
    except Exception as exc:  # the error that stopped the run is the one to report
        log.error(
            "the run stopped; its %d claimed orders not stored could not be released: %s", len(left), first_line(exc)
        )
        return
    log.error("the run stopped; %d of its %d claimed orders not stored were released", released, len(left))


def record_run(report: RunReport, started_at: datetime, stop_event: threading.Event, grace_seconds: float) -> None:
    """The order_monitor_runs row of a run, or of one stretch of a loop, that ends now."""
    give_up_at = _give_up_at(time.monotonic(), stop_event, grace_seconds)
    # The counts order_monitor_runs has a column for.
    columns = {column.name for column in MonitorRun._meta.fields}
    counts = {name: count for name, count in report.named_counts().items() if name in columns}

    def create():
        MonitorRun.objects.create(
            started_at=started_at,
            finished_at=timezone.now(),
            succeeded=report.succeeded,
            host=socket.gethostname(),
            **counts,
        )

    # The summary line still reports a run that could not be recorded; monitor_health misses it.
    unless_lost(create, give_up_at, None, "the run could not be recorded")
