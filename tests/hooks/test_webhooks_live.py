"""Webhooks over the real path: the internal sandbox signs and posts its order-status events to
the monitor's endpoint served by gunicorn, the loop runs as its own process."""

import statistics
import threading
import time
import uuid
from datetime import timedelta
from io import StringIO

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from hooks.models import SeenNonce, WebhookSetting
from orders.models import ExternalStatus, Order
from providers.models import Integration
from sandbox.internal import InternalSandbox, SandboxConfig
from tests.commands import served_admin, start_command
from tests.factories import create_sent_order
from tests.hooks.helpers import SECRET, event_body, hook_path, signed_headers

TOKEN = "tnt-hooks-51c0"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tenant():
    server = InternalSandbox(SandboxConfig(token=TOKEN, seed=17)).start()
    yield server
    server.stop()


@pytest.fixture
def pushed(tenant):
    """An internal integration at the tenant, its webhook set up with SECRET."""
    integration = Integration.objects.create(
        name="shop2", provider="internal", base_url=tenant.base_url, api_token=TOKEN
    )
    WebhookSetting.objects.create(integration_id=integration.pk, secret=SECRET)
    return integration


def order_at_tenant(tenant, integration, next_check_in=timedelta(seconds=100)):
    """An order placed with the tenant under our id, checked just now and next in 100 s."""
    now = timezone.now()
    order = create_sent_order(integration, last_sync_at=now, next_check_at=now + next_check_in)
    placed = tenant.add_order(str(order.pk), checks_until_final=10**6)
    Order.objects.filter(pk=order.pk).update(provider_referans=order.pk.hex, external_order_id=placed.order_id)
    return order, placed


def wait_for(condition, timeout=20.0, what="the order"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"{what} did not get there within {timeout} s")


def stored_pin(order):
    return (
        Order.objects.filter(pk=order.pk, external_status=ExternalStatus.DONE)
        .values_list("pin_code", flat=True)
        .first()
    )


@pytest.mark.slow
def test_a_replay_is_refused_whichever_of_two_gunicorn_workers_gets_it(pushed):
    order = create_sent_order(
        pushed, last_sync_at=timezone.now(), next_check_at=timezone.now() + timedelta(seconds=100)
    )
    body = event_body(order_uuid=order.pk)
    headers = {**signed_headers(hook_path(pushed), body), "Content-Type": "application/json", "Connection": "close"}
    answers = []
    with served_admin(workers=2) as base_url:
        start = threading.Barrier(8)

        def deliver():
            start.wait()
            answers.append(requests.post(f"{base_url}{hook_path(pushed)}", data=body, headers=headers, timeout=10))

        threads = [threading.Thread(target=deliver) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Later, one at a time, on new connections: each worker in turn meets the stored nonce.
        later = [
            requests.post(f"{base_url}{hook_path(pushed)}", data=body, headers=headers, timeout=10) for _ in range(6)
        ]

    assert sorted(answer.status_code for answer in answers) == [200] + [401] * 7
    assert [answer.status_code for answer in later] == [401] * 6
    assert SeenNonce.objects.count() == 1
    order.refresh_from_db()
    assert order.next_check_at <= timezone.now()


@pytest.mark.slow
def test_the_sandboxs_events_over_http_duplicates_bad_signatures_and_reordering(tenant, pushed):
    duplicated, _ = order_at_tenant(tenant, pushed)
    forged, _ = order_at_tenant(tenant, pushed)
    late, _ = order_at_tenant(tenant, pushed)
    early, _ = order_at_tenant(tenant, pushed)
    with served_admin(workers=2) as base_url:
        sender = tenant.send_webhooks(f"{base_url}{hook_path(pushed)}", SECRET)
        sender.queue("duplicate")
        tenant.finish_in(tenant.find_order(str(duplicated.pk)), 0)
        wait_for(lambda: len(sender.deliveries) == 2, what="the duplicated event")
        sender.queue("bad_signature")
        tenant.finish_in(tenant.find_order(str(forged.pk)), 0)
        wait_for(lambda: len(sender.deliveries) == 3, what="the forged event")
        # A late delivery arrives after a later one (reordered): both are taken, in their order.
        sender.late_seconds = 0.5
        sender.queue("late")
        tenant.finish_in(tenant.find_order(str(late.pk)), 0)
        tenant.finish_in(tenant.find_order(str(early.pk)), 0.1)
        wait_for(lambda: len(sender.deliveries) == 5, what="the reordered events")

    assert [(d["order_uuid"], d["answer"]) for d in sender.deliveries] == [
        (str(duplicated.pk), 200),
        (str(duplicated.pk), 401),  # the same nonce again: a replay
        (str(forged.pk), 401),
        (str(early.pk), 200),
        (str(late.pk), 200),
    ]
    for order in (duplicated, forged, late, early):
        order.refresh_from_db()
    assert duplicated.next_check_at <= timezone.now() < forged.next_check_at
    assert late.next_check_at <= timezone.now() and early.next_check_at <= timezone.now()


def test_a_lost_event_leaves_the_order_to_its_schedule(tenant, pushed):
    order, placed = order_at_tenant(tenant, pushed, next_check_in=timedelta(seconds=0.5))
    sender = tenant.send_webhooks("http://127.0.0.1:9/hooks/internal/x/", SECRET)
    sender.queue("lost")
    tenant.finish_in(placed, 0)
    wait_for(lambda: len(sender.deliveries) == 1, what="the lost event")
    time.sleep(0.6)  # the scheduled check comes due

    call_command("check_pending_orders", stdout=StringIO())

    assert sender.deliveries[0]["fault"] == "lost" and sender.deliveries[0]["sent_at"] is None
    assert stored_pin(order) == placed.pin


@pytest.mark.slow
@pytest.mark.postgres
def test_notify_wakes_the_sleeping_loop_at_once(tenant, pushed):
    orders = [order_at_tenant(tenant, pushed) for _ in range(3)]
    with served_admin() as base_url:
        sender = tenant.send_webhooks(f"{base_url}{hook_path(pushed)}", SECRET)
        loop = start_command("check_pending_orders", "--loop", "--max-seconds", "60")
        try:
            time.sleep(2.0)  # the loop is up and sleeping: nothing is due for 100 s
            for order, placed in orders:
                tenant.finish_in(placed, 0)
                wait_for(lambda order=order: stored_pin(order) is not None)
                time.sleep(0.3)  # a fresh sleep of the loop between events
        finally:
            loop.terminate()
            loop.communicate(timeout=30)

    delays = []
    for order, placed in orders:
        (delivery,) = [d for d in sender.deliveries if d["order_uuid"] == str(order.pk)]
        (check,) = tenant.status_checks(str(order.pk))
        assert delivery["answer"] == 200
        delays.append(check["at"] - delivery["sent_at"])
        assert stored_pin(order) == placed.pin
    print("event delivery to status check, seconds:", [round(d, 3) for d in delays])
    # From the event's delivery to the status check, by the sandbox's own clock; a one-second
    # poll alone would give about 0.5 s on average.
    assert max(delays) < 1.0, delays
    assert statistics.median(delays) < 0.3, delays


def test_an_unknown_integration_id_in_the_path_is_refused(client, db):
    body = event_body(order_uuid=uuid.uuid4())
    path = f"/hooks/internal/{uuid.uuid4()}/"
    answer = client.post(path, data=body, content_type="application/json", headers=signed_headers(path, body))
    assert answer.status_code == 401
