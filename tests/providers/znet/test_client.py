"""The znet client over real HTTP against the sandbox."""

import logging
import socket
import time
import uuid
from decimal import Decimal

import pytest

from providers.base import CheckResult, CheckState, PlaceRequest, PlaceState
from providers.http import HttpLimits
from providers.models import Integration
from providers.znet.client import ZnetClient
from sandbox.znet import DUPLICATE_REFERENCE_LINE, STATUS_STYLES, SandboxConfig, ZnetSandbox
from tests.factories import SANDBOX_KOD, SANDBOX_SIFRE
from tests.providers.checks import check_status

PUBG_60 = PlaceRequest(product="101", denomination="60", player_id="5551234567")


def client_for(base_url, kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE):
    integration = Integration(name="t", provider="znet", base_url=base_url, kod=kod, sifre=sifre)
    return ZnetClient(integration, limits=HttpLimits.from_settings())


def test_status_request_carries_credentials_and_reference(sandbox):
    sandbox.add_order("ref-1", pin="ABCD-1234-EFGH", checks_until_final=1)
    result = check_status(client_for(sandbox.base_url + "/"), "ref-1")
    assert result.state == CheckState.COMPLETED and result.pin == "ABCD-1234-EFGH"
    assert sandbox.status_checks("ref-1")[0]["result"] == "2"


def test_in_progress_then_final(sandbox):
    sandbox.add_order("ref-2", outcome="failed", checks_until_final=2)
    client = client_for(sandbox.base_url)
    assert check_status(client, "ref-2").state == CheckState.IN_PROGRESS
    assert check_status(client, "ref-2").state == CheckState.FAILED


def test_connection_refused_is_a_redacted_transport_error(db):
    result = check_status(client_for("http://127.0.0.1:9", sifre="Refused-Pw-3141"), "r")
    assert result.state == CheckState.TRANSPORT_ERROR
    assert result.message.startswith("connection failed")
    assert "Refused-Pw-3141" not in result.message and SANDBOX_KOD not in result.message


def test_http_404_means_a_wrong_base_url(sandbox):
    result = check_status(client_for(sandbox.base_url + "/wrong-prefix"), "r")
    assert result.state == CheckState.CONFIGURATION_ERROR and result.permanent


@pytest.mark.slow
def test_timeouts_are_retried_then_reported(sandbox, settings):
    settings.PROVIDER_RETRY_ATTEMPTS = 2
    sandbox.add_order("slow-ref")
    sandbox.queue_fault("slow", times=2, reference="slow-ref")
    sandbox.config.slow_seconds = 1.5
    result = check_status(client_for(sandbox.base_url), "slow-ref")
    assert result.state == CheckState.TRANSPORT_ERROR and result.message.startswith("timed out")
    assert len(sandbox.status_checks("slow-ref")) == 2


def test_no_retry_starts_after_the_deadline(sandbox):
    sandbox.add_order("dl-ref")
    sandbox.queue_fault("http500", times=3, reference="dl-ref")
    result = check_status(client_for(sandbox.base_url), "dl-ref", deadline=time.monotonic())
    assert result.state == CheckState.TRANSPORT_ERROR
    assert len(sandbox.status_checks("dl-ref")) == 1


@pytest.mark.parametrize("kod,sifre", [("", SANDBOX_SIFRE), (SANDBOX_KOD, None)])
def test_missing_credentials_make_no_request(sandbox, kod, sifre):
    result = check_status(client_for(sandbox.base_url, kod=kod, sifre=sifre), "x")
    assert result.state == CheckState.CONFIGURATION_ERROR
    assert sandbox.request_log == []


