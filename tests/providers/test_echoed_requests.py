"""A provider (or a proxy in front of it) that repeats our request in its answer, credentials and
all, over real HTTP against the sandboxes: whichever of its characters the answer or our quote of
it is cut at, no client result keeps 4 characters of a secret."""

from urllib.parse import quote_plus

import pytest

from providers.apstore.client import ApstoreClient
from providers.base import CheckState, PlaceRequest, PlaceState
from providers.http import HttpLimits
from providers.internal.client import InternalClient
from providers.models import Integration
from providers.znet.client import ZnetClient
from sandbox.apstore import ApstoreSandbox
from sandbox.apstore import SandboxConfig as ApstoreConfig
from sandbox.faults import Echo
from sandbox.internal import InternalSandbox
from sandbox.internal import SandboxConfig as InternalConfig
from tests.factories import SANDBOX_KOD, SANDBOX_SIFRE
from tests.providers.checks import check_status
from tests.providers.client_api import integration_for, our_reference

TOKEN = "Tkn-4e9b1f77c2d0a6"
PUBG_60 = PlaceRequest(product="101", denomination="60", player_id="5551234567")


def assert_no_part_of(secrets, *texts):
    """No text holds the first 4 characters of a secret (as sent, or URL-encoded)."""
    for text in texts:
        for secret in secrets:
            for start in {secret[:4], quote_plus(secret)[:4]}:
                assert start not in text, (secret, text)


def znet_client(sandbox):
    return ZnetClient(
        Integration(name="z", provider="znet", base_url=sandbox.base_url, kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE),
        limits=HttpLimits.from_settings(),
    )


def echoed_request(sandbox, path, **echo):
    """The whole echo the sandbox would send for a request to `path` (to find the secrets in it)."""
    return Echo(**echo).text("GET", path, {})


def offsets_across(text, secret, before=0):
    """Every length of `text` that cuts it inside `secret` (and just before and after it)."""
    start = text.index(secret)
    return range(start - before, start + len(secret) + 2)


# -- znet: the URL carries kod and sifre --------------------------------------------------------


def test_a_status_answer_echoing_the_url_cut_at_every_offset_keeps_no_part_of_a_secret(sandbox):
    client = znet_client(sandbox)
    reference = "ref-echo-1"
    full = f"Error in request!: GET /servis/pin_kontrol.php?kod={SANDBOX_KOD}&sifre={SANDBOX_SIFRE}"
    for length in [*offsets_across(full, SANDBOX_KOD), *offsets_across(full, SANDBOX_SIFRE), None]:
        sandbox.queue_answer(200, Echo(length=length))

        result = check_status(client, reference)

        assert result.state == CheckState.MALFORMED
        assert result.message.startswith("malformed answer: 'Error in request!: GET /servis/pin_kontrol.php?kod=")
        assert_no_part_of((SANDBOX_KOD, SANDBOX_SIFRE), result.message, result.describe_error())


def test_our_quote_cut_at_every_offset_across_the_secret_keeps_no_part_of_it(sandbox):
    """The answer whole; padding moves the secret across the 80th character, where the quote ends."""
    client = znet_client(sandbox)
    for padding in range(0, 40):
        sandbox.queue_answer(200, Echo(lead="x" * padding + "Error in request!: "))

        result = check_status(client, "ref-echo-2")

        assert len(result.message) <= len("malformed answer: ''") + 80
        assert_no_part_of((SANDBOX_KOD, SANDBOX_SIFRE), result.message)


def test_an_error_line_echoing_the_url_keeps_the_providers_words_but_no_part_of_a_secret(sandbox):
    """An error line is the provider's own words: only the secrets go, also one it cut short."""
    client = znet_client(sandbox)
    full = f"8|Error in request!: GET /servis/pin_kontrol.php?kod={SANDBOX_KOD}&sifre={SANDBOX_SIFRE}"
    for length in [*offsets_across(full, SANDBOX_SIFRE), None]:
        sandbox.queue_answer(200, Echo(lead="8|Error in request!: ", length=length))

        result = check_status(client, "ref-echo-3")

        assert result.state == CheckState.PROVIDER_ERROR and result.code == "8"
        assert result.message.startswith("Error in request!: GET /servis/pin_kontrol.php?kod=***&sifre=")
        assert_no_part_of((SANDBOX_KOD, SANDBOX_SIFRE), result.message, result.describe_error())


def test_a_place_answer_echoing_the_url_keeps_no_part_of_a_secret(sandbox):
    client = znet_client(sandbox)
    full = f"Error in request!: GET /servis/pin_ekle.php?kod={SANDBOX_KOD}&sifre={SANDBOX_SIFRE}"
    for length in [*offsets_across(full, SANDBOX_SIFRE), None]:
        sandbox.queue_answer(200, Echo(length=length))

        result = client.place_order("ref-echo-4", PUBG_60)

        assert result.state == PlaceState.UNKNOWN
        assert_no_part_of((SANDBOX_KOD, SANDBOX_SIFRE), result.message)


# -- apstore and internal: the api-token header ---------------------------------------------------


@pytest.fixture
def apstore():
    server = ApstoreSandbox(ApstoreConfig(token=TOKEN, checks_until_final=1, seed=5)).start()
    yield server
    server.stop()


@pytest.fixture
def tenant():
    server = InternalSandbox(InternalConfig(token=TOKEN, checks_until_final=1, seed=5)).start()
    yield server
    server.stop()


def test_an_answer_echoing_the_token_header_cut_at_every_offset_keeps_no_part_of_it(apstore):
    client = ApstoreClient(integration_for("apstore", apstore, TOKEN), limits=HttpLimits.from_settings())
    reference = our_reference()
    full = f"Error in request!: api-token: {TOKEN} GET /"
    for length in [*offsets_across(full, TOKEN), None]:
        apstore.queue_answer(200, Echo(headers=("api-token",), length=length))

        result = check_status(client, reference)

        assert result.state == CheckState.MALFORMED
        assert result.message.startswith("malformed answer: not JSON: 'Error in request!: api-token:")
        assert_no_part_of((TOKEN,), result.message, result.describe_error())


def test_a_401_that_repeats_the_token_cut_short_keeps_no_part_of_it(tenant):
    """The tenant refuses the order and names the token it got, cut short at any offset."""
    client = InternalClient(integration_for("internal", tenant, TOKEN), limits=HttpLimits.from_settings())
    for length in range(4, len(TOKEN) + 1):
        tenant.queue_answer(401, {"statusCode": 401, "message": f"invalid api-token {TOKEN[:length]}"})

        result = client.place_order(our_reference(), PlaceRequest(product="12"))

        assert result.state == PlaceState.REFUSED
        assert result.message.startswith("HTTP 401 from provider: invalid api-token ***")
        assert_no_part_of((TOKEN,), result.message)


def test_a_status_answer_echoing_the_token_header_keeps_no_part_of_it(tenant):
    client = InternalClient(integration_for("internal", tenant, TOKEN), limits=HttpLimits.from_settings())
    full = f"Error in request!: api-token: {TOKEN} GET /"
    for length in [*offsets_across(full, TOKEN), None]:
        tenant.queue_answer(200, Echo(headers=("api-token",), length=length))

        result = check_status(client, our_reference())

        assert result.state == CheckState.MALFORMED
        assert_no_part_of((TOKEN,), result.message, result.describe_error())
