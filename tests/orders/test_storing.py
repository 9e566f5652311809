"""orders.storing: a lost database connection costs no answer and strands no order; any other
storing error is recorded on its order and not repeated at every run.

The PostgreSQL tests cut the run's real connection: pg_terminate_backend (what a server restart
or failover does to it) and ALLOW_CONNECTIONS false on the test database (a server that stays
away for a while).
"""

import contextlib
import io
import logging
import re
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from orders.claiming import RunConfig
from orders.connection_loss import Reconnect
from orders.loop import run_batch
from orders.models import ExternalStatus, Order
from orders.outcomes import Outcome
from orders.queries import integrations_of
from orders.signals import order_finalized
from providers.base import CheckState
from providers.fanout import FanOut
from providers.http import HttpLimits
from providers.registry import CycleClients
from tests.commands import database_url, server_connection, start_command
from tests.factories import customer_fields

FINAL = (ExternalStatus.DONE, ExternalStatus.FAILED)


# -- cutting the run's connection ----------------------------------------------------------------


def terminate_connections(application_name=None):
    """Terminate the connections to the test database (or those of one application) and wait
    until they are gone. Returns how many there were."""
    name = connection.settings_dict["NAME"]
    query = "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
    params = [name]
    if application_name:
        query += " AND application_name = %s"
        params.append(application_name)
    with contextlib.closing(server_connection()) as server, server.cursor() as cursor:
        cursor.execute(f"SELECT pg_terminate_backend(pid) FROM ({query}) AS backends", params)
        terminated = sum(1 for (done,) in cursor.fetchall() if done)
        for _ in range(500):
            cursor.execute(f"SELECT count(*) FROM ({query}) AS backends", params)
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.01)
    return terminated


def refuse_connections(refuse):
    name = connection.settings_dict["NAME"]
    with contextlib.closing(server_connection()) as server, server.cursor() as cursor:
        cursor.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {"false" if refuse else "true"}')


@pytest.fixture
def database_outage():
    """start(): refuse new connections to the test database and cut the open ones; end():
    accept them again (also at teardown, whatever happened)."""

    class Outage:
        def start(self):
            refuse_connections(True)
            terminate_connections()

        def end(self):
            refuse_connections(False)

    outage = Outage()
    yield outage
    outage.end()


class AfterStored:
    """run_batch's `on_checked`: calls `action()` right after the answers counted in `counts`
    are stored (10: after the tenth); `stored` lists the ids of the orders stored so far."""

    def __init__(self, counts, action):
        self.counts, self.action = counts, action
        self.stored = []

    def __call__(self, order, outcome, result):
        self.stored.append(order.pk)
        if len(self.stored) in self.counts:
            self.action()


def many_orders(make_order, count=100):
    """`count` orders: most complete at this check (with a PIN), some fail, some stay processing."""
    orders = []
    for n in range(count):
        outcome = "failed" if n % 10 == 3 else "completed"
        orders.append(make_order(outcome=outcome, checks_until_final=2 if n % 10 == 7 else 1))
    return orders


def assert_every_answer_stored(orders, sandbox, report):
    """Every PIN the provider gave is stored, every order is final or rescheduled by the
    schedule (none left leased), and the report says what the table says."""
    now = timezone.now()
    rows = {o.pk: o for o in Order.objects.filter(pk__in=[o.pk for o in orders])}
    for order in orders:
        row = rows[order.pk]
        answer = sandbox.orders[order.provider_referans]
        if answer.checks_until_final == 1:
            expected = ExternalStatus.DONE if answer.outcome == "completed" else ExternalStatus.FAILED
            assert row.external_status == expected, order.pk
            assert row.pin_code == (answer.pin if answer.outcome == "completed" else None)
            assert row.next_check_at is None
        else:
            assert row.external_status == ExternalStatus.PROCESSING
            # The schedule (sent 5 minutes ago: 360 s after sending is next), not the lease.
            assert now < row.next_check_at == row.sent_at + timedelta(seconds=360)
    statuses = [row.external_status for row in rows.values()]
    assert report.counts[Outcome.COMPLETED] == statuses.count(ExternalStatus.DONE)
    assert report.counts[Outcome.FAILED] == statuses.count(ExternalStatus.FAILED)
    assert report.counts[Outcome.PROCESSING] == statuses.count(ExternalStatus.PROCESSING)
    assert report.checked == len(orders) and report.update_failures == 0


