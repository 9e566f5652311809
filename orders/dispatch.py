"""Handing an order to its provider (called by the host application, or `manage.py dispatch_order`).

An order is placed at most once: it is first taken with a conditional update
(`"externalStatus"` not_sent -> pending, our reference stored) that only one caller can win,
and only then is the provider called. If the provider's answer is lost (timeout, garbled), the
order stays pending with its reference: the monitor asks the provider about it later instead of
placing it again.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from orders.models import EventSource, ExternalStatus, Order, OrderEvent, PlatformStatus
from orders.signals import send_order_finalized
from providers.models import Integration
from providers.registry import UnknownProvider, client_class_for

log = logging.getLogger(__name__)


class DispatchError(Exception):
    """The order cannot be dispatched; nothing was sent. The message says why in one line."""


@dataclass(frozen=True)
class DispatchResult:
    order_id: uuid.UUID
    external_status: str
    message: str


def dispatch_order(order_id, request, integration_id=None):
    """Place `order_id` with its integration's provider (a providers.base.PlaceRequest)."""
    order, integration = _load(order_id, integration_id)
    try:
        client = client_class_for(integration.provider)(integration)
    except UnknownProvider:
        raise DispatchError(f"integration {integration.pk} has unknown provider {integration.provider!r}") from None
    reference = order.pk.hex
    now = timezone.now()
    _take_for_dispatch(order, integration, reference, now)
    try:
        answer = client.place_order(reference, request)
    finally:
        client.close()
    return _store_answer(order, answer, reference)


def _load(order_id, integration_id):
    try:
        order_uuid = uuid.UUID(str(order_id))
    except ValueError:
        raise DispatchError(f"{order_id!r} is not an order id (expected a UUID)") from None
    order = Order.objects.filter(pk=order_uuid).first()
    if order is None:
        raise DispatchError(f"order {order_uuid} does not exist")
    if order.external_status != ExternalStatus.NOT_SENT:
        raise DispatchError(f"order {order_uuid} was already dispatched (externalStatus={order.external_status})")
    integration_id = integration_id or order.integration_id
    integration = None
    if integration_id:
        try:
            integration = Integration.objects.filter(pk=uuid.UUID(str(integration_id))).first()
        except ValueError:
            pass
    if integration is None:
        raise DispatchError(f"order {order_uuid}: integration {integration_id!r} not found")
    if not integration.enabled:
        raise DispatchError(f"integration {integration.name!r} is disabled")
    return order, integration


def _take_for_dispatch(order, integration, reference, now):
    """not_sent -> pending with our reference; only one caller can win."""
    with transaction.atomic():
        taken = Order.objects.filter(pk=order.pk, external_status=ExternalStatus.NOT_SENT).update(
            external_status=ExternalStatus.PENDING,
            integration_id=str(integration.pk),
            provider_referans=reference,
            # Not due before the provider has had the order for a while.
            next_check_at=now + timedelta(seconds=settings.MONITOR_FIRST_CHECK_DELAY_SECONDS),
        )
        if taken != 1:
            raise DispatchError(f"order {order.pk} was already dispatched by someone else")
        _record_event(order.pk, ExternalStatus.NOT_SENT, ExternalStatus.PENDING, now, "dispatching")


def _store_answer(order, answer, reference):
    now = timezone.now()
    pending = Order.objects.filter(pk=order.pk, external_status=ExternalStatus.PENDING)
    with transaction.atomic():
        if answer.accepted:
            changes = {
                "external_status": ExternalStatus.SENT,
                "sent_at": now,
                "next_check_at": now + timedelta(seconds=settings.MONITOR_FIRST_CHECK_DELAY_SECONDS),
                "provider_message": answer.message,
                "last_message": "sent to the provider",
            }
            if answer.reference and answer.reference != reference:
                changes["external_order_id"] = answer.reference
            new_status = ExternalStatus.SENT
        elif answer.uncertain:
            # The provider may have the order: keep it pending so the monitor asks about it.
            changes = {"last_check_error": f"dispatch answer unknown: {answer.message}", "sent_at": now}
            new_status = ExternalStatus.PENDING
        else:
            changes = {
                "external_status": ExternalStatus.FAILED,
                "status": PlatformStatus.REJECTED,
                "provider_message": answer.message,
                "last_message": f"refused by the provider: {answer.message}",
                "next_check_at": None,
            }
            new_status = ExternalStatus.FAILED
        pending.update(**changes)
        if new_status != ExternalStatus.PENDING:
            _record_event(order.pk, ExternalStatus.PENDING, new_status, now, answer.message)
        if new_status == ExternalStatus.FAILED:
            transaction.on_commit(lambda: _send_failed(order.pk))
    log.info("order %s dispatched: %s", order.pk, new_status)
    return DispatchResult(order.pk, new_status, answer.message)


def _record_event(order_id, from_status, to_status, when, message):
    OrderEvent.objects.create(
        order_id=order_id,
        from_status=from_status,
        to_status=to_status,
        created_at=when,
        source=EventSource.DISPATCH,
        message=message or "",
    )


def _send_failed(order_id):
    send_order_finalized(Order.objects.get(pk=order_id), "failed")
