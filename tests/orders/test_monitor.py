"""RunReport: the summary line operators' scripts read, and adding the reports of several runs."""

from collections import Counter

from orders.models import MonitorRun, Order
from orders.outcomes import Outcome, RunReport


def report_of(*outcomes, **values):
    report = RunReport(**values)
    for outcome in outcomes:
        report.count(Order(), outcome)
    return report


def test_the_summary_line_keeps_its_fields_in_their_order():
    outcomes = [Outcome.COMPLETED, Outcome.COMPLETED, Outcome.FAILED, Outcome.PROCESSING, Outcome.ERROR]
    report = report_of(*outcomes, Outcome.TIMED_OUT, Outcome.SKIPPED, released=3, seconds=0.571)

    assert report.summary_line() == (
        "checked=7 completed=2 failed=1 processing=1 errors=1 timed_out=1 released=3 skipped=1 seconds=0.57"
    )


def test_held_and_update_failures_follow_only_when_there_are_some():
    assert report_of(Outcome.COMPLETED).summary_line().endswith(" seconds=0.00")

    report = report_of(Outcome.HELD, update_failures=2, deadline_reached=True)

    assert report.summary_line() == (
        "checked=1 completed=0 failed=0 processing=0 errors=0 timed_out=0 released=0 skipped=0 seconds=0.00"
        " held=1 update_failures=2 (deadline reached)"
    )


def test_every_outcome_is_counted_once_in_the_summary_line():
    report = report_of(*Outcome)

    line = report.summary_line()

    assert line.startswith(f"checked={len(Outcome)} ")
    for outcome in Outcome:
        assert f" {outcome.count_name}=1" in line


def test_an_interrupted_run_did_not_succeed():
    assert report_of().succeeded
    report = report_of(Outcome.COMPLETED, interrupted=True, deadline_reached=True)
    assert not report.succeeded
    assert report.summary_line().endswith(" (interrupted)")


def test_the_counts_order_monitor_runs_records_are_named_as_its_columns():
    columns = {column.name for column in MonitorRun._meta.fields}
    recorded = set(report_of().named_counts()) & columns
    assert recorded == {"checked", "completed", "failed", "processing", "errors", "timed_out", "released"}


def test_reports_of_several_runs_add_up():
    first = report_of(Outcome.COMPLETED, Outcome.PROCESSING, claimed=3, released=1, seconds=1.5)
    first.store_failures["x"] = "store failed: database unavailable"
    second = report_of(Outcome.COMPLETED, Outcome.HELD, claimed=2, update_failures=1, seconds=2.0, interrupted=True)

    total = RunReport()
    total.merge(first)
    total.merge(second)

    assert total.counts == Counter({Outcome.COMPLETED: 2, Outcome.PROCESSING: 1, Outcome.HELD: 1})
    assert (total.claimed, total.checked, total.released, total.update_failures) == (5, 4, 1, 1)
    assert total.seconds == 3.5
    assert total.interrupted and not total.succeeded
    assert total.store_failures == {"x": "store failed: database unavailable"}
    assert total.summary_line() == (
        "checked=4 completed=2 failed=0 processing=1 errors=0 timed_out=0 released=1 skipped=0 seconds=3.50"
        " held=1 update_failures=1 (interrupted)"
    )
    # The reports added are left as they were.
    assert first.checked == 2 and second.checked == 2


def test_a_later_run_s_outcome_of_an_order_is_kept():
    order = Order()
    first, second = RunReport(), RunReport()
    first.count(order, Outcome.PROCESSING)
    second.count(order, Outcome.COMPLETED)

    first.merge(second)

    assert first.outcomes == {order.pk: Outcome.COMPLETED}
    assert first.counts == Counter({Outcome.PROCESSING: 1, Outcome.COMPLETED: 1})
