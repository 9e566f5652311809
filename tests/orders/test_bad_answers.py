"""One bad answer never stops a run: a text PostgreSQL cannot store is made storable and noted on
its order, any other exception while storing one result is recorded on that order, and the run
goes on with the others (its summary line, its order_monitor_runs row), over real HTTP against
the sandboxes."""

import io
import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from orders.models import ExternalStatus, MonitorRun, Order, OrderEvent
from providers.models import Integration
from sandbox.faults import LongBody
from sandbox.internal import InternalSandbox, SandboxConfig
from tests.factories import create_sent_order

pytestmark = pytest.mark.django_db

NUL_ANSWER = "OK|1||still \x00 processing"
REPLACED = "the answer held characters the database cannot store ({}): each replaced by U+FFFD"
# The latest "sentAt" there is: the next check time after it does not exist.
END_OF_TIME = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
OVERFLOW = "storing the check result failed: OverflowError: date value out of range"


def check(*args):
    out = io.StringIO()
    call_command("check_pending_orders", *args, stdout=out)
    return out.getvalue()


def summary_of(output):
    return dict(field.split("=", 1) for field in output.strip().splitlines()[-1].split() if "=" in field)


def assert_no_traceback(caplog):
    assert not [record for record in caplog.records if record.exc_info or record.exc_text]


# -- a NUL byte ----------------------------------------------------------------------------------


@pytest.mark.postgres
def test_an_answer_with_a_nul_byte_is_stored_replaced_and_the_run_goes_on(make_order, sandbox, caplog):
    poisoned = make_order(checks_until_final=5)
    others = [make_order(pin=f"PIN-OTHER-000{n}") for n in range(3)]
    sandbox.queue_answer(200, NUL_ANSWER, matching=poisoned.provider_referans)
    runs = MonitorRun.objects.count()

    with caplog.at_level(logging.INFO):
        output = check()

    counts = summary_of(output)
    assert (counts["checked"], counts["completed"], counts["processing"], counts["errors"]) == ("4", "3", "1", "0")
    assert "update_failures" not in counts
    assert MonitorRun.objects.count() == runs + 1 and MonitorRun.objects.latest("started_at").succeeded
    for order in others:
        order.refresh_from_db()
        assert order.external_status == ExternalStatus.DONE and order.pin_code.startswith("PIN-OTHER-")
    poisoned.refresh_from_db()
    assert poisoned.external_status == ExternalStatus.PROCESSING and poisoned.check_attempts == 1
    assert poisoned.provider_message == "still \ufffd processing"
    assert poisoned.last_check_error == REPLACED.format("NUL")
    # Rescheduled by its schedule (sent 5 minutes ago: 360 s after sending is next), not leased.
    assert poisoned.next_check_at == poisoned.sent_at + timedelta(seconds=360)
    assert OrderEvent.objects.get(order_id=poisoned.pk).message == "still \ufffd processing"
    assert_no_traceback(caplog)

    sandbox.queue_answer(200, NUL_ANSWER, matching=poisoned.provider_referans)
    line = check("--order-id", str(poisoned.pk))

    assert line.startswith(f"order {poisoned.pk}: processing externalStatus=processing")
    assert f"last_check_error={REPLACED.format('NUL')}" in line


def test_an_error_line_with_a_nul_byte_keeps_the_error_and_the_note(make_order, sandbox):
    order = make_order(checks_until_final=5)
    sandbox.queue_answer(200, "8|Sistem \x00 yoğun", matching=order.provider_referans)

    check()

    order.refresh_from_db()
    assert order.last_check_error == f"provider error 8: Sistem \ufffd yoğun; {REPLACED.format('NUL')}"
    assert order.check_attempts == 1 and order.next_check_at > timezone.now()


def test_an_answer_that_is_not_utf_8_is_a_malformed_answer(make_order, sandbox):
    order = make_order(checks_until_final=5)
    fine = make_order()
    sandbox.queue_answer(200, b"OK|1||\xff\xfe still processing", matching=order.provider_referans)

    counts = summary_of(check())

    assert (counts["checked"], counts["completed"], counts["errors"]) == ("2", "1", "1")
    order.refresh_from_db()
    assert order.last_check_error == "malformed: malformed answer: not valid UTF-8"
    assert Order.objects.get(pk=fine.pk).external_status == ExternalStatus.DONE


def test_a_20_mb_answer_keeps_at_most_the_limit_in_provider_message(make_order, sandbox, settings):
    settings.PROVIDER_MAX_ANSWER_BYTES = 65536
    huge = make_order(checks_until_final=5)
    fine = make_order()
    sandbox.queue_answer(
        200, LongBody(b"OK|1||", 20 * 1024 * 1024, fill=b"still processing "), matching=huge.provider_referans
    )

    counts = summary_of(check())

    assert (counts["checked"], counts["completed"], counts["processing"]) == ("2", "1", "1")
    huge.refresh_from_db()
    assert huge.provider_message.startswith("still processing still processing")
    assert huge.provider_message.endswith(" [answer cut at 65536 bytes]")
    assert len(huge.provider_message.encode()) <= 65536 + len(" [answer cut at 65536 bytes]")
    assert Order.objects.get(pk=fine.pk).external_status == ExternalStatus.DONE


# -- lone surrogates (a JSON escape) -------------------------------------------------------------

TOKEN = "tnt-bad-answers-5e07"


@pytest.fixture
def tenant():
    server = InternalSandbox(SandboxConfig(token=TOKEN, checks_until_final=1, seed=3)).start()
    yield server
    server.stop()


