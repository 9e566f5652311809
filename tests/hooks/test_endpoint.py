"""POST /hooks/internal/<integration id>/: what is refused (401, nothing changed), what is
acknowledged, and what a valid event does to its order."""

import logging
import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from hooks.models import SeenNonce, WebhookSetting
from hooks.views import MAX_BODY_BYTES
from orders.claiming import claim_due_orders, lease_end
from orders.models import ExternalStatus, Order, PlatformStatus
from tests.factories import create_sent_order
from tests.hooks.helpers import SECRET, deliver, event_body, hook_path, internal_with_webhook, signed_headers

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration():
    return internal_with_webhook()


def scheduled(integration, **columns):
    """An active order of the integration as its last check left it: checked 10 s ago, next
    check in 100 s (a gap under the lease margin: surely no run's lease)."""
    now = timezone.now()
    return create_sent_order(
        integration, last_sync_at=now - timedelta(seconds=10), next_check_at=now + timedelta(seconds=100), **columns
    )


@pytest.fixture
def order(integration):
    return scheduled(integration, external_order_id="tenant-order-77")


def snapshot(order):
    order.refresh_from_db()
    setting = WebhookSetting.objects.get(pk=uuid.UUID(order.integration_id))
    return order.next_check_at, order.external_status, setting.last_event_at, SeenNonce.objects.count()


def test_a_valid_event_makes_its_order_due_now_and_only_that(client, integration, order):
    other = scheduled(integration)
    before = timezone.now()

    answer = deliver(client, integration, event_body(order_uuid=order.pk))

    assert answer.status_code == 200
    order.refresh_from_db()
    assert before <= order.next_check_at <= timezone.now()
    # The event never completes an order: the next check reads the PIN.
    assert (order.external_status, order.status, order.pin_code) == (ExternalStatus.SENT, PlatformStatus.PENDING, None)
    other.refresh_from_db()
    assert other.next_check_at > timezone.now()
    assert WebhookSetting.objects.get(pk=integration.pk).last_event_at >= before


def test_the_other_tenants_order_id_finds_the_order_too(client, integration, order):
    assert deliver(client, integration, event_body(order_id="tenant-order-77", status="reject")).status_code == 200
    order.refresh_from_db()
    assert order.next_check_at <= timezone.now()


def test_an_order_of_another_integration_is_not_touched(client, integration):
    stranger = scheduled("another-integration")
    assert deliver(client, integration, event_body(order_uuid=stranger.pk)).status_code == 200
    stranger.refresh_from_db()
    assert stranger.next_check_at > timezone.now()


@pytest.mark.parametrize(
    "columns",
    [
        {"external_status": ExternalStatus.DONE, "status": PlatformStatus.APPROVED, "pin_code": "PIN-1"},
        {"external_status": ExternalStatus.FAILED, "status": PlatformStatus.REJECTED},
        {"hold_reason": "no payer"},
    ],
    ids=["completed", "failed", "held"],
)
def test_an_event_for_a_final_or_held_order_is_acknowledged_and_changes_nothing(
    client, integration, order, columns, caplog
):
    Order.objects.filter(pk=order.pk).update(**columns)
    order.refresh_from_db()
    before = (order.next_check_at, order.external_status, order.status, order.pin_code)

    with caplog.at_level(logging.DEBUG, logger="hooks.views"):
        answer = deliver(client, integration, event_body(order_uuid=order.pk))

    assert answer.status_code == 200
    order.refresh_from_db()
    assert (order.next_check_at, order.external_status, order.status, order.pin_code) == before
    assert [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "hooks.views"] == [
        (logging.DEBUG, f"webhook of integration {integration.pk}: order unknown, final or held")
    ]


def test_an_event_for_an_unknown_order_is_acknowledged(client, integration, caplog):
    with caplog.at_level(logging.DEBUG, logger="hooks.views"):
        answer = deliver(client, integration, event_body(order_uuid=uuid.uuid4(), order_id="nobody"))
    assert answer.status_code == 200
    assert [r.levelno for r in caplog.records if r.name == "hooks.views"] == [logging.DEBUG]


