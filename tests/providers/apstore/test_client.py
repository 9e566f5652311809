"""The apstore client over real HTTP against the sandbox: batches, the uuid=1 split, the token
header, HTTP failures, order placing, and the token kept out of every message and log."""

import logging
import uuid
from decimal import Decimal

import pytest
import requests

from providers.apstore.client import ApstoreClient
from providers.base import NOT_MENTIONED_MESSAGE, CheckResult, CheckState, PlaceRequest, PlaceState
from providers.http import HttpLimits, ProviderHTTPError
from providers.registry import client_class_for
from sandbox.apstore import REFUSED_IN_OK_MESSAGE, ApstoreSandbox, SandboxConfig
from sandbox.client_api import DUPLICATE_UUID_MESSAGE
from tests.providers.client_api import integration_for, our_reference

TOKEN = "apst-7f3e9c1d2b8a4e6f"


@pytest.fixture
def sandbox():
    server = ApstoreSandbox(SandboxConfig(token=TOKEN, checks_until_final=1, slow_seconds=1.5, seed=99)).start()
    yield server
    server.stop()


def make_client(sandbox, token=TOKEN, base_url=None):
    return ApstoreClient(integration_for("apstore", sandbox, token, base_url), limits=HttpLimits.from_settings())


@pytest.fixture
def client(sandbox):
    client = make_client(sandbox)
    yield client
    client.close()


# -- batches -----------------------------------------------------------------------------------


def test_one_request_answers_a_whole_batch_including_an_order_it_leaves_out(sandbox, client):
    done, rejected, waiting, unknown = (our_reference() for _ in range(4))
    sandbox.add_order(done, pin="PIN-0001-ÇĞ")
    sandbox.add_order(rejected, outcome="failed", reason="Player id not found")
    sandbox.add_order(waiting, checks_until_final=5)

    results = client.check_statuses([done, rejected, waiting, unknown])

    assert list(results) == [done, rejected, waiting, unknown]
    assert (results[done].state, results[done].pin) == (CheckState.COMPLETED, "PIN-0001-ÇĞ")
    assert (results[rejected].state, results[rejected].message) == (CheckState.FAILED, "Player id not found")
    assert results[waiting].state == CheckState.IN_PROGRESS
    assert (results[unknown].state, results[unknown].message) == (CheckState.PROVIDER_ERROR, NOT_MENTIONED_MESSAGE)
    assert len(sandbox.status_checks()) == 1


def test_an_order_the_provider_omits_is_the_only_one_reported_missing(sandbox, client):
    kept, omitted = our_reference(), our_reference()
    sandbox.add_order(kept)
    sandbox.add_order(omitted)
    sandbox.queue_fault("omit", reference=omitted)

    results = client.check_statuses([kept, omitted])

    assert results[kept].state == CheckState.COMPLETED
    assert results[omitted].message == NOT_MENTIONED_MESSAGE


def test_our_uuids_and_provider_order_ids_go_in_two_requests_uuid_1_only_for_ours(sandbox, client):
    hex_ref, dashed_ref = our_reference(), str(uuid.uuid4())
    sandbox.add_order(hex_ref)
    sandbox.add_order(dashed_ref)
    by_id_1 = sandbox.add_order(outcome="failed").order_id
    by_id_2 = sandbox.add_order(checks_until_final=3).order_id

    results = client.check_statuses([by_id_1, hex_ref, by_id_2, dashed_ref])

    requests_made = sandbox.status_checks()
    assert [(r["uuid"], r["orders"]) for r in requests_made] == [
        (True, [hex_ref, dashed_ref]),
        (False, [by_id_1, by_id_2]),
    ]
    assert results[hex_ref].state == results[dashed_ref].state == CheckState.COMPLETED
    assert results[by_id_1].state == CheckState.FAILED
    assert results[by_id_2].state == CheckState.IN_PROGRESS


def test_a_batch_of_only_our_uuids_is_one_request(sandbox, client):
    references = [our_reference() for _ in range(50)]
    for reference in references:
        sandbox.add_order(reference)

    results = client.check_statuses(references)

    assert {result.state for result in results.values()} == {CheckState.COMPLETED}
    assert len(sandbox.status_checks()) == 1
    assert ApstoreClient.batch_size == 50


# -- the shapes barakat answers in ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("done_word", "pin_field"), [("completed", "voucher"), ("ok", "serial"), ("complete", "code"), ("SUCCESS", "pin")]
)
def test_a_completed_order_in_barakat_words_carries_its_pin_from_any_pin_field(sandbox, client, done_word, pin_field):
    reference = our_reference()
    order = sandbox.add_order(reference, pin="VCH-0001-ÇĞ", style={"done_word": done_word, "pin_field": pin_field})

    result = client.check_statuses([reference])[reference]

    assert result == CheckResult(CheckState.COMPLETED, pin=order.pin, message="Order completed")


