"""Handing orders to the provider: placed at most once under the reference its family needs,
each place request counted, noted and its cost kept, refusals recorded (also inside an "OK"), a
lost or duplicate answer never taken for a refusal (znet, apstore and internal sandboxes over
real HTTP)."""

import io
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from dispatch.placing import DispatchError, dispatch_order
from orders.claiming import RunConfig
from orders.models import ExternalStatus, Order, OrderEvent, PlatformStatus
from orders.monitor import check_single_order
from orders.platform_tables import Customer, WalletTransaction
from providers.base import PlaceRequest
from providers.models import Integration
from sandbox.apstore import DUPLICATE_UUID_MESSAGE, REFUSED_IN_OK_MESSAGE, ApstoreSandbox
from sandbox.apstore import SandboxConfig as ApstoreConfig
from sandbox.internal import REFUSED_MESSAGE, InternalSandbox
from sandbox.internal import SandboxConfig as InternalConfig
from sandbox.znet import DUPLICATE_REFERENCE_LINE, ZnetSandbox
from schedules.book import ScheduleBook
from schedules.offsets import next_check_offset
from schedules.rules import CheckRules
from tests.factories import create_unsent_order
from tests.schedules.completions import completed_orders

PUBG_60 = PlaceRequest(product="101", denomination="60", player_id="5551234567")
APSTORE_TOKEN = "apst-dispatch-5e21c0"
INTERNAL_TOKEN = "tnt-dispatch-77a1e3"


def place_calls(sandbox):
    return [entry for entry in sandbox.request_log if entry["path"] in ("pin_ekle", "newOrder")]


@dataclass
class Provider:
    name: str
    sandbox: object
    integration: Integration
    request: PlaceRequest
    duplicate_message: str

    def has_order(self, reference):
        if isinstance(self.sandbox, ZnetSandbox):
            return reference in self.sandbox.orders
        return self.sandbox.find_order(reference) is not None

    def had_order_before(self, order):
        """Make the provider hold `order` already, as if an earlier place request of it had
        arrived and its answer had been lost."""
        if isinstance(self.sandbox, ZnetSandbox):
            self.sandbox.queue_place_duplicate()  # the referans is drawn by dispatch_order
        else:
            self.sandbox.add_order(order_uuid=str(order.pk), checks_until_final=1)


@pytest.fixture
def apstore():
    server = ApstoreSandbox(ApstoreConfig(token=APSTORE_TOKEN, seed=11)).start()
    yield server
    server.stop()


@pytest.fixture
def tenant():
    server = InternalSandbox(InternalConfig(token=INTERNAL_TOKEN, seed=12)).start()
    yield server
    server.stop()


@pytest.fixture
def apstore_integration(db, apstore):
    return Integration.objects.create(
        name="apstore sandbox", provider="apstore", base_url=apstore.base_url, api_token=APSTORE_TOKEN
    )


@pytest.fixture
def internal_integration(db, tenant):
    return Integration.objects.create(
        name="shop2", provider="internal", base_url=tenant.base_url, api_token=INTERNAL_TOKEN
    )


@pytest.fixture(params=["znet", "apstore", "internal"])
def provider(request, db):
    """Each test using it runs against the znet, apstore and internal sandboxes. Orders placed
    there are final at their first status check."""
    if request.param == "znet":
        sandbox = request.getfixturevalue("sandbox")
        integration = request.getfixturevalue("integration")
        place = Provider("znet", sandbox, integration, PUBG_60, DUPLICATE_REFERENCE_LINE.replace("|", ": ", 1))
    elif request.param == "apstore":
        sandbox = request.getfixturevalue("apstore")
        integration = request.getfixturevalue("apstore_integration")
        place = Provider("apstore", sandbox, integration, PlaceRequest(product="12"), DUPLICATE_UUID_MESSAGE)
    else:
        sandbox = request.getfixturevalue("tenant")
        integration = request.getfixturevalue("internal_integration")
        place = Provider("internal", sandbox, integration, PlaceRequest(product="12"), DUPLICATE_UUID_MESSAGE)
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
    assert order.provider_referans in sandbox.orders
    assert order.sent_at >= before
    # No completed orders of this integration yet: the default schedule's first check, 10 s.
    assert (order.next_check_at - order.sent_at).total_seconds() == 10
    events = list(OrderEvent.objects.filter(order=order).values_list("from_status", "to_status", "source"))
    assert events == [("not_sent", "pending", "dispatch"), ("pending", "sent", "dispatch")]


