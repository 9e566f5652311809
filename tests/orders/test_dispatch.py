"""Handing orders to the provider: placed at most once, refusals recorded, a lost or duplicate
answer never taken for a refusal (znet and apstore sandboxes over real HTTP)."""

import io
import threading
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from orders.dispatch import DispatchError, dispatch_order
from orders.models import ExternalStatus, OrderEvent, PlatformStatus
from orders.monitor import check_single_order
from orders.schedule import next_check_offset
from orders.schedule_book import BOOK
from providers.base import PlaceRequest
from providers.models import Integration
from sandbox.apstore import DUPLICATE_UUID_MESSAGE, ApstoreSandbox
from sandbox.apstore import SandboxConfig as ApstoreConfig
from sandbox.znet import DUPLICATE_REFERENCE_LINE
from tests.factories import create_unsent_order
from tests.orders.completions import completed_orders

PUBG_60 = PlaceRequest(product="101", denomination="60", player_id="5551234567")
APSTORE_TOKEN = "apst-dispatch-5e21c0"


def place_calls(sandbox):
    return [entry for entry in sandbox.request_log if entry["path"] in ("pin_ekle", "newOrder")]


@dataclass
class Provider:
    sandbox: object
    integration: Integration
    request: PlaceRequest
    duplicate_message: str

    def has_order(self, reference):
        if isinstance(self.sandbox, ApstoreSandbox):
            return self.sandbox.find_order(reference) is not None
        return reference in self.sandbox.orders

    def add_order(self, reference):
        if isinstance(self.sandbox, ApstoreSandbox):
            return self.sandbox.add_order(order_uuid=reference, checks_until_final=1)
        return self.sandbox.add_order(reference, checks_until_final=1)


@pytest.fixture
def apstore():
    server = ApstoreSandbox(ApstoreConfig(token=APSTORE_TOKEN, seed=11)).start()
    yield server
    server.stop()


@pytest.fixture(params=["znet", "apstore"])
def provider(request, db):
    """Each test using it runs against the znet sandbox and the apstore sandbox. Orders placed
    there are final at their first status check."""
    if request.param == "znet":
        sandbox = request.getfixturevalue("sandbox")
        integration = request.getfixturevalue("integration")
        place = Provider(sandbox, integration, PUBG_60, DUPLICATE_REFERENCE_LINE.replace("|", ": ", 1))
    else:
        sandbox = request.getfixturevalue("apstore")
        integration = Integration.objects.create(
            name="apstore sandbox", provider="apstore", base_url=sandbox.base_url, api_token=APSTORE_TOKEN
        )
        place = Provider(sandbox, integration, PlaceRequest(product="12"), DUPLICATE_UUID_MESSAGE)
    sandbox.config.checks_until_final = 1
    return place


@pytest.mark.django_db
def test_accepted_order_is_sent_with_its_reference_and_first_check_time(integration, sandbox, settings):
    order = create_unsent_order(integration)
    before = timezone.now()
    result = dispatch_order(order.pk, PUBG_60)
    order.refresh_from_db()
    assert result.external_status == ExternalStatus.SENT
    assert order.external_status == ExternalStatus.SENT
    assert order.provider_referans == order.pk.hex and order.provider_referans in sandbox.orders
    assert order.sent_at >= before
    # No completed orders of this integration yet: the default schedule's first check, 10 s.
    assert (order.next_check_at - order.sent_at).total_seconds() == 10
    events = list(OrderEvent.objects.filter(order=order).values_list("from_status", "to_status", "source"))
    assert events == [("not_sent", "pending", "dispatch"), ("pending", "sent", "dispatch")]


@pytest.mark.django_db
def test_the_first_check_comes_from_the_schedule_learned_for_the_integration(integration, sandbox):
    # 100 completions of this integration 40-44 s after sending: checking before 40 s is wasted.
    completed_orders(integration.pk, [40 + number % 5 for number in range(100)])
    first_check = next_check_offset(BOOK.schedule_for(str(integration.pk)), 0, 600)
    assert 40 <= first_check <= 44
    order = create_unsent_order(integration)

    dispatch_order(order.pk, PUBG_60)

    order.refresh_from_db()
    assert order.external_status == ExternalStatus.SENT
    assert (order.next_check_at - order.sent_at).total_seconds() == first_check


@pytest.mark.django_db
def test_refused_order_is_failed_with_the_providers_message(
    integration, sandbox, finalized, django_capture_on_commit_callbacks
):
    order = create_unsent_order(integration)
    with django_capture_on_commit_callbacks(execute=True):
        result = dispatch_order(order.pk, PlaceRequest(product="101", denomination=""))
    order.refresh_from_db()
    assert finalized == [(order.pk, "failed")]
    assert result.external_status == order.external_status == ExternalStatus.FAILED
    assert order.status == "rejected"
    assert order.provider_message == "3: Kupur Bilgisi Bulunamadı"
    assert order.next_check_at is None


@pytest.mark.django_db
def test_the_same_order_is_never_sent_twice(integration, sandbox):
    order = create_unsent_order(integration)
    dispatch_order(order.pk, PUBG_60)
    with pytest.raises(DispatchError, match="already dispatched"):
        dispatch_order(order.pk, PUBG_60)
    assert len(place_calls(sandbox)) == 1


