"""The order admin: pages render, PINs stay masked, "check now" checks at the (sandbox) provider."""

import pytest
from django.urls import reverse

from orders.models import EventSource, ExternalStatus, Order, OrderEvent

PIN = "ABCD-EFGH-1234-5678"


def changelist():
    return reverse("admin:orders_order_changelist")


def change_url(order):
    return reverse("admin:orders_order_change", args=[order.pk])


def check_now(client, *orders):
    return client.post(
        changelist(),
        {"action": "check_now", "_selected_action": [str(o.pk) for o in orders]},
        follow=True,
    )


@pytest.fixture
def completed_order(make_order):
    return make_order(external_status=ExternalStatus.COMPLETED, pin_code=PIN, provider_message="İşlem başarılı")


def test_changelist_shows_orders_with_masked_pin(admin_client, completed_order):
    response = admin_client.get(changelist())

    assert response.status_code == 200
    html = response.content.decode()
    assert str(completed_order.pk) in html
    assert "****5678" in html
    assert PIN not in html


def test_change_page_shows_pin_masked(admin_client, completed_order):
    response = admin_client.get(change_url(completed_order))

    assert response.status_code == 200
    html = response.content.decode()
    assert "****5678" in html
    assert PIN not in html
    assert 'name="pin_code"' not in html


def test_changelist_filters_and_search(admin_client, make_order, integration):
    sent = make_order()
    processing = make_order(external_status=ExternalStatus.PROCESSING)

    by_status = admin_client.get(changelist(), {"external_status": "processing"}).content.decode()
    by_provider = admin_client.get(changelist(), {"provider_id": str(integration.pk)}).content.decode()
    by_reference = admin_client.get(changelist(), {"q": sent.provider_referans}).content.decode()
    by_id = admin_client.get(changelist(), {"q": str(processing.pk)}).content.decode()

    assert str(processing.pk) in by_status and str(sent.pk) not in by_status
    assert str(processing.pk) in by_provider and str(sent.pk) in by_provider
    assert str(sent.pk) in by_reference and str(processing.pk) not in by_reference
    assert str(processing.pk) in by_id and str(sent.pk) not in by_id


def test_check_now_completes_order_and_history_shows_it(admin_client, make_order, sandbox):
    order = make_order(outcome="completed", checks_until_final=1, pin=PIN)

    response = check_now(admin_client, order)

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.external_status == ExternalStatus.COMPLETED
    assert order.pin_code == PIN
    assert len(sandbox.status_checks(order.provider_referans)) == 1
    event = OrderEvent.objects.get(order=order)
    assert (event.from_status, event.to_status, event.source) == ("sent", "completed", EventSource.MANUAL)
    html = response.content.decode()
    assert f"Order {order.pk}: completed" in html
    assert PIN not in html

    page = admin_client.get(change_url(order)).content.decode()
    assert "Manual" in page and "İşlem başarılı" in page
    assert PIN not in page


def test_check_now_of_a_long_pin_holds_the_order_and_shows_the_pin_masked(admin_client, make_order):
    long_pin = "LONGPIN-" + "9" * 140
    order = make_order(outcome="completed", checks_until_final=1, pin=long_pin)

    html = check_now(admin_client, order).content.decode()

    order.refresh_from_db()
    assert (order.external_status, order.pin_code, order.pin_code_full) == (ExternalStatus.SENT, None, long_pin)
    assert f"Order {order.pk}: held" in html and "does not fit" in html
    page = admin_client.get(change_url(order)).content.decode()
    assert "****9999 (held: too long for pinCode, in pin_code_full)" in page
    assert long_pin not in html + page


def test_check_now_reports_orders_that_cannot_be_checked(admin_client, completed_order, make_order):
    pending = make_order(outcome="completed", checks_until_final=3)

    response = check_now(admin_client, completed_order, pending)

    html = response.content.decode()
    assert f"{completed_order.pk} is already final" in html
    assert f"Order {pending.pk}: processing" in html
    assert Order.objects.get(pk=pending.pk).external_status == ExternalStatus.PROCESSING


def test_orders_cannot_be_edited_or_deleted_in_the_admin(admin_client, completed_order):
    response = admin_client.post(change_url(completed_order), {"external_status": "failed"})

    assert response.status_code == 403
    assert Order.objects.get(pk=completed_order.pk).external_status == ExternalStatus.COMPLETED
    assert "delete_selected" not in admin_client.get(changelist()).content.decode()


def test_check_now_refuses_too_many_orders_at_once(admin_client, make_order, sandbox, monkeypatch):
    monkeypatch.setattr("orders.admin.MAX_CHECK_NOW", 1)
    orders = [make_order(), make_order()]

    html = check_now(admin_client, *orders).content.decode()

    assert "Select at most 1 orders to check at once." in html
    assert sandbox.status_checks() == []
