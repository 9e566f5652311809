"""When a still-processing order is checked next: its integration's check schedule, counted
from "sentAt"; failed checks keep the error backoff; the 24 h rule is unchanged."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from orders.models import ExternalStatus, Order
from orders.outcomes import Outcome
from orders.plans import plan_transition
from providers.base import CheckResult, CheckState
from schedules.book import ScheduleBook
from schedules.offsets import KeptGaps, next_check_offset
from schedules.rules import CheckRules
from tests.schedules.completions import completed_orders

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
IN_PROGRESS = CheckResult(CheckState.IN_PROGRESS)
SCHEDULE = (18.0, 30.0, 91.0, 157.0)


def sent(seconds_ago, **fields):
    values = {"external_status": ExternalStatus.PROCESSING, "sent_at": NOW - timedelta(seconds=seconds_ago)}
    values.update(fields)
    return Order(**values)


@pytest.mark.parametrize(
    ("seconds_ago", "next_offset"),
    [(0, 18), (17.9, 18), (18, 30), (40, 91), (157, 235.5), (200, 235.5)],
)
def test_the_next_check_is_the_next_offset_of_the_schedule_after_now(seconds_ago, next_offset):
    order = sent(seconds_ago)
    transition = plan_transition(order, IN_PROGRESS, NOW, SCHEDULE, rules=CheckRules.from_settings())
    assert transition.outcome == Outcome.PROCESSING
    # After the last offset: x1.5 (157 -> 235.5).
    assert transition.changes["next_check_at"] == order.sent_at + timedelta(seconds=next_offset)


def test_without_a_schedule_the_default_one_is_used():
    transition = plan_transition(sent(30), IN_PROGRESS, NOW, rules=CheckRules.from_settings())
    assert transition.changes["next_check_at"] == NOW + timedelta(seconds=15)  # 45 s after sending


def test_every_gap_stays_within_the_cap(settings):
    settings.MONITOR_BACKOFF_CAP_SECONDS = 20
    order = sent(40)
    assert plan_transition(order, IN_PROGRESS, NOW, SCHEDULE, rules=CheckRules.from_settings()).changes[
        "next_check_at"
    ] == NOW + timedelta(seconds=20)


def test_a_schedule_that_keeps_its_gaps_goes_past_the_cap_and_others_do_not(settings):
    settings.MONITOR_BACKOFF_CAP_SECONDS = 600
    order = sent(1000)
    net = (300.0, 900.0, 1800.0, 3600.0)
    assert plan_transition(order, IN_PROGRESS, NOW, KeptGaps(net), rules=CheckRules.from_settings()).changes[
        "next_check_at"
    ] == NOW + timedelta(seconds=800)
    assert plan_transition(order, IN_PROGRESS, NOW, net, rules=CheckRules.from_settings()).changes[
        "next_check_at"
    ] == NOW + timedelta(seconds=600)


def test_an_order_without_sent_at_counts_from_created_at():
    order = sent(0, sent_at=None, created_at=NOW - timedelta(seconds=20))
    assert plan_transition(order, IN_PROGRESS, NOW, SCHEDULE, rules=CheckRules.from_settings()).changes[
        "next_check_at"
    ] == NOW + timedelta(seconds=10)


def test_a_sent_at_in_the_future_never_pushes_the_check_past_the_cap(settings):
    settings.MONITOR_BACKOFF_CAP_SECONDS = 60
    order = sent(-3600)  # written by a host whose clock is an hour ahead
    assert plan_transition(order, IN_PROGRESS, NOW, SCHEDULE, rules=CheckRules.from_settings()).changes[
        "next_check_at"
    ] == NOW + timedelta(seconds=60)


def test_a_failed_check_keeps_the_error_backoff(settings):
    settings.MONITOR_BACKOFF_JITTER = 0
    order = sent(40, check_attempts=2, consecutive_errors=2)  # the third failed check in a row
    error = CheckResult(CheckState.TRANSPORT_ERROR, message="timed out")
    assert plan_transition(order, error, NOW, SCHEDULE, rules=CheckRules.from_settings()).changes[
        "next_check_at"
    ] == NOW + timedelta(seconds=120)


def test_the_24h_rule_is_unchanged():
    order = sent(24 * 3600)
    assert (
        plan_transition(order, IN_PROGRESS, NOW, SCHEDULE, rules=CheckRules.from_settings()).outcome
        == Outcome.TIMED_OUT
    )


@pytest.mark.django_db
def test_a_run_schedules_the_next_check_from_the_integrations_learned_schedule(make_order, integration):
    # The integration's orders complete 200-249 s after sending: no check is worth making before.
    completed_orders(integration.pk, [200 + number % 50 for number in range(100)])
    learned = ScheduleBook(CheckRules.from_settings()).schedule_for(str(integration.pk))
    order = make_order(checks_until_final=5, sent_ago=timedelta(seconds=30))

    call_command("check_pending_orders", stdout=io.StringIO())

    order.refresh_from_db()
    assert order.external_status == ExternalStatus.PROCESSING
    elapsed = (order.last_sync_at - order.sent_at).total_seconds()
    assert order.next_check_at == order.sent_at + timedelta(seconds=next_check_offset(learned, elapsed, 600))
    assert (order.next_check_at - order.sent_at).total_seconds() >= 200