@pytest.mark.parametrize("fail_word", ["canceled", "rejected", "error", "fail"])
def test_a_failed_order_keeps_its_reason_under_desc(sandbox, client, fail_word):
    reference = our_reference()
    sandbox.add_order(
        reference, outcome="failed", reason="Oyuncu ID hatalı", style={"fail_word": fail_word, "reason_field": "desc"}
    )

    assert client.check_statuses([reference])[reference] == CheckResult(CheckState.FAILED, message="Oyuncu ID hatalı")


def test_entries_naming_their_order_by_id_under_state_are_found(sandbox, client):
    style = {"id_field": "id", "status_field": "state", "reason_field": "replay_api"}
    done = sandbox.add_order(pin="PIN-ID-1", style=style).order_id
    failed = sandbox.add_order(outcome="failed", reason="İptal", style=style).order_id

    results = client.check_statuses([done, failed])

    assert results[done] == CheckResult(CheckState.COMPLETED, pin="PIN-ID-1", message="Order completed")
    assert results[failed] == CheckResult(CheckState.FAILED, message="İptal")


def test_an_answer_without_a_top_level_status_is_read(sandbox, client):
    sandbox.config.omit_top_status = True
    reference = our_reference()
    order = sandbox.add_order(reference)

    assert client.check_statuses([reference])[reference].pin == order.pin


def test_a_word_the_monitor_does_not_know_keeps_the_order_in_progress(sandbox, client):
    reference = our_reference()
    sandbox.add_order(reference, style={"done_word": "on_hold"})

    result = client.check_statuses([reference])[reference]

    assert (result.state, result.unknown_status, result.pin) == (CheckState.IN_PROGRESS, "on_hold", None)
    assert not result.is_error


# -- the token ---------------------------------------------------------------------------------


def test_the_sandbox_refuses_requests_without_the_right_token(sandbox):
    url = f"{sandbox.base_url}/client/api/profile"
    for headers in ({}, {"api-token": "wrong-token"}):
        answer = requests.get(url, headers=headers, timeout=5)
        assert answer.status_code == 401
        assert answer.json()["status"] == "ERROR"
    assert requests.get(url, headers={"api-token": TOKEN}, timeout=5).status_code == 200


def test_a_wrong_token_is_a_permanent_configuration_error_without_retries(sandbox):
    client = make_client(sandbox, token="not-the-right-token")
    references = [our_reference(), "70001"]

    results = client.check_statuses(references)

    for result in results.values():
        assert result.state == CheckState.CONFIGURATION_ERROR
        assert result.permanent
        assert "HTTP 401" in result.message
    # One refused request per group: a 401 is not retried.
    assert [entry["result"] for entry in sandbox.request_log] == ["unauthorized", "unauthorized"]


@pytest.mark.parametrize(("token", "base_url", "problem"), [("", None, "apiToken"), (TOKEN, "", "baseUrl")])
def test_missing_token_or_base_url_is_reported_without_any_request(sandbox, token, base_url, problem):
    client = make_client(sandbox, token=token, base_url=base_url)
    results = client.check_statuses(["70001", our_reference()])
    assert all(r.state == CheckState.CONFIGURATION_ERROR and r.permanent for r in results.values())
    assert all(problem in r.message for r in results.values())
    assert not client.place_order(our_reference(), PlaceRequest(product="12")).accepted
    assert sandbox.request_log == []


def test_the_token_never_appears_in_results_or_logs(sandbox, client, caplog):
    caplog.set_level(logging.DEBUG)
    failed, faulty = our_reference(), our_reference()
    # A provider that echoes request details back into its messages.
    sandbox.add_order(failed, outcome="failed", reason=f"refused for api-token {TOKEN}")
    sandbox.add_order(faulty)
    results = client.check_statuses([failed])
    sandbox.queue_fault("http500", times=3)
    results.update(client.check_statuses([faulty]))
    wrong = make_client(sandbox, token="wrong-token-5521")
    results.update({"wrong": wrong.check_statuses([faulty])[faulty]})
    placed = client.place_order(our_reference(), PlaceRequest(product="12"))

    assert results[failed].state == CheckState.FAILED
    assert results[faulty].state == CheckState.TRANSPORT_ERROR
    assert results["wrong"].state == CheckState.CONFIGURATION_ERROR
    texts = [r.message for r in results.values()] + [placed.message, caplog.text, str(sandbox.request_log)]
    for text in texts:
        assert TOKEN not in text
        assert "wrong-token-5521" not in text


def test_a_reason_comes_back_as_said_except_the_token(sandbox, client):
    said, echoed = our_reference(), our_reference()
    sandbox.add_order(said, outcome="failed", reason="Kod: TR-55|90 geçersiz; token: yok")
    sandbox.add_order(echoed, outcome="failed", reason=f"Kod: TR-55 refused for {TOKEN}")

    results = client.check_statuses([said, echoed])

    assert results[said].message == "Kod: TR-55|90 geçersiz; token: yok"
    assert results[echoed].message == "Kod: TR-55 refused for ***"


# -- HTTP failures -----------------------------------------------------------------------------