# -- a lost connection ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_connection_terminated_during_a_run_loses_no_answer(make_order, sandbox, settings, caplog):
    settings.MONITOR_DB_RETRY_WAIT_SECONDS = 0.05
    sandbox.config.latency = 0.3
    orders = many_orders(make_order)

    def cut_the_runs_connection():
        assert terminate_connections() == 1  # the run's own

    with caplog.at_level(logging.WARNING, logger="orders.storing"):
        report = run_batch(RunConfig.from_settings(100), on_checked=AfterStored((10, 40, 70), cut_the_runs_connection))

    assert_every_answer_stored(orders, sandbox, report)
    assert "update_failures" not in report.summary_line()
    assert len([r for r in caplog.records if "database connection lost" in r.getMessage()]) == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_lost_right_after_the_claim_is_opened_again_to_read_the_integrations(
    make_order, sandbox, settings
):
    settings.MONITOR_DB_RETRY_WAIT_SECONDS = 0.05
    orders = [make_order() for _ in range(3)]
    assert terminate_connections() == 1  # the test's own, idle between the claim and the checks

    integrations = integrations_of(orders, Reconnect.from_settings().before(time.monotonic() + 10))
    answers = asked(orders, integrations)

    assert sorted(str(result.state) for _, result in answers) == [CheckState.COMPLETED] * 3
    assert len(sandbox.status_checks()) == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_claimed_orders_whose_integrations_cannot_be_read_are_answered_unchecked(
    make_order, sandbox, settings, database_outage
):
    settings.MONITOR_DB_RETRY_ATTEMPTS = 2
    settings.MONITOR_DB_RETRY_WAIT_SECONDS = 0.05
    orders = [make_order() for _ in range(3)]
    database_outage.start()

    # None: the cycle releases them (once the database is back) instead of leaving them leased;
    # and no provider was asked.
    assert integrations_of(orders, Reconnect.from_settings().before(time.monotonic() + 10)) is None
    assert sandbox.status_checks() == []


def asked(orders, integrations):
    """The answers of a fan-out asking about `orders` (4 workers, 4 per integration)."""
    fan_out = FanOut(time.monotonic() + 10, threading.Event(), 4, 4, 1)
    batches, unanswerable = CycleClients(4, HttpLimits.from_settings()).sort(orders, integrations)
    fan_out.add(batches)
    return unanswerable + list(fan_out.answers())


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_results_wait_while_the_database_is_away_and_are_stored_when_it_is_back(
    make_order, sandbox, settings, caplog, database_outage
):
    # One write's round of tries (0.05 s + 0.1 s) is far shorter than the 1 s outage, which
    # ends long before the provider has answered the last order (100 x 0.3 s / 8 at a time).
    settings.MONITOR_DB_RETRY_ATTEMPTS = 3
    settings.MONITOR_DB_RETRY_WAIT_SECONDS = 0.05
    sandbox.config.latency = 0.3
    orders = many_orders(make_order)

    def database_away_for_a_second():
        database_outage.start()
        threading.Timer(1.0, database_outage.end).start()

    with caplog.at_level(logging.WARNING, logger="orders.storing"):
        report = run_batch(RunConfig.from_settings(100), on_checked=AfterStored((10,), database_away_for_a_second))

    assert_every_answer_stored(orders, sandbox, report)
    assert any("results wait to be stored" in r.getMessage() for r in caplog.records)


