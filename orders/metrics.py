"""The last run as a Prometheus text file, for node_exporter's textfile collector.

All values are gauges describing the most recent run; alert on
`time() - order_monitor_last_success_timestamp_seconds` to catch a monitor that stopped, and on
`order_monitor_permanent_error_overdue_orders > 0` / `order_monitor_held_for_operator_orders > 0`
for orders that runs alone will not finish (the counts monitor_health reports).
"""

import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

from orders.health import failing_integrations, held_for_operator, integration_names, last_success_at
from orders.transitions import Outcome


def write_run_metrics(path, report):
    """Write `report` (orders.monitor.RunReport) to `path`. The file is replaced atomically
    (written beside it, then renamed), so the collector never reads half a file."""
    registry = CollectorRegistry()
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
    _write_stuck_orders(registry)
    write_to_textfile(str(path), registry)


def _write_stuck_orders(registry):
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
    for integration_id, name in integration_names().items():
        for gauge in (failing, overdue, since):
            gauge.labels(integration_id=integration_id, integration=name).set(0)
    cutoff = timezone.now() - timedelta(minutes=settings.MONITOR_OVERDUE_MINUTES)
    for row in failing_integrations(cutoff):
        key = {"integration_id": row.integration_id or "", "integration": row.name or ""}
        failing.labels(**key).set(row.orders)
        overdue.labels(**key).set(row.failing_too_long)
        since.labels(**key).set(_timestamp(row.failing_since))
    _gauge(
        registry,
        "order_monitor_held_for_operator_orders",
        'Active orders holding a PIN too long for "pinCode", waiting for an operator.',
    ).set(held_for_operator().count())


def _gauge(registry, name, documentation):
    return Gauge(name, documentation, registry=registry)


def _timestamp(moment):
    return moment.timestamp() if moment else 0