@pytest.mark.django_db
def test_the_first_check_comes_from_the_schedule_learned_for_the_integration(integration, sandbox):
    # 100 completions of this integration 40-44 s after sending: checking before 40 s is wasted.
    completed_orders(integration.pk, [40 + number % 5 for number in range(100)])
    first_check = next_check_offset(ScheduleBook(CheckRules.from_settings()).schedule_for(str(integration.pk)), 0, 600)
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
    # "providerMessage" (shown to the customer) holds the provider's own words, no more.
    assert order.provider_message == "Kupur Bilgisi Bulunamadı"
    assert order.last_message == "refused by the provider: 3: Kupur Bilgisi Bulunamadı"
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

    with django_capture_on_commit_callbacks(execute=True):
        result = dispatch_order(order.pk, provider.request)

    order.refresh_from_db()
    assert result.external_status == order.external_status == ExternalStatus.PENDING
    assert order.status == PlatformStatus.PENDING
    assert order.attempts == 1 and order.notes_count == 1
    assert provider.has_order(order.provider_referans)
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
    assert (order.external_status, order.status) == (ExternalStatus.DONE, PlatformStatus.APPROVED)
    assert order.pin_code
    assert finalized == [(order.pk, "completed")]
    assert len(place_calls(provider.sandbox)) == 1


def test_a_duplicate_reference_answer_means_the_provider_has_the_order(
    provider, settings, finalized, django_capture_on_commit_callbacks
):
    """The provider already has an order under this reference (placed before, its answer lost):
    znet's `6|... daha önce ...`, the client APIs' "order_uuid already used". Sent and checked,
    never failed."""
    order = create_unsent_order(provider.integration)
    provider.had_order_before(order)

    with django_capture_on_commit_callbacks(execute=True):
        result = dispatch_order(order.pk, provider.request)

    order.refresh_from_db()
    assert result.external_status == order.external_status == ExternalStatus.SENT
    assert order.status == PlatformStatus.PENDING
    assert order.provider_message is None  # nothing for the customer to read yet
    assert order.last_message.startswith("the provider already had this order")
    assert order.notes[-1]["text"].startswith("sent to the provider, which already had reference")
    assert (order.next_check_at - order.sent_at).total_seconds() == 10  # the first check of the schedule
    events = list(OrderEvent.objects.filter(order=order).values_list("from_status", "to_status"))
    assert events == [("not_sent", "pending"), ("pending", "sent")]
    assert [entry["result"] for entry in place_calls(provider.sandbox)] in (["duplicate"], [DUPLICATE_UUID_MESSAGE])
    assert finalized == []
    assert order.attempts == 1
    assert [note["text"] for note in order.notes] == [
        f"sent to the provider, which already had reference {order.provider_referans}; following it"
    ]

    with django_capture_on_commit_callbacks(execute=True):
        checked, outcome = check_single_order(order.pk, RunConfig.from_settings())

    assert (outcome, checked.external_status) == ("completed", ExternalStatus.DONE)
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
    # Nothing left this host: no place request to count or note.
    assert (order.attempts, order.notes, order.notes_count) == (0, [], 0)

    assert dispatch_order(order.pk, PUBG_60, integration_id=integration.pk).external_status == ExternalStatus.SENT
    assert len(place_calls(sandbox)) == 1
    order.refresh_from_db()
    assert (order.attempts, order.notes_count) == (1, 1)
    assert order.provider_referans in sandbox.orders


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


# -- the reference each family is placed under ----------------------------------------------------


@pytest.mark.django_db
def test_a_znet_order_is_placed_under_a_referans_of_digits_kept_as_its_external_order_id(integration, sandbox):
    orders = [create_unsent_order(integration) for _ in range(5)]
    before_ms = time.time_ns() // 1_000_000

    for order in orders:
        dispatch_order(order.pk, PUBG_60)

    references = []
    for order in orders:
        order.refresh_from_db()
        # A millisecond timestamp and random digits, as the platform makes them; never our uuid.
        assert order.provider_referans.isdigit() and len(order.provider_referans) == 19
        assert int(order.provider_referans[:13]) >= before_ms
        # Both platform checkers find znet orders by "externalOrderId".
        assert order.external_order_id == order.provider_referans
        references.append(order.provider_referans)
    assert len(set(references)) == 5
    assert [entry["referans"] for entry in place_calls(sandbox)] == references


@pytest.mark.django_db
def test_a_referans_another_order_holds_is_never_reused(integration, sandbox, monkeypatch):
    taken = create_unsent_order(integration)
    order = create_unsent_order(integration)
    dispatch_order(taken.pk, PUBG_60)
    taken.refresh_from_db()
    draws = iter([taken.provider_referans, "1736200000000123456"])
    monkeypatch.setattr("providers.znet.client.new_referans", lambda: next(draws))

    dispatch_order(order.pk, PUBG_60)

    order.refresh_from_db()
    assert order.provider_referans == "1736200000000123456"