class _OnLogRecord(logging.Handler):
    def __init__(self, text, action):
        super().__init__()
        self.text, self.action = text, action

    def emit(self, record):
        if self.text in record.getMessage():
            self.action()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_results_not_stored_by_the_end_of_the_run_release_their_orders_when_the_database_is_back(
    make_order, sandbox, settings, database_outage
):
    settings.MONITOR_DB_RETRY_ATTEMPTS = 2
    settings.MONITOR_DB_RETRY_WAIT_SECONDS = 0.05
    orders = [make_order() for _ in range(20)]
    claimed = {o.pk: o for o in orders}
    database_away_after_15 = AfterStored((15,), database_outage.start)

    # The database comes back right after the run's last round of tries for the waiting
    # results failed: what is left to do then is to release their orders.
    back = _OnLogRecord("database still unavailable at the end of the run", database_outage.end)
    logging.getLogger("orders.storing").addHandler(back)
    try:
        report = run_batch(RunConfig.from_settings(20), on_checked=database_away_after_15)
    finally:
        logging.getLogger("orders.storing").removeHandler(back)

    assert report.checked == 15 and report.update_failures == 5
    assert "update_failures=5" in report.summary_line()
    stored = database_away_after_15.stored
    not_stored = Order.objects.exclude(pk__in=stored)
    assert not_stored.count() == 5
    for row in not_stored:
        assert row.external_status == ExternalStatus.SENT and row.pin_code is None
        assert row.check_attempts == claimed[row.pk].check_attempts
        assert row.next_check_at <= timezone.now()  # released: due again at once, not leased
    assert Order.objects.filter(pk__in=stored, external_status=ExternalStatus.DONE).count() == 15


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_command_run_survives_its_connection_being_terminated(integration, sandbox):
    sandbox.config.latency = 0.3
    references = []
    for n in range(100):
        reference = uuid.uuid4().hex
        sandbox.add_order(reference, outcome="failed" if n % 10 == 3 else "completed", checks_until_final=1)
        references.append(reference)
    payer = customer_fields()
    Order.objects.bulk_create(
        Order(
            external_status=ExternalStatus.SENT,
            integration_id=str(integration.pk),
            provider_referans=reference,
            sent_at=timezone.now() - timedelta(minutes=5),
            **payer,
        )
        for reference in references
    )
    application = f"order_monitor_test_{uuid.uuid4().hex[:8]}"
    url = f"{database_url()}?application_name={application}"

    process = start_command("check_pending_orders", DATABASE_URL=url, MONITOR_DB_RETRY_WAIT_SECONDS="0.05")
    cuts, thresholds = 0, [15, 40, 65]
    while process.poll() is None:
        finished = Order.objects.filter(external_status__in=FINAL).count()
        if thresholds and finished >= thresholds[0] and terminate_connections(application):
            thresholds.pop(0)
            cuts += 1
        time.sleep(0.02)
    stdout, stderr = process.communicate()

    assert process.returncode == 0, stderr
    assert cuts == 3
    summary = dict(re.findall(r"(\w+)=(\d+)(?!\.)", stdout.strip().splitlines()[-1]))
    assert summary["checked"] == "100" and "update_failures" not in summary
    rows = Order.objects.filter(provider_referans__in=references)
    for row in rows:
        answer = sandbox.orders[row.provider_referans]
        assert row.external_status == (ExternalStatus.DONE if answer.outcome == "completed" else "failed")
        assert row.pin_code == (answer.pin if answer.outcome == "completed" else None)
        assert row.next_check_at is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_connection_lost_right_after_commit_still_sends_order_finalized_once(make_order, settings, monkeypatch):
    """The commit reached the server, its answer did not: the next try finds the order final
    already. That is the first try's doing, so the signal is sent, and the order counts as completed."""
    settings.MONITOR_DB_RETRY_WAIT_SECONDS = 0.05
    order = make_order(pin="PIN-COMMITTED-0042")
    completing = []
    real_commit = BaseDatabaseWrapper._commit

    def notice_the_completing_update(execute, sql, params, many, context):
        if sql.startswith('UPDATE "product_orders"') and '"completedAt"' in sql:
            completing.append(sql)
        return execute(sql, params, many, context)

    def commit_then_lose_the_connection(self):
        real_commit(self)
        if len(completing) == 1:
            completing.append("cut")
            terminate_connections()
            with self.wrap_database_errors:
                self.connection.cursor().execute("SELECT 1")  # the real error of a lost connection

    monkeypatch.setattr(BaseDatabaseWrapper, "_commit", commit_then_lose_the_connection)
    received = []

    def receiver(sender, order, outcome, **kwargs):
        received.append((order.pk, outcome, order.pin_code))

    order_finalized.connect(receiver)
    try:
        with connection.execute_wrapper(notice_the_completing_update):
            report = run_batch(RunConfig.from_settings())
    finally:
        order_finalized.disconnect(receiver)

    assert "cut" in completing
    assert received == [(order.pk, "completed", "PIN-COMMITTED-0042")]
    assert report.counts[Outcome.COMPLETED] == 1 and report.counts[Outcome.SKIPPED] == 0 and report.update_failures == 0
    order.refresh_from_db()
    assert order.external_status == ExternalStatus.DONE and order.pin_code == "PIN-COMMITTED-0042"


