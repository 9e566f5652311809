"""Provider credentials never reach logs, output or stored columns; PINs only masked."""

import uuid

import pytest
from django.db.models import Q

from orders.models import ExternalStatus, Order
from providers.models import Integration
from tests.commands import run_command
from tests.factories import SANDBOX_KOD, SANDBOX_SIFRE, create_sent_order

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]  # separate processes


def test_no_secret_and_no_full_pin_in_logs_output_or_columns(integration, sandbox):
    pins = []
    for n in range(6):  # completed orders: their PINs may appear masked only
        reference = uuid.uuid4().hex
        pins.append(f"PIN{n}-SECRETCODE-{reference[:6]}")
        sandbox.add_order(reference, pin=pins[-1], checks_until_final=1)
        create_sent_order(integration, reference)
    for fault in ("http500", "slow", "malformed", "empty", "error_line"):  # HTTP errors, timeouts, bad answers
        reference = uuid.uuid4().hex
        sandbox.add_order(reference)
        sandbox.queue_fault(fault, times=5, reference=reference)
        create_sent_order(integration, reference)
    create_sent_order(integration, "unknown-reference")  # permanent: unknown reference
    wrong_password = Integration.objects.create(
        name="wrong", provider="znet", base_url=sandbox.base_url, kod=SANDBOX_KOD, sifre="Wrong-Sifre-5531"
    )
    create_sent_order(wrong_password)
    refused = Integration.objects.create(
        name="down", provider="znet", base_url="http://127.0.0.1:9", kod="kod-refused-81", sifre="Refused-Sifre-7720"
    )
    create_sent_order(refused)  # connection refused: the exception text carries the URL
    sandbox.config.slow_seconds = 1.5

    code, stdout, stderr = run_command("check_pending_orders", "-v", "2", LOG_LEVEL="DEBUG")
    one_order = Order.objects.filter(external_status=ExternalStatus.DONE).first()
    code_one, stdout_one, stderr_one = run_command(
        "check_pending_orders",
        "--order-id",
        str(create_sent_order(integration).pk),
        LOG_LEVEL="DEBUG",
    )

    assert code == 0, stderr
    everything = "\n".join([stdout, stderr, stdout_one, stderr_one])
    assert "sifre=***" in everything  # urllib3's debug lines are there, redacted
    secrets = [SANDBOX_SIFRE, SANDBOX_KOD, "Wrong-Sifre-5531", "Refused-Sifre-7720", "kod-refused-81"]
    for secret in secrets:
        assert secret not in everything
    for pin in pins:
        assert pin not in everything
        assert f"****{pin[-4:]}" in everything
    assert one_order.pin_code in pins

    stored = Order.objects.filter(
        Q(last_check_error__isnull=False) | Q(provider_message__isnull=False) | Q(last_message__isnull=False)
    ).values_list("last_check_error", "provider_message", "last_message")
    stored_text = "\n".join(str(value) for row in stored for value in row)
    assert "connection failed" in stored_text and "timed out" in stored_text
    for secret in secrets:
        assert secret not in stored_text


def test_provider_texts_are_stored_as_said_while_logs_stay_redacted(integration, sandbox):
    delivered, echoing = uuid.uuid4().hex, uuid.uuid4().hex
    sandbox.add_order(delivered, pin="PIN-7777-8888-9999", checks_until_final=1, description="Kod: A|B|C teslim")
    sandbox.add_order(echoing, checks_until_final=1, description=f"Kod: A|B|C teslim, sifre {SANDBOX_SIFRE}")
    delivered_order, echoing_order = create_sent_order(integration, delivered), create_sent_order(integration, echoing)

    code, stdout, stderr = run_command("check_pending_orders", "-v", "2", LOG_LEVEL="DEBUG")

    assert code == 0, stderr
    delivered_order.refresh_from_db()
    echoing_order.refresh_from_db()
    assert (delivered_order.provider_message, delivered_order.pin_code) == ("Kod: A|B|C teslim", "PIN-7777-8888-9999")
    assert echoing_order.provider_message == "Kod: A|B|C teslim, sifre ***"
    # Log lines (the per-order lines of -v 2 among them) still apply every credential pattern.
    assert "kod=***&sifre=***" in stderr
    assert f"order {delivered_order.pk} completed, pin ****9999" in stderr
    for text in (stdout, stderr):
        assert SANDBOX_SIFRE not in text and SANDBOX_KOD not in text and "A|B|C" not in text
        assert "PIN-7777-8888-9999" not in text