def test_a_description_comes_back_as_said_except_the_integrations_secrets(sandbox):
    sandbox.add_order("desc-ref", pin="Kod:9-1234-5678", checks_until_final=1, description="Kod: A|B|C teslim")
    sandbox.add_order("secret-ref", checks_until_final=1, description=f"Kod: A|B|C teslim sifre {SANDBOX_SIFRE}")
    client = client_for(sandbox.base_url)
    delivered = check_status(client, "desc-ref")
    assert (delivered.pin, delivered.message) == ("Kod:9-1234-5678", "Kod: A|B|C teslim")
    assert check_status(client, "secret-ref").message == "Kod: A|B|C teslim sifre ***"


# -- the shapes of status lines, over HTTP -------------------------------------------------------


def test_a_lower_case_ok_with_a_two_line_pin_completes_with_both_codes(sandbox):
    sandbox.add_order("two-codes", pin="AAAA-1111-BBBB\nCCCC-2222-DDDD", checks_until_final=1, styles=("lower_ok",))

    result = check_status(client_for(sandbox.base_url), "two-codes")

    assert result == CheckResult(CheckState.COMPLETED, pin="AAAA-1111-BBBB\nCCCC-2222-DDDD", message="İşlem başarılı")


@pytest.mark.parametrize("styles", [(style,) for style in STATUS_STYLES] + [STATUS_STYLES])
def test_every_status_line_style_reads_the_same(sandbox, styles):
    sandbox.add_order("waiting", checks_until_final=2, styles=styles)
    sandbox.add_order("failed", outcome="failed", reason="Stok yok", checks_until_final=1, styles=styles)
    sandbox.add_order("done", pin="PIN-0001", checks_until_final=1, styles=styles)
    client = client_for(sandbox.base_url)

    assert check_status(client, "waiting").state == CheckState.IN_PROGRESS
    assert check_status(client, "failed") == CheckResult(CheckState.FAILED, message="Stok yok")
    assert check_status(client, "done") == CheckResult(CheckState.COMPLETED, pin="PIN-0001", message="İşlem başarılı")
    assert check_status(client, "waiting").state == CheckState.COMPLETED


def test_the_sandboxs_answer_styles_apply_to_every_order(db):
    server = ZnetSandbox(SandboxConfig(kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE, answer_styles=("bom", "dash_pin"))).start()
    try:
        server.add_order("r", checks_until_final=2)
        assert check_status(client_for(server.base_url), "r") == CheckResult(
            CheckState.IN_PROGRESS, message="İşleminiz devam ediyor"
        )
    finally:
        server.stop()


def test_a_state_znet_does_not_document_keeps_the_order_in_progress(sandbox):
    sandbox.add_order("odd", unknown_durum="5")

    result = check_status(client_for(sandbox.base_url), "odd")

    assert (result.state, result.unknown_status, result.pin) == (CheckState.IN_PROGRESS, "5", None)
    assert not result.is_error


# -- placing: one request per dispatch -----------------------------------------------------------


def test_an_accepted_order_answers_its_dealer_cost_in_try(sandbox):
    sandbox.config.place_cost = "43.25"

    result = client_for(sandbox.base_url).place_order("cost-ref", PUBG_60)

    assert (result.state, result.cost_amount, result.cost_currency) == (PlaceState.ACCEPTED, Decimal("43.25"), "TRY")


def test_a_referans_is_digits_only(sandbox):
    client = client_for(sandbox.base_url)
    references = {client.place_reference(uuid.uuid4()) for _ in range(200)}
    assert len(references) == 200
    assert all(reference.isdigit() and len(reference) == 19 for reference in references)
    # The first 13 digits are the time in milliseconds.
    assert all(abs(int(reference[:13]) - time.time() * 1000) < 60_000 for reference in references)


def test_a_place_answer_lost_to_the_read_timeout_is_unknown_and_never_sent_again(sandbox, settings):
    settings.PROVIDER_RETRY_ATTEMPTS = 3
    sandbox.config.first_place_delay = 1.5  # against a 1 s read timeout; znet takes the order at once
    client = client_for(sandbox.base_url)

    result = client.place_order("lost-ref", PUBG_60)

    assert result.state == PlaceState.UNKNOWN and result.message.startswith("timed out")
    assert [entry["result"] for entry in sandbox.place_requests()] == ["placed"]
    # The order the lost answer was about exists at znet, and a status check finds it.
    assert check_status(client, "lost-ref").state == CheckState.IN_PROGRESS


