"""The admin's "test connection" over real HTTP against the sandboxes: one harmless request, the
answer summarised, no secret in the summary."""

import pytest

from providers.connection import probe_connection
from providers.models import Integration
from sandbox.apstore import ApstoreSandbox
from sandbox.apstore import SandboxConfig as ApstoreConfig
from tests.factories import SANDBOX_KOD, SANDBOX_SIFRE

TOKEN = "apst-conn-5e1d9c7b3a"
WRONG_SIFRE = "Wrong-Sifre-8812"


@pytest.fixture
def apstore():
    server = ApstoreSandbox(ApstoreConfig(token=TOKEN, balance=12.5)).start()
    yield server
    server.stop()


def znet(base_url, kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE):
    return Integration(name="znet", provider="znet", base_url=base_url, kod=kod, sifre=sifre)


def apstore_integration(base_url, provider="apstore", token=TOKEN):
    return Integration(name="apstore", provider=provider, base_url=base_url, api_token=token)


def assert_no_secret(summary):
    for secret in (SANDBOX_KOD, SANDBOX_SIFRE, WRONG_SIFRE, TOKEN):
        assert secret not in summary


def test_znet_asks_for_the_catalog_once(sandbox):
    check = probe_connection(znet(sandbox.base_url), max_seconds=5)

    assert (check.ok, check.summary) == (True, "OK: 1 product in the catalog")
    assert [entry["path"] for entry in sandbox.request_log] == ["pin_listesi"]


@pytest.mark.parametrize(
    "kod,sifre,summary",
    [
        (SANDBOX_KOD, WRONG_SIFRE, "refused: provider error 1: Bayi kodu veya şifre hatalı"),
        ("unknown-dealer", SANDBOX_SIFRE, "refused: znet sent an empty answer: the dealer code is unknown"),
    ],
    ids=["wrong-sifre", "unknown-kod"],
)
def test_znet_refusals_are_summarised_without_secrets(sandbox, kod, sifre, summary):
    check = probe_connection(znet(sandbox.base_url, kod=kod, sifre=sifre), max_seconds=5)

    assert not check.ok
    assert check.summary.startswith(summary)
    assert_no_secret(check.summary)


def test_a_wrong_base_url_is_refused_with_what_to_check(sandbox):
    check = probe_connection(znet(sandbox.base_url + "/wrong-prefix"), max_seconds=5)

    assert not check.ok
    assert check.summary == "refused: HTTP 404 from provider (check the integration's baseUrl and credentials)"


def test_no_answer_is_a_redacted_failure(db):
    check = probe_connection(znet("http://127.0.0.1:9", sifre=WRONG_SIFRE), max_seconds=5)

    assert not check.ok and check.summary.startswith("failed: connection failed")
    assert_no_secret(check.summary)


def test_missing_credentials_make_no_request(sandbox):
    check = probe_connection(znet(sandbox.base_url, sifre=None), max_seconds=5)

    assert (check.ok, check.summary) == (False, "not configured: integration has no kod/sifre")
    assert sandbox.request_log == []


@pytest.mark.parametrize("provider", ["apstore", "barakat"])
def test_apstore_family_reads_the_balance(apstore, provider):
    check = probe_connection(apstore_integration(apstore.base_url, provider=provider), max_seconds=5)

    assert (check.ok, check.summary) == (True, "OK: balance 12.50")
    assert [entry["path"] for entry in apstore.request_log] == ["profile"]


def test_apstore_wrong_token_is_refused(apstore):
    check = probe_connection(apstore_integration(apstore.base_url, token="apst-wrong-0000"), max_seconds=5)

    assert not check.ok
    assert check.summary == "refused: HTTP 401 from provider (check the integration's baseUrl and apiToken)"
    assert "apst-wrong-0000" not in check.summary


def test_an_unknown_provider_is_not_configured(db):
    check = probe_connection(Integration(name="typo", provider="foonet", base_url="http://x"), max_seconds=5)

    assert (check.ok, check.summary) == (False, "not configured: no client for provider 'foonet'")
