"""The internal client (another tenant of the platform) over real HTTP against its sandbox: one
status request per order, the api-token and X-Tenant-Host headers, HTTP failures, order placing
at most once (POST), "test connection", and the token kept out of every message and log."""

import logging
import uuid
from decimal import Decimal

import pytest
import requests

from orders.claiming import RunConfig
from orders.models import ExternalStatus, Order, PlatformStatus
from orders.monitor import check_single_order
from providers.base import CheckResult, CheckState, PlaceRequest, PlaceState
from providers.connection import probe_connection
from providers.http import HttpLimits
from providers.internal.client import InternalClient
from providers.internal.parser import NOT_LISTED_MESSAGE
from providers.models import Integration
from providers.registry import client_class_for
from sandbox.internal import REFUSED_MESSAGE, InternalSandbox, SandboxConfig
from tests.factories import customer_fields
from tests.providers.client_api import integration_for, our_reference

TOKEN = "tnt-4b7e91c03d5f2a68"
WRONG_TOKEN = "tnt-wrong-7731"


@pytest.fixture
def sandbox():
    server = InternalSandbox(SandboxConfig(token=TOKEN, checks_until_final=1, slow_seconds=1.5, seed=5)).start()
    yield server
    server.stop()


def make_client(sandbox, token=TOKEN, base_url=None):
    return InternalClient(integration_for("internal", sandbox, token, base_url), limits=HttpLimits.from_settings())


@pytest.fixture
def client(sandbox):
    client = make_client(sandbox)
    yield client
    client.close()


# -- status checks -----------------------------------------------------------------------------


def test_each_order_is_one_request_by_our_uuid_in_its_dashed_form(sandbox, client):
    done, rejected, waiting, unknown = (our_reference() for _ in range(4))
    sandbox.add_order(str(uuid.UUID(done)), pin="PIN-0001-ÇĞ")
    sandbox.add_order(str(uuid.UUID(rejected)), outcome="failed", reason="Oyuncu bulunamadı")
    sandbox.add_order(str(uuid.UUID(waiting)), checks_until_final=5)

    results = client.check_statuses([done, rejected, waiting, unknown])

    assert (results[done].state, results[done].pin) == (CheckState.COMPLETED, "PIN-0001-ÇĞ")
    assert (results[rejected].state, results[rejected].message) == (CheckState.FAILED, "Oyuncu bulunamadı")
    assert (results[waiting].state, results[waiting].message) == (CheckState.IN_PROGRESS, "Sipariş işleniyor")
    # The tenant does not list an order it does not know (yet): still processing, not an error.
    assert (results[unknown].state, results[unknown].note) == (CheckState.IN_PROGRESS, NOT_LISTED_MESSAGE)
    asked = [(entry["orders"], entry["uuid"]) for entry in sandbox.status_checks()]
    assert asked == [(str(uuid.UUID(reference)), True) for reference in (done, rejected, waiting, unknown)]


def test_an_order_known_by_the_tenants_own_id_is_asked_without_uuid(sandbox, client):
    theirs = sandbox.add_order(outcome="failed", reason="İptal edildi").order_id

    result = client.check_statuses([theirs])[theirs]

    assert (result.state, result.message) == (CheckState.FAILED, "İptal edildi")
    assert [(entry["orders"], entry["uuid"]) for entry in sandbox.status_checks()] == [(theirs, False)]


def test_answers_wrapped_in_data_read_the_same(sandbox, client):
    sandbox.config.wrap_in_data = True
    reference = our_reference()
    order = sandbox.add_order(str(uuid.UUID(reference)))

    result = client.check_statuses([reference])[reference]

    assert (result.state, result.pin) == (CheckState.COMPLETED, order.pin)


@pytest.mark.parametrize("record_style", ["nestjs", "django"])
def test_both_record_shapes_of_the_platform_are_read(sandbox, client, record_style):
    sandbox.config.record_style = record_style
    done, rejected, waiting = (our_reference() for _ in range(3))
    placed = sandbox.add_order(str(uuid.UUID(done)), pin="PIN-1\nPIN-2", qty=2)
    sandbox.add_order(str(uuid.UUID(rejected)), outcome="failed", reason="Oyuncu bulunamadı")
    sandbox.add_order(str(uuid.UUID(waiting)), checks_until_final=3)

    results = client.check_statuses([done, rejected, waiting])

    assert results[done] == CheckResult(CheckState.COMPLETED, pin=placed.pin)
    assert results[rejected] == CheckResult(CheckState.FAILED, message="Oyuncu bulunamadı")
    assert results[waiting] == CheckResult(CheckState.IN_PROGRESS, message="Sipariş işleniyor")


