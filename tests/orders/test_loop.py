"""check_pending_orders --loop: cycles until the deadline, totals over all cycles, a row per
minute, a sleep that ends when an order comes due (in-process; separate processes in
tests/orders/test_loop_processes.py)."""

import io
import json
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from orders import loop
from orders.claiming import RunConfig
from orders.loop import add_up, run_loop, seconds_until_due
from orders.models import ExternalStatus, MonitorRun, Order
from orders.monitor import check_due_orders
from orders.outcomes import Outcome, RunReport
from tests.orders.test_claiming import load_orders, plan_nodes

pytestmark = pytest.mark.django_db


def check(*args):
    out = io.StringIO()
    call_command("check_pending_orders", *args, stdout=out)
    return out.getvalue()


def test_add_up_sums_the_counts_and_keeps_the_flags():
    total = RunReport(claimed=3, counts=Counter({Outcome.COMPLETED: 2, Outcome.PROCESSING: 1}), seconds=0.5)
    cycle = RunReport(claimed=2, counts=Counter({Outcome.ERROR: 1}), released=1, deadline_reached=True, seconds=0.25)
    cycle.outcomes["order"] = Outcome.ERROR
    add_up(total, cycle)
    add_up(total, RunReport(interrupted=True))
    counts = total.counts
    assert (total.claimed, total.checked, counts[Outcome.COMPLETED], counts[Outcome.PROCESSING]) == (5, 4, 2, 1)
    assert (counts[Outcome.ERROR], total.released) == (1, 1)
    assert total.seconds == 0.75
    assert total.deadline_reached and total.interrupted
    assert total.outcomes == {}  # a loop keeps no per-order details


def test_seconds_until_due_is_read_from_the_waiting_orders_only(make_order):
    assert seconds_until_due() is None
    make_order(next_check_at=timezone.now() + timedelta(seconds=30))
    make_order(
        next_check_at=timezone.now() - timedelta(seconds=5), pin_code_full="HELD", hold_reason="held"
    )  # held: never due
    make_order(next_check_at=None, external_status=ExternalStatus.DONE)
    make_order(next_check_at=None, integration_id="")
    assert 25 < seconds_until_due() <= 30
    make_order(next_check_at=None)  # never checked: due since the epoch
    assert seconds_until_due() < 0


def test_the_loop_runs_cycles_until_its_deadline_and_prints_the_totals(make_order, settings):
    settings.MONITOR_BACKOFF_CAP_SECONDS = 1  # the schedule's gaps: at most a second
    completing = [make_order(), make_order()]
    twice = make_order(checks_until_final=2)

    output = check("--loop", "--max-seconds", "2.5")

    # The first cycle: three orders, one still processing; the next: that one again.
    assert output.startswith("checked=4 completed=3 failed=0 processing=1 errors=0 timed_out=0 released=0 skipped=0")
    for order in [*completing, twice]:
        order.refresh_from_db()
        assert order.external_status == ExternalStatus.DONE
    (run,) = MonitorRun.objects.all()
    assert (run.succeeded, run.checked, run.completed, run.processing) == (True, 4, 3, 1)
    assert (run.finished_at - run.started_at).total_seconds() >= 2.5


def test_limit_is_per_cycle(make_order, sandbox):
    for _ in range(5):
        make_order()
    output = check("--loop", "--max-seconds", "1.5", "--limit", "2")
    assert output.startswith("checked=5 completed=5")
    assert len(sandbox.status_checks()) == 5


def test_a_row_and_the_progress_callback_at_every_record_interval(make_order, monkeypatch, settings):
    monkeypatch.setattr(loop, "RECORD_SECONDS", 0.5)
    settings.MONITOR_BACKOFF_CAP_SECONDS = 1
    make_order(checks_until_final=3)
    progress = []

    total = run_loop(
        RunConfig.from_settings(max_seconds=2.2), on_progress=lambda report: progress.append(report.checked)
    )

    runs = list(MonitorRun.objects.order_by("started_at"))
    assert len(runs) >= 3 and all(run.succeeded for run in runs)
    assert sum(run.checked for run in runs) == total.checked == 3
    assert len(progress) == len(runs) - 1  # every row but the last, which the caller writes itself
    assert progress == sorted(progress) and progress[-1] <= 3
    for earlier, later in zip(runs, runs[1:], strict=False):
        assert later.started_at >= earlier.finished_at