# -- any other database error ---------------------------------------------------------------------


@pytest.fixture
def pin_column_of_10(db):
    """A "pinCode" narrower than the PINs the sandbox hands out: the database itself refuses
    the write (value too long), as a live column narrower than the model would."""
    with connection.cursor() as cursor:
        cursor.execute('ALTER TABLE product_orders ALTER COLUMN "pinCode" TYPE varchar(10)')


REFUSED = "storing the check result failed: value too long for type character varying(10)"
PIN_KEPT = "; the PIN is kept whole in pin_code_full: deliver it by hand"


@pytest.mark.postgres
def test_a_pin_whose_write_the_database_refuses_is_kept_and_its_order_held(make_order, sandbox, pin_column_of_10):
    refused = make_order(pin="PIN-LONGER-THAN-TEN-0042")
    fine = make_order(pin="PIN-0007")

    report = run_batch(RunConfig.from_settings())

    assert report.counts[Outcome.COMPLETED] == 1 and report.update_failures == 1
    assert report.summary_line().endswith("update_failures=1")
    fine.refresh_from_db()
    assert fine.external_status == ExternalStatus.DONE and fine.pin_code == "PIN-0007"
    refused.refresh_from_db()
    assert refused.external_status == ExternalStatus.SENT and refused.pin_code is None
    # The PIN in hand is not thrown away: kept whole, the order held for an operator.
    assert refused.pin_code_full == "PIN-LONGER-THAN-TEN-0042"
    assert refused.last_check_error == REFUSED + PIN_KEPT
    assert refused.check_attempts == 1

    again = run_batch(RunConfig.from_settings())

    # A held order is never due: the failing write is not repeated.
    assert again.checked == 0 and again.update_failures == 0
    assert len(sandbox.status_checks(refused.provider_referans)) == 1


@pytest.fixture
def provider_message_column_of_5(db):
    with connection.cursor() as cursor:
        cursor.execute('ALTER TABLE product_orders ALTER COLUMN "providerMessage" TYPE varchar(5)')


@pytest.mark.postgres
def test_a_write_the_database_refuses_is_recorded_on_that_order(make_order, sandbox, provider_message_column_of_5):
    refused = make_order(checks_until_final=5)  # still processing: "İşleminiz devam ediyor"
    before = timezone.now()

    report = run_batch(RunConfig.from_settings())

    assert report.checked == 0 and report.update_failures == 1
    refused.refresh_from_db()
    assert refused.external_status == ExternalStatus.SENT and refused.pin_code_full is None
    assert refused.last_check_error == REFUSED.replace("(10)", "(5)")
    assert refused.check_attempts == 1
    # The error backoff (30 s +-10 %), not the lease: no other run retries it at once...
    assert before + timedelta(seconds=26) < refused.next_check_at < timezone.now() + timedelta(seconds=34)

    again = run_batch(RunConfig.from_settings())

    # ...and neither does the next one.
    assert again.checked == 0 and again.update_failures == 0
    assert len(sandbox.status_checks(refused.provider_referans)) == 1


@pytest.mark.postgres
def test_order_id_says_the_store_failed(make_order, pin_column_of_10):
    order = make_order(pin="PIN-LONGER-THAN-TEN-0042")
    out = io.StringIO()

    call_command("check_pending_orders", "--order-id", str(order.pk), stdout=out)

    line = out.getvalue().strip()
    assert line.startswith(f"order {order.pk}: store failed: value too long for type character varying(10) ")
    assert f"last_check_error={REFUSED}{PIN_KEPT}" in line
    assert "not checked" not in line and "PIN-LONGER" not in line