def test_a_django_record_still_sent_is_in_progress(sandbox, client):
    reference = our_reference()
    sandbox.add_order(
        str(uuid.UUID(reference)), checks_until_final=3, style={"record_style": "django", "wait_word": "sent"}
    )
    assert client.check_statuses([reference])[reference].state == CheckState.IN_PROGRESS


def test_a_word_the_monitor_does_not_know_keeps_the_order_in_progress(sandbox, client):
    reference = our_reference()
    sandbox.add_order(str(uuid.UUID(reference)), style={"done_word": "manual_review"})

    result = client.check_statuses([reference])[reference]

    assert (result.state, result.unknown_status, result.pin) == (CheckState.IN_PROGRESS, "manual_review", None)


def test_our_own_id_stored_dashed_is_asked_with_uuid_1_and_the_tenants_id_without(sandbox, client):
    # The platform's Django side stores provider_referans = our own order id, dashed.
    ours = Order()
    ours.provider_referans = str(ours.pk)
    placed = sandbox.add_order(str(ours.pk))
    theirs_id = sandbox.add_order(outcome="failed", reason="İptal").order_id  # a dashed UUID too
    theirs = Order(external_order_id=theirs_id)

    references = [client.reference_for(ours), client.reference_for(theirs)]
    results = client.check_statuses(references)

    assert references == [ours.pk.hex, theirs_id]
    assert results[ours.pk.hex] == CheckResult(CheckState.COMPLETED, pin=placed.pin)
    assert results[theirs_id] == CheckResult(CheckState.FAILED, message="İptal")
    assert [(entry["orders"], entry["uuid"]) for entry in sandbox.status_checks()] == [
        (str(ours.pk), True),
        (theirs_id, False),
    ]


@pytest.mark.django_db
def test_a_platform_order_under_our_dashed_id_is_found_and_completed(sandbox):
    integration = Integration.objects.create(
        name="shop2", provider="internal", base_url=sandbox.base_url, api_token=TOKEN
    )
    order = Order.objects.create(
        integration_id=str(integration.pk), external_status=ExternalStatus.SENT, **customer_fields()
    )
    Order.objects.filter(pk=order.pk).update(provider_referans=str(order.pk))
    placed = sandbox.add_order(str(order.pk), pin="PIN-DASHED-01")

    checked, outcome = check_single_order(order.pk, RunConfig.from_settings())

    assert outcome == "completed"
    assert (checked.status, checked.pin_code) == (PlatformStatus.APPROVED, placed.pin)
    assert [(entry["orders"], entry["uuid"]) for entry in sandbox.status_checks()] == [(str(order.pk), True)]


def test_an_http_500_is_retried_and_the_retry_answers(sandbox, settings):
    settings.PROVIDER_RETRY_ATTEMPTS = 3
    client = make_client(sandbox)
    reference = our_reference()
    sandbox.add_order(str(uuid.UUID(reference)))
    sandbox.queue_fault("http500", times=2)

    assert client.check_statuses([reference])[reference].state == CheckState.COMPLETED
    assert [entry["result"] for entry in sandbox.status_checks()] == ["http500", "http500", "answered"]


def test_a_slow_answer_times_out_and_the_retry_answers(sandbox, client):
    reference = our_reference()
    sandbox.add_order(str(uuid.UUID(reference)), checks_until_final=2)
    sandbox.queue_fault("slow")  # 1.5 s against a 1 s read timeout

    assert client.check_statuses([reference])[reference].state == CheckState.COMPLETED  # the 2nd check
    assert len(sandbox.status_checks()) == 2


def test_a_malformed_body_is_malformed(sandbox, client):
    reference = our_reference()
    sandbox.queue_fault("malformed")
    assert client.check_statuses([reference])[reference].state == CheckState.MALFORMED


# -- the headers -------------------------------------------------------------------------------


def test_the_sandbox_refuses_requests_without_the_right_token_and_tenant_host(sandbox):
    url = f"{sandbox.base_url}/client/api/check"
    params = {"orders": str(uuid.uuid4()), "uuid": 1}
    for headers in (
        {},
        {"api-token": TOKEN},
        {"api-token": WRONG_TOKEN, "X-Tenant-Host": "127.0.0.1"},
        {"api-token": TOKEN, "X-Tenant-Host": "shop2.example"},
    ):
        assert requests.get(url, params=params, headers=headers, timeout=5).status_code == 401
    answer = requests.get(url, params=params, headers={"api-token": TOKEN, "X-Tenant-Host": "127.0.0.1"}, timeout=5)
    assert (answer.status_code, answer.json()) == (200, [])


