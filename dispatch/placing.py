"""Handing an order to its provider (called by the host application, or `manage.py dispatch_order`).

An order is placed at most once: it is first taken with a conditional update
(`"externalStatus"` not_sent -> pending, our reference stored) that only one caller can win,
and only then is the provider called, with one request (providers.http's `*_once` sends try
again only when no connection could be opened). What the answer does to the order is
orders.place_plans', applied by orders.transitions.apply_place_result.

The reference is the family's (`ProviderClient.place_reference`), stored in provider_referans:
- znet: digits only, a millisecond timestamp plus random digits, as the platform sends them
  (znet's document asks for a unique id, `123456`; it may refuse UUIDs). znet's orders have no
  id of their own, so the referans is also the order's "externalOrderId", as the platform
  stores it (both platform checkers skip orders without one);
- apstore / barakat and internal: our order id (32 hex digits), sent as `order_uuid`, which
  their client API requires to be a UUID and finds orders by (`uuid=1`). "externalOrderId" is
  the provider's own order id from the place answer, when it names one.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from orders.columns import storable_place_result
from orders.models import EventSource, ExternalStatus, Order, OrderEvent
from orders.queries import NotAnId, parse_uuid, uuid_or_none
from orders.transitions import apply_place_result
from providers.base import PlaceRequest, PlaceResult, PlaceState, ProviderClient
from providers.http import HttpLimits
from providers.models import Integration
from providers.registry import UnknownProvider, client_class_for
from schedules.book import schedule_for
from schedules.rules import CheckRules

log = logging.getLogger(__name__)

# A new reference that another order already holds is drawn again, at most this many times.
_REFERENCE_DRAWS = 5


class DispatchError(Exception):
    """The order cannot be dispatched; nothing was sent. The message says why in one line."""


@dataclass(frozen=True)
class DispatchResult:
    order_id: uuid.UUID
    external_status: str
    message: str


def dispatch_order(order_id: object, request: PlaceRequest, integration_id: object = None) -> DispatchResult:
    """Place `order_id` with its integration's provider (a providers.base.PlaceRequest)."""
    order, integration = _load(order_id, integration_id)
    try:
        client = client_class_for(integration.provider)(integration, limits=HttpLimits.from_settings())
    except UnknownProvider:
        raise DispatchError(f"integration {integration.pk} has unknown provider {integration.provider!r}") from None
    # Looked up before the provider is called: a refresh of the schedules (a query at most once
    # a minute) then never delays storing the answer.
    rules = CheckRules.from_settings()
    schedule = schedule_for(str(integration.pk), rules)
    now = timezone.now()
    reference = _new_reference(client, order)
    _take_for_dispatch(order, integration, reference, client.reference_is_external_id, now, rules)
    try:
        answer = client.place_order(reference, request)
    finally:
        client.close()
    return _store_answer(order, answer, reference, schedule, rules, client.limits.max_answer_bytes)


def _load(order_id, integration_id):
    try:
        order_uuid = parse_uuid(order_id)
    except NotAnId as exc:
        raise DispatchError(str(exc)) from None
    order = Order.objects.filter(pk=order_uuid).first()
    if order is None:
        raise DispatchError(f"order {order_uuid} does not exist")
    if order.external_status != ExternalStatus.NOT_SENT:
        raise DispatchError(f"order {order_uuid} was already dispatched (externalStatus={order.external_status})")
    integration_id = integration_id or order.integration_id
    integration_uuid = uuid_or_none(integration_id)
    integration = Integration.objects.filter(pk=integration_uuid).first() if integration_uuid else None
    if integration is None:
        raise DispatchError(f"order {order_uuid}: integration {integration_id!r} not found")
    if not integration.is_enabled:
        raise DispatchError(f"integration {integration.name!r} is disabled")
    return order, integration


def _new_reference(client: ProviderClient, order: Order) -> str:
    """The family's reference for `order`, held by no other order (znet's are drawn at random)."""
    for _ in range(_REFERENCE_DRAWS):
        reference = client.place_reference(order.pk)
        if not Order.objects.filter(provider_referans=reference).exclude(pk=order.pk).exists():
            return reference
    raise DispatchError(f"order {order.pk}: no unused provider reference after {_REFERENCE_DRAWS} tries")


def _take_for_dispatch(order, integration, reference, reference_is_external_id, now, rules):
    """not_sent -> pending with our reference; only one caller can win."""
    changes = {
        "external_status": ExternalStatus.PENDING,
        "integration_id": str(integration.pk),
        "provider_referans": reference,
        # Not due before the provider has had the order for a while.
        "next_check_at": now + timedelta(seconds=rules.first_check_delay_seconds),
    }
    if reference_is_external_id:
        changes["external_order_id"] = reference
    with transaction.atomic():
        taken = Order.objects.filter(pk=order.pk, external_status=ExternalStatus.NOT_SENT).update(**changes)
        if taken != 1:
            raise DispatchError(f"order {order.pk} was already dispatched by someone else")
        OrderEvent.record(
            order.pk, ExternalStatus.NOT_SENT, ExternalStatus.PENDING, now, EventSource.DISPATCH, "dispatching"
        )


def _store_answer(order, answer: PlaceResult, reference, schedule, rules, max_answer_bytes):
    now = timezone.now()
    answer, note = storable_place_result(answer, max_answer_bytes)
    new_status, stored = apply_place_result(order, answer, reference, now, schedule, note, rules=rules)
    if not stored:
        log.warning("order %s changed while being placed; the answer (%s) was not stored", order.pk, answer.state)
    if answer.state == PlaceState.NOT_SENT:
        raise DispatchError(f"order {order.pk} was not sent (it can be dispatched again): {answer.message}")
    if answer.uncertain:
        log.warning("order %s: the provider's answer was lost, left pending for a status check", order.pk)
    log.info("order %s dispatched: %s (%s)", order.pk, new_status, answer.state)
    return DispatchResult(order.pk, new_status, answer.message)
