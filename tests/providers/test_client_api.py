"""What the apstore and internal clients do alike (providers.client_api), each over real HTTP
against its own sandbox: a place request is sent at most once, and a repeated one meets the
provider's order_uuid check."""

import pytest

from providers.base import CheckState, PlaceRequest, PlaceState
from providers.http import HttpLimits
from providers.registry import client_class_for
from sandbox import apstore, internal
from sandbox.client_api import DUPLICATE_UUID_MESSAGE
from tests.providers.client_api import integration_for, our_reference

TOKEN = "capi-5d1e8b2f7a3c9e04"
SANDBOXES = {"apstore": apstore.ApstoreSandbox, "internal": internal.InternalSandbox}
CONFIGS = {"apstore": apstore.SandboxConfig, "internal": internal.SandboxConfig}


@pytest.fixture(params=sorted(SANDBOXES))
def provider(request):
    return request.param


@pytest.fixture
def sandbox(provider):
    server = SANDBOXES[provider](CONFIGS[provider](token=TOKEN, checks_until_final=1, seed=5)).start()
    yield server
    server.stop()


def make_client(provider, sandbox, base_url=None):
    return client_class_for(provider)(
        integration_for(provider, sandbox, TOKEN, base_url), limits=HttpLimits.from_settings()
    )


@pytest.fixture
def client(provider, sandbox):
    client = make_client(provider, sandbox)
    yield client
    client.close()


def test_placing_twice_under_one_reference_meets_the_duplicate_check(sandbox, client):
    reference = our_reference()
    assert client.place_order(reference, PlaceRequest(product="12")).accepted

    again = client.place_order(reference, PlaceRequest(product="12"))

    assert again.state == PlaceState.DUPLICATE and again.provider_has_order
    assert again.message == DUPLICATE_UUID_MESSAGE
    assert [entry["result"] for entry in sandbox.place_requests()] == ["placed", DUPLICATE_UUID_MESSAGE]
    assert len(sandbox.orders) == 1


def test_a_place_answer_lost_to_the_read_timeout_is_unknown_and_never_sent_again(provider, sandbox, settings):
    settings.PROVIDER_RETRY_ATTEMPTS = 3
    client = make_client(provider, sandbox)
    sandbox.config.first_place_delay = 1.5  # against a 1 s read timeout; the provider takes the order at once
    reference = our_reference()

    result = client.place_order(reference, PlaceRequest(product="12"))

    assert result.state == PlaceState.UNKNOWN and result.message.startswith("timed out")
    assert [entry["result"] for entry in sandbox.place_requests()] == ["placed"]
    # The order the lost answer was about exists, and a status check by our reference finds it.
    assert client.check_statuses([reference])[reference].state == CheckState.COMPLETED


@pytest.mark.parametrize(("fault", "message"), [("http500", "HTTP 500"), ("drop", "connection failed")])
def test_a_failure_after_the_request_arrived_is_unknown_and_not_retried(provider, sandbox, settings, fault, message):
    settings.PROVIDER_RETRY_ATTEMPTS = 3
    client = make_client(provider, sandbox)
    sandbox.queue_place_fault(fault)
    reference = our_reference()

    result = client.place_order(reference, PlaceRequest(product="12"))

    assert result.state == PlaceState.UNKNOWN and result.message.startswith(message)
    assert len(sandbox.place_requests()) == 1
    assert sandbox.find_order(reference) is not None


def test_a_place_request_that_cannot_connect_is_not_sent(provider, sandbox, settings):
    settings.PROVIDER_RETRY_ATTEMPTS = 2
    stopped = make_client(provider, sandbox, base_url="http://127.0.0.1:9")  # nothing listens there
    result = stopped.place_order(our_reference(), PlaceRequest(product="12"))
    assert result.state == PlaceState.NOT_SENT and not result.uncertain
    assert TOKEN not in result.message
