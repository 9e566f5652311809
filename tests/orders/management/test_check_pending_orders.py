"""check_pending_orders end to end: the command, the znet sandbox over HTTP, the database."""

import io
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from orders.models import ExternalStatus, Order, OrderEvent, PlatformStatus
from orders.platform_tables import Customer, WalletTransaction
from providers.models import Integration
from tests.commands import run_command

pytestmark = pytest.mark.django_db


def check(*args):
    out = io.StringIO()
    call_command("check_pending_orders", *args, stdout=out)
    return out.getvalue()


def test_completed_order_gets_its_pin_and_is_approved(make_order):
    order = make_order(outcome="completed", pin="PIN-ÇĞ-1234-5678")
    output = check()
    order.refresh_from_db()
    assert order.external_status == ExternalStatus.DONE
    assert order.status == PlatformStatus.APPROVED
    assert order.pin_code == "PIN-ÇĞ-1234-5678"
    assert order.completed_at is not None and order.last_sync_at == order.completed_at
    assert order.provider_message == "İşlem başarılı"
    assert order.next_check_at is None
    assert "checked=1 completed=1 failed=0 processing=0 errors=0 timed_out=0" in output
    assert "PIN-ÇĞ-1234-5678" not in output


def test_completed_without_pin_stores_no_pin(make_order, sandbox):
    order = make_order()
    sandbox.orders[order.provider_referans].pin = None  # account top-up: OK|2|-|
    check()
    order.refresh_from_db()
    assert order.external_status == ExternalStatus.DONE
    assert order.pin_code is None


def test_failed_order_is_rejected_with_the_reason(make_order):
    order = make_order(outcome="failed")
    check()
    order.refresh_from_db()
    assert order.external_status == ExternalStatus.FAILED
    assert order.status == PlatformStatus.REJECTED
    assert order.provider_message == "Stok yetersiz, işlem iptal edildi"
    assert order.next_check_at is None


def test_still_processing_is_rescheduled_at_the_next_check_time_of_its_schedule(make_order):
    order = make_order(checks_until_final=5)  # sent 5 minutes ago; no completions: the default schedule
    before = timezone.now()
    check()
    order.refresh_from_db()
    assert order.external_status == ExternalStatus.PROCESSING
    assert order.status == PlatformStatus.PENDING
    assert order.check_attempts == 1
    assert order.last_sync_at >= before
    # 10, 25, 45, 90, 150, 240, 360 s after sending: 300 s have passed, 360 s is next.
    assert order.next_check_at == order.sent_at + timedelta(seconds=360)


def test_failed_check_keeps_the_status_and_records_the_error(make_order, sandbox):
    order = make_order()
    sandbox.queue_fault("error_line", reference=order.provider_referans)
    output = check()
    order.refresh_from_db()
    assert order.external_status == ExternalStatus.SENT
    assert order.check_attempts == 1
    assert order.last_check_error.startswith("provider error 8:")
    assert order.next_check_at > timezone.now()
    assert "errors=1" in output


def test_checks_follow_the_schedule_from_sent_at_and_a_failed_check_keeps_the_error_backoff(
    make_order, sandbox, settings
):
    settings.MONITOR_BACKOFF_JITTER = 0
    start = timezone.now()
    order = make_order(checks_until_final=100, sent_ago=timedelta(0), sent_at=start)
    sandbox.queue_fault("error_line", reference=order.provider_referans)
    # The first check fails: 30 s of error backoff. Then the default schedule (10, 25, 45, 90,
    # 150, 240, 360 s after sending) from where it stands, then x1.5, at most 600 s apart.
    expected = [30, 45, 90, 150, 240, 360, 540, 810, 1215, 1815, 2415]
    with time_machine.travel(start, tick=False) as traveller:
        for seconds in expected:
            check()
            order.refresh_from_db()
            assert (order.next_check_at - order.sent_at).total_seconds() == seconds
            assert check().startswith("checked=0")  # not due before its time
            traveller.move_to(order.next_check_at)
    assert order.check_attempts == len(expected)


