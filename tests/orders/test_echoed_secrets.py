"""A provider that echoes our request (the URL with kod and sifre, the api-token header), cut
anywhere across a secret: no part of the secret reaches last_check_error, the commands' output
(check_pending_orders, --order-id, dispatch_order, monitor_health), the admin's pages and
messages, or django_admin_log."""

import io
from urllib.parse import quote_plus

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.urls import reverse

from orders.models import ExternalStatus, Order
from providers.models import Integration
from sandbox.faults import Echo
from sandbox.internal import InternalSandbox, SandboxConfig
from tests.factories import SANDBOX_KOD, SANDBOX_SIFRE, create_unsent_order

pytestmark = pytest.mark.django_db

URL_ECHO = f"Error in request!: GET /servis/pin_kontrol.php?kod={SANDBOX_KOD}&sifre={SANDBOX_SIFRE}"
SIFRE_AT = URL_ECHO.index(SANDBOX_SIFRE)
# Cuts inside the password: after its 4th, 9th and last but one character, and the echo whole.
ECHO_LENGTHS = (SIFRE_AT + 4, SIFRE_AT + 9, SIFRE_AT + len(SANDBOX_SIFRE) - 1, None)


def assert_no_part_of(secrets, *texts):
    """No text holds the first 4 characters of a secret (as sent, or URL-encoded)."""
    for text in texts:
        for secret in secrets:
            for start in {secret[:4], quote_plus(secret)[:4]}:
                assert start not in (text or ""), (secret, text)


def command(name, *args):
    out = io.StringIO()
    call_command(name, *args, stdout=out, stderr=out)
    return out.getvalue()


@pytest.mark.parametrize("length", ECHO_LENGTHS)
def test_a_status_answer_echoing_the_url_leaves_no_part_of_a_secret_anywhere(make_order, sandbox, admin_client, length):
    order = make_order(checks_until_final=5)
    sandbox.queue_answer(200, Echo(length=length), times=2)

    run_output = command("check_pending_orders", "-v", "2")
    one_output = command("check_pending_orders", "--order-id", str(order.pk))
    order.refresh_from_db()
    app = Order._meta.app_label
    page = admin_client.get(reverse(f"admin:{app}_order_change", args=[order.pk])).content.decode()
    sandbox.queue_answer(200, Echo(length=length))
    checked_now = admin_client.post(
        reverse(f"admin:{app}_order_changelist"),
        {"action": "check_now", "_selected_action": [str(order.pk)]},
        follow=True,
    ).content.decode()
    order.refresh_from_db()

    assert order.last_check_error.startswith("malformed: malformed answer: 'Error in request!: GET /servis/")
    assert "kod=***" in order.last_check_error
    admin_log = " ".join(entry.change_message for entry in LogEntry.objects.all())
    texts = (order.last_check_error, run_output, one_output, page, checked_now, admin_log)
    assert_no_part_of((SANDBOX_KOD, SANDBOX_SIFRE), *texts)


def test_an_error_line_echoing_the_url_cut_short_leaves_no_part_of_the_password(make_order, sandbox):
    """The provider's own words (an error line) are kept, the password it cut short is not."""
    order = make_order(checks_until_final=5)
    sandbox.queue_answer(200, Echo(lead="8|Error in request!: ", length=SIFRE_AT + 2 + 7))

    output = command("check_pending_orders", "--order-id", str(order.pk))

    order.refresh_from_db()
    assert (
        order.last_check_error == "provider error 8: Error in request!: GET /servis/pin_kontrol.php?kod=***&sifre=***"
    )
    assert_no_part_of((SANDBOX_KOD, SANDBOX_SIFRE), output)


def test_a_permanent_error_echoing_the_url_leaves_no_part_of_it_in_monitor_health(make_order, sandbox):
    order = make_order(checks_until_final=5)
    # "not found" makes the error line permanent, so monitor_health lists it with its text; the
    # provider cut its echo 10 characters into the password.
    lead = "5|not found: "
    sandbox.queue_answer(200, Echo(lead=lead, length=len(lead) + SIFRE_AT - len("Error in request!: ") + 10))
    command("check_pending_orders")
    order.refresh_from_db()
    assert order.permanent_error_since is not None

    out = io.StringIO()
    try:
        call_command("monitor_health", stdout=out)
    except SystemExit:  # degraded (no run recorded yet): exit code 1, the report written first
        pass

    assert "not found: GET /servis/pin_kontrol.php?kod=***&sifre=***" in out.getvalue()
    assert_no_part_of((SANDBOX_KOD, SANDBOX_SIFRE), order.last_check_error, out.getvalue())


@pytest.mark.parametrize("length", ECHO_LENGTHS)
def test_a_place_answer_echoing_the_url_leaves_no_part_of_a_secret_in_dispatch_order(integration, sandbox, length):
    order = create_unsent_order(integration)
    sandbox.queue_answer(200, Echo(length=length), matching="pin_ekle")

    output = command("dispatch_order", "--order-id", str(order.pk), "--product", "101", "--denomination", "60")

    order.refresh_from_db()
    assert order.external_status == ExternalStatus.PENDING
    assert order.last_check_error.startswith("dispatch answer unknown: malformed answer: 'Error in request!")
    assert output.startswith(f"order {order.pk}: pending malformed answer: 'Error in request!: GET /servis/pin_ekle")
    assert_no_part_of((SANDBOX_KOD, SANDBOX_SIFRE), output, order.last_check_error)


TOKEN = "Tkn-e2e-77a1c09d3b"


@pytest.fixture
def tenant():
    server = InternalSandbox(SandboxConfig(token=TOKEN, checks_until_final=1, seed=2)).start()
    yield server
    server.stop()


@pytest.mark.parametrize("length", (4, 9, len(TOKEN) - 1, len(TOKEN)))
def test_a_401_repeating_the_token_leaves_no_part_of_it_in_dispatch_order(tenant, length):
    integration = Integration.objects.create(
        name="shop2", provider="internal", base_url=tenant.base_url, api_token=TOKEN
    )
    order = create_unsent_order(integration)
    tenant.queue_answer(401, {"statusCode": 401, "message": f"invalid api-token {TOKEN[:length]}"})

    output = command("dispatch_order", "--order-id", str(order.pk), "--product", "12")

    order.refresh_from_db()
    assert order.external_status == ExternalStatus.FAILED
    assert output.startswith(f"order {order.pk}: failed HTTP 401 from provider: invalid api-token ***")
    assert_no_part_of((TOKEN,), output, order.last_message, order.provider_message)
