"""While an integration's webhooks arrive, its schedule is the safety net: checks 5, 15 and 30
minutes and then every hour after sending, the gaps wider than the backoff cap; an event moves
any order no run holds."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from health.stuck import StuckLimits, stuck_orders
from hooks.models import WebhookSetting
from hooks.schedule import SAFETY_NET
from orders.models import ExternalStatus, Order
from sandbox.internal import InternalSandbox, SandboxConfig
from schedules.book import schedule_for
from schedules.offsets import default_schedule
from schedules.rules import CheckRules
from tests.factories import create_sent_order
from tests.hooks.helpers import deliver, event_body, internal_with_webhook

pytestmark = pytest.mark.django_db

DEFAULT = tuple(default_schedule(600.0))


def pushed_since(integration, ago):
    WebhookSetting.objects.filter(pk=integration.pk).update(last_event_at=timezone.now() - ago)


def test_the_safety_net_while_events_arrive_and_the_learned_schedule_otherwise():
    integration = internal_with_webhook()
    assert schedule_for(str(integration.pk), CheckRules.from_settings()) == DEFAULT  # no event yet

    pushed_since(integration, timedelta(minutes=59))
    assert schedule_for(str(integration.pk), CheckRules.from_settings()) == SAFETY_NET
    assert SAFETY_NET[:5] == (300.0, 900.0, 1800.0, 3600.0, 7200.0) and SAFETY_NET[-1] == 24 * 3600.0
    assert schedule_for(str(integration.pk).upper(), CheckRules.from_settings()) == SAFETY_NET

    pushed_since(integration, timedelta(minutes=61))
    assert schedule_for(str(integration.pk), CheckRules.from_settings()) == DEFAULT
    pushed_since(integration, timedelta(0))
    WebhookSetting.objects.filter(pk=integration.pk).update(enabled=False)
    assert schedule_for(str(integration.pk), CheckRules.from_settings()) == DEFAULT


@pytest.fixture
def tenant():
    server = InternalSandbox(SandboxConfig(token="tok-1", seed=3)).start()
    yield server
    server.stop()


def checked_pushed_order(tenant):
    """An order of a pushed integration, sent 1000 s ago and still in progress at the tenant,
    after one check: (integration, order as stored)."""
    integration = internal_with_webhook(base_url=tenant.base_url)
    pushed_since(integration, timedelta(0))
    order = create_sent_order(integration, sent_ago=timedelta(seconds=1000), next_check_at=timezone.now())
    tenant.add_order(str(order.pk), checks_until_final=10**6)
    Order.objects.filter(pk=order.pk).update(provider_referans=order.pk.hex)
    call_command("check_pending_orders", stdout=StringIO())
    order.refresh_from_db()
    return integration, order


def test_a_check_of_a_pushed_order_schedules_the_nets_next_check_and_an_event_then_moves_it(client, tenant):
    integration, order = checked_pushed_order(tenant)

    # The net's next check, 30 min after sending: further than the 600 s cap, and not stuck.
    assert order.next_check_at - order.sent_at == timedelta(seconds=1800)
    assert order.monitor_leased_until is not None and order.monitor_leased_until != order.next_check_at
    assert stuck_orders(timezone.now(), StuckLimits.from_settings()) == []
    assert deliver(client, integration, event_body(order_uuid=order.pk)).status_code == 200
    order.refresh_from_db()
    assert order.next_check_at <= timezone.now()


def test_an_order_whose_event_is_lost_is_completed_at_the_nets_next_check(tenant, time_machine):
    _, order = checked_pushed_order(tenant)
    tenant.finish_in(tenant.find_order(str(order.pk)), 0)  # final at the tenant; no event comes

    call_command("check_pending_orders", stdout=StringIO())
    assert Order.objects.get(pk=order.pk).external_status != ExternalStatus.DONE  # not due before the net's check
    time_machine.move_to(order.next_check_at + timedelta(seconds=1))
    call_command("check_pending_orders", stdout=StringIO())

    assert Order.objects.get(pk=order.pk).external_status == ExternalStatus.DONE