def test_the_tenant_host_is_the_host_name_of_the_base_url(sandbox):
    client = make_client(sandbox, base_url=sandbox.base_url.replace("127.0.0.1", "localhost") + "/")
    sandbox.config.tenant_host = "localhost"

    result = client.check_statuses([our_reference()])

    assert next(iter(result.values())).state == CheckState.IN_PROGRESS
    assert client.session.headers["X-Tenant-Host"] == "localhost"


@pytest.mark.parametrize("wrong", ["token", "tenant host"])
def test_a_refused_token_or_tenant_is_a_permanent_configuration_error_without_retries(sandbox, wrong):
    if wrong == "token":
        client = make_client(sandbox, token=WRONG_TOKEN)
    else:
        client = make_client(sandbox)
        sandbox.config.tenant_host = "shop2.example"
    reference = our_reference()

    result = client.check_statuses([reference])[reference]

    assert (result.state, result.permanent) == (CheckState.CONFIGURATION_ERROR, True)
    assert result.message == "HTTP 401 from provider (check the integration's baseUrl and apiToken)"
    assert [entry["result"] for entry in sandbox.request_log] == ["unauthorized"]


def test_a_wrong_path_is_a_permanent_configuration_error(sandbox):
    client = make_client(sandbox, base_url=sandbox.base_url + "/api/v2")
    reference = our_reference()
    result = client.check_statuses([reference])[reference]
    assert (result.state, result.permanent) == (CheckState.CONFIGURATION_ERROR, True)
    assert result.message.startswith("HTTP 404 from provider")


@pytest.mark.parametrize(
    ("token", "base_url", "problem"),
    [("", None, "no apiToken"), (TOKEN, "", "no baseUrl"), (TOKEN, "shop2.example:3000", "no host name")],
)
def test_missing_token_or_base_url_is_reported_without_any_request(sandbox, token, base_url, problem):
    client = make_client(sandbox, token=token, base_url=base_url)
    reference = our_reference()
    result = client.check_statuses([reference])[reference]
    assert result.state == CheckState.CONFIGURATION_ERROR and result.permanent and problem in result.message
    assert client.place_order(our_reference(), PlaceRequest(product="12")).state == PlaceState.REFUSED
    assert not probe_connection(integration_for("internal", sandbox, token, base_url), max_seconds=5).ok
    assert sandbox.request_log == []


def test_the_token_never_appears_in_results_or_logs(sandbox, caplog, settings):
    settings.PROVIDER_RETRY_ATTEMPTS = 2
    client = make_client(sandbox)
    caplog.set_level(logging.DEBUG)
    echoed, faulty = our_reference(), our_reference()
    # A tenant that echoes request details back into its texts.
    sandbox.add_order(str(uuid.UUID(echoed)), outcome="failed", reason=f"refused for api-token {TOKEN}")
    results = client.check_statuses([echoed])
    sandbox.queue_fault("http500", times=2)
    results.update(client.check_statuses([faulty]))
    results["wrong"] = make_client(sandbox, token=WRONG_TOKEN).check_statuses([faulty])[faulty]
    placed = client.place_order(our_reference(), PlaceRequest(product="12"))
    refused = make_client(sandbox, token=WRONG_TOKEN).place_order(our_reference(), PlaceRequest(product="12"))

    assert results[echoed].message == "refused for api-token ***"
    assert results[faulty].state == CheckState.TRANSPORT_ERROR
    assert results["wrong"].state == CheckState.CONFIGURATION_ERROR
    assert (placed.state, refused.state) == (PlaceState.ACCEPTED, PlaceState.REFUSED)
    texts = [r.message for r in results.values()] + [placed.message, refused.message, caplog.text]
    texts.append(requests.get(f"{sandbox.base_url}/_sandbox/log", timeout=5).text)
    for text in texts:
        assert TOKEN not in text and WRONG_TOKEN not in text


# -- placing orders ----------------------------------------------------------------------------


def test_placing_posts_the_order_under_our_uuid_and_returns_the_tenants_id(sandbox, client):
    reference = our_reference()

    result = client.place_order(
        reference, PlaceRequest(product="12", quantity=2, player_id="5123 884", player_info="TR sunucu")
    )

    order = sandbox.find_order(reference)
    assert (result.state, result.reference, result.message) == (PlaceState.ACCEPTED, order.order_id, "Order created")
    assert (order.order_uuid, order.product, order.qty) == (str(uuid.UUID(reference)), "12", 2)
    assert (order.user_identifier, order.extra_field) == ("5123 884", "TR sunucu")
    # The status check by our reference finds the placed order.
    checked = client.check_statuses([reference])[reference]
    assert (checked.state, checked.pin) == (CheckState.COMPLETED, order.pin)


