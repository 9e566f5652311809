"""The check schedule of each integration, learned from its own recent completions.

For every integration, the completion times ("completedAt" - "sentAt") of its completed orders
of the last SAMPLE_DAYS days, at most the newest SAMPLE_LIMIT, are the samples; they include
orders completed by the older application, so a schedule is learned from the first day on a
live database. `schedules.learning.learn_schedule` turns them into check offsets (seconds after
sending) that spend MONITOR_CHECK_BUDGET status requests per order on average; with fewer than
schedules.learning.MIN_SAMPLES samples an integration gets the default schedule. An integration
sent more orders than its request budget can check at that many requests each is budget-bound:
its schedule is learned with the smaller allowance budgets.allowance gives (at least 1: below,
the cheapest schedule the learner finds), so its orders cost fewer requests instead of queueing.

One query reads the samples of every integration at once (a window function numbers each
integration's completions, newest first), one more the orders each was sent in the allowance's
window, one more the budgets, at most once every REFRESH_SECONDS per process, so the schedules
cost no work per order. A query that fails keeps the schedules already learned
(the default ones before the first success) and is tried again a refresh later: a schedule
never stops a check result from being stored or an order from being placed.
"""

import logging
import statistics
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import Error as DatabaseLibraryError
from django.db.models import DurationField, ExpressionWrapper, F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from budgets.allowance import BudgetBound, budget_bound, budgets_per_second, sent_counts
from hooks.schedule import while_pushed
from orders.connection_loss import first_line
from orders.models import DELIVERED_STATUSES, Order
from orders.queries import integration_key, read_apart
from schedules.learning import MIN_SAMPLES, learn_schedule
from schedules.offsets import next_check_offset
from schedules.rules import CheckRules

log = logging.getLogger(__name__)

SAMPLE_DAYS = 7
SAMPLE_LIMIT = 2000
REFRESH_SECONDS = 60.0


@dataclass(frozen=True)
class IntegrationSchedule:
    """The schedule in use for one integration, and what it was learned from."""

    integration_id: str
    offsets: tuple[float, ...]  # check times, seconds after "sentAt" (schedules.offsets)
    samples: int  # completions it was learned from (0: none recorded)
    median_seconds: float | None  # their median completion time, None without samples
    first_check_seconds: float  # when an order is first checked, in seconds after it was sent
    budget_bound: BudgetBound | None = None  # learned with a smaller allowance (budgets.allowance)

    @property
    def learned(self) -> bool:
        """False while the integration has too few completions: the default schedule."""
        return self.samples >= MIN_SAMPLES

    def as_dict(self) -> dict:
        return {
            "integration_id": self.integration_id,
            "learned": self.learned,
            "samples": self.samples,
            "median_completion_seconds": _rounded(self.median_seconds),
            "first_check_seconds": _rounded(self.first_check_seconds),
            "check_offsets_seconds": [_rounded(offset) for offset in self.offsets],
            "budget_bound": self.budget_bound.as_dict() if self.budget_bound else None,
        }


@dataclass(frozen=True)
class LearnedSchedules:
    """The schedules in use at one moment, as a cycle stores its answers with them: looking one
    up learns nothing and reads no completions."""

    entries: Mapping[str, IntegrationSchedule]
    rules: CheckRules

    def entry_for(self, integration_id: str | None) -> IntegrationSchedule:
        key = integration_key(integration_id)
        return self.entries.get(key) or _entry(key, self.rules.default_schedule(), [], None, self.rules)

    def schedule_for(self, integration_id: str | None) -> tuple[float, ...]:
        """The check offsets for orders of this integration ("providerId"); while its webhooks
        arrive, their safety net (hooks.schedule)."""
        return while_pushed(integration_id, self.entry_for(integration_id).offsets)


