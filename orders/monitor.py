"""One cycle of the monitor, read from top to bottom: claim due orders, read their integrations,
build their clients (providers.registry.CycleClients), ask (providers.fanout.FanOut: orders and
clients in, answers out), store each answer (orders.storing.ResultStore: returns what it
stored), count it in the cycle's RunReport, release what was not checked or not stored.

Every way of checking orders is such a cycle: the loop (orders.loop) runs them one after the
other, a plain run is the loop's first cycle, and `--order-id` and the admin's "Check now" run
one over the order they claimed. Nothing below calls back into this module.
"""

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

from budgets.budget import ClaimBudget
from orders.claiming import (
    NO_FILTER,
    Claim,
    OrderFilter,
    RunConfig,
    claim_due_orders,
    claim_order,
    lease_end,
    release_unless_lost,
)
from orders.connection_loss import Reconnect, first_line, skipped_when_lost
from orders.models import EventSource, Order
from orders.outcomes import Outcome, RunReport
from orders.queries import integrations_of
from orders.storing import ResultStore, Stored, problem_of
from providers.base import CheckResult
from providers.fanout import MORE_WANTED, FanOut
from providers.registry import CycleClients
from schedules.book import LearnedSchedules, ScheduleBook

log = logging.getLogger(__name__)

# Called in the main thread after each stored answer: (order as claimed, outcome, result).
OnChecked = Callable[[Order, Outcome, CheckResult], None]


def check_due_orders(
    config: RunConfig,
    stop_event: threading.Event | None = None,
    on_checked: OnChecked | None = None,
    claim_more: bool = False,
    order_filter: OrderFilter = NO_FILTER,
    book: ScheduleBook | None = None,
) -> RunReport:
    """One cycle: claim up to `config.limit` due orders (those `order_filter` lets through),
    leased for `config.max_seconds` plus the margin, and check them within that time. With
    `claim_more` (the loop's cycles after a full claim), while the last checks are in flight,
    claim up to `limit` more under the same lease, as long as each claim comes back full.
    Records nothing."""
    started = time.monotonic()
    # The deadline and the lease from the same bounded length: the lease always outlasts the
    # cycle's checks by the margin, and nothing else.
    lease_until = lease_end(timezone.now(), config.max_seconds, config.lease_margin_seconds)
    claims = _Claims(config, lease_until, order_filter)
    claim = Claim(claims.take(), lease_until)
    deadline = started + config.max_seconds
    # After the claim: a database that is away is the claim's one-line error, not a schedule's warning.
    schedules = (book or ScheduleBook(config.rules)).current()
    cycle = _Cycle(claim, deadline, stop_event or threading.Event(), EventSource.RUN, config, schedules)
    report = cycle.run(on_checked, claims if claim_more and claims.full else None)
    report.seconds = time.monotonic() - started
    return report


def check_single_order(
    order_id: object, config: RunConfig, source: str = EventSource.MANUAL
) -> tuple[Order, Outcome | str]:
    """Check one order now, whatever its next_check_at (--order-id, the admin's "check now").
    Returns (order as stored afterwards, outcome: an Outcome, or a text saying why nothing was
    stored). Raises OrderNotCheckable, before any provider call, when the order cannot be checked."""
    config = config.for_cycle(min(config.max_seconds, config.cycle_seconds))  # a cycle's length and lease
    started = time.monotonic()
    claim = claim_order(order_id, lease_end(timezone.now(), config.max_seconds, config.lease_margin_seconds))
    cycle = _Cycle(
        claim, started + config.max_seconds, threading.Event(), source, config, ScheduleBook(config.rules).current()
    )
    report = cycle.run()
    order = claim.orders[0]
    order.refresh_from_db()
    outcome = report.outcomes.get(order.pk) or report.store_failures.get(order.pk) or "not checked (released)"
    return order, outcome


class _Claims:
    """The claims of one cycle, under one lease: of each integration no more than its request
    budget serves within the cycle (budgets.budget.ClaimBudget)."""

    def __init__(self, config: RunConfig, lease_until: datetime, order_filter: OrderFilter):
        self.full = False  # the last claim took `limit` orders: more may be due
        self._limit = config.limit
        self._lease_until = lease_until
        self._order_filter = order_filter
        self._budget = ClaimBudget(config.max_seconds) if config.http.request_budgets else None

    def take(self) -> list[Order]:
        caps = self._budget.caps() if self._budget else None
        orders = claim_due_orders(timezone.now(), self._limit, self._lease_until, self._order_filter, caps).orders
        if self._budget is not None:
            self._budget.took(orders)
        self.full = len(orders) == self._limit
        return orders

    def take_more(self) -> list[Order]:
        """A further claim, one try: the orders already claimed are checked meanwhile. None
        (an empty list) when the database connection is lost, and no claim after it."""
        self.full = False
        orders: list[Order] = []
        with skipped_when_lost("no further claim in this cycle"):
            orders = self.take()
        return orders


