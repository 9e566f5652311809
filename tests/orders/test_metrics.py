"""write_run_metrics: the last run as a Prometheus text file, replaced atomically."""

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from orders.metrics import write_run_metrics
from orders.models import MonitorRun
from orders.monitor import RunReport

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def read_metrics(path):
    """{(metric name, outcome label or None): value}"""
    samples = {}
    for family in text_string_to_metric_families(path.read_text()):
        for sample in family.samples:
            samples[(sample.name, sample.labels.get("outcome"))] = sample.value
    return samples


def report(**values):
    defaults = dict(
        checked=9, completed=3, failed=1, processing=2, errors=1, timed_out=1, skipped=1, released=4, update_failures=2
    )
    defaults.update(values)
    return RunReport(seconds=12.5, **defaults)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def test_last_run_numbers(db, clock, tmp_path):
    MonitorRun.objects.create(started_at=NOW - timedelta(seconds=13), finished_at=NOW, succeeded=True)
    path = tmp_path / "order_monitor.prom"

    write_run_metrics(path, report())

    metrics = read_metrics(path)
    assert metrics[("order_monitor_last_run_checked_orders", None)] == 9
    outcomes = {label: value for (name, label), value in metrics.items() if name == "order_monitor_last_run_orders"}
    assert outcomes == {
        "completed": 3,
        "failed": 1,
        "processing": 2,
        "error": 1,
        "timed_out": 1,
        "skipped": 1,
        "released": 4,
        "update_failure": 2,
    }
    assert metrics[("order_monitor_last_run_duration_seconds", None)] == 12.5
    assert metrics[("order_monitor_last_run_timestamp_seconds", None)] == NOW.timestamp()
    assert metrics[("order_monitor_last_run_succeeded", None)] == 1
    assert metrics[("order_monitor_last_success_timestamp_seconds", None)] == NOW.timestamp()
    assert [p.name for p in tmp_path.iterdir()] == ["order_monitor.prom"]


def test_failed_run_keeps_the_previous_success(db, clock, tmp_path):
    earlier = NOW - timedelta(minutes=10)
    MonitorRun.objects.create(started_at=earlier - timedelta(seconds=5), finished_at=earlier, succeeded=True)
    MonitorRun.objects.create(started_at=NOW - timedelta(seconds=30), finished_at=NOW, succeeded=False)
    path = tmp_path / "order_monitor.prom"

    write_run_metrics(path, report(interrupted=True))

    metrics = read_metrics(path)
    assert metrics[("order_monitor_last_run_succeeded", None)] == 0
    assert metrics[("order_monitor_last_success_timestamp_seconds", None)] == earlier.timestamp()


def test_no_success_recorded_reports_zero(db, clock, tmp_path):
    path = tmp_path / "order_monitor.prom"

    write_run_metrics(path, report(interrupted=True))

    assert read_metrics(path)[("order_monitor_last_success_timestamp_seconds", None)] == 0


def test_rewrite_replaces_the_file_and_leaves_no_temp_file(db, clock, tmp_path):
    path = tmp_path / "order_monitor.prom"
    write_run_metrics(path, report(checked=9))

    write_run_metrics(path, report(checked=0, completed=0))

    metrics = read_metrics(path)
    assert metrics[("order_monitor_last_run_checked_orders", None)] == 0
    assert metrics[("order_monitor_last_run_orders", "completed")] == 0
    assert [p.name for p in tmp_path.iterdir()] == ["order_monitor.prom"]


def test_unwritable_directory_raises_and_leaves_nothing(db, tmp_path):
    path = tmp_path / "missing" / "order_monitor.prom"

    with pytest.raises(OSError):
        write_run_metrics(path, report())

    assert list(tmp_path.iterdir()) == []