def test_order_older_than_24h_gets_one_last_check_then_times_out_for_an_operator(make_order):
    order = make_order(checks_until_final=10, sent_ago=timedelta(hours=24, minutes=1))
    output = check()
    order.refresh_from_db()
    # As the platform's own checker: no longer followed, still pending, nothing refunded.
    assert order.external_status == ExternalStatus.FAILED
    assert order.status == PlatformStatus.PENDING
    assert order.last_message == "Timeout: No response after 24h"
    assert Customer.objects.get(pk=order.user_id).balance == Decimal("100.00")
    assert not WalletTransaction.objects.filter(order_id=order.pk).exists()
    assert "timed_out=1" in output
    assert OrderEvent.objects.get(order=order).to_status == ExternalStatus.FAILED


def test_pin_arriving_in_the_last_check_is_kept(make_order):
    order = make_order(checks_until_final=1, pin="LAST-CHANCE-PIN-0001", sent_ago=timedelta(hours=30))
    check()
    order.refresh_from_db()
    assert order.external_status == ExternalStatus.DONE
    assert order.pin_code == "LAST-CHANCE-PIN-0001"


def test_timeout_counts_from_created_at_when_sent_at_is_missing(make_order):
    order = make_order(checks_until_final=10, sent_at=None)
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(hours=25))
    check()
    order.refresh_from_db()
    assert order.external_status == ExternalStatus.FAILED


def test_only_due_orders_are_checked_oldest_due_first(make_order, sandbox):
    now = timezone.now()
    later = make_order(next_check_at=now + timedelta(minutes=5))
    older = make_order(next_check_at=now - timedelta(minutes=10))
    newer = make_order(next_check_at=now - timedelta(minutes=1))
    never = make_order(next_check_at=None)
    make_order(external_status=ExternalStatus.DONE)
    make_order(integration_id=None)
    output = check("--limit", "3", "--max-seconds", "30")
    assert "checked=3" in output
    checked = {entry["referans"] for entry in sandbox.status_checks()}
    assert checked == {never.provider_referans, older.provider_referans, newer.provider_referans}
    assert later.provider_referans not in checked


def test_limit_caps_the_batch(make_order):
    for _ in range(5):
        make_order()
    assert "checked=2" in check("--limit", "2")
    assert Order.objects.filter(external_status=ExternalStatus.DONE).count() == 2


def test_dry_run_changes_nothing_and_calls_no_provider(make_order, sandbox):
    order = make_order()
    output = check("--dry-run")
    assert f"would check {order.pk}" in output
    assert "dry run: 1 orders due" in output
    order.refresh_from_db()
    assert order.external_status == ExternalStatus.SENT and order.next_check_at is None
    assert sandbox.status_checks() == []


def one_order_of_each_outcome(make_order, sandbox):
    orders = {
        "completed": make_order(pin="ABCDEFGH-9876"),
        "failed": make_order(outcome="failed"),
        "processing": make_order(checks_until_final=5),
        "error": make_order(),
    }
    sandbox.queue_fault("error_line", times=5, reference=orders["error"].provider_referans)
    return orders


def lines_naming(order, stdout, stderr):
    return [line for line in (stdout + stderr).splitlines() if str(order.pk) in line]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("log_level", ["INFO", "DEBUG"])
def test_verbosity_2_shows_each_order_once(make_order, sandbox, log_level):
    orders = one_order_of_each_outcome(make_order, sandbox)
    code, stdout, stderr = run_command("check_pending_orders", "-v", "2", LOG_LEVEL=log_level)
    assert code == 0, stderr
    assert "checked=4 completed=1 failed=1 processing=1 errors=1" in stdout
    for outcome, order in orders.items():
        (line,) = lines_naming(order, stdout, stderr)
        assert outcome in line or (outcome == "error" and "check failed" in line)
    assert "pin ****9876" in stderr and "ABCDEFGH" not in stdout + stderr


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_default_level_logs_problems_not_healthy_orders(make_order, sandbox):
    orders = one_order_of_each_outcome(make_order, sandbox)
    code, stdout, stderr = run_command("check_pending_orders")
    assert code == 0, stderr
    assert stdout.startswith("checked=4 completed=1 failed=1 processing=1 errors=1")
    assert lines_naming(orders["completed"], stdout, stderr) == []
    assert lines_naming(orders["processing"], stdout, stderr) == []
    assert [line.split()[2] for line in lines_naming(orders["failed"], stdout, stderr)] == ["INFO"]
    assert [line.split()[2] for line in lines_naming(orders["error"], stdout, stderr)] == ["WARNING"]


