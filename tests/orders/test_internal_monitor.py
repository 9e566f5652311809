"""dispatch_order and check_pending_orders with an `internal` integration (another tenant of the
platform) against its sandbox, end to end over HTTP: the rows afterwards, and the api-token in
no log line, no output and no column."""

import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from dispatch.placing import dispatch_order
from orders.models import ExternalStatus, Order, OrderEvent, PlatformStatus
from providers.base import PlaceRequest
from providers.models import Integration
from sandbox.internal import DUPLICATE_UUID_MESSAGE, InternalSandbox, SandboxConfig
from tests.commands import run_command
from tests.factories import customer_fields

TOKEN = "tnt-e2e-9d41c6a7f2"


@pytest.fixture
def tenant():
    server = InternalSandbox(SandboxConfig(token=TOKEN, checks_until_final=1, seed=11)).start()
    yield server
    server.stop()


@pytest.fixture
def internal_integration(db, tenant):
    return Integration.objects.create(name="shop2", provider="internal", base_url=tenant.base_url, api_token=TOKEN)


def dispatched(integration, tenant, outcome="completed", **place):
    """An order placed with the tenant through dispatch_order, due for its first check now."""
    order = Order.objects.create(integration_id=str(integration.pk), **customer_fields(uuid.uuid4()))
    result = dispatch_order(order.pk, PlaceRequest(product=place.pop("product", "12"), **place))
    placed = tenant.find_order(order.pk.hex)
    if placed is not None:
        placed.outcome = outcome
    Order.objects.filter(pk=order.pk).update(next_check_at=timezone.now())
    order.refresh_from_db()
    return order, result, placed


def run_monitor():
    out = StringIO()
    call_command("check_pending_orders", stdout=out)
    return out.getvalue()


def test_dispatched_orders_are_completed_failed_or_followed(tenant, internal_integration):
    completed, result, placed = dispatched(internal_integration, tenant, player_id="oyuncu-77")
    failed, _, rejected = dispatched(internal_integration, tenant, outcome="failed")
    waiting, _, slow = dispatched(internal_integration, tenant)
    slow.checks_until_final = 3

    assert (result.external_status, completed.external_status) == (ExternalStatus.SENT, ExternalStatus.SENT)
    assert (completed.provider_referans, completed.external_order_id) == (completed.pk.hex, placed.order_id)
    assert (placed.order_uuid, placed.user_identifier) == (str(completed.pk), "oyuncu-77")

    summary = run_monitor()

    assert summary.startswith("checked=3 completed=1 failed=1 processing=1 errors=0 ")
    completed.refresh_from_db()
    assert (completed.external_status, completed.status) == (ExternalStatus.DONE, PlatformStatus.APPROVED)
    assert completed.pin_code == placed.pin and completed.completed_at is not None
    failed.refresh_from_db()
    assert (failed.external_status, failed.status) == (ExternalStatus.FAILED, PlatformStatus.REJECTED)
    assert failed.provider_message == rejected.reason
    waiting.refresh_from_db()
    assert (waiting.external_status, waiting.last_check_error) == (ExternalStatus.PROCESSING, None)
    # One request per order, by our own uuid in the form it was placed under.
    asked = sorted((entry["orders"], entry["uuid"]) for entry in tenant.status_checks())
    assert asked == sorted((str(order.pk), True) for order in (completed, failed, waiting))


def test_an_order_approved_at_once_is_sent_and_completed_by_the_first_check(tenant, internal_integration):
    tenant.config.approve_at_once = True

    order, result, placed = dispatched(internal_integration, tenant)

    assert (result.external_status, order.pin_code) == (ExternalStatus.SENT, None)
    assert placed.pin not in (order.provider_message or "") + (order.last_message or "") + result.message
    run_monitor()
    order.refresh_from_db()
    assert (order.external_status, order.pin_code) == (ExternalStatus.DONE, placed.pin)


def test_a_lost_place_answer_leaves_the_order_pending_and_the_monitor_finds_it(tenant, internal_integration):
    tenant.queue_place_fault("drop")

    order, result, placed = dispatched(internal_integration, tenant)

    assert (result.external_status, order.external_status) == (ExternalStatus.PENDING, ExternalStatus.PENDING)
    assert order.last_check_error.startswith("dispatch answer unknown: connection failed")
    assert len(tenant.place_requests()) == 1
    run_monitor()
    order.refresh_from_db()
    assert (order.external_status, order.pin_code) == (ExternalStatus.DONE, placed.pin)