def test_a_place_answer_lost_to_the_read_timeout_leaves_the_order_pending_then_the_monitor_completes_it(
    provider, settings, finalized, django_capture_on_commit_callbacks, time_machine
):
    settings.PROVIDER_RETRY_ATTEMPTS = 3
    provider.sandbox.config.first_place_delay = 1.5  # the provider takes the order, answers after the 1 s read timeout
    order = create_unsent_order(provider.integration)
    reference = order.pk.hex

    with django_capture_on_commit_callbacks(execute=True):
        result = dispatch_order(order.pk, provider.request)

    order.refresh_from_db()
    assert result.external_status == order.external_status == ExternalStatus.PENDING
    assert order.status == PlatformStatus.PENDING
    assert order.provider_referans == reference and provider.has_order(reference)
    assert order.last_check_error.startswith("dispatch answer unknown: timed out")
    # Due for its first status check soon, counted from the lost answer.
    assert (order.next_check_at - order.sent_at).total_seconds() == settings.MONITOR_FIRST_CHECK_DELAY_SECONDS
    assert len(place_calls(provider.sandbox)) == 1
    assert finalized == []
    assert list(OrderEvent.objects.filter(order=order).values_list("to_status", flat=True)) == ["pending"]

    time_machine.move_to(order.next_check_at + timedelta(seconds=1))
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("check_pending_orders", stdout=out)

    order.refresh_from_db()
    assert "checked=1 completed=1" in out.getvalue()
    assert (order.external_status, order.status) == (ExternalStatus.COMPLETED, PlatformStatus.APPROVED)
    assert order.pin_code
    assert finalized == [(order.pk, "completed")]
    assert len(place_calls(provider.sandbox)) == 1


def test_a_duplicate_reference_answer_means_the_provider_has_the_order(
    provider, settings, finalized, django_capture_on_commit_callbacks
):
    """The provider already has an order under this reference (placed before, its answer lost):
    znet's `6|... daha önce ...`, apstore's "order_uuid already used". Sent and checked, never failed."""
    order = create_unsent_order(provider.integration)
    provider.add_order(order.pk.hex)

    with django_capture_on_commit_callbacks(execute=True):
        result = dispatch_order(order.pk, provider.request)

    order.refresh_from_db()
    assert result.external_status == order.external_status == ExternalStatus.SENT
    assert order.status == PlatformStatus.PENDING
    assert order.provider_message == provider.duplicate_message
    assert order.last_message.startswith("the provider already had this order")
    assert (order.next_check_at - order.sent_at).total_seconds() == 10  # the first check of the schedule
    events = list(OrderEvent.objects.filter(order=order).values_list("from_status", "to_status"))
    assert events == [("not_sent", "pending"), ("pending", "sent")]
    assert [entry["result"] for entry in place_calls(provider.sandbox)] in (["duplicate"], [DUPLICATE_UUID_MESSAGE])
    assert finalized == []

    with django_capture_on_commit_callbacks(execute=True):
        checked, outcome = check_single_order(order.pk)

    assert (outcome, checked.external_status) == ("completed", ExternalStatus.COMPLETED)
    assert finalized == [(order.pk, "completed")]


def test_an_order_that_could_not_be_sent_goes_back_to_not_sent_and_can_be_dispatched_again(
    integration, sandbox, settings, finalized, django_capture_on_commit_callbacks
):
    """No connection could be opened on any attempt: the request provably never left, so the
    order is not the provider's. It is handed back (not_sent), never left pending or failed."""
    settings.PROVIDER_RETRY_ATTEMPTS = 2
    down = Integration.objects.create(
        name="down", provider="znet", base_url="http://127.0.0.1:9", kod="k", sifre="pw-1"
    )
    order = create_unsent_order(down)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DispatchError, match="was not sent"):
        dispatch_order(order.pk, PUBG_60)

    order.refresh_from_db()
    assert order.external_status == ExternalStatus.NOT_SENT and order.status == PlatformStatus.PENDING
    assert order.last_check_error.startswith("not sent: connection failed")
    assert "pw-1" not in order.last_check_error
    assert order.sent_at is None and order.next_check_at is None
    events = list(OrderEvent.objects.filter(order=order).values_list("from_status", "to_status"))
    assert events == [("not_sent", "pending"), ("pending", "not_sent")]
    assert finalized == []

    assert dispatch_order(order.pk, PUBG_60, integration_id=integration.pk).external_status == ExternalStatus.SENT
    assert len(place_calls(sandbox)) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatches_place_the_order_once(integration, sandbox):
    order = create_unsent_order(integration)
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
    order = create_unsent_order(integration)
    out = io.StringIO()
    call_command("dispatch_order", "--order-id", str(order.pk), "--product", "101", "--denomination", "60", stdout=out)
    assert out.getvalue().startswith(f"order {order.pk}: sent")
    with pytest.raises(CommandError, match="already dispatched"):
        call_command("dispatch_order", "--order-id", str(order.pk), "--product", "101")
    with pytest.raises(CommandError, match="--order-id must be a UUID"):
        call_command("dispatch_order", "--order-id", "nope", "--product", "101")
