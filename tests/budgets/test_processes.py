"""Three `check_pending_orders --loop` processes and a plain run on one PostgreSQL, against a znet
sandbox: the integration's budget (5 a second, 2 in flight: znet's default) holds for all of
them together, on the sandbox's own record; a "try later" answer pauses every process."""

import signal
import time

import pytest

from orders.models import ExternalStatus, Order
from sandbox.znet import SandboxConfig, ZnetSandbox
from tests.commands import start_command
from tests.factories import SANDBOX_KOD, SANDBOX_SIFRE
from tests.orders.test_loop_processes import wait_for
from tests.orders.test_overlapping_runs import sent_orders

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BUDGETED = {"MONITOR_REQUEST_BUDGETS": "1", "MONITOR_LOOP_CYCLE_SECONDS": "5", "MONITOR_THROTTLE_PAUSE_SECONDS": "2"}


@pytest.fixture
def sandbox():
    # Each answer takes 150 ms: 2 in flight alone would allow about 13 a second.
    server = ZnetSandbox(SandboxConfig(kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE, seed=99, latency=0.15)).start()
    yield server
    server.stop()


def arrivals(sandbox):
    return sorted(entry["at"] for entry in sandbox.status_checks())


def most_in_one_second(times):
    return max(sum(1 for other in times if start <= other < start + 1.0) for start in times)


def run_processes(count_done):
    loops = [start_command("check_pending_orders", "--loop", "--max-seconds", "120", **BUDGETED) for _ in range(3)]
    plain = start_command("check_pending_orders", "--max-seconds", "60", **BUDGETED)
    try:
        wait_for(count_done, timeout=90, what="the processes")
        for loop in loops:
            loop.send_signal(signal.SIGTERM)
        outputs = [process.communicate(timeout=30) for process in [*loops, plain]]
    finally:
        for process in [*loops, plain]:
            process.kill()
    return outputs


def all_completed(orders):
    ids = [order.pk for order in orders]
    return lambda: Order.objects.filter(pk__in=ids, external_status=ExternalStatus.DONE).count() == len(ids)


@pytest.mark.timeout(180)
def test_every_process_together_keeps_the_integrations_budget(integration, sandbox):
    orders = sent_orders(integration, sandbox, 60, checks_until_final=1)
    began = time.monotonic()
    outputs = run_processes(all_completed(orders))
    took = time.monotonic() - began

    times = arrivals(sandbox)
    assert len(times) >= 60, outputs
    assert most_in_one_second(times) <= 5
    assert sandbox.max_in_flight("pin_kontrol") <= 2
    assert took >= 60 / 5 - 1  # the budget, not the processes, set the pace


@pytest.mark.timeout(180)
def test_a_try_later_answer_pauses_every_process_and_is_not_the_orders_error(integration, sandbox):
    orders = sent_orders(integration, sandbox, 20, checks_until_final=1)
    throttled = orders[0]
    sandbox.queue_fault("error_line", reference=throttled.provider_referans)
    run_processes(all_completed(orders))

    log = sorted(sandbox.status_checks(), key=lambda entry: entry["at"])
    (refusal,) = [entry for entry in log if entry["result"] == "error_line"]
    # Once the answer was out (150 ms) and read, no process asked for 2 s
    # (MONITOR_THROTTLE_PAUSE_SECONDS), though orders were due.
    answered = refusal["at"] + 0.15
    during_pause = [entry["at"] for entry in log if answered + 0.1 < entry["at"] < answered + 1.9]
    assert during_pause == []
    assert any(entry["at"] >= answered + 1.9 for entry in log)
    throttled.refresh_from_db()
    assert throttled.external_status == ExternalStatus.DONE
    assert throttled.check_attempts <= 1 and not throttled.last_check_error