class ScheduleBook:
    """Per integration, the schedule learned from its recent completions; refreshed for every
    integration with one query once `refresh_seconds` have passed since the last read, for `rules`."""

    def __init__(self, rules: CheckRules, refresh_seconds: float = REFRESH_SECONDS):
        self.rules = rules
        self._refresh = timedelta(seconds=refresh_seconds)
        self._schedules: dict[str, IntegrationSchedule] = {}
        self._bounds: dict[str, BudgetBound] = {}  # the last ones read
        self._read_at: datetime | None = None
        self._lock = threading.Lock()  # the host application may place orders from several threads

    def schedule_for(self, integration_id: str | None) -> tuple[float, ...]:
        """The learned check offsets for orders of this integration ("providerId"), without the
        webhooks' safety net (LearnedSchedules.schedule_for and `schedule_for` below add it)."""
        return self.entry_for(integration_id).offsets

    def entry_for(self, integration_id: str | None) -> IntegrationSchedule:
        return self.current().entry_for(integration_id)

    def entries(self) -> dict[str, IntegrationSchedule]:
        """{integration key: schedule} of every integration with completions recorded or budget-bound."""
        with self._lock:
            self._refresh_if_due()
            return dict(self._schedules)

    def current(self) -> LearnedSchedules:
        """The schedules in use now (learned again first if a refresh is due)."""
        return LearnedSchedules(self.entries(), self.rules)

    def _refresh_if_due(self) -> None:
        now = timezone.now()
        if self._read_at is not None and now - self._read_at < self._refresh:
            return
        self._read_at = now
        try:
            samples = completion_samples(now)
        except DatabaseLibraryError as exc:
            log.warning("check schedules not refreshed (keeping the ones in use): %s", first_line(exc))
            return
        bounds = self._read_bounds(now)
        keys = set(samples) | set(bounds)
        self._schedules = {key: _learned_entry(key, samples.get(key, []), bounds.get(key), self.rules) for key in keys}

    def _read_bounds(self, now: datetime) -> dict[str, BudgetBound]:
        """The budget-bound integrations, or the last ones read when the read fails (e.g. no
        budgets table yet): the samples just read are still learned from."""
        try:
            self._bounds = budget_bounds(now, self.rules.check_budget)
        except DatabaseLibraryError as exc:
            log.warning("budget-bound schedules not refreshed (keeping the allowances in use): %s", first_line(exc))
        return self._bounds


def completion_samples(now: datetime) -> dict[str, list[float]]:
    """{integration key: completion seconds, newest first} of the completed orders of the last
    SAMPLE_DAYS days, at most SAMPLE_LIMIT per integration. One query.

    "providerId" is compared as text (some copies declare it uuid) and only partitioned by as is."""
    durations = (
        Order.objects.with_provider()
        .filter(external_status__in=DELIVERED_STATUSES, sent_at__isnull=False, completed_at__gte=now - _window())
        .annotate(
            took=ExpressionWrapper(F("completed_at") - F("sent_at"), output_field=DurationField()),
            # "id" breaks ties: rows completing at the same instant would otherwise be peers, which
            # PostgreSQL's window buffers together (on disk, when a whole import shares one time).
            newest_first=Window(
                RowNumber(), partition_by=[F("integration_id")], order_by=[F("completed_at").desc(), F("id")]
            ),
        )
        .filter(newest_first__lte=SAMPLE_LIMIT)
        .values_list("integration_id", "took")
    )
    samples: dict[str, list[float]] = {}
    with read_apart():
        rows = list(durations)
    for integration_id, took in rows:
        samples.setdefault(integration_key(integration_id), []).append(took.total_seconds())
    return samples


def budget_bounds(now: datetime, check_budget: float) -> dict[str, BudgetBound]:
    """{integration key: its budget-bound state} of the integrations sent more orders than their
    budget checks at `check_budget` requests each. Two queries, for every integration."""
    with read_apart():
        sent = sent_counts(now)
        budgets = budgets_per_second()  # an id no integration has has no budget: not bound
    bounds = {key: budget_bound(budgets[key], count, check_budget) for key, count in sent.items() if key in budgets}
    return {key: bound for key, bound in bounds.items() if bound is not None}


def _window() -> timedelta:
    return timedelta(days=SAMPLE_DAYS)


def _learned_entry(key: str, seconds: list[float], bound: BudgetBound | None, rules: CheckRules) -> IntegrationSchedule:
    cap = rules.backoff_cap_seconds
    if bound is None:
        offsets = learn_schedule(seconds, rules.check_budget, cap)
    else:
        # Below one request per order no schedule fits: with 1 the learner gives its cheapest.
        # No sampling margin here: a schedule a little over the allowance only makes its checks
        # wait a moment at the gate, and the allowance itself is read again every refresh.
        offsets = learn_schedule(seconds, max(bound.requests_per_order, 1.0), cap, safety_errors=0.0)
    return _entry(key, offsets, seconds, bound, rules)


def _entry(key, offsets, seconds: list[float], bound: BudgetBound | None, rules: CheckRules) -> IntegrationSchedule:
    median = statistics.median(seconds) if seconds else None
    first = next_check_offset(offsets, 0.0, rules.backoff_cap_seconds)
    return IntegrationSchedule(key, tuple(offsets), len(seconds), median, first, bound)


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)


# The books dispatch_order keeps for the process, one for each set of rules it was given: the host
# application places orders from several threads, and learning again for every order would cost
# a query each. The monitor's loops and runs keep their own (orders.loop), and monitor_health
# reads the schedules afresh.
BOOKS: dict[CheckRules, ScheduleBook] = {}
_BOOKS_LOCK = threading.Lock()


def schedule_for(integration_id: str | None, rules: CheckRules) -> tuple[float, ...]:
    """The check offsets in use for orders of this integration (see ScheduleBook); while its
    webhooks arrive, their safety net (hooks.schedule)."""
    with _BOOKS_LOCK:
        if rules not in BOOKS:
            BOOKS[rules] = ScheduleBook(rules)
        book = BOOKS[rules]
    return while_pushed(integration_id, book.schedule_for(integration_id))