def test_an_http_500_is_retried_and_the_retry_answers(sandbox, settings):
    settings.PROVIDER_RETRY_ATTEMPTS = 3
    client = make_client(sandbox)
    reference = our_reference()
    sandbox.add_order(reference)
    sandbox.queue_fault("http500", times=2)

    assert client.check_statuses([reference])[reference].state == CheckState.COMPLETED
    assert [r["result"] for r in sandbox.status_checks()] == ["http500", "http500", "1 entries"]


def test_an_http_500_on_every_attempt_is_a_transport_error_for_the_batch(sandbox, settings):
    settings.PROVIDER_RETRY_ATTEMPTS = 3
    client = make_client(sandbox)
    references = [our_reference(), our_reference()]
    for reference in references:
        sandbox.add_order(reference)
    sandbox.queue_fault("http500", times=3)

    results = client.check_statuses(references)

    assert {(r.state, r.message, r.permanent) for r in results.values()} == {
        (CheckState.TRANSPORT_ERROR, "HTTP 500 from provider", False)
    }
    assert len(sandbox.status_checks()) == 3


def test_a_slow_answer_times_out_and_the_retry_answers(sandbox, client):
    reference = our_reference()
    sandbox.add_order(reference, checks_until_final=2)
    sandbox.queue_fault("slow")  # 1.5 s against a 1 s read timeout

    result = client.check_statuses([reference])[reference]

    assert result.state == CheckState.COMPLETED  # the slow answer was the first check
    assert len(sandbox.status_checks()) == 2


def test_a_malformed_body_is_malformed_for_the_batch(sandbox, client):
    references = [our_reference(), our_reference()]
    sandbox.queue_fault("malformed")
    results = client.check_statuses(references)
    assert {r.state for r in results.values()} == {CheckState.MALFORMED}


def test_a_non_ok_answer_leaves_every_order_as_it_was(sandbox, client):
    reference = our_reference()
    sandbox.add_order(reference)
    sandbox.queue_fault("error_status", reference=reference)
    result = client.check_statuses([reference])[reference]
    assert (result.state, result.message) == (CheckState.PROVIDER_ERROR, "Service busy, try again later")


# -- placing orders and the balance ------------------------------------------------------------


def test_placing_an_order_returns_the_providers_order_id(sandbox, client):
    reference = our_reference()

    result = client.place_order(reference, PlaceRequest(product="12", quantity=2, player_id="5123 884"))

    assert result.accepted and not result.uncertain
    order = sandbox.find_order(reference)
    assert result.reference == order.order_id
    assert (order.product, order.qty, order.player_id) == ("12", 2, "5123 884")
    # Status checks by our reference find the placed order.
    checked = client.check_statuses([reference])[reference]
    assert (checked.state, checked.pin) == (CheckState.COMPLETED, order.pin)


def test_a_placed_order_carries_its_price_and_currency(sandbox, client):
    sandbox.config.price_currency = "USD"

    result = client.place_order(our_reference(), PlaceRequest(product="12", quantity=3))

    assert (result.state, result.cost_amount, result.cost_currency) == (PlaceState.ACCEPTED, Decimal("7.50"), "USD")


@pytest.mark.parametrize("word", ["reject", "failed"])
def test_a_refusal_inside_a_top_level_ok_is_refused(sandbox, client, word):
    sandbox.config.place_refusal_word = word

    result = client.place_order(our_reference(), PlaceRequest(product="12"))

    assert (result.state, result.message) == (PlaceState.REFUSED, REFUSED_IN_OK_MESSAGE)
    assert sandbox.orders == {}


@pytest.mark.parametrize("duplicate_answer", ["error", "http409"])
def test_a_repeated_order_uuid_means_apstore_has_the_order(sandbox, client, duplicate_answer):
    sandbox.config.duplicate_answer = duplicate_answer
    reference = our_reference()
    client.place_order(reference, PlaceRequest(product="12"))

    again = client.place_order(reference, PlaceRequest(product="12"))

    assert again.state == PlaceState.DUPLICATE and again.provider_has_order
    assert DUPLICATE_UUID_MESSAGE in again.message
    assert len(sandbox.orders) == 1


def test_a_refused_order_is_certainly_not_placed(sandbox, client):
    result = client.place_order(our_reference(), PlaceRequest(product="no-such-package"))
    assert (result.accepted, result.uncertain, result.message) == (False, False, "package not found")


def test_a_place_request_with_a_wrong_token_is_certainly_refused(sandbox):
    result = make_client(sandbox, token="wrong-token-5521").place_order(our_reference(), PlaceRequest(product="12"))
    assert (result.accepted, result.uncertain) == (False, False)
    assert "HTTP 401" in result.message
    assert sandbox.orders == {}


def test_balance(sandbox, client):
    assert client.balance() == 10250.0
    client.place_order(our_reference(), PlaceRequest(product="12", quantity=4))
    assert client.balance() == 10240.0


def test_balance_with_a_wrong_token_raises(sandbox):
    with pytest.raises(ProviderHTTPError, match="HTTP 401"):
        make_client(sandbox, token="wrong-token-5521").balance()


# -- the registry ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["apstore", "barakat", " Barakat ", "APSTORE"])
def test_both_names_find_the_apstore_client(name):
    assert client_class_for(name) is ApstoreClient
