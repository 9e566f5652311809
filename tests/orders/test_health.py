"""monitor_health: exit 0 when the monitor keeps up, 1 with the problem named when it does not."""

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from orders.models import EventSource, ExternalStatus, MonitorRun, Order, OrderEvent
from orders.transitions import timeout_message
from tests.conftest import run_command

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
    fields.setdefault("integration_id", PROVIDER)
    return Order.objects.create(
        external_status=status,
        provider_referans="ref",
        sent_at=NOW - sent_ago if sent_ago is not None else None,
        next_check_at=NOW + next_check_in if next_check_in is not None else None,
        **fields,
    )


def test_healthy_monitor_exits_0_with_a_readable_summary(db, clock):
    run_finished(ago=timedelta(minutes=3))
    order(next_check_in=timedelta(minutes=2))
    order(status=ExternalStatus.PROCESSING, next_check_in=timedelta(seconds=-30))
    order(status=ExternalStatus.COMPLETED)

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
    for ago, message in [(2, timeout_message()), (30, timeout_message()), (1, "stok yok")]:
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
    assert len(data["problems"]) == 2
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


def test_unreachable_database_is_one_clear_line():
    code, stdout, stderr = run_command("monitor_health", DATABASE_URL="sqlite:////nonexistent-dir/db.sqlite3")

    assert code == 2
    assert stdout == ""
    assert stderr.strip().splitlines() == ["CommandError: database unavailable: unable to open database file"]