class _Cycle:
    """What one cycle claimed, asks, stores and reports."""

    def __init__(
        self,
        claim: Claim,
        deadline: float,
        stop_event: threading.Event,
        source: str,
        config: RunConfig,
        schedules: LearnedSchedules,
    ):
        self.report = RunReport(claimed=len(claim.orders))
        self._claimed = list(claim.orders)
        self._lease_until = claim.lease_until
        self._deadline = deadline
        self._stop_event = stop_event
        self._config = config
        self._store = ResultStore(
            claim.lease_until, source, self._reconnect_until(), schedules, config.http.max_answer_bytes
        )
        self._clients = CycleClients(config.per_integration, config.http)
        self._fan_out = FanOut(
            deadline, stop_event, config.workers, config.per_integration, config.shutdown_grace_seconds
        )
        self._unchecked: list = []
        self._on_checked: OnChecked | None = None

    def run(self, on_checked: OnChecked | None = None, claims: _Claims | None = None) -> RunReport:
        """Ask about the claimed orders (and those `claims` adds while the workers have room) and
        store each answer as it comes; then finish: store what still waits for the database,
        release what was not checked or not stored."""
        self._on_checked = on_checked
        self._fan_out.wants_more = claims is not None
        try:
            self._ask(self._claimed)
            for answer in self._fan_out.answers():
                if answer is MORE_WANTED and claims is not None:
                    self._ask_more(claims)
                elif isinstance(answer, tuple):
                    self._take(*answer)
        except Exception:
            # Not one order's doing (those are recorded on their order): the error goes on up.
            self._release_not_stored()
            raise
        finally:
            if not self._fan_out.abandoned:  # an abandoned call still uses its client's session
                self._clients.close()
        self.report.interrupted = self._stop_event.is_set()
        self.report.deadline_reached = bool(self._unchecked) and not self.report.interrupted
        self._finish()
        return self.report

    def _ask_more(self, claims: _Claims) -> None:
        orders = claims.take_more()
        self._fan_out.wants_more = claims.full
        self.report.claimed += len(orders)
        self._claimed.extend(orders)
        self._ask(orders)

    def _ask(self, orders: list[Order]) -> None:
        """Hand `orders` to the fan-out with their integrations; when those cannot be read (the
        database connection lost, and not back by the deadline), the orders are released."""
        integrations = integrations_of(orders, self._config.reconnect.before(self._deadline))
        if integrations is None:
            self._unchecked.extend(order.pk for order in orders)
            return
        batches, unanswerable = self._clients.sort(orders, integrations)
        self._fan_out.add(batches)
        for order, result in unanswerable:
            self._take(order, result)

    def _take(self, order: Order, result: CheckResult | None) -> None:
        if result is None:
            self._unchecked.append(order.pk)
        else:
            self._count(self._store.store(order, result))

    def _count(self, stored: list[Stored]) -> None:
        """Count what became of each result, and hand each stored one to `on_checked`."""
        for each in stored:
            if each.outcome is None:
                self.report.store_failed(each.order, each.problem)
                continue
            self.report.count(each.order, each.outcome)
            if self._on_checked is None:
                continue
            try:
                self._on_checked(each.order, each.outcome, each.result)
            except Exception as exc:  # the result is stored; what follows it must not stop the run
                log.error(
                    "order %s: stored (%s), then reporting it failed: %s", each.order.pk, each.outcome, problem_of(exc)
                )

    def _finish(self) -> None:
        """The results still waiting for the database stored (or given up on), the orders not
        checked or not stored released."""
        reconnect = self._reconnect_until()
        stored, not_stored = self._store.finish(reconnect)
        self._count(stored)
        for order in not_stored:
            self.report.store_failed(order, "database unavailable")
        self.report.released = release_unless_lost(self._unchecked, self._lease_until, reconnect)
        if not_stored:
            released = release_unless_lost([order.pk for order in not_stored], self._lease_until, reconnect)
            log.error(
                "%d check results could not be stored (database unavailable); %d of their orders released",
                len(not_stored),
                released,
            )

    def _release_not_stored(self) -> None:
        """After an error that stops the run: release the claimed orders whose results were not
        stored, rather than leave them leased until the lease ends."""
        done = self.report.outcomes.keys() | self.report.store_failures.keys()
        left = [order.pk for order in self._claimed if order.pk not in done]
        try:
            released = release_unless_lost(left, self._lease_until, self._reconnect_until())
        except Exception as exc:  # the error that stopped the run is the one to report
            log.error(
                "the run stopped; its %d claimed orders not stored could not be released: %s",
                len(left),
                first_line(exc),
            )
            return
        log.error("the run stopped; %d of its %d claimed orders not stored were released", released, len(left))

    def _reconnect_until(self) -> Reconnect:
        return self._config.reconnect.until(self._deadline, self._stop_event, self._config.shutdown_grace_seconds)
