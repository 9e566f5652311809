"""The znet client over real HTTP against the sandbox."""

import time

import pytest

from providers.base import CheckState
from providers.models import Integration
from providers.znet.client import ZnetClient
from tests.conftest import SANDBOX_KOD, SANDBOX_SIFRE


def client_for(base_url, kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE):
    return ZnetClient(Integration(name="t", provider="znet", base_url=base_url, kod=kod, sifre=sifre))


def test_status_request_carries_credentials_and_reference(sandbox):
    sandbox.add_order("ref-1", pin="ABCD-1234-EFGH", checks_until_final=1)
    result = client_for(sandbox.base_url + "/").check_status("ref-1")
    assert result.state == CheckState.COMPLETED and result.pin == "ABCD-1234-EFGH"
    assert sandbox.status_checks("ref-1")[0]["result"] == "2"


def test_in_progress_then_final(sandbox):
    sandbox.add_order("ref-2", outcome="failed", checks_until_final=2)
    client = client_for(sandbox.base_url)
    assert client.check_status("ref-2").state == CheckState.IN_PROGRESS
    assert client.check_status("ref-2").state == CheckState.FAILED


def test_connection_refused_is_a_redacted_transport_error(db):
    result = client_for("http://127.0.0.1:9", sifre="Refused-Pw-3141").check_status("r")
    assert result.state == CheckState.TRANSPORT_ERROR
    assert result.message.startswith("connection failed")
    assert "Refused-Pw-3141" not in result.message and SANDBOX_KOD not in result.message


def test_http_404_means_a_wrong_base_url(sandbox):
    result = client_for(sandbox.base_url + "/wrong-prefix").check_status("r")
    assert result.state == CheckState.CONFIGURATION_ERROR and result.permanent


def test_timeouts_are_retried_then_reported(sandbox, settings):
    settings.PROVIDER_RETRY_ATTEMPTS = 2
    sandbox.add_order("slow-ref")
    sandbox.queue_fault("slow-ref", "slow", times=2)
    sandbox.config.slow_seconds = 1.5
    result = client_for(sandbox.base_url).check_status("slow-ref")
    assert result.state == CheckState.TRANSPORT_ERROR and result.message.startswith("timed out")
    assert len(sandbox.status_checks("slow-ref")) == 2


def test_no_retry_starts_after_the_deadline(sandbox):
    sandbox.add_order("dl-ref")
    sandbox.queue_fault("dl-ref", "http500", times=3)
    result = client_for(sandbox.base_url).check_status("dl-ref", deadline=time.monotonic())
    assert result.state == CheckState.TRANSPORT_ERROR
    assert len(sandbox.status_checks("dl-ref")) == 1


@pytest.mark.parametrize("kod,sifre", [("", SANDBOX_SIFRE), (SANDBOX_KOD, None)])
def test_missing_credentials_make_no_request(sandbox, kod, sifre):
    result = client_for(sandbox.base_url, kod=kod, sifre=sifre).check_status("x")
    assert result.state == CheckState.CONFIGURATION_ERROR
    assert sandbox.request_log == []


def test_a_description_comes_back_as_said_except_the_integrations_secrets(sandbox):
    sandbox.add_order("desc-ref", pin="Kod:9-1234-5678", checks_until_final=1, description="Kod: A|B|C teslim")
    sandbox.add_order("secret-ref", checks_until_final=1, description=f"Kod: A|B|C teslim sifre {SANDBOX_SIFRE}")
    client = client_for(sandbox.base_url)
    delivered = client.check_status("desc-ref")
    assert (delivered.pin, delivered.message) == ("Kod:9-1234-5678", "Kod: A|B|C teslim")
    assert client.check_status("secret-ref").message == "Kod: A|B|C teslim sifre ***"
