"""monitor_health: exit 0 when the monitor keeps up, 1 with the problem named when it does not."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from health.stuck import StuckLimits
from orders.models import EventSource, ExternalStatus, MonitorRun, Order, OrderEvent
from orders.plans import TIMEOUT_NOTE, plan_transition
from providers.base import CheckResult, CheckState
from providers.models import Integration
from schedules.learning import learn_schedule
from schedules.offsets import next_check_offset
from schedules.rules import CheckRules
from tests.commands import run_command
from tests.factories import SANDBOX_KOD, SANDBOX_SIFRE, create_sent_order
from tests.schedules.completions import completed_orders

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
PROVIDER = "3f0c1d52-8a7e-4d7b-9f61-0c2b5a7e9d11"


@pytest.fixture
def clock(time_machine, settings):
    settings.MONITOR_OVERDUE_MINUTES = 15
    time_machine.move_to(NOW, tick=False)
    return time_machine


def health(*args):
    """(exit status, stdout) of monitor_health."""
    out = StringIO()
    try:
        call_command("monitor_health", *args, stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def run_finished(ago, succeeded=True):
    return MonitorRun.objects.create(
        started_at=NOW - ago - timedelta(seconds=30), finished_at=NOW - ago, succeeded=succeeded
    )


def order(status=ExternalStatus.SENT, next_check_in=None, sent_ago=timedelta(minutes=2), **fields):
    """An order of PROVIDER; next check `next_check_in` from NOW (None: never checked)."""
    next_check_at = NOW + next_check_in if next_check_in is not None else None
    return create_sent_order(PROVIDER, "ref", sent_ago, external_status=status, next_check_at=next_check_at, **fields)


def test_healthy_monitor_exits_0_with_a_readable_summary(db, clock):
    run_finished(ago=timedelta(minutes=3))
    order(next_check_in=timedelta(minutes=2))
    order(status=ExternalStatus.PROCESSING, next_check_in=timedelta(seconds=-30))
    order(status=ExternalStatus.DONE)

    status, out = health()

    assert status == 0
    assert "order monitor: healthy" in out
    assert "active orders: 2 (processing 1, sent 1)" in out
    assert "due now: 1" in out
    assert "overdue by more than 15 minutes: 0" in out
    assert "last successful run: 2025-03-10T11:57:00+00:00 (3 min 0 s ago)" in out
    assert "problem" not in out


def test_overdue_backlog_is_degraded_and_named(db, clock):
    run_finished(ago=timedelta(minutes=1))
    order(next_check_in=timedelta(minutes=-20))  # overdue
    order(next_check_in=None, sent_ago=timedelta(minutes=30))  # never checked, sent long ago
    order(next_check_in=None, sent_ago=None, created_at=NOW - timedelta(hours=1))  # no sentAt
    order(next_check_in=None, sent_ago=timedelta(minutes=5))  # due, not yet overdue
    order(next_check_in=timedelta(minutes=4))  # claimed by a running check
    order(status=ExternalStatus.FAILED, next_check_in=timedelta(hours=-5))  # final

    status, out = health()

    assert status == 1
    assert "order monitor: DEGRADED" in out
    assert "problem: overdue backlog: 3 active orders overdue by more than 15 minutes" in out
    assert "oldest active order:" in out and "1 h 0 min old" in out


def test_no_successful_run_in_15_minutes_is_degraded(db, clock):
    run_finished(ago=timedelta(minutes=1))

    assert health()[0] == 0

    clock.shift(timedelta(minutes=16))
    status, out = health()

    assert status == 1
    assert "no successful check_pending_orders run in the last 15 minutes" in out


def test_a_failed_run_does_not_count_as_a_success(db, clock):
    run_finished(ago=timedelta(minutes=40))
    run_finished(ago=timedelta(minutes=1), succeeded=False)

    status, out = health()

    assert status == 1
    assert "no successful check_pending_orders run in the last 15 minutes" in out
    assert "did not succeed" in out


def test_never_run_is_degraded(db, clock):
    status, out = health()

    assert status == 1
    assert "no successful check_pending_orders run recorded" in out
    assert "last successful run: never" in out


def test_json_carries_the_numbers(db, clock):
    run_finished(ago=timedelta(minutes=20))
    oldest = order(next_check_in=timedelta(minutes=-30), sent_ago=timedelta(hours=3))
    order(status=ExternalStatus.PROCESSING, next_check_in=timedelta(minutes=5))
    order(status=ExternalStatus.PENDING, integration_id=None, sent_ago=None)
    timed_out = order(status=ExternalStatus.FAILED)
    for ago, message in [(2, TIMEOUT_NOTE), (30, TIMEOUT_NOTE), (1, "stok yok")]:
        OrderEvent.objects.create(
            order=timed_out,
            from_status="processing",
            to_status="failed",
            created_at=NOW - timedelta(hours=ago),
            source=EventSource.RUN,
            message=message,
        )

    status, out = health("--json")

    assert status == 1
    data = json.loads(out)
    assert data["healthy"] is False
    # overdue, last run too long ago, and the order the 24 h rule stopped (still pending, not refunded)
    assert len(data["problems"]) == 3
    assert data["timed_out_waiting"] == 1
    assert data["timed_out_for_operator"][0]["order_id"] == str(timed_out.pk)
    assert data["checked_at"] == "2025-03-10T12:00:00+00:00"
    assert data["active_total"] == 3
    assert data["active_by_status"] == {"pending": 1, "processing": 1, "sent": 1}
    assert data["active_by_provider"] == [
        {"provider_id": PROVIDER, "name": None, "active": 2},
        {"provider_id": None, "name": None, "active": 1},
    ]
    assert data["due_now"] == 1
    assert data["overdue"] == 1
    assert data["oldest_active_order_id"] == str(oldest.pk)
    assert data["oldest_active_age_seconds"] == 3 * 3600
    assert data["timed_out_last_24h"] == 1
    assert data["last_success_at"] == "2025-03-10T11:40:00+00:00"
    assert data["seconds_since_last_success"] == 20 * 60
    assert data["last_run_succeeded"] is True


def test_provider_names_come_from_integrations(db, clock, integration):
    run_finished(ago=timedelta(minutes=1))
    order(integration_id=str(integration.pk), next_check_in=timedelta(minutes=1))

    status, out = health()

    assert status == 0
    assert f"  znet sandbox ({integration.pk}): 1" in out


def test_an_integration_id_in_upper_case_is_still_named(db, clock, integration):
    run_finished(ago=timedelta(minutes=1))
    order(integration_id=str(integration.pk).upper(), next_check_in=timedelta(minutes=1))

    assert f"  znet sandbox ({str(integration.pk).upper()}): 1" in health()[1]


@pytest.mark.slow
def test_unreachable_database_is_one_clear_line():
    code, stdout, stderr = run_command("monitor_health", DATABASE_URL="sqlite:////nonexistent-dir/db.sqlite3")

    assert code == 2
    assert stdout == ""
    assert stderr.strip().splitlines() == ["CommandError: database unavailable: unable to open database file"]


def check_pending_orders():
    out = StringIO()
    call_command("check_pending_orders", "--max-seconds", "30", stdout=out)
    return out.getvalue()


@pytest.fixture
def broken_setups(db, clock, sandbox, integration, make_order):
    """One order each whose checks fail permanently: an integration with an unknown provider, a
    disabled one, one with a wrong password (znet answers "1|... şifre hatalı" over HTTP), and
    an integration id no integration has."""
    unknown_provider = Integration.objects.create(name="acme", provider="acme", base_url=sandbox.base_url)
    disabled = Integration.objects.create(
        name="znet off", provider="znet", base_url=sandbox.base_url, kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE, enabled=False
    )
    wrong_password = Integration.objects.create(
        name="znet old password", provider="znet", base_url=sandbox.base_url, kod=SANDBOX_KOD, sifre="old-sifre"
    )
    missing_id = str(uuid.uuid4())
    setups = {"unknown": unknown_provider, "disabled": disabled, "password": wrong_password, "missing": missing_id}
    # Two checks until final: the first good answer after a fix is "still processing".
    orders = {
        name: make_order(checks_until_final=2, integration_id=str(getattr(i, "pk", i))) for name, i in setups.items()
    }
    healthy = make_order(checks_until_final=10)
    return setups, orders, healthy


def test_permanent_errors_are_reported_per_integration_and_degrade_health_after_the_overdue_time(broken_setups, clock):
    setups, orders, healthy = broken_setups

    assert "errors=4" in check_pending_orders()

    status, out = health()
    assert status == 0, out  # failing, but not yet for longer than MONITOR_OVERDUE_MINUTES
    assert "failing with permanent errors: 4" in out
    assert f"  znet old password ({setups['password'].pk}): 1 since 2025-03-10T12:00:00+00:00" in out
    assert "e.g. provider error 1: Bayi kodu veya şifre hatalı" in out
    assert f"  {setups['missing']} (no such integration): 1 since" in out

    # Checked again after the maximum backoff, still failing: the first failure time is kept.
    clock.shift(timedelta(minutes=16))
    assert "errors=4" in check_pending_orders()
    status, out = health()

    assert status == 1
    problems = [line for line in out.splitlines() if "failing with a permanent error" in line]
    assert len(problems) == 4
    for label in (
        f"acme ({setups['unknown'].pk})",
        f"znet off ({setups['disabled'].pk})",
        f"znet old password ({setups['password'].pk})",
        f"{setups['missing']} (no such integration)",
    ):
        assert any(
            line.startswith(
                f"  problem: {label}: 1 active order failing with a permanent error for more than 15 minutes"
            )
            for line in problems
        ), (label, out)
    assert any("has unknown provider 'acme'" in line and "fail 24 h after sending" in line for line in problems)
    assert "problem: overdue" not in out  # runs go on: only the permanent errors degrade it
    data = json.loads(health("--json")[1])
    failing = {row["name"]: row for row in data["permanent_errors"]}
    assert failing["znet old password"] == {
        "integration_id": str(setups["password"].pk),
        "name": "znet old password",
        "orders": 1,
        "failing_since": "2025-03-10T12:00:00+00:00",
        "failing_seconds": 16 * 60,
        "failing_too_long": 1,
        "sample_error": "provider error 1: Bayi kodu veya şifre hatalı",
    }
    assert failing[None]["integration_id"] == setups["missing"]
    assert "disabled" in failing["znet off"]["sample_error"]


def test_a_later_successful_check_clears_the_permanent_error(broken_setups, clock, sandbox):
    setups, orders, healthy = broken_setups
    check_pending_orders()
    clock.shift(timedelta(minutes=16))
    check_pending_orders()
    assert health()[0] == 1

    Integration.objects.filter(pk=setups["unknown"].pk).update(provider="znet", kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE)
    Integration.objects.filter(pk=setups["disabled"].pk).update(enabled=True)
    Integration.objects.filter(pk=setups["password"].pk).update(sifre=SANDBOX_SIFRE)
    Integration.objects.create(
        id=setups["missing"],
        name="znet new",
        provider="znet",
        base_url=sandbox.base_url,
        kod=SANDBOX_KOD,
        sifre=SANDBOX_SIFRE,
    )
    clock.shift(timedelta(minutes=11))
    assert "processing=5" in check_pending_orders()

    status, out = health()
    assert status == 0, out
    assert "failing with permanent errors: 0" in out
    assert not Order.objects.filter(permanent_error_since__isnull=False).exists()


def test_orders_held_for_an_operator_degrade_health(db, clock):
    run_finished(ago=timedelta(minutes=1))
    held = order(next_check_in=timedelta(minutes=5), pin_code_full="P" * 200, hold_reason="PIN too long")
    order(status=ExternalStatus.DONE, pin_code_full="Q" * 200, hold_reason="PIN too long")  # resolved: final

    status, out = health()

    assert status == 1
    assert (
        "  problem: 1 active order held for an operator, e.g. PIN too long "
        '(docs/OPERATIONS.md, "Orders held for an operator")'
    ) in out
    assert "held for an operator: 1" in out
    assert f"  {held.pk} ({held.integration_id}): PIN too long" in out
    data = json.loads(health("--json")[1])
    assert data["held_for_operator"] == 1
    assert data["held_orders"] == [
        {"order_id": str(held.pk), "integration_id": held.integration_id, "reason": "PIN too long"}
    ]


def test_each_integrations_median_completion_and_first_check_are_shown(db, clock):
    run_finished(ago=timedelta(minutes=1))
    fast = Integration.objects.create(name="znet fast", provider="znet", base_url="http://127.0.0.1:9")
    idle = Integration.objects.create(name="apstore idle", provider="apstore", base_url="http://127.0.0.1:9")
    completed_orders(fast.pk, [20 + number % 10 for number in range(100)], completed_at=NOW)
    completed_orders(PROVIDER, [300] * 10, completed_at=NOW)  # no such integration, too few to learn from
    learned_first = next_check_offset(learn_schedule([20 + n % 10 for n in range(100)], 3, 600), 0, 600)

    status, out = health()
    assert status == 0
    assert "check schedules (completed orders of the last 7 days):" in out
    assert (
        f"  znet fast ({fast.pk}): median completion 24.5 s (100 orders), first check {learned_first:g} s after sending"
        in out
    )
    assert f"  apstore idle ({idle.pk}): no completed orders, first check 10 s after sending (default)" in out
    assert (
        f"  {PROVIDER} (no such integration): median completion 5 min 0 s (10 orders, too few to learn from), "
        "first check 10 s after sending (default)" in out
    )

    rows = {row["integration_id"]: row for row in json.loads(health("--json")[1])["check_schedules"]}
    assert rows[str(fast.pk)]["name"] == "znet fast"
    assert rows[str(fast.pk)]["learned"] is True
    assert rows[str(fast.pk)]["samples"] == 100
    assert rows[str(fast.pk)]["median_completion_seconds"] == 24.5
    assert rows[str(fast.pk)]["first_check_seconds"] == learned_first
    assert rows[str(idle.pk)] | {"check_offsets_seconds": None} == {
        "integration_id": str(idle.pk),
        "name": "apstore idle",
        "learned": False,
        "samples": 0,
        "median_completion_seconds": None,
        "first_check_seconds": 10.0,
        "check_offsets_seconds": None,
        "budget_bound": None,
    }
    assert rows[PROVIDER]["name"] is None and rows[PROVIDER]["samples"] == 10


# --- Stuck orders ------------------------------------------------------------------------------
# With the settings below: the 24 h limit, the longest check gap 660 s (600 s + 10 % jitter), the
# longest lease 360 s (240 s run + 120 s margin): "too far ahead" is more than 17 min from now.

YEAR_5195 = datetime(5195, 1, 1, tzinfo=UTC)


@pytest.fixture
def stuck_settings(settings):
    settings.MONITOR_MAX_AGE_HOURS = 24
    settings.MONITOR_BACKOFF_CAP_SECONDS = 600
    settings.MONITOR_BACKOFF_JITTER = 0.10
    settings.MONITOR_MAX_SECONDS = 240
    settings.MONITOR_LOOP_CYCLE_SECONDS = 30
    settings.MONITOR_LEASE_MARGIN_SECONDS = 120
    return settings


def sent(ago, next_check, **fields):
    """An active order sent `ago` before NOW, next check at `next_check` (a time, or an offset from NOW)."""
    next_check_at = NOW + next_check if isinstance(next_check, timedelta) else next_check
    fields.setdefault("external_status", ExternalStatus.PROCESSING)
    return create_sent_order(PROVIDER, "ref", ago, next_check_at=next_check_at, **fields)


def not_stuck_orders():
    """Orders whose next check a run or a schedule wrote, near each bound but inside it."""
    sent(timedelta(minutes=2), timedelta(minutes=6))  # leased by a plain run
    sent(timedelta(hours=23, minutes=55), timedelta(minutes=10))  # last scheduled check, within the cap
    sent(timedelta(hours=23, minutes=59), timedelta(minutes=11) - timedelta(seconds=1))  # backoff + jitter
    sent(timedelta(hours=24, minutes=10), timedelta(seconds=30))  # past its limit, being checked: not yet late
    sent(timedelta(minutes=5), timedelta(minutes=16))  # within lease + gap
    sent(timedelta(minutes=5), YEAR_5195, hold_reason="waits for an operator")  # held: the operator's
    sent(timedelta(minutes=5), YEAR_5195, external_status=ExternalStatus.COMPLETED)  # final


def stuck_orders():
    """One order for each way of being stuck, and one for two; returns them by reason."""
    return {
        "leased until 5195": sent(timedelta(minutes=5), YEAR_5195),  # too far ahead and past its limit
        "past_limit": sent(timedelta(hours=23, minutes=58), timedelta(minutes=15)),  # limit + 13 min
        "too_far_ahead": sent(timedelta(minutes=5), timedelta(minutes=18)),
        # Due, never timed out (its next check is past its limit too).
        "too_old": sent(timedelta(hours=24, minutes=20), timedelta(minutes=-1)),
    }


def test_orders_inside_every_bound_are_not_stuck(db, clock, stuck_settings):
    run_finished(ago=timedelta(minutes=1))
    not_stuck_orders()

    status, out = health()

    # Only the order held for an operator degrades health (it is reported as held, not stuck).
    assert status == 1 and [line for line in out.splitlines() if "problem:" in line] == [
        "  problem: 1 active order held for an operator, e.g. waits for an operator "
        '(docs/OPERATIONS.md, "Orders held for an operator")'
    ], out
    assert "stuck: 0\n" in out
    assert json.loads(health("--json")[1])["stuck_orders"] == {
        "total": 0,
        "past_limit": 0,
        "too_far_ahead": 0,
        "too_old": 0,
    }


def test_stuck_orders_degrade_health_by_reason(db, clock, stuck_settings):
    run_finished(ago=timedelta(minutes=1))
    not_stuck_orders()
    stuck_orders()

    status, out = health()

    assert status == 1
    reasons = (
        "next check past the 24 h limit plus the longest check gap: 3, "
        "next check further ahead than any lease or check gap: 2, "
        "older than the 24 h limit plus 15 minutes: 1"
    )
    assert f"  problem: 4 active orders stuck ({reasons}): no run will check them in time; " in out
    assert 'release_stuck_orders makes them due now (docs/OPERATIONS.md, "Stuck orders")' in out
    assert f"stuck: 4 ({reasons})" in out
    data = json.loads(health("--json")[1])
    assert data["stuck_orders"] == {"total": 4, "past_limit": 3, "too_far_ahead": 2, "too_old": 1}
    assert len(data["problems"]) == 2  # the stuck orders, and the one held for an operator


@pytest.mark.parametrize("reason", ["leased until 5195", "past_limit", "too_far_ahead", "too_old"])
def test_each_way_of_being_stuck_alone_degrades_health(db, clock, stuck_settings, reason):
    run_finished(ago=timedelta(minutes=1))
    kept = stuck_orders()[reason]
    Order.objects.exclude(pk=kept.pk).delete()

    status, out = health()

    assert status == 1
    assert "1 active order stuck" in out


def test_the_bounds_follow_the_settings(db, clock, stuck_settings):
    run_finished(ago=timedelta(minutes=1))
    sent(timedelta(hours=1, minutes=55), timedelta(minutes=20))  # past a 2 h limit + 11 min; lease + gap: 23 min
    stuck_settings.MONITOR_MAX_AGE_HOURS = 2
    stuck_settings.MONITOR_MAX_SECONDS = 600

    assert json.loads(health("--json")[1])["stuck_orders"] == {
        "total": 1,
        "past_limit": 1,
        "too_far_ahead": 0,
        "too_old": 0,
    }


def test_status_words_the_monitor_does_not_know_are_listed_per_integration(db, clock, sandbox):
    """An order answered with an unknown word is followed as still processing (never failed for
    it); monitor_health names the word and the integration so an operator can look."""
    run_finished(ago=timedelta(minutes=1))
    integration = Integration.objects.create(name="barakat", provider="barakat", base_url=sandbox.base_url)
    waiting = create_sent_order(integration, "ref-1", timedelta(minutes=2), next_check_at=NOW + timedelta(minutes=1))
    plan = plan_transition(
        waiting, CheckResult(CheckState.IN_PROGRESS, unknown_status="on_hold"), NOW, rules=CheckRules.from_settings()
    )
    Order.objects.filter(pk=waiting.pk).update(**plan.changes)

    status, out = health()

    assert status == 0  # worth a look, not a problem by itself
    assert "status words the monitor does not know (followed as in progress):" in out
    assert f'  barakat ({integration.pk}): "on_hold" (1 active order)' in out
    words = json.loads(health("--json")[1])["unknown_status_words"]
    assert words == [{"integration_id": str(integration.pk), "name": "barakat", "word": "on_hold", "orders": 1}]


def test_failing_integrations_are_read_in_one_query_with_each_ones_first_error(db, clock, django_assert_num_queries):
    """The metrics file reads this every minute: its cost must not grow with the integrations."""
    from health.report import failing_integrations

    for n in range(5):
        integration = str(uuid.uuid4())
        for age in (3, 1):
            create_sent_order(
                integration,
                f"ref-{n}-{age}",
                permanent_error_since=NOW - timedelta(hours=age),
                last_check_error=f"integration {n}: error since {age} h",
            )
    create_sent_order(
        "x",
        "no-id",
        integration_id=None,
        permanent_error_since=NOW - timedelta(hours=2),
        last_check_error="no provider",
    )
    with django_assert_num_queries(2):  # the failing orders by integration, and the integrations' names
        rows = failing_integrations(cutoff=NOW - timedelta(minutes=15))
    samples = sorted(row.sample_error for row in rows)
    assert samples == sorted([f"integration {n}: error since 3 h" for n in range(5)] + ["no provider"])
    assert all(row.orders == (1 if row.integration_id is None else 2) for row in rows)


def test_one_report_reads_the_integrations_names_once(db, clock, integration):
    """The names label four of the report's lists; they are read once for all of them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from health.report import build_report

    create_sent_order(str(integration.pk), "named", permanent_error_since=NOW - timedelta(hours=1))
    table = Integration._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        report = build_report(StuckLimits.from_settings())
    names_reads = [q["sql"] for q in queries if f'FROM "{table}"' in q["sql"] and '"provider"' not in q["sql"]]
    assert len(names_reads) == 1
    assert report.active_by_provider[0]["name"] == report.failing_integrations[0].name == integration.name
