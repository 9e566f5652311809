"""While an integration's webhooks arrive, its schedule is the safety net: checks every 100 s
up to 600 s after sending, then the usual tail; every gap under the lease margin, so an event
can always move the order."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from hooks.models import WebhookSetting
from hooks.schedule import PUSHED, safety_net
from orders.models import Order
from orders.schedule import default_schedule
from orders.schedule_book import schedule_for
from sandbox.internal import InternalSandbox, SandboxConfig
from tests.factories import create_sent_order
from tests.hooks.helpers import deliver, event_body, internal_with_webhook

pytestmark = pytest.mark.django_db

DEFAULT = tuple(default_schedule(600.0))


def pushed_since(integration, ago):
    WebhookSetting.objects.filter(pk=integration.pk).update(last_event_at=timezone.now() - ago)
    PUSHED.forget()


def test_the_safety_net_while_events_arrive_and_the_learned_schedule_otherwise():
    integration = internal_with_webhook()
    assert schedule_for(str(integration.pk)) == DEFAULT  # no event yet

    pushed_since(integration, timedelta(minutes=59))
    assert schedule_for(str(integration.pk)) == safety_net() == (100.0, 200.0, 300.0, 400.0, 500.0, 600.0)
    assert schedule_for(str(integration.pk).upper()) == safety_net()

    pushed_since(integration, timedelta(minutes=61))
    assert schedule_for(str(integration.pk)) == DEFAULT
    pushed_since(integration, timedelta(0))
    WebhookSetting.objects.filter(pk=integration.pk).update(enabled=False)
    PUSHED.forget()
    assert schedule_for(str(integration.pk)) == DEFAULT


def test_a_small_lease_margin_keeps_the_learned_schedule(settings):
    settings.MONITOR_LEASE_MARGIN_SECONDS = 5.0
    integration = internal_with_webhook()
    pushed_since(integration, timedelta(0))
    assert safety_net() is None
    assert schedule_for(str(integration.pk)) == DEFAULT
    settings.MONITOR_LEASE_MARGIN_SECONDS = 60.0
    assert safety_net() == tuple(54.0 * n for n in range(1, 12))  # every gap under the 60 s margin


def test_a_check_of_a_pushed_order_schedules_within_the_margin_and_an_event_then_moves_it(client):
    tenant = InternalSandbox(SandboxConfig(token="tok-1", seed=3)).start()
    try:
        integration = internal_with_webhook(base_url=tenant.base_url)
        pushed_since(integration, timedelta(0))
        order = create_sent_order(integration, sent_ago=timedelta(seconds=130), next_check_at=timezone.now())
        tenant.add_order(str(order.pk), checks_until_final=10**6)
        Order.objects.filter(pk=order.pk).update(provider_referans=order.pk.hex)

        call_command("check_pending_orders", stdout=StringIO())

        order.refresh_from_db()
        assert order.next_check_at - order.sent_at == timedelta(seconds=200)  # the net's next offset
        assert deliver(client, integration, event_body(order_uuid=order.pk)).status_code == 200
        order.refresh_from_db()
        assert order.next_check_at <= timezone.now()
    finally:
        tenant.stop()