@pytest.fixture
def tenant_order(db, tenant):
    integration = Integration.objects.create(
        name="shop2", provider="internal", base_url=tenant.base_url, api_token=TOKEN
    )

    def make(**sandbox_order):
        reference = uuid.uuid4().hex
        tenant.add_order(str(uuid.UUID(reference)), **sandbox_order)
        return create_sent_order(integration, reference)

    return make


def test_a_lone_surrogate_in_a_json_answer_is_stored_replaced(tenant, tenant_order):
    waiting = tenant_order(checks_until_final=5)
    done = tenant_order(pin="PIN-TENANT-0042")
    record = (
        f'[{{"orderUuid": "{uuid.UUID(waiting.provider_referans)}", "status": "pending", "note": "bad \\ud800 text"}}]'
    )
    tenant.queue_answer(200, record, matching=str(uuid.UUID(waiting.provider_referans)))

    counts = summary_of(check())

    assert (counts["checked"], counts["completed"], counts["processing"]) == ("2", "1", "1")
    waiting.refresh_from_db()
    assert waiting.provider_message == "bad \ufffd text"
    assert waiting.last_check_error == REPLACED.format("lone surrogate")
    done.refresh_from_db()
    assert done.pin_code == "PIN-TENANT-0042"


def test_a_pin_that_cannot_be_stored_is_not_altered_nor_shown(tenant, tenant_order):
    order = tenant_order()
    wire = str(uuid.UUID(order.provider_referans))
    tenant.queue_answer(200, f'[{{"orderUuid": "{wire}", "status": "approved", "pinCode": "PIN\\u0000-7788"}}]')

    output = check("--order-id", str(order.pk))

    order.refresh_from_db()
    assert order.external_status == ExternalStatus.SENT and order.pin_code is None
    assert order.last_check_error == (
        "malformed: malformed answer: the PIN holds characters the database cannot store (NUL)"
    )
    assert "7788" not in output and "7788" not in order.last_check_error


# -- an exception that is not a database error ---------------------------------------------------


def test_an_exception_while_storing_one_result_is_recorded_on_that_order(make_order, sandbox, caplog):
    poisoned = make_order(checks_until_final=5, sent_ago=None, sent_at=END_OF_TIME)
    others = [make_order() for _ in range(3)]
    before = timezone.now()

    with caplog.at_level(logging.INFO):
        output = check()

    counts = summary_of(output)
    assert (counts["checked"], counts["completed"], counts["update_failures"]) == ("3", "3", "1")
    assert MonitorRun.objects.latest("started_at").checked == 3
    assert all(Order.objects.get(pk=o.pk).external_status == ExternalStatus.DONE for o in others)
    poisoned.refresh_from_db()
    assert poisoned.external_status == ExternalStatus.SENT
    assert poisoned.last_check_error == OVERFLOW and poisoned.check_attempts == 1
    # The error backoff (30 s +-10 %): not repeated at once, not left leased.
    assert before + timedelta(seconds=26) < poisoned.next_check_at < timezone.now() + timedelta(seconds=34)
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in logged] == [f"order {poisoned.pk}: {OVERFLOW}"]
    assert_no_traceback(caplog)


def test_order_id_reports_an_exception_while_storing(make_order):
    order = make_order(checks_until_final=5, sent_ago=None, sent_at=END_OF_TIME)

    line = check("--order-id", str(order.pk))

    assert line.startswith(f"order {order.pk}: store failed: OverflowError: date value out of range ")
    assert f"last_check_error={OVERFLOW}" in line


def test_check_now_reports_an_exception_while_storing(admin_client, make_order):
    order = make_order(checks_until_final=5, sent_ago=None, sent_at=END_OF_TIME)
    url = reverse(f"admin:{Order._meta.app_label}_order_changelist")

    response = admin_client.post(url, {"action": "check_now", "_selected_action": [str(order.pk)]}, follow=True)

    assert response.status_code == 200
    assert f"Order {order.pk}: store failed: OverflowError: date value out of range" in response.content.decode()


def test_an_integration_whose_client_cannot_be_built_fails_its_orders_only(make_order):
    broken = Integration.objects.create(
        name="broken", provider="internal", base_url="http://[::1", api_token="tok-broken-123"
    )
    stranded = create_sent_order(broken)
    fine = make_order()

    counts = summary_of(check())

    assert (counts["checked"], counts["completed"], counts["errors"]) == ("2", "1", "1")
    stranded.refresh_from_db()
    assert stranded.last_check_error == (
        f"configuration error: integration {broken.pk}: its client cannot be built: ValueError"
    )
    assert stranded.permanent_error_since is not None
    assert Order.objects.get(pk=fine.pk).external_status == ExternalStatus.DONE


@pytest.fixture
def integrations_without_enabled(transactional_db):
    """A schema the monitor does not expect (no integrations.enabled), found only after the claim;
    renamed back afterwards (the schema outlives a transactional test)."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE integrations RENAME COLUMN enabled TO enabled_renamed")
    yield
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE integrations RENAME COLUMN enabled_renamed TO enabled")


@pytest.mark.postgres
def test_a_run_that_fails_after_its_claim_leaves_no_order_leased(make_order, integrations_without_enabled):
    orders = [make_order() for _ in range(3)]

    with pytest.raises(CommandError, match="database error: column integrations.enabled does not exist"):
        check()

    for order in orders:
        order.refresh_from_db()
        assert order.external_status == ExternalStatus.SENT and order.next_check_at <= timezone.now()