def test_a_repeated_reference_is_answered_duplicate_and_means_znet_has_the_order(sandbox):
    client = client_for(sandbox.base_url)
    assert client.place_order("twice-ref", PUBG_60).state == PlaceState.ACCEPTED

    again = client.place_order("twice-ref", PUBG_60)

    assert again.state == PlaceState.DUPLICATE and again.provider_has_order
    assert again.message == DUPLICATE_REFERENCE_LINE.replace("|", ": ", 1)
    assert [entry["result"] for entry in sandbox.place_requests()] == ["placed", "duplicate"]
    assert list(sandbox.orders) == ["twice-ref"]


@pytest.mark.parametrize(
    ("duplicate_answer", "message"),
    [("sent_before", "4: Daha Önce Gönderilmiş (166000)"), ("http409", "HTTP 409 from provider: Conflict")],
)
def test_a_referans_sent_before_or_http_409_means_znet_has_the_order(sandbox, duplicate_answer, message):
    sandbox.config.duplicate_answer = duplicate_answer
    client = client_for(sandbox.base_url)
    client.place_order("again-ref", PUBG_60)

    again = client.place_order("again-ref", PUBG_60)

    assert (again.state, again.message) == (PlaceState.DUPLICATE, message)
    assert again.provider_has_order and not again.uncertain


@pytest.mark.parametrize(("fault", "message"), [("http500", "HTTP 500"), ("drop", "connection failed")])
def test_a_failure_after_the_request_arrived_is_unknown_and_not_retried(sandbox, settings, fault, message):
    settings.PROVIDER_RETRY_ATTEMPTS = 3
    sandbox.queue_place_fault(fault)

    result = client_for(sandbox.base_url).place_order("faulty-ref", PUBG_60)

    assert result.state == PlaceState.UNKNOWN and result.message.startswith(message)
    assert len(sandbox.place_requests("faulty-ref")) == 1
    assert "faulty-ref" in sandbox.orders


def test_a_refused_connection_is_retried_because_nothing_was_sent(db, settings):
    """Connection refused: the request provably never left, so the next attempt may place it."""
    settings.PROVIDER_RETRY_ATTEMPTS = 3
    port = _free_port()
    late = ZnetSandbox(SandboxConfig(kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE))
    starts_on_retry = _StartOnRetryLog(late, port)
    logging.getLogger("providers.http").addHandler(starts_on_retry)
    try:
        result = client_for(f"http://127.0.0.1:{port}").place_order("refused-ref", PUBG_60)
    finally:
        logging.getLogger("providers.http").removeHandler(starts_on_retry)
        late.stop()

    assert starts_on_retry.retries == 1
    assert result.state == PlaceState.ACCEPTED
    assert [entry["result"] for entry in late.place_requests()] == ["placed"]


def test_no_connection_on_any_attempt_means_not_sent(db, settings, caplog):
    settings.PROVIDER_RETRY_ATTEMPTS = 2
    result = client_for("http://127.0.0.1:9", sifre="Refused-Pw-3141").place_order("never-ref", PUBG_60)
    assert result.state == PlaceState.NOT_SENT and result.message.startswith("connection failed")
    assert "nothing was sent; trying again" in caplog.text
    assert "Refused-Pw-3141" not in result.message + caplog.text


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _StartOnRetryLog(logging.Handler):
    """Starts the sandbox when the client logs its first retry: the provider comes up between
    a refused attempt and the next one."""

    def __init__(self, sandbox, port):
        super().__init__()
        self.sandbox, self.port, self.retries = sandbox, port, 0

    def emit(self, record):
        if "nothing was sent; trying again" in record.getMessage():
            self.retries += 1
            if self.retries == 1:
                self.sandbox.start(port=self.port)