def test_the_metrics_file_has_the_final_orders_histograms(make_order, tmp_path):
    make_order(sent_ago=timedelta(seconds=20), check_attempts=2)
    make_order(outcome="failed", sent_ago=timedelta(seconds=20))
    make_order(checks_until_final=5)
    path = tmp_path / "order_monitor.prom"

    check("--loop", "--max-seconds", "1", "--metrics-file", str(path))

    samples = {
        (sample.name, sample.labels.get("le")): sample.value
        for family in text_string_to_metric_families(path.read_text())
        for sample in family.samples
    }
    assert samples[("order_monitor_last_run_checked_orders", None)] == 3
    # One completed order, sent 20 s before: in the 30 s bucket, not in the 15 s one.
    assert samples[("order_monitor_sent_to_completed_seconds_count", None)] == 1
    assert samples[("order_monitor_sent_to_completed_seconds_bucket", "15.0")] == 0
    assert samples[("order_monitor_sent_to_completed_seconds_bucket", "30.0")] == 1
    # Two final orders: one at its third check, one at its first.
    assert samples[("order_monitor_checks_per_final_order_count", None)] == 2
    assert samples[("order_monitor_checks_per_final_order_sum", None)] == 4
    assert samples[("order_monitor_checks_per_final_order_bucket", "1.0")] == 1


@pytest.mark.parametrize("other", [["--dry-run"], ["--order-id", str(uuid.uuid4())]])
def test_loop_does_not_go_with_dry_run_or_order_id(other):
    with pytest.raises(CommandError, match="--loop does not go with --dry-run or --order-id"):
        check("--loop", *other)


def test_without_loop_the_command_makes_one_run(make_order, settings):
    settings.MONITOR_BACKOFF_CAP_SECONDS = 1
    order = make_order(checks_until_final=2)
    assert check().startswith("checked=1 completed=0 failed=0 processing=1")
    assert MonitorRun.objects.count() == 1
    assert Order.objects.get(pk=order.pk).external_status == ExternalStatus.PROCESSING


@pytest.mark.postgres
def test_the_sleep_query_reads_one_entry_of_the_due_index():
    load_orders(final=100_000, active=5_000, due=0)
    captured = []

    def capture(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        assert seconds_until_due() > 3000  # the earliest active order is due in an hour
    ((sql, params),) = captured
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    nodes = list(plan_nodes(plan[0]["Plan"]))
    assert not [node for node in nodes if node["Node Type"] == "Seq Scan"], json.dumps(plan, indent=1)
    (scan,) = [node for node in nodes if node.get("Index Name") == "product_orders_monitor_due_idx"]
    # min() of the index's own expression: the scan stops at the first waiting order.
    assert scan["Actual Rows"] == 1, json.dumps(plan, indent=1)


def test_a_loop_cycle_claims_more_while_its_last_checks_are_in_flight(make_order, sandbox, settings):
    settings.MONITOR_WORKERS = 4
    sandbox.config.latency = 0.05
    for _ in range(12):
        make_order()

    cycle = check_due_orders(RunConfig.from_settings(5, 30), claim_more=True)

    # 5, then 5 more while those were asked, then the last 2 (a short claim: the last one).
    assert (cycle.claimed, cycle.checked, cycle.counts[Outcome.COMPLETED], cycle.released) == (12, 12, 12, 0)
    assert len(sandbox.status_checks()) == 12


def test_a_run_claims_once(make_order):
    for _ in range(12):
        make_order()
    run = check_due_orders(RunConfig.from_settings(5, 30))
    assert (run.claimed, run.checked) == (5, 5)


def test_a_plain_run_is_one_cycle_of_the_loop_with_a_cycles_lease(make_order, settings):
    settings.MONITOR_LOOP_CYCLE_SECONDS = 5
    settings.MONITOR_LEASE_MARGIN_SECONDS = 3
    settings.MONITOR_WORKERS = 1
    orders = [make_order() for _ in range(12)]
    leases = []

    def lease_of_the_others(order, outcome, result):
        others = Order.objects.filter(pk__in=[o.pk for o in orders], external_status=ExternalStatus.SENT)
        leased = others.exclude(pk=order.pk).exclude(next_check_at=None)
        leases.extend(leased.values_list("next_check_at", flat=True))

    started = timezone.now()
    report = loop.run_batch(RunConfig.from_settings(10, 240), on_checked=lease_of_the_others)

    # One claim of --limit orders (no second claim, however full), leased for a cycle (5 s plus
    # the 3 s margin), not for the run's 240 s; and its row, as a loop's.
    assert (report.claimed, report.checked) == (10, 10)
    assert leases and max(leases) <= started + timedelta(seconds=5 + 3 + 1)
    assert MonitorRun.objects.count() == 1
