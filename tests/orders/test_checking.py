"""Provider calls of one run: the per-integration cap, and one provider never starving another."""

import io

import pytest
from django.core.management import call_command

from orders.models import ExternalStatus, Order
from providers.models import Integration
from sandbox.znet import SandboxConfig, ZnetSandbox
from tests.factories import SANDBOX_KOD, SANDBOX_SIFRE, create_order_at_sandbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def hanging_sandbox():
    server = ZnetSandbox(SandboxConfig(kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE, latency=30)).start()
    yield server
    server.stop()


def orders_at(sandbox, integration, count):
    return [create_order_at_sandbox(sandbox, integration) for _ in range(count)]


@pytest.mark.slow
def test_a_hanging_provider_does_not_hold_up_another(sandbox, integration, hanging_sandbox, settings):
    settings.MONITOR_WORKERS = 4
    settings.MONITOR_PER_INTEGRATION_CONCURRENCY = 2
    settings.PROVIDER_RETRY_ATTEMPTS = 1
    hanging = Integration.objects.create(
        name="hanging", provider="znet", base_url=hanging_sandbox.base_url, kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE
    )
    stuck = orders_at(hanging_sandbox, hanging, 10)
    sandbox.config.latency = 0.05
    healthy = orders_at(sandbox, integration, 30)

    call_command("check_pending_orders", "--max-seconds", "2.5", stdout=io.StringIO())

    healthy_rows = Order.objects.filter(pk__in=[o.pk for o in healthy])
    assert healthy_rows.filter(external_status=ExternalStatus.DONE).count() == 30
    # The hanging provider's orders are recorded as timed-out checks or released; it never had
    # more than its cap (2) of requests at once: each one hangs until the 1 s read timeout.
    stuck_rows = Order.objects.filter(pk__in=[o.pk for o in stuck])
    assert stuck_rows.filter(external_status=ExternalStatus.SENT).count() == 10
    assert hanging_sandbox.max_in_flight("pin_kontrol") == 2


def test_requests_to_one_integration_never_exceed_the_cap(sandbox, integration, settings):
    settings.MONITOR_WORKERS = 16
    settings.MONITOR_PER_INTEGRATION_CONCURRENCY = 3
    sandbox.config.latency = 0.2
    orders_at(sandbox, integration, 12)
    call_command("check_pending_orders", stdout=io.StringIO())
    # Answers take 0.2 s, so the 12 checks overlap: 3 at a time, never 4.
    assert len(sandbox.status_checks()) == 12
    assert sandbox.max_in_flight("pin_kontrol") == 3
