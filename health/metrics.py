"""The last run as a Prometheus text file, for node_exporter's textfile collector.

The gauges describe the most recent run (a `--loop` rewrites the file at least once a minute
with its totals so far); alert on `time() - order_monitor_last_success_timestamp_seconds` to
catch a monitor that stopped, and on `order_monitor_permanent_error_overdue_orders > 0`,
`order_monitor_held_for_operator_orders > 0`, `order_monitor_timed_out_for_operator_orders > 0`
and `order_monitor_stuck_orders > 0` for orders that runs alone will not finish (the counts
monitor_health reports). Two histograms count the orders the writing command made final
(FinalOrders): seconds from "sentAt" to completion and status checks per final order. They start
from zero with each command, which Prometheus' rate() and increase() read as a counter reset.
"""

import time
from datetime import timedelta

from django.utils import timezone
from prometheus_client import CollectorRegistry, Gauge, Histogram, write_to_textfile

from health.queries import held_for_operator, integration_names, last_success_at
from health.report import failing_integrations
from health.stuck import REASONS, StuckLimits, count_stuck
from orders.models import Order
from orders.outcomes import Outcome

# Seconds from "sentAt" to completion (the reference mix of docs/PERFORMANCE.md: most orders
# within 30 s, a few up to 2 h), and status checks per final order.
COMPLETION_BUCKETS = (5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800, 3600, 7200, 21600, 86400)
CHECKS_BUCKETS = (1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100)


class FinalOrders:
    """Histograms of the orders a command made final. `observe` is the run's `on_checked`."""

    def __init__(self):
        # registry=None: each write_run_metrics puts them in a fresh registry.
        self.sent_to_completed = Histogram(
            "order_monitor_sent_to_completed_seconds",
            'Seconds from "sentAt" to the check that stored the completion, per completed order.',
            buckets=COMPLETION_BUCKETS,
            registry=None,
        )
        self.checks = Histogram(
            "order_monitor_checks_per_final_order",
            "Status checks an order took until it was final (completed, failed or timed out).",
            buckets=CHECKS_BUCKETS,
            registry=None,
        )

    def observe(self, order, outcome, result=None):
        """`order` as claimed (its check_attempts before this check) and the outcome stored."""
        if not isinstance(outcome, Outcome) or not outcome.is_final:
            return
        self.checks.observe(order.check_attempts + 1)
        if outcome == Outcome.COMPLETED and order.sent_at:
            self.sent_to_completed.observe(max((timezone.now() - order.sent_at).total_seconds(), 0.0))


def write_run_metrics(path, report, limits: StuckLimits, final_orders=None):
    """Write `report` (orders.monitor.RunReport) and the `final_orders` histograms to `path`,
    with the stuck and the failing orders as `limits` (health.stuck) tell them.
    The file is replaced atomically (written beside it, then renamed), so the collector never
    reads half a file."""
    registry = CollectorRegistry()
    if final_orders is not None:
        registry.register(final_orders.sent_to_completed)
        registry.register(final_orders.checks)
    _gauge(registry, "order_monitor_last_run_checked_orders", "Orders checked by the last run.").set(report.checked)
    by_outcome = Gauge(
        "order_monitor_last_run_orders",
        "Orders of the last run by outcome.",
        ["outcome"],
        registry=registry,
    )
    for outcome in Outcome:
        by_outcome.labels(outcome=outcome.value).set(report.counts[outcome])
    by_outcome.labels(outcome="released").set(report.released)
    by_outcome.labels(outcome="update_failure").set(report.update_failures)  # answered, but not stored
    _gauge(registry, "order_monitor_last_run_duration_seconds", "Duration of the last run.").set(report.seconds)
    # Called right after the run, so now is when it finished.
    _gauge(registry, "order_monitor_last_run_timestamp_seconds", "When the last run finished.").set(time.time())
    _gauge(registry, "order_monitor_last_run_succeeded", "1 if the last run succeeded, else 0.").set(
        int(report.succeeded)
    )
    _gauge(
        registry,
        "order_monitor_last_success_timestamp_seconds",
        "When the last successful run finished (any host); 0 if none is recorded.",
    ).set(_timestamp(last_success_at()))
    _write_stuck_orders(registry, limits.rules.overdue_minutes)
    _write_operator_orders(registry)
    _write_stuck_counts(registry, limits)
    write_to_textfile(str(path), registry)


def _write_stuck_orders(registry, overdue_minutes: float):
    """Per integration: active orders failing with permanent or configuration errors. Every known
    integration gets a series (0 when none fail), so an alert sees it drop back."""
    labels = ["integration_id", "integration"]
    failing = Gauge(
        "order_monitor_permanent_error_orders",
        "Active orders whose last check failed with a permanent or configuration error.",
        labels,
        registry=registry,
    )
    overdue = Gauge(
        "order_monitor_permanent_error_overdue_orders",
        "Of those, orders failing for longer than MONITOR_OVERDUE_MINUTES (monitor_health is degraded).",
        labels,
        registry=registry,
    )
    since = Gauge(
        "order_monitor_permanent_error_since_timestamp_seconds",
        "When the longest-failing of those orders began failing; 0 if none.",
        labels,
        registry=registry,
    )
    names = integration_names()
    for integration_id, name in names.items():
        for gauge in (failing, overdue, since):
            gauge.labels(integration_id=integration_id, integration=name).set(0)
    cutoff = timezone.now() - timedelta(minutes=overdue_minutes)
    for row in failing_integrations(cutoff, names):
        key = {"integration_id": row.integration_id or "", "integration": row.name or ""}
        failing.labels(**key).set(row.orders)
        overdue.labels(**key).set(row.failing_too_long)
        since.labels(**key).set(_timestamp(row.failing_since))


def _write_operator_orders(registry):
    """Orders waiting for an operator: held, and failed by the 24 h rule."""
    _gauge(
        registry,
        "order_monitor_held_for_operator_orders",
        "Active orders held for an operator (hold_reason: a PIN too long, a final answer without its money).",
    ).set(held_for_operator().count())
    _gauge(
        registry,
        "order_monitor_timed_out_for_operator_orders",
        "Orders failed by the 24 h rule, still pending and not refunded: an operator decides.",
    ).set(Order.objects.timed_out_for_operator().count())


def _write_stuck_counts(registry, limits: StuckLimits):
    """The stuck orders monitor_health counts (health.stuck): in all, and by reason (an order
    may count under several)."""
    counts = count_stuck(timezone.now(), limits)
    _gauge(
        registry,
        "order_monitor_stuck_orders",
        "Active orders no run will check in time (monitor_health is degraded; release_stuck_orders frees them).",
    ).set(counts.total)
    by_reason = Gauge(
        "order_monitor_stuck_orders_by_reason",
        "Stuck orders by reason: past_limit, too_far_ahead, too_old.",
        ["reason"],
        registry=registry,
    )
    for reason in REASONS:
        by_reason.labels(reason=reason).set(getattr(counts, reason))


def _gauge(registry, name, documentation):
    return Gauge(name, documentation, registry=registry)


def _timestamp(moment):
    return moment.timestamp() if moment else 0