def test_an_order_approved_at_once_is_accepted_without_its_pin_in_the_message(sandbox, client):
    sandbox.config.approve_at_once = True
    reference = our_reference()

    result = client.place_order(reference, PlaceRequest(product="12"))

    pin = sandbox.find_order(reference).pin
    assert result.state == PlaceState.ACCEPTED and pin not in result.message
    assert client.check_statuses([reference])[reference].pin == pin


@pytest.mark.parametrize("word", ["reject", "rejected"])
def test_a_refusal_inside_a_2xx_answer_is_refused(sandbox, client, word):
    sandbox.config.place_refusal_word = word

    result = client.place_order(our_reference(), PlaceRequest(product="12"))

    assert (result.state, result.message) == (PlaceState.REFUSED, REFUSED_MESSAGE)
    assert sandbox.orders == {}


@pytest.mark.parametrize("record_style", ["nestjs", "django"])
def test_a_place_answer_of_either_shape_is_accepted_with_its_price(sandbox, client, record_style):
    sandbox.config.record_style, sandbox.config.place_price = record_style, 4.5
    reference = our_reference()

    result = client.place_order(reference, PlaceRequest(product="12"))

    assert (result.state, result.reference) == (PlaceState.ACCEPTED, sandbox.find_order(reference).order_id)
    assert (result.cost_amount, result.cost_currency) == (Decimal("4.50"), None)


def test_a_repeated_order_uuid_is_a_duplicate(sandbox, client):
    reference = our_reference()
    client.place_order(reference, PlaceRequest(product="12"))

    again = client.place_order(reference, PlaceRequest(product="12"))

    assert (again.state, again.message) == (PlaceState.DUPLICATE, "order_uuid already used")


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (
            PlaceRequest(product="no-such-package"),
            "HTTP 404 from provider: package not found (check the integration's baseUrl, apiToken and product)",
        ),
        (PlaceRequest(product="12", quantity=0), "HTTP 400 from provider: qty must be a positive integer"),
    ],
    ids=["package", "qty"],
)
def test_a_refused_order_is_certainly_not_placed_and_says_why(sandbox, client, request_, message):
    result = client.place_order(our_reference(), request_)
    assert (result.state, result.uncertain, result.message) == (PlaceState.REFUSED, False, message)
    assert sandbox.orders == {}


def test_a_place_request_with_a_wrong_token_is_certainly_refused(sandbox):
    result = make_client(sandbox, token=WRONG_TOKEN).place_order(our_reference(), PlaceRequest(product="12"))
    assert (result.state, result.uncertain) == (PlaceState.REFUSED, False)
    assert result.message.startswith("HTTP 401 from provider: Unauthorized")
    assert sandbox.orders == {}


# -- test connection and the registry ----------------------------------------------------------


def test_test_connection_asks_about_an_order_that_cannot_exist(sandbox):
    check = probe_connection(integration_for("internal", sandbox, TOKEN), max_seconds=5)

    assert (check.ok, check.summary) == (True, "OK: tenant 127.0.0.1 answered a status check")
    (entry,) = sandbox.request_log
    assert (entry["path"], entry["uuid"], entry["result"]) == ("check", True, "answered")
    assert sandbox.orders == {}


@pytest.mark.parametrize("wrong", ["token", "tenant host"])
def test_test_connection_reports_a_refusal_without_the_token(sandbox, wrong):
    integration = integration_for("internal", sandbox, WRONG_TOKEN if wrong == "token" else TOKEN)
    if wrong == "tenant host":
        sandbox.config.tenant_host = "shop2.example"

    check = probe_connection(integration, max_seconds=5)

    assert (check.ok, check.summary) == (
        False,
        "refused: HTTP 401 from provider (check the integration's baseUrl and apiToken)",
    )


def test_test_connection_reports_an_unreadable_answer(sandbox):
    sandbox.queue_fault("malformed")
    check = probe_connection(integration_for("internal", sandbox, TOKEN), max_seconds=5)
    assert not check.ok and check.summary.startswith("failed: malformed answer: not JSON")


@pytest.mark.parametrize("name", ["internal", " Internal "])
def test_the_registry_serves_internal_integrations(name):
    assert client_class_for(name) is InternalClient
