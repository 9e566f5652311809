"""Database cost of one run at scale, timed around the product's own functions: the claim
(orders.claiming.claim_due_orders) and storing one result (orders.transitions.apply_check_result)."""

import contextlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from orders.claiming import claim_due_orders, lease_end
from orders.outcomes import Outcome
from orders.transitions import apply_check_result
from providers.base import CheckResult, CheckState

CLAIMS = 20  # of 100 orders each: 2,000 due orders are claimed
BACKLOG_CLAIMS = 5  # with every active order due, as after an outage
RESULTS = (
    CheckResult(CheckState.IN_PROGRESS, message="İşleminiz devam ediyor"),
    CheckResult(CheckState.COMPLETED, pin="ABCD-1234-EF56-7890", message="İşlem başarılı"),
)


@dataclass
class DbTimings:
    claim_ms: list
    empty_claim_ms: list
    apply_ms: dict  # CheckState value -> [ms per order]
    breakdown: dict  # per order: statements, sql_ms, commit_ms, python_ms
    claim_breakdown: dict  # the same, per claim of 100
    plan: str
    empty_plan: str
    backlog_claim_ms: list | None = None
    backlog_plan: str = ""


def measure(batch=100):
    plan = explain_claim(batch)
    claims, claim_ms = [], []
    with _db_clock() as claim_spent:
        for _ in range(CLAIMS):
            ms, claim = _timed(claim_due_orders, *_claim_args(batch))
            claims.append(claim)
            claim_ms.append(ms)
    # Nothing is due now: the run that finds no work (most cron runs, and a drain's last).
    empty_plan = explain_claim(batch)
    empty_claim_ms = [_timed(claim_due_orders, *_claim_args(batch))[0] for _ in range(5)]
    with _db_clock() as spent:
        apply_ms = _time_applies(claims)
    everything = [ms for values in apply_ms.values() for ms in values]
    breakdown, claim_breakdown = _split(everything, spent), _split(claim_ms, claim_spent)
    return DbTimings(claim_ms, empty_claim_ms, apply_ms, breakdown, claim_breakdown, plan, empty_plan)


def measure_backlog(timings, batch=100):
    """Claims when every active order is due: the scan reads all of them and sorts them by age."""
    timings.backlog_plan = explain_claim(batch)
    timings.backlog_claim_ms = [_timed(claim_due_orders, *_claim_args(batch))[0] for _ in range(BACKLOG_CLAIMS)]


def _claim_args(batch):
    now = timezone.now()
    return now, batch, lease_end(now, settings.MONITOR_MAX_SECONDS, settings.MONITOR_LEASE_MARGIN_SECONDS)


def _time_applies(claims):
    """Half the orders stay in progress (rescheduled), half complete (final path: history row,
    re-read, signal after commit)."""
    apply_ms = {result.state.value: [] for result in RESULTS}
    i = 0
    for claim in claims:
        for order in claim.orders:
            result = RESULTS[i % len(RESULTS)]
            ms, outcome = _timed(apply_check_result, order, result, timezone.now(), claim.lease_until)
            if outcome == Outcome.SKIPPED:
                raise RuntimeError(f"order {order.pk} was not updated: the timing would be meaningless")
            apply_ms[result.state.value].append(ms)
            i += 1
    return apply_ms


@contextlib.contextmanager
def _db_clock():
    """Time spent in SQL statements (round trip included) and in COMMIT; the rest of a call is
    Python: building queries and model instances."""
    spent = {"statements": 0, "sql": 0.0, "commit": 0.0}

    def timed_execute(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent["sql"] += time.perf_counter() - started
            spent["statements"] += 1

    def timed_commit(commit=connection._commit):
        started = time.perf_counter()
        commit()
        spent["commit"] += time.perf_counter() - started

    # COMMIT does not pass through execute wrappers; an instance attribute shadows the method.
    connection._commit = timed_commit
    try:
        with connection.execute_wrapper(timed_execute):
            yield spent
    finally:
        del connection._commit


def _split(call_ms, spent):
    """Mean per call of: statements, SQL ms, COMMIT ms, and the rest (Python) ms."""
    count = len(call_ms)
    sql_ms, commit_ms = spent["sql"] * 1000 / count, spent["commit"] * 1000 / count
    return {
        "statements": spent["statements"] / count,
        "sql_ms": sql_ms,
        "commit_ms": commit_ms,
        "python_ms": sum(call_ms) / count - sql_ms - commit_ms,
    }


def explain_claim(batch):
    """EXPLAIN (ANALYZE, BUFFERS) of the SELECT that claim_due_orders really sends (captured, so
    the plan follows the product's query), in transactions rolled back: nothing is claimed."""
    captured = []

    def capture(execute, sql, params, many, context):
        if not captured and sql.lstrip().upper().startswith("SELECT"):
            captured.append((sql, params))
        return execute(sql, params, many, context)

    with transaction.atomic(), connection.execute_wrapper(capture):
        claim_due_orders(*_claim_args(batch))
        transaction.set_rollback(True)
    sql, params = captured[0]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


def _timed(function, *args):
    started = time.perf_counter()
    value = function(*args)
    return (time.perf_counter() - started) * 1000, value
