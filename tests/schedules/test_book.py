"""The check schedule of each integration, learned from the table's own completed orders."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from orders.models import ExternalStatus
from providers.models import Integration
from schedules import book as schedule_book
from schedules.book import ScheduleBook
from schedules.learning import learn_schedule
from schedules.offsets import default_schedule
from schedules.rules import CheckRules
from tests.commands import server_connection
from tests.schedules.completions import completed_orders

pytestmark = pytest.mark.django_db

CAP = 600.0
FAST = [20 + number % 10 for number in range(100)]  # 20-29 s after sending
SLOW = [200 + number % 50 for number in range(100)]  # 200-249 s


def test_each_integration_gets_the_schedule_learned_from_its_own_completions(settings):
    settings.MONITOR_CHECK_BUDGET = 3
    fast, slow, few, none = (str(uuid.uuid4()) for _ in range(4))
    completed_orders(fast, FAST)
    completed_orders(slow, SLOW)
    completed_orders(few, FAST[:49])
    book = ScheduleBook(CheckRules.from_settings())

    assert book.schedule_for(fast) == tuple(learn_schedule(FAST, 3, CAP))
    assert book.schedule_for(slow) == tuple(learn_schedule(SLOW, 3, CAP))
    assert book.schedule_for(fast)[0] >= 20 and book.schedule_for(slow)[0] >= 200
    # Fewer than 50 completions, or none: the default schedule.
    assert book.schedule_for(few) == book.schedule_for(none) == tuple(default_schedule(CAP))
    entries = book.entries()
    assert (entries[fast].samples, entries[fast].median_seconds, entries[fast].learned) == (100, 24.5, True)
    assert (entries[few].samples, entries[few].learned) == (49, False)
    assert none not in entries


def test_the_budget_setting_is_what_the_schedules_spend(settings):
    integration = str(uuid.uuid4())
    completed_orders(integration, SLOW)
    settings.MONITOR_CHECK_BUDGET = 1.5
    cheap = ScheduleBook(CheckRules.from_settings()).schedule_for(integration)
    settings.MONITOR_CHECK_BUDGET = 6
    dense = ScheduleBook(CheckRules.from_settings()).schedule_for(integration)
    assert cheap == tuple(learn_schedule(SLOW, 1.5, CAP))
    assert dense == tuple(learn_schedule(SLOW, 6, CAP))
    assert len(dense) > len(cheap)


def test_only_completions_of_the_last_7_days_count_at_most_the_newest_2000(monkeypatch):
    monkeypatch.setattr(schedule_book, "SAMPLE_LIMIT", 60)
    integration = str(uuid.uuid4())
    now = timezone.now()
    completed_orders(integration, [100.0] * 60, completed_at=now)
    completed_orders(integration, [5.0] * 40, completed_at=now - timedelta(hours=1))  # older than the newest 60
    completed_orders(integration, [7.0] * 80, completed_at=now - timedelta(days=7, minutes=1))
    other = str(uuid.uuid4())
    completed_orders(other, [9.0] * 70, completed_at=now - timedelta(days=6, hours=23))

    entries = ScheduleBook(CheckRules.from_settings()).entries()

    assert (entries[integration].samples, entries[integration].median_seconds) == (60, 100.0)
    assert (entries[other].samples, entries[other].median_seconds) == (60, 9.0)


def test_only_completed_orders_sent_to_a_provider_count():
    integration = str(uuid.uuid4())
    completed_orders(integration, FAST[:30])
    completed_orders(integration, FAST[:30], external_status=ExternalStatus.FAILED, status="rejected")
    completed_orders(integration, FAST[:30], sent_at=None)
    completed_orders("", FAST)
    completed_orders(None, FAST)

    entries = ScheduleBook(CheckRules.from_settings()).entries()

    assert list(entries) == [integration]
    assert entries[integration].samples == 30


def test_an_integration_id_written_in_another_form_is_the_same_integration():
    integration = uuid.uuid4()
    completed_orders(str(integration), FAST[:30])
    completed_orders(str(integration).upper(), FAST[30:60])
    book = ScheduleBook(CheckRules.from_settings())
    assert book.entry_for(str(integration)).samples == 60
    assert book.entry_for("{" + str(integration).upper() + "}").samples == 60


@pytest.mark.django_db(transaction=True)  # outside a transaction, as a run reads them: no savepoint
def test_three_queries_read_every_integration_and_are_repeated_at_most_once_a_minute(
    time_machine, django_assert_num_queries
):
    # The completions, the orders sent in the allowance's window, the budgets (budgets.allowance).
    time_machine.move_to(timezone.now(), tick=False)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    completed_orders(first, FAST)
    book = ScheduleBook(CheckRules.from_settings())

    with django_assert_num_queries(3):
        assert book.entry_for(first).learned
        assert not book.entry_for(second).learned
    completed_orders(second, SLOW)

    time_machine.shift(timedelta(seconds=59))
    with django_assert_num_queries(0):
        assert not book.entry_for(second).learned  # not read again within the minute
    time_machine.shift(timedelta(seconds=2))
    with django_assert_num_queries(3):
        assert book.entry_for(second).learned
        assert book.entry_for(first).learned
    assert book.schedule_for(second) == tuple(learn_schedule(SLOW, 3, CAP))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_failing_read_keeps_the_schedules_in_use_and_the_callers_transaction(time_machine, caplog):
    time_machine.move_to(timezone.now(), tick=False)
    integration = str(uuid.uuid4())
    completed_orders(integration, FAST)
    book = ScheduleBook(CheckRules.from_settings())
    learned = book.schedule_for(integration)
    completed_orders(integration, SLOW * 3)  # what the next read would learn from
    time_machine.shift(timedelta(minutes=2))

    other = server_connection(connection.settings_dict["NAME"])
    try:
        other.autocommit = False
        other.cursor().execute("LOCK TABLE product_orders IN ACCESS EXCLUSIVE MODE")
        with transaction.atomic():  # e.g. the host application placing an order in its own transaction
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '100ms'")
            assert book.schedule_for(integration) == learned  # the read failed: the schedule in use stays
            assert Integration.objects.count() == 0  # and the caller's transaction goes on
    finally:
        other.rollback()
        other.close()
    assert "check schedules not refreshed" in caplog.text

    time_machine.shift(timedelta(minutes=1))
    assert book.schedule_for(integration) == tuple(learn_schedule(SLOW * 3 + FAST, 3, CAP))
