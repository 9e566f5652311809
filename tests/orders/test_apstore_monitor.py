"""check_pending_orders and dispatch_order against the apstore sandbox, end to end: the rows in
the database after a run, and one batch request for many orders."""

import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone

from dispatch.placing import dispatch_order
from orders.models import ExternalStatus, Order, PlatformStatus
from providers.base import NOT_MENTIONED_MESSAGE, PlaceRequest
from providers.models import Integration
from sandbox.apstore import ApstoreSandbox, SandboxConfig
from tests.factories import create_sent_order, create_unsent_order

TOKEN = "apst-e2e-1c9d77a04b"


@pytest.fixture
def apstore():
    server = ApstoreSandbox(SandboxConfig(token=TOKEN, checks_until_final=1, seed=7)).start()
    yield server
    server.stop()


@pytest.fixture
def apstore_integration(db, apstore):
    return Integration.objects.create(
        name="apstore sandbox", provider="apstore", base_url=apstore.base_url, api_token=TOKEN
    )


@pytest.fixture
def sent_order(apstore_integration, apstore):
    """An order sent under our own reference; known to the sandbox unless known=False."""

    def make(known=True, **sandbox_order):
        reference = uuid.uuid4().hex
        if known:
            apstore.add_order(reference, **sandbox_order)
        return create_sent_order(apstore_integration, reference)

    return make


def run_monitor():
    out = StringIO()
    call_command("check_pending_orders", stdout=out)
    return out.getvalue()


def test_one_run_stores_every_outcome_from_one_batch_request(apstore, sent_order):
    completed = sent_order(pin="ZX-4411-ÖĞ")
    failed = sent_order(outcome="failed", reason="Wrong player id")
    processing = sent_order(checks_until_final=3)
    missing = sent_order(known=False)
    more = [sent_order() for _ in range(8)]
    before = timezone.now()

    summary = run_monitor()

    assert "checked=12 completed=9 failed=1 processing=1 errors=1" in summary
    completed.refresh_from_db()
    assert completed.external_status == ExternalStatus.DONE
    assert completed.status == PlatformStatus.APPROVED
    assert completed.pin_code == "ZX-4411-ÖĞ"
    assert completed.completed_at is not None
    assert completed.next_check_at is None

    failed.refresh_from_db()
    assert (failed.external_status, failed.status) == (ExternalStatus.FAILED, PlatformStatus.REJECTED)
    assert failed.provider_message == "Wrong player id"
    assert failed.pin_code is None

    processing.refresh_from_db()
    assert processing.external_status == ExternalStatus.PROCESSING
    assert processing.next_check_at > before
    assert processing.last_check_error is None
    assert processing.last_sync_at is not None

    missing.refresh_from_db()
    assert missing.external_status == ExternalStatus.SENT
    assert NOT_MENTIONED_MESSAGE in missing.last_check_error
    assert missing.next_check_at > timezone.now()
    assert missing.check_attempts == 1

    for order in more:
        order.refresh_from_db()
        assert order.external_status == ExternalStatus.DONE and order.pin_code

    checks = apstore.status_checks()
    assert len(checks) == 1
    assert checks[0]["uuid"] is True
    all_orders = [completed, failed, processing, missing, *more]
    assert sorted(checks[0]["orders"]) == sorted(order.provider_referans for order in all_orders)


def test_orders_known_only_by_the_providers_id_are_asked_without_uuid(apstore, apstore_integration, sent_order):
    ours = sent_order()
    theirs = apstore.add_order(outcome="failed", reason="Cancelled by operator")
    by_provider_id = create_sent_order(apstore_integration, provider_referans=None, external_order_id=theirs.order_id)

    run_monitor()

    ours.refresh_from_db()
    by_provider_id.refresh_from_db()
    assert ours.external_status == ExternalStatus.DONE
    assert by_provider_id.external_status == ExternalStatus.FAILED
    assert by_provider_id.provider_message == "Cancelled by operator"
    assert sorted((r["uuid"], tuple(r["orders"])) for r in apstore.status_checks()) == [
        (False, (theirs.order_id,)),
        (True, (ours.provider_referans,)),
    ]


def test_more_orders_than_one_batch_take_one_request_per_fifty(apstore, sent_order):
    orders = [sent_order() for _ in range(60)]

    run_monitor()

    assert sorted(len(r["orders"]) for r in apstore.status_checks()) == [10, 50]
    assert Order.objects.filter(pk__in=[o.pk for o in orders], external_status=ExternalStatus.DONE).count() == 60


def test_a_wrong_token_leaves_orders_untouched_and_waits_the_longest_backoff(apstore, apstore_integration, sent_order):
    apstore_integration.api_token = "revoked-token-0001"
    apstore_integration.save()
    order = sent_order()

    run_monitor()

    order.refresh_from_db()
    assert order.external_status == ExternalStatus.SENT
    assert order.last_check_error.startswith("configuration error: HTTP 401")
    cap = timedelta(seconds=django_settings.MONITOR_BACKOFF_CAP_SECONDS)
    assert order.next_check_at >= timezone.now() + cap * 0.8  # the cap, less jitter
    assert "revoked-token-0001" not in order.last_check_error


def test_dispatch_places_the_order_and_the_monitor_finds_it_by_our_uuid(apstore, apstore_integration):
    order = create_unsent_order(apstore_integration)

    result = dispatch_order(order.pk, PlaceRequest(product="12", quantity=1))

    order.refresh_from_db()
    placed = apstore.find_order(order.pk.hex)
    assert result.external_status == ExternalStatus.SENT
    assert order.external_status == ExternalStatus.SENT
    assert order.provider_referans == order.pk.hex
    assert order.external_order_id == placed.order_id
    assert (placed.product, placed.qty) == ("12", 1)

    Order.objects.filter(pk=order.pk).update(next_check_at=timezone.now())
    run_monitor()

    order.refresh_from_db()
    assert order.external_status == ExternalStatus.DONE
    assert order.pin_code == placed.pin
    assert apstore.status_checks()[0]["uuid"] is True


def test_dispatch_refused_by_the_provider_fails_the_order(apstore, apstore_integration):
    order = create_unsent_order(apstore_integration)

    result = dispatch_order(order.pk, PlaceRequest(product="no-such-package"))

    order.refresh_from_db()
    assert result.external_status == ExternalStatus.FAILED
    assert (order.external_status, order.status) == (ExternalStatus.FAILED, PlatformStatus.REJECTED)
    assert order.provider_message == "package not found"
    assert apstore.orders == {}