@pytest.mark.django_db
def test_client_api_orders_are_placed_under_our_order_uuid_and_keep_the_providers_id(
    apstore, apstore_integration, tenant, internal_integration
):
    """apstore and internal find orders by the order_uuid we sent (uuid=1), which must be a UUID:
    our order id; "externalOrderId" is the provider's own order id from its answer."""
    for sandbox, integration in ((apstore, apstore_integration), (tenant, internal_integration)):
        order = create_unsent_order(integration)

        dispatch_order(order.pk, PlaceRequest(product="12"))

        order.refresh_from_db()
        placed = sandbox.find_order(order.pk.hex)
        assert order.provider_referans == order.pk.hex
        assert placed.order_uuid in (order.pk.hex, str(order.pk))
        assert order.external_order_id == placed.order_id


# -- attempts, notes and the cost ----------------------------------------------------------------


def test_every_place_request_is_counted_and_noted(provider):
    order = create_unsent_order(provider.integration)
    earlier = {"by": "admin", "text": "created by hand", "at": "2026-01-07T10:00:00+00:00"}
    Order.objects.filter(pk=order.pk).update(notes=[earlier], notes_count=1)
    before = timezone.now()

    dispatch_order(order.pk, provider.request)

    order.refresh_from_db()
    assert order.attempts == 1
    assert order.notes_count == len(order.notes) == 2
    assert order.notes[0] == earlier
    note = order.notes[1]
    assert (note["by"], note["text"]) == ("system", f"sent to the provider, reference {order.provider_referans}")
    assert before <= datetime.fromisoformat(note["at"]) <= timezone.now()


@pytest.mark.django_db
def test_a_refused_order_is_counted_and_noted_with_the_providers_reason(integration, sandbox):
    order = create_unsent_order(integration)

    dispatch_order(order.pk, PlaceRequest(product="101", denomination=""))

    order.refresh_from_db()
    assert (order.external_status, order.attempts) == (ExternalStatus.FAILED, 1)
    assert [note["text"] for note in order.notes] == ["refused by the provider: 3: Kupur Bilgisi Bulunamadı"]


@pytest.mark.django_db
def test_an_integration_that_cannot_be_asked_sends_nothing_and_counts_nothing(sandbox):
    unconfigured = Integration.objects.create(name="no sifre", provider="znet", base_url=sandbox.base_url, kod="k")
    order = create_unsent_order(unconfigured)

    dispatch_order(order.pk, PUBG_60)

    order.refresh_from_db()
    assert order.external_status == ExternalStatus.FAILED
    assert (order.attempts, order.notes_count) == (0, 0)
    assert place_calls(sandbox) == []


@pytest.mark.django_db
def test_znet_s_dealer_cost_is_the_orders_cost_in_try(integration, sandbox):
    sandbox.config.place_cost = "43.25"
    order = create_unsent_order(integration)

    dispatch_order(order.pk, PUBG_60)

    order.refresh_from_db()
    assert (order.cost_amount, order.cost_currency) == (Decimal("43.25"), "TRY")


@pytest.mark.django_db
def test_an_apstore_price_is_the_orders_cost_in_the_currency_it_names(apstore, apstore_integration):
    apstore.config.price_currency = "USD"
    order = create_unsent_order(apstore_integration)

    dispatch_order(order.pk, PlaceRequest(product="12", quantity=2))

    order.refresh_from_db()
    assert (order.cost_amount, order.cost_currency) == (Decimal("5.00"), "USD")


@pytest.mark.django_db
def test_a_price_without_a_currency_keeps_the_orders_cost_currency(apstore, apstore_integration):
    order = create_unsent_order(apstore_integration)
    Order.objects.filter(pk=order.pk).update(cost_amount=Decimal("9.99"), cost_currency="EUR")

    dispatch_order(order.pk, PlaceRequest(product="12"))

    order.refresh_from_db()
    assert (order.cost_amount, order.cost_currency) == (Decimal("2.50"), "EUR")


@pytest.mark.django_db
def test_an_answer_without_a_price_leaves_the_cost_unchanged(tenant, internal_integration):
    order = create_unsent_order(internal_integration)
    Order.objects.filter(pk=order.pk).update(cost_amount=Decimal("3.10"), cost_currency="USD")

    dispatch_order(order.pk, PlaceRequest(product="12"))

    order.refresh_from_db()
    assert (order.external_status, order.cost_amount, order.cost_currency) == (
        ExternalStatus.SENT,
        Decimal("3.10"),
        "USD",
    )


@pytest.mark.django_db
def test_a_cost_too_large_for_the_column_is_not_stored_and_the_order_is_still_sent(integration, sandbox):
    sandbox.config.place_cost = "123456789.00"  # "costAmount" is numeric(10,2)
    order = create_unsent_order(integration)

    dispatch_order(order.pk, PUBG_60)

    order.refresh_from_db()
    assert (order.external_status, order.cost_amount) == (ExternalStatus.SENT, Decimal(0))