def test_a_repeated_order_uuid_is_followed_never_failed(tenant, internal_integration):
    order = Order.objects.create(integration_id=str(internal_integration.pk), **customer_fields())
    tenant.add_order(str(order.pk), checks_until_final=1)  # the tenant already has it

    result = dispatch_order(order.pk, PlaceRequest(product="12"))

    order.refresh_from_db()
    assert (result.external_status, order.external_status) == (ExternalStatus.SENT, ExternalStatus.SENT)
    assert order.provider_message is None  # the customer sees nothing yet
    assert order.events.get(to_status=ExternalStatus.SENT).message == DUPLICATE_UUID_MESSAGE
    assert "already had this order" in order.last_message


def test_a_refused_order_is_failed_with_the_tenants_reason(tenant, internal_integration):
    order, result, placed = dispatched(internal_integration, tenant, product="no-such-package")

    assert placed is None
    assert (result.external_status, order.external_status, order.status) == (
        ExternalStatus.FAILED,
        ExternalStatus.FAILED,
        PlatformStatus.REJECTED,
    )
    assert "package not found" in order.provider_message
    assert OrderEvent.objects.filter(order=order, to_status=ExternalStatus.FAILED).count() == 1


def test_a_revoked_token_leaves_orders_untouched_and_waits_the_longest_backoff(tenant, internal_integration):
    order, _, _ = dispatched(internal_integration, tenant)
    internal_integration.api_token = "tnt-revoked-0001"
    internal_integration.save()

    assert "errors=1" in run_monitor()

    order.refresh_from_db()
    assert order.external_status == ExternalStatus.SENT
    assert order.last_check_error.startswith("configuration error: HTTP 401")
    cap = timedelta(seconds=django_settings.MONITOR_BACKOFF_CAP_SECONDS)
    assert order.next_check_at >= timezone.now() + cap * 0.8  # the cap, less jitter
    assert order.permanent_error_since is not None


def text_columns_of_every_order():
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT "externalOrderId", "pinCode", "providerMessage", "lastMessage", provider_referans, '
            "last_check_error, pin_code_full FROM product_orders"
        )
        return " ".join(str(value) for row in cursor.fetchall() for value in row if value)


@pytest.mark.django_db(transaction=True)
def test_the_token_is_in_no_log_line_output_or_column(tenant, internal_integration):
    echoing, _, echoing_placed = dispatched(internal_integration, tenant, outcome="failed")
    echoing_placed.reason = f"refused: api-token {TOKEN} has no stock rights"
    completed, _, completed_placed = dispatched(internal_integration, tenant)
    dispatched(internal_integration, tenant, product="no-such-package")
    erroring, _, _ = dispatched(internal_integration, tenant)
    Order.objects.filter(pk=erroring.pk).update(sent_at=timezone.now() - timedelta(hours=1))  # the oldest
    tenant.queue_fault("http500", times=2)  # both attempts of its check

    code, stdout, stderr = run_command(
        "check_pending_orders", "-v", "2", "--limit", "1", LOG_LEVEL="DEBUG", PROVIDER_RETRY_ATTEMPTS=2
    )
    assert code == 0, stderr
    assert "errors=1" in stdout
    code, more_stdout, more_stderr = run_command(
        "check_pending_orders", "--provider-id", str(internal_integration.pk), "-v", "2", LOG_LEVEL="DEBUG"
    )
    assert code == 0, more_stderr
    code, dispatch_out, dispatch_err = run_command(
        "dispatch_order",
        "--order-id",
        str(Order.objects.create(integration_id=str(internal_integration.pk), **customer_fields()).pk),
        "--product",
        "12",
        LOG_LEVEL="DEBUG",
    )
    assert code == 0, dispatch_err

    echoing.refresh_from_db()
    completed.refresh_from_db()
    assert echoing.provider_message == "refused: api-token *** has no stock rights"
    assert completed.pin_code == completed_placed.pin
    everything = stdout + stderr + more_stdout + more_stderr + dispatch_out + dispatch_err
    assert "HTTP 500" in everything and "completed, pin ****" in everything
    assert TOKEN not in everything
    assert completed_placed.pin not in everything  # PINs only masked in logs
    assert TOKEN not in text_columns_of_every_order()
