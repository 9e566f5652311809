"""Runs as separate processes: overlapping runs, SIGTERM, kill -9."""

import re
import signal
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import ExternalStatus, Order
from tests.commands import run_command, start_command
from tests.factories import orders_known_to_sandbox

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]  # separate processes


def sent_orders(integration, sandbox, count, **sandbox_options):
    return Order.objects.bulk_create(orders_known_to_sandbox(sandbox, integration, count, **sandbox_options))


def summary_counts(stdout):
    line = stdout.strip().splitlines()[-1]
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)(?!\.)", line)}


@pytest.mark.timeout(300)  # the runs themselves may take up to 180 s
def test_four_simultaneous_runs_check_every_order_exactly_once(integration, sandbox):
    """PostgreSQL: SKIP LOCKED claims. SQLite: the same code path, claims queued on its one writer."""
    orders = sent_orders(integration, sandbox, 1000, checks_until_final=1)
    runs = [
        start_command("check_pending_orders", "--limit", "250", MONITOR_PER_INTEGRATION_CONCURRENCY=16)
        for _ in range(4)
    ]
    outputs = [run.communicate(timeout=180) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0, 0], [err for _, err in outputs]

    checks = Counter(entry["referans"] for entry in sandbox.status_checks())
    assert len(checks) == 1000
    assert set(checks.values()) == {1}, "an order was checked more than once"
    assert [summary_counts(out)["checked"] for out, _ in outputs] == [250, 250, 250, 250]
    rows = Order.objects.filter(pk__in=[o.pk for o in orders])
    assert rows.filter(external_status=ExternalStatus.DONE, status="approved", pin_code__isnull=False).count() == 1000


def wait_until_claimed(count, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Order.objects.filter(next_check_at__gt=timezone.now() + timedelta(seconds=1)).count() >= count:
            return
        time.sleep(0.05)
    raise AssertionError("the run never claimed its orders")


def test_sigterm_stops_quickly_releases_unchecked_orders_and_the_next_run_finishes(integration, sandbox):
    orders = sent_orders(integration, sandbox, 40, checks_until_final=1)
    sandbox.config.latency = 0.5
    run = start_command(
        "check_pending_orders",
        MONITOR_PER_INTEGRATION_CONCURRENCY=2,
        MONITOR_SHUTDOWN_GRACE_SECONDS=1,
    )
    wait_until_claimed(40)
    time.sleep(1.2)
    signalled = time.monotonic()
    run.send_signal(signal.SIGTERM)
    stdout, stderr = run.communicate(timeout=30)
    assert time.monotonic() - signalled < 5
    assert run.returncode == 128 + signal.SIGTERM
    assert "(interrupted)" in stdout
    counts = summary_counts(stdout)
    assert counts["released"] > 0 and counts["checked"] + counts["released"] == 40

    rows = Order.objects.filter(pk__in=[o.pk for o in orders])
    assert rows.filter(external_status=ExternalStatus.DONE).count() == counts["completed"]
    unchecked = rows.filter(external_status=ExternalStatus.SENT)
    assert all(o.next_check_at <= timezone.now() and o.check_attempts == 0 for o in unchecked)

    sandbox.config.latency = 0
    code, stdout, stderr = run_command("check_pending_orders")
    assert code == 0, stderr
    assert rows.filter(external_status=ExternalStatus.DONE).count() == 40


def test_kill_9_leaves_orders_leased_then_due_again_and_finished_by_the_next_run(integration, sandbox):
    orders = sent_orders(integration, sandbox, 30, checks_until_final=1)
    sandbox.config.latency = 0.5
    lease = {"MONITOR_MAX_SECONDS": 2, "MONITOR_LEASE_MARGIN_SECONDS": 2}
    run = start_command("check_pending_orders", MONITOR_PER_INTEGRATION_CONCURRENCY=2, **lease)
    wait_until_claimed(30)
    time.sleep(0.8)
    run.kill()
    run.wait(timeout=10)
    killed_at = timezone.now()

    rows = Order.objects.filter(pk__in=[o.pk for o in orders])
    # Every row is either fully updated or untouched and leased: nothing half-written.
    for order in rows:
        if order.external_status == ExternalStatus.DONE:
            assert order.pin_code and order.completed_at and order.status == "approved" and order.next_check_at is None
        else:
            assert order.external_status == ExternalStatus.SENT and order.pin_code is None
            assert order.next_check_at > killed_at
    leased = rows.filter(external_status=ExternalStatus.SENT).count()
    assert leased > 0

    sandbox.config.latency = 0
    code, stdout, _ = run_command("check_pending_orders")
    assert summary_counts(stdout)["checked"] == 0  # still leased: not taken by the next run

    time.sleep(
        max(
            0.0,
            (rows.filter(external_status=ExternalStatus.SENT).first().next_check_at - timezone.now()).total_seconds(),
        )
        + 0.2
    )
    code, stdout, stderr = run_command("check_pending_orders")
    assert code == 0, stderr
    assert summary_counts(stdout)["checked"] == leased
    assert rows.filter(external_status=ExternalStatus.DONE).count() == 30