def test_order_id_checks_that_order_now_whatever_its_next_check(make_order):
    order = make_order(next_check_at=timezone.now() + timedelta(hours=1), pin="MANUAL-PIN-4455")
    output = check("--order-id", str(order.pk))
    order.refresh_from_db()
    assert order.external_status == ExternalStatus.DONE
    assert output.startswith(f"order {order.pk}: completed externalStatus=done")
    assert "pin=****4455" in output and "MANUAL-PIN" not in output
    assert OrderEvent.objects.get(order=order).source == "manual"


@pytest.mark.parametrize(
    "make_id,message",
    [
        (lambda make_order: "not-a-uuid", "--order-id must be a UUID"),
        (lambda make_order: str(uuid.uuid4()), "does not exist"),
        (lambda make_order: str(make_order(external_status=ExternalStatus.DONE).pk), "already final"),
        (lambda make_order: str(make_order(external_status=ExternalStatus.NOT_SENT).pk), "never sent"),
        (lambda make_order: str(make_order(integration_id=None).pk), "never sent"),
    ],
)
def test_order_id_errors_call_no_provider(make_order, sandbox, make_id, message):
    with pytest.raises(CommandError, match=message):
        check("--order-id", make_id(make_order))
    assert sandbox.status_checks() == []


@pytest.mark.parametrize(
    "args,message",
    [
        (["--limit", "0"], "--limit must be a whole number from 1 to 10000, got '0'"),
        (["--limit", "-5"], "--limit must be a whole number from 1 to 10000"),
        (["--limit", "ten"], "--limit must be a whole number"),
        (["--max-seconds", "0"], "--max-seconds must be a number from 1 to 3600, got '0'"),
        (["--max-seconds", "soon"], "--max-seconds must be a number"),
        (["--dry-run", "--order-id", "3f2b8a52-0000-0000-0000-000000000000"], "do not go together"),
    ],
)
def test_bad_options_are_refused(args, message):
    with pytest.raises(CommandError, match=message):
        check(*args)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_errors_are_one_line_on_stderr_with_non_zero_exit():
    code, stdout, stderr = run_command("check_pending_orders", "--order-id", "12345")
    assert code != 0
    assert stderr.strip() == "CommandError: --order-id must be a UUID, got '12345'"
    code, _, stderr = run_command("check_pending_orders", "--limit", "0")
    assert code != 0 and "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_database_unreachable_is_one_line_and_non_zero():
    code, _, stderr = run_command("check_pending_orders", DATABASE_URL="postgres://postgres@127.0.0.1:1/none")
    assert code == 1
    assert stderr.strip().startswith("CommandError: database unavailable:")
    assert "Traceback" not in stderr


@pytest.mark.slow
def test_bad_setting_is_one_line_and_non_zero():
    code, _, stderr = run_command("check_pending_orders", MONITOR_BACKOFF_BASE_SECONDS="fast")
    assert code == 2
    assert stderr.strip() == (
        "Configuration error: MONITOR_BACKOFF_BASE_SECONDS must be a number from 0 to 3600, got 'fast'"
    )


def test_metrics_file_is_written_after_the_run(make_order, tmp_path):
    from prometheus_client.parser import text_string_to_metric_families

    make_order()
    path = tmp_path / "order_monitor.prom"
    check("--metrics-file", str(path))
    samples = {
        (sample.name, sample.labels.get("outcome")): sample.value
        for family in text_string_to_metric_families(path.read_text())
        for sample in family.samples
    }
    assert samples[("order_monitor_last_run_checked_orders", None)] == 1
    assert samples[("order_monitor_last_run_orders", "completed")] == 1


def test_metrics_file_in_a_missing_directory_is_refused_before_the_run(make_order, tmp_path, sandbox):
    make_order()
    with pytest.raises(CommandError, match="--metrics-file must be a file in an existing directory"):
        check("--metrics-file", str(tmp_path / "missing" / "x.prom"))
    assert sandbox.status_checks() == []


def test_an_integration_whose_enabled_is_null_is_enabled(make_order, integration):
    """The platform turns an integration off only with false."""
    Integration.objects.filter(pk=integration.pk).update(enabled=None)
    order = make_order(pin="NULL-IS-ON-0001")
    check()
    order.refresh_from_db()
    assert (order.external_status, order.pin_code) == (ExternalStatus.DONE, "NULL-IS-ON-0001")
