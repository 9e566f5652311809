"""check_pending_orders --loop as a separate process: SIGTERM, an order coming due while it sleeps,
a lease per cycle, and a loop overlapping plain runs."""

import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from orders.models import ExternalStatus, MonitorRun, Order
from tests.commands import start_command
from tests.orders.test_overlapping_runs import sent_orders, summary_counts

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, timeout=30, what="the loop"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not get there within {timeout} s")


def completed(order):
    return Order.objects.filter(pk=order.pk, external_status=ExternalStatus.DONE).exists()


def checked_at(sandbox, order):
    """When the sandbox answered each status check of `order` (its request log)."""
    return [datetime.fromtimestamp(entry["at"], UTC) for entry in sandbox.status_checks(order.provider_referans)]


def test_sigterm_stops_the_loop_with_its_summary_and_a_row_that_did_not_succeed(integration, sandbox):
    (first,) = sent_orders(integration, sandbox, 1, checks_until_final=1)
    loop = start_command("check_pending_orders", "--loop", "--max-seconds", "120")
    try:
        wait_for(lambda: completed(first))
        signalled = time.monotonic()
        loop.send_signal(signal.SIGTERM)
        stdout, stderr = loop.communicate(timeout=30)
    finally:
        loop.kill()
    assert time.monotonic() - signalled < 10  # within a few seconds, not at the deadline
    assert loop.returncode == 128 + signal.SIGTERM, stderr
    assert "(interrupted)" in stdout
    assert summary_counts(stdout)["checked"] == 1
    last = MonitorRun.objects.order_by("-started_at").first()
    assert (last.succeeded, last.checked) == (False, 1)


def test_an_order_that_comes_due_while_the_loop_sleeps_is_checked_within_about_a_second(integration, sandbox):
    (first,) = sent_orders(integration, sandbox, 1, checks_until_final=1)
    (later,) = sent_orders(integration, sandbox, 1, checks_until_final=1)
    Order.objects.filter(pk=later.pk).update(next_check_at=timezone.now() + timedelta(days=1))
    loop = start_command("check_pending_orders", "--loop", "--max-seconds", "120")
    try:
        wait_for(lambda: completed(first))  # the loop runs, and has nothing due: it sleeps
        time.sleep(1.5)
        due = timezone.now() + timedelta(seconds=1.5)
        Order.objects.filter(pk=later.pk).update(next_check_at=due)
        (inserted,) = sent_orders(integration, sandbox, 1, checks_until_final=1)  # due at once
        inserted_at = timezone.now()
        wait_for(lambda: completed(later) and completed(inserted))
        loop.send_signal(signal.SIGTERM)
        stdout, stderr = loop.communicate(timeout=30)
    finally:
        loop.kill()
    assert summary_counts(stdout)["checked"] == 3, stderr
    # Checked once each, soon after it came due: the loop sleeps at most about a second.
    ((later_check,), (inserted_check,)) = checked_at(sandbox, later), checked_at(sandbox, inserted)
    assert timedelta(0) <= later_check - due < timedelta(seconds=5)
    assert inserted_check - inserted_at < timedelta(seconds=5)


def test_a_loops_claim_is_leased_for_one_cycle_so_a_dead_loop_frees_its_orders_soon(integration, sandbox):
    (order,) = sent_orders(integration, sandbox, 1, checks_until_final=1)
    sandbox.config.latency = 30  # the check hangs until the loop is killed
    loop = start_command(
        "check_pending_orders",
        "--loop",
        "--max-seconds",
        "600",
        MONITOR_LOOP_CYCLE_SECONDS=5,
        MONITOR_LEASE_MARGIN_SECONDS=3,
        PROVIDER_READ_TIMEOUT_SECONDS=60,
    )
    try:
        wait_for(lambda: Order.objects.get(pk=order.pk).next_check_at is not None)
        claimed_at = timezone.now()
        lease_until = Order.objects.get(pk=order.pk).next_check_at
    finally:
        loop.kill()
        loop.wait(timeout=30)
    # The cycle's 5 s and the 3 s margin, not the loop's 600 s.
    assert lease_until - claimed_at < timedelta(seconds=8)
    order.refresh_from_db()
    assert order.external_status == ExternalStatus.SENT and order.check_attempts == 0


@pytest.mark.postgres
def test_a_loop_and_plain_runs_overlapping_check_each_order_once_per_due_time(integration, sandbox):
    once = sent_orders(integration, sandbox, 150, checks_until_final=1)
    twice = sent_orders(integration, sandbox, 150, checks_until_final=2)
    # The schedule's gaps at most 1 s: an order checked "in progress" is due again a second later.
    fast = {"MONITOR_BACKOFF_CAP_SECONDS": 1}
    loop = start_command("check_pending_orders", "--loop", "--max-seconds", "8", "--limit", "20", **fast)
    runs = [start_command("check_pending_orders", "--limit", "60", **fast) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    time.sleep(1)
    runs.append(start_command("check_pending_orders", "--limit", "60", **fast))
    outputs.append(runs[-1].communicate(timeout=120))
    outputs.append(loop.communicate(timeout=120))
    assert [process.returncode for process in [*runs, loop]] == [0, 0, 0, 0], [err for _, err in outputs]

    checks = Counter(entry["referans"] for entry in sandbox.status_checks())
    assert {checks[order.provider_referans] for order in once} == {1}
    assert {checks[order.provider_referans] for order in twice} == {2}
    assert sum(summary_counts(out)["checked"] for out, _ in outputs) == 450
    assert summary_counts(outputs[-1][0])["checked"] > 0  # the loop took part
    ids = [order.pk for order in [*once, *twice]]
    assert Order.objects.filter(pk__in=ids, external_status=ExternalStatus.DONE).count() == 300