def test_a_wait_event_is_acknowledged_and_the_schedule_stays(client, integration, order):
    planned = order.next_check_at
    assert deliver(client, integration, event_body(order_uuid=order.pk, status="wait")).status_code == 200
    order.refresh_from_db()
    assert order.next_check_at == planned


def claimed(order):
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(next_check_at=now)
    claim = claim_due_orders(now, 10, lease_end(now, 30, settings.MONITOR_LEASE_MARGIN_SECONDS))
    assert [claimed.pk for claimed in claim.orders] == [order.pk]
    return claim


def test_an_order_a_run_holds_is_left_to_its_check(client, integration, order, caplog):
    """Claimed by a run, the order keeps its lease: made due now, a second run would check it
    while the first still does."""
    claim = claimed(order)

    with caplog.at_level(logging.DEBUG, logger="hooks.views"):
        assert deliver(client, integration, event_body(order_uuid=order.pk)).status_code == 200

    order.refresh_from_db()
    assert order.next_check_at == order.monitor_leased_until == claim.lease_until
    assert "order held by a run: left to its check" in caplog.text


def test_an_order_whose_check_was_stored_is_moved_though_its_last_lease_is_still_ahead(client, integration, order):
    """The store wrote the next check from the schedule: the run no longer holds the order."""
    claim = claimed(order)
    scheduled = timezone.now() + timedelta(seconds=900)
    Order.objects.filter(pk=order.pk, next_check_at=claim.lease_until).update(next_check_at=scheduled)

    assert deliver(client, integration, event_body(order_uuid=order.pk)).status_code == 200

    order.refresh_from_db()
    assert order.monitor_leased_until == claim.lease_until > timezone.now()
    assert order.next_check_at <= timezone.now()


def test_an_order_whose_run_died_is_moved_once_its_lease_ended(client, integration, order, time_machine):
    claim = claimed(order)
    time_machine.move_to(claim.lease_until - timedelta(seconds=1), tick=False)
    assert deliver(client, integration, event_body(order_uuid=order.pk)).status_code == 200
    order.refresh_from_db()
    assert order.next_check_at == claim.lease_until  # still held

    time_machine.move_to(claim.lease_until + timedelta(seconds=1), tick=False)
    assert deliver(client, integration, event_body(order_uuid=order.pk)).status_code == 200
    order.refresh_from_db()
    assert order.next_check_at == claim.lease_until  # already due: nothing to move
    assert Order.objects.due(timezone.now()).filter(pk=order.pk).exists()


def test_an_order_whose_next_check_is_far_ahead_is_made_due(client, integration):
    """However far the schedule put its next check, an order no run holds is moved."""
    now = timezone.now()
    far = create_sent_order(
        integration, last_sync_at=now - timedelta(seconds=30), next_check_at=now + timedelta(hours=1)
    )
    assert deliver(client, integration, event_body(order_uuid=far.pk)).status_code == 200
    far.refresh_from_db()
    assert far.next_check_at <= timezone.now()


def test_an_order_never_checked_is_made_due_within_its_first_check_gap(client, integration):
    first = create_sent_order(
        integration, sent_ago=timedelta(seconds=3), next_check_at=timezone.now() + timedelta(seconds=7)
    )
    assert deliver(client, integration, event_body(order_uuid=first.pk)).status_code == 200
    first.refresh_from_db()
    assert first.next_check_at <= timezone.now()


REFUSALS = {
    "bad signature": {"secret": "0" * 48},
    "unknown version": {"version": "v2"},
    "timestamp 302 s ago": {"timestamp": -302},
    "timestamp 302 s ahead": {"timestamp": 302},
}


