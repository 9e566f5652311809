"""write_run_metrics: the last run as a Prometheus text file, replaced atomically."""

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from prometheus_client.parser import text_string_to_metric_families

from health.metrics import write_run_metrics
from health.stuck import StuckLimits
from orders.models import ExternalStatus, MonitorRun, Order
from orders.outcomes import Outcome, RunReport
from providers.models import Integration
from tests.factories import create_sent_order

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def read_metrics(path):
    """{(metric name, outcome label or None): value}"""
    samples = {}
    for family in text_string_to_metric_families(path.read_text()):
        for sample in family.samples:
            samples[(sample.name, sample.labels.get("outcome"))] = sample.value
    return samples


def read_by_integration(path, name):
    """{integration label: value} of one per-integration metric."""
    return {
        sample.labels["integration"]: sample.value
        for family in text_string_to_metric_families(path.read_text())
        for sample in family.samples
        if sample.name == name
    }


# A run of 10 checked orders.
CHECKED = {
    Outcome.COMPLETED: 3,
    Outcome.FAILED: 1,
    Outcome.PROCESSING: 2,
    Outcome.ERROR: 1,
    Outcome.TIMED_OUT: 1,
    Outcome.SKIPPED: 1,
    Outcome.HELD: 1,
}


def report(counts=CHECKED, **values):
    defaults = dict(released=4, update_failures=2)
    defaults.update(values)
    return RunReport(counts=Counter(counts), seconds=12.5, **defaults)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def test_last_run_numbers(db, clock, tmp_path):
    MonitorRun.objects.create(started_at=NOW - timedelta(seconds=13), finished_at=NOW, succeeded=True)
    path = tmp_path / "order_monitor.prom"

    write_run_metrics(path, report(), StuckLimits.from_settings())

    metrics = read_metrics(path)
    assert metrics[("order_monitor_last_run_checked_orders", None)] == 10
    outcomes = {label: value for (name, label), value in metrics.items() if name == "order_monitor_last_run_orders"}
    assert outcomes == {
        "completed": 3,
        "failed": 1,
        "processing": 2,
        "error": 1,
        "timed_out": 1,
        "skipped": 1,
        "held": 1,
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

    write_run_metrics(path, report(interrupted=True), StuckLimits.from_settings())

    metrics = read_metrics(path)
    assert metrics[("order_monitor_last_run_succeeded", None)] == 0
    assert metrics[("order_monitor_last_success_timestamp_seconds", None)] == earlier.timestamp()


def test_no_success_recorded_reports_zero(db, clock, tmp_path):
    path = tmp_path / "order_monitor.prom"

    write_run_metrics(path, report(interrupted=True), StuckLimits.from_settings())

    assert read_metrics(path)[("order_monitor_last_success_timestamp_seconds", None)] == 0


def test_rewrite_replaces_the_file_and_leaves_no_temp_file(db, clock, tmp_path):
    path = tmp_path / "order_monitor.prom"
    write_run_metrics(path, report(), StuckLimits.from_settings())

    write_run_metrics(path, report(counts={}), StuckLimits.from_settings())

    metrics = read_metrics(path)
    assert metrics[("order_monitor_last_run_checked_orders", None)] == 0
    assert metrics[("order_monitor_last_run_orders", "completed")] == 0
    assert [p.name for p in tmp_path.iterdir()] == ["order_monitor.prom"]


def test_unwritable_directory_raises_and_leaves_nothing(db, tmp_path):
    path = tmp_path / "missing" / "order_monitor.prom"

    with pytest.raises(OSError):
        write_run_metrics(path, report(), StuckLimits.from_settings())

    assert list(tmp_path.iterdir()) == []


def test_permanent_errors_per_integration_and_orders_held_for_an_operator(db, clock, tmp_path, settings):
    settings.MONITOR_OVERDUE_MINUTES = 15
    broken = Integration.objects.create(name="znet old password", provider="znet")
    Integration.objects.create(name="znet fine", provider="znet")
    missing = "0b5c3c1e-4a3b-4f7e-9c55-2d8f2a1b7e10"

    def failing_order(integration_id, since):
        Order.objects.create(
            external_status=ExternalStatus.SENT,
            integration_id=integration_id,
            permanent_error_since=NOW - since,
            last_check_error="provider error 1: Bayi kodu veya şifre hatalı",
        )

    failing_order(str(broken.pk), timedelta(minutes=40))
    failing_order(str(broken.pk), timedelta(minutes=5))
    failing_order(missing, timedelta(minutes=20))
    Order.objects.create(
        external_status=ExternalStatus.PROCESSING,
        integration_id=str(broken.pk),
        pin_code_full="P" * 200,
        hold_reason="PIN too long",
    )
    Order.objects.create(  # final orders never count
        external_status=ExternalStatus.FAILED,
        integration_id=str(broken.pk),
        permanent_error_since=NOW - timedelta(hours=2),
    )
    path = tmp_path / "order_monitor.prom"

    write_run_metrics(path, report(), StuckLimits.from_settings())

    assert read_by_integration(path, "order_monitor_permanent_error_orders") == {
        "znet old password": 2,
        "znet fine": 0,
        "": 1,  # no integration has that id
    }
    assert read_by_integration(path, "order_monitor_permanent_error_overdue_orders") == {
        "znet old password": 1,
        "znet fine": 0,
        "": 1,
    }
    since = read_by_integration(path, "order_monitor_permanent_error_since_timestamp_seconds")
    assert since["znet old password"] == (NOW - timedelta(minutes=40)).timestamp()
    assert since["znet fine"] == 0
    assert read_metrics(path)[("order_monitor_held_for_operator_orders", None)] == 1


def test_a_run_against_a_disabled_integration_shows_in_the_metrics_file(db, tmp_path):
    disabled = Integration.objects.create(name="znet off", provider="znet", enabled=False)
    create_sent_order(disabled, "r1")
    path = tmp_path / "order_monitor.prom"

    out = StringIO()
    call_command("check_pending_orders", "--metrics-file", str(path), stdout=out)

    assert "errors=1" in out.getvalue()
    assert read_by_integration(path, "order_monitor_permanent_error_orders") == {"znet off": 1}


def test_stuck_orders_carry_the_counts_monitor_health_reports(db, clock, tmp_path, settings):
    settings.MONITOR_BACKOFF_CAP_SECONDS = 600
    settings.MONITOR_MAX_SECONDS = 240
    settings.MONITOR_LEASE_MARGIN_SECONDS = 120

    def active(sent_ago, next_check_at, **fields):
        create_sent_order(
            "x", "r", sent_ago, external_status=ExternalStatus.SENT, next_check_at=next_check_at, **fields
        )

    active(timedelta(minutes=5), datetime(5195, 1, 1, tzinfo=UTC))  # past its limit and too far ahead
    active(timedelta(hours=24, minutes=30), None)  # never timed out
    active(timedelta(minutes=5), NOW + timedelta(minutes=6))  # leased by a run: not stuck
    active(timedelta(minutes=5), datetime(5195, 1, 1, tzinfo=UTC), hold_reason="operator")  # held: not stuck
    path = tmp_path / "order_monitor.prom"

    write_run_metrics(path, report(), StuckLimits.from_settings())

    samples = {
        (sample.name, sample.labels.get("reason")): sample.value
        for family in text_string_to_metric_families(path.read_text())
        for sample in family.samples
        if sample.name.startswith("order_monitor_stuck_orders")
    }
    assert samples == {
        ("order_monitor_stuck_orders", None): 2,
        ("order_monitor_stuck_orders_by_reason", "past_limit"): 1,
        ("order_monitor_stuck_orders_by_reason", "too_far_ahead"): 1,
        ("order_monitor_stuck_orders_by_reason", "too_old"): 1,
    }
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("monitor_health", "--json", stdout=out)
    assert json.loads(out.getvalue())["stuck_orders"] == {"total": 2, "past_limit": 1, "too_far_ahead": 1, "too_old": 1}
