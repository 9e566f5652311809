"""Handing orders to the provider: placed at most once, refusals recorded."""

import io
import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from orders.dispatch import DispatchError, dispatch_order
from orders.models import ExternalStatus, Order, OrderEvent
from providers.base import PlaceRequest
from providers.models import Integration

PUBG_60 = PlaceRequest(product="101", denomination="60", player_id="5551234567")


def new_order(integration):
    return Order.objects.create(external_status=ExternalStatus.NOT_SENT, integration_id=str(integration.pk))


def place_calls(sandbox):
    return [entry for entry in sandbox.request_log if entry["path"] == "pin_ekle"]


@pytest.mark.django_db
def test_accepted_order_is_sent_with_its_reference_and_first_check_time(integration, sandbox, settings):
    order = new_order(integration)
    before = timezone.now()
    result = dispatch_order(order.pk, PUBG_60)
    order.refresh_from_db()
    assert result.external_status == ExternalStatus.SENT
    assert order.external_status == ExternalStatus.SENT
    assert order.provider_referans == order.pk.hex and order.provider_referans in sandbox.orders
    assert order.sent_at >= before
    delay = (order.next_check_at - order.sent_at).total_seconds()
    assert delay == settings.MONITOR_FIRST_CHECK_DELAY_SECONDS == 60
    events = list(OrderEvent.objects.filter(order=order).values_list("from_status", "to_status", "source"))
    assert events == [("not_sent", "pending", "dispatch"), ("pending", "sent", "dispatch")]


@pytest.mark.django_db
def test_refused_order_is_failed_with_the_providers_message(integration, sandbox):
    order = new_order(integration)
    result = dispatch_order(order.pk, PlaceRequest(product="101", denomination=""))
    order.refresh_from_db()
    assert result.external_status == order.external_status == ExternalStatus.FAILED
    assert order.status == "rejected"
    assert order.provider_message == "3: Kupur Bilgisi Bulunamadı"
    assert order.next_check_at is None


@pytest.mark.django_db
def test_the_same_order_is_never_sent_twice(integration, sandbox):
    order = new_order(integration)
    dispatch_order(order.pk, PUBG_60)
    with pytest.raises(DispatchError, match="already dispatched"):
        dispatch_order(order.pk, PUBG_60)
    assert len(place_calls(sandbox)) == 1


@pytest.mark.django_db
def test_lost_answer_leaves_the_order_pending_for_the_monitor_and_never_resends(db):
    down = Integration.objects.create(
        name="down", provider="znet", base_url="http://127.0.0.1:9", kod="k", sifre="pw-1"
    )
    order = new_order(down)
    result = dispatch_order(order.pk, PUBG_60)
    order.refresh_from_db()
    assert result.external_status == order.external_status == ExternalStatus.PENDING
    assert order.provider_referans == order.pk.hex and order.sent_at is not None
    assert order.last_check_error.startswith("dispatch answer unknown: connection failed")
    assert "pw-1" not in order.last_check_error
    assert order.next_check_at > timezone.now() + timedelta(seconds=30)
    with pytest.raises(DispatchError):
        dispatch_order(order.pk, PUBG_60)


@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatches_place_the_order_once(integration, sandbox):
    order = new_order(integration)
    outcomes = []

    def dispatch():
        try:
            outcomes.append(dispatch_order(order.pk, PUBG_60).external_status)
        except DispatchError as exc:
            outcomes.append(str(exc))
        finally:
            from django.db import connection

            connection.close()

    threads = [threading.Thread(target=dispatch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(ExternalStatus.SENT) == 1
    assert len(place_calls(sandbox)) == 1


@pytest.mark.django_db
def test_dispatch_order_command(integration, sandbox):
    order = new_order(integration)
    out = io.StringIO()
    call_command("dispatch_order", "--order-id", str(order.pk), "--product", "101", "--denomination", "60", stdout=out)
    assert out.getvalue().startswith(f"order {order.pk}: sent")
    with pytest.raises(CommandError, match="already dispatched"):
        call_command("dispatch_order", "--order-id", str(order.pk), "--product", "101")
    with pytest.raises(CommandError, match="not an order id"):
        call_command("dispatch_order", "--order-id", "nope", "--product", "101")
