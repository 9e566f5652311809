"""release_stuck_orders: the stuck orders monitor_health reports become due now; a lease a running
check may hold, a held order and a final one are left alone."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from health.stuck import StuckLimits, release, stuck_orders
from orders.claiming import claim_due_orders, lease_end
from orders.models import ExternalStatus, Order
from tests.factories import create_sent_order

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
YEAR_5195 = datetime(5195, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock(time_machine, settings):
    # The longest lease 360 s, the longest check gap 660 s, the 24 h limit.
    settings.MONITOR_MAX_AGE_HOURS = 24
    settings.MONITOR_BACKOFF_CAP_SECONDS = 600
    settings.MONITOR_MAX_SECONDS = 240
    settings.MONITOR_LOOP_CYCLE_SECONDS = 30
    settings.MONITOR_LEASE_MARGIN_SECONDS = 120
    time_machine.move_to(NOW, tick=False)


def sent(ago, next_check_at, **fields):
    fields.setdefault("external_status", ExternalStatus.PROCESSING)
    return create_sent_order("9d3c8f3e-2b1a-4c55-8e0f-1a2b3c4d5e6f", "ref", ago, next_check_at=next_check_at, **fields)


def release_command(*args):
    out = io.StringIO()
    call_command("release_stuck_orders", *args, stdout=out)
    return out.getvalue()


def next_checks(*orders):
    return [Order.objects.get(pk=order.pk).next_check_at for order in orders]


def test_stuck_orders_beyond_any_lease_are_made_due_now():
    leased_forever = sent(timedelta(minutes=5), YEAR_5195)
    past_limit = sent(timedelta(hours=23, minutes=58), NOW + timedelta(minutes=15))

    out = release_command()

    assert next_checks(leased_forever, past_limit) == [NOW, NOW]
    assert (
        f"released {past_limit.pk}: next check 2025-03-10T12:15:00+00:00 -> now (next check past its 24 h limit; "
        "age counted from 2025-03-09T12:02:00+00:00)"
    ) in out
    assert (
        f"released {leased_forever.pk}: next check 5195-01-01T00:00:00+00:00 -> now (next check past its 24 h limit, "
        "next check further ahead than any lease; age counted from 2025-03-10T11:55:00+00:00)"
    ) in out
    assert out.splitlines()[-1] == "2 stuck, 2 released"


def test_a_lease_a_running_check_may_hold_is_left_alone():
    # Past its limit and claimed by a run that is checking it now: the run times it out.
    late = sent(timedelta(hours=25), None)
    lease = lease_end(NOW, 240, 120)
    assert [order.pk for order in claim_due_orders(NOW, 10, lease).orders] == [late.pk]
    due = sent(timedelta(hours=25), NOW - timedelta(minutes=1))

    out = release_command()

    assert next_checks(late, due) == [lease, NOW - timedelta(minutes=1)]
    assert out.strip() == (
        "2 stuck, 0 released; 1 may be leased by a running check (next check before 2025-03-10T12:06:00+00:00), "
        "left alone: due again by 2025-03-10T12:06:00+00:00; "
        "1 already due: the next run checks them (is cron running check_pending_orders?)"
    )


def test_held_final_and_scheduled_orders_are_never_touched():
    held = sent(timedelta(minutes=5), YEAR_5195, hold_reason="PIN too long for pinCode")
    final = sent(timedelta(minutes=5), YEAR_5195, external_status=ExternalStatus.COMPLETED)
    scheduled = sent(timedelta(hours=2), NOW + timedelta(minutes=10))

    out = release_command()

    assert next_checks(held, final, scheduled) == [YEAR_5195, YEAR_5195, NOW + timedelta(minutes=10)]
    assert out.strip() == "0 stuck, 0 released"


def test_dry_run_lists_what_would_be_released_and_changes_nothing():
    leased_forever = sent(timedelta(minutes=5), YEAR_5195)

    out = release_command("--dry-run")

    assert next_checks(leased_forever) == [YEAR_5195]
    assert out.splitlines() == [
        f"would release {leased_forever.pk}: next check 5195-01-01T00:00:00+00:00 -> now (next check past its "
        "24 h limit, next check further ahead than any lease; age counted from 2025-03-10T11:55:00+00:00)",
        "dry run: 1 stuck, 1 would be released; nothing changed",
    ]


def test_an_order_a_run_took_since_it_was_read_keeps_the_runs_lease():
    order = sent(timedelta(minutes=5), YEAR_5195)
    (found,) = stuck_orders(NOW, StuckLimits.from_settings())
    # Meanwhile an operator checks it (--order-id, the admin's "check now"): a real lease.
    real_lease = lease_end(NOW, 10, 120)
    Order.objects.filter(pk=order.pk).update(next_check_at=real_lease)

    assert release(found, NOW, StuckLimits.from_settings()) is False
    assert next_checks(order) == [real_lease]


def test_an_order_held_since_it_was_read_stays_held():
    order = sent(timedelta(minutes=5), YEAR_5195)
    (found,) = stuck_orders(NOW, StuckLimits.from_settings())
    Order.objects.filter(pk=order.pk).update(hold_reason="operator")

    assert release(found, NOW, StuckLimits.from_settings()) is False
    assert next_checks(order) == [YEAR_5195]
