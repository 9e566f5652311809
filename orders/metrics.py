"""The last run as a Prometheus text file, for node_exporter's textfile collector.

All values are gauges describing the most recent run; alert on
`time() - order_monitor_last_success_timestamp_seconds` to catch a monitor that stopped.
"""

import time

from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

from orders.health import last_success_at

# RunReport attribute per outcome label.
OUTCOMES = {
    "completed": "completed",
    "failed": "failed",
    "processing": "processing",
    "error": "errors",
    "timed_out": "timed_out",
    "skipped": "skipped",
    "released": "released",
    "update_failure": "update_failures",  # answered, but the result could not be stored
}


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
    for label, attribute in OUTCOMES.items():
        by_outcome.labels(outcome=label).set(getattr(report, attribute))
    _gauge(registry, "order_monitor_last_run_duration_seconds", "Duration of the last run.").set(report.seconds)
    # Called right after the run, so now is when it finished.
    _gauge(registry, "order_monitor_last_run_timestamp_seconds", "When the last run finished.").set(time.time())
    _gauge(registry, "order_monitor_last_run_succeeded", "1 if the last run succeeded, else 0.").set(_succeeded(report))
    _gauge(
        registry,
        "order_monitor_last_success_timestamp_seconds",
        "When the last successful run finished (any host); 0 if none is recorded.",
    ).set(_timestamp(last_success_at()))
    write_to_textfile(str(path), registry)


def _gauge(registry, name, documentation):
    return Gauge(name, documentation, registry=registry)


def _succeeded(report):
    # The rule orders.monitor uses for MonitorRun.succeeded.
    return 0 if report.interrupted else 1


def _timestamp(moment):
    return moment.timestamp() if moment else 0