# -- "used before" in every wording, and refusals inside an OK -----------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("duplicate_answer", "message"),
    [
        ("sent_before", "4: Daha Önce Gönderilmiş (166000)"),
        ("referans_line", "6: Bu referans ile daha önce işlem yapılmış"),
        ("http409", "HTTP 409 from provider: Conflict"),
    ],
)
def test_every_znet_answer_saying_the_referans_was_used_means_znet_has_the_order(
    integration, sandbox, finalized, duplicate_answer, message
):
    sandbox.config.duplicate_answer = duplicate_answer
    sandbox.queue_place_duplicate()
    order = create_unsent_order(integration)

    dispatch_order(order.pk, PUBG_60)

    order.refresh_from_db()
    assert (order.external_status, order.status) == (ExternalStatus.SENT, PlatformStatus.PENDING)
    assert order.events.get(to_status=ExternalStatus.SENT).message == message
    assert finalized == []


@pytest.mark.django_db
def test_an_http_409_from_apstore_means_it_has_the_order(apstore, apstore_integration):
    apstore.config.duplicate_answer = "http409"
    order = create_unsent_order(apstore_integration)
    apstore.add_order(order_uuid=order.pk.hex)

    dispatch_order(order.pk, PlaceRequest(product="12"))

    order.refresh_from_db()
    assert order.external_status == ExternalStatus.SENT
    assert "already had this order" in order.last_message


@pytest.mark.django_db
def test_a_refusal_inside_apstores_ok_fails_the_order(
    apstore, apstore_integration, finalized, django_capture_on_commit_callbacks
):
    apstore.config.place_refusal_word = "reject"
    order = create_unsent_order(apstore_integration)

    with django_capture_on_commit_callbacks(execute=True):
        result = dispatch_order(order.pk, PlaceRequest(product="12"))

    order.refresh_from_db()
    assert result.external_status == order.external_status == ExternalStatus.FAILED
    assert (order.status, order.provider_message) == (PlatformStatus.REJECTED, REFUSED_IN_OK_MESSAGE)
    assert finalized == [(order.pk, "failed")]


@pytest.mark.django_db
def test_an_internal_answer_saying_reject_fails_the_order(
    tenant, internal_integration, finalized, django_capture_on_commit_callbacks
):
    tenant.config.place_refusal_word = "reject"
    order = create_unsent_order(internal_integration)

    with django_capture_on_commit_callbacks(execute=True):
        result = dispatch_order(order.pk, PlaceRequest(product="12"))

    order.refresh_from_db()
    assert result.external_status == order.external_status == ExternalStatus.FAILED
    assert (order.status, order.provider_message) == (PlatformStatus.REJECTED, REFUSED_MESSAGE)
    assert finalized == [(order.pk, "failed")]


@pytest.mark.postgres
@pytest.mark.django_db
def test_on_postgresql_the_notes_are_a_jsonb_array_the_platform_counts(integration, sandbox):
    order = create_unsent_order(integration)

    dispatch_order(order.pk, PUBG_60)

    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT jsonb_array_length(notes), "notesCount", notes -> 0 ->> \'by\', attempts, "costCurrency", '
            '"externalOrderId" = provider_referans FROM product_orders WHERE id = %s',
            [order.pk],
        )
        assert cursor.fetchone() == (1, 1, "system", 1, "TRY", True)


@pytest.mark.django_db
def test_a_refused_placement_refunds_the_customer_once(integration, sandbox):
    order = create_unsent_order(integration)
    Order.objects.filter(pk=order.pk).update(sell_price_amount=Decimal("12.50"))
    payer = Customer.objects.get(pk=order.user_id)

    dispatch_order(order.pk, PlaceRequest(product="101", denomination=""))

    order.refresh_from_db()
    assert (order.status, order.external_status) == (PlatformStatus.REJECTED, ExternalStatus.FAILED)
    assert Customer.objects.get(pk=payer.pk).balance == payer.balance + Decimal("12.50")
    refund = WalletTransaction.objects.get(order_id=order.pk, transaction_type="rejected")
    assert refund.amount == Decimal("12.50")


@pytest.mark.django_db
def test_a_refused_placement_without_a_payer_is_held_not_rejected(integration, sandbox, finalized):
    order = create_unsent_order(integration)
    Order.objects.filter(pk=order.pk).update(user_id=None)

    dispatch_order(order.pk, PlaceRequest(product="101", denomination=""))

    order.refresh_from_db()
    assert (order.status, order.external_status) == (PlatformStatus.PENDING, ExternalStatus.PENDING)
    assert 'no "userId"' in order.hold_reason and order.attempts == 1
    assert finalized == []
    assert not Order.objects.due(timezone.now() + timedelta(days=1)).filter(pk=order.pk).exists()