@pytest.mark.parametrize("options", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_bad_delivery_is_refused_and_changes_nothing(client, integration, order, options):
    before = snapshot(order)
    if "timestamp" in options:  # counted from now, not from when the tests were collected
        options = {"timestamp": int(time.time()) + options["timestamp"]}
    answer = deliver(client, integration, event_body(order_uuid=order.pk), **options)
    assert answer.status_code == 401
    assert snapshot(order) == before


@pytest.mark.parametrize(
    "missing",
    ["X-Webhook-Signature", "X-Webhook-Signature-Version", "X-Webhook-Timestamp", "X-Webhook-Nonce"],
)
def test_a_missing_header_is_refused(client, integration, order, missing):
    before = snapshot(order)
    body = event_body(order_uuid=order.pk)
    headers = signed_headers(hook_path(integration), body)
    del headers[missing]
    answer = client.post(hook_path(integration), data=body, content_type="application/json", headers=headers)
    assert answer.status_code == 401
    assert snapshot(order) == before


def test_a_body_changed_after_signing_is_refused(client, integration, order):
    before = snapshot(order)
    path = hook_path(integration)
    headers = signed_headers(path, event_body(order_uuid=order.pk, status="wait"))
    answer = client.post(path, data=event_body(order_uuid=order.pk), content_type="application/json", headers=headers)
    assert answer.status_code == 401
    assert snapshot(order) == before


def test_a_replayed_nonce_is_refused(client, integration, order):
    body = event_body(order_uuid=order.pk)
    headers = signed_headers(hook_path(integration), body)
    path = hook_path(integration)
    assert client.post(path, data=body, content_type="application/json", headers=headers).status_code == 200
    Order.objects.filter(pk=order.pk).update(next_check_at=timezone.now() + timedelta(seconds=100))
    before = snapshot(order)

    again = client.post(path, data=body, content_type="application/json", headers=headers)

    assert again.status_code == 401
    assert snapshot(order) == before


def test_a_body_over_64_kib_is_refused(client, integration, order):
    before = snapshot(order)
    body = event_body(order_uuid=order.pk)[:-1] + b',"pad":"' + b"x" * MAX_BODY_BYTES + b'"}'
    assert deliver(client, integration, body).status_code == 401
    assert snapshot(order) == before


def test_a_body_of_exactly_64_kib_is_read(client, integration, order):
    start = event_body(order_uuid=order.pk)[:-1] + b',"pad":"'
    body = start + b"x" * (MAX_BODY_BYTES - len(start) - 2) + b'"}'
    assert len(body) == MAX_BODY_BYTES
    assert deliver(client, integration, body).status_code == 200


def test_no_webhook_setting_a_disabled_one_or_no_secret_is_refused(client, integration, order):
    body = event_body(order_uuid=order.pk)
    WebhookSetting.objects.filter(pk=integration.pk).update(enabled=False)
    assert deliver(client, integration, body).status_code == 401
    WebhookSetting.objects.filter(pk=integration.pk).update(enabled=True, secret="")
    assert deliver(client, integration, body, secret="").status_code == 401
    WebhookSetting.objects.filter(pk=integration.pk).delete()
    assert deliver(client, integration, body).status_code == 401
    order.refresh_from_db()
    assert order.next_check_at > timezone.now()


def test_only_post_is_served_and_no_csrf_token_is_asked(integration):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.get(hook_path(integration)).status_code == 405
    body = event_body(order_uuid=uuid.uuid4())
    headers = signed_headers(hook_path(integration), body)
    assert (
        strict.post(hook_path(integration), data=body, content_type="application/json", headers=headers).status_code
        == 200
    )


def test_the_secret_never_reaches_the_log(client, integration, order, caplog):
    with caplog.at_level(logging.DEBUG):
        deliver(client, integration, event_body(order_uuid=order.pk), secret="f" * 48)
        deliver(client, integration, event_body(order_uuid=order.pk))
    assert SECRET not in caplog.text
    assert "f" * 48 not in caplog.text
