"""Provider HTTP: no attempt outlives its caller's deadline by more than a second."""

import time

from providers.base import CheckState
from providers.http import timeouts
from providers.models import Integration
from providers.znet.client import ZnetClient
from tests.factories import SANDBOX_KOD, SANDBOX_SIFRE


def test_timeouts_are_the_configured_ones_without_a_near_deadline(settings):
    settings.PROVIDER_CONNECT_TIMEOUT_SECONDS = 5
    settings.PROVIDER_READ_TIMEOUT_SECONDS = 20

    assert timeouts() == (5, 20)
    assert timeouts(time.monotonic() + 600) == (5, 20)


def test_timeouts_are_cut_to_the_time_left(settings):
    settings.PROVIDER_CONNECT_TIMEOUT_SECONDS = 5
    settings.PROVIDER_READ_TIMEOUT_SECONDS = 20

    start = time.monotonic()
    connect, read = timeouts(start + 8)
    taken = time.monotonic() - start

    assert 8 - taken <= connect + read <= 8
    assert connect <= 5


def test_an_attempt_at_or_past_the_deadline_still_gets_a_second(settings):
    settings.PROVIDER_CONNECT_TIMEOUT_SECONDS = 5
    settings.PROVIDER_READ_TIMEOUT_SECONDS = 20

    assert timeouts(time.monotonic() - 3) == (1.0, 1.0)


def test_a_slow_answer_in_progress_at_the_deadline_ends_as_a_timeout(sandbox, settings):
    """The answer comes after 3 s; the read timeout (20 s) would wait for it, the deadline (1 s)
    does not."""
    settings.PROVIDER_READ_TIMEOUT_SECONDS = 20
    sandbox.config.slow_seconds = 3
    sandbox.add_order("slow-ref")
    sandbox.queue_fault("slow", reference="slow-ref")
    client = ZnetClient(
        Integration(name="z", provider="znet", base_url=sandbox.base_url, kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE)
    )

    result = client.check_status("slow-ref", deadline=time.monotonic() + 1)

    assert result.state == CheckState.TRANSPORT_ERROR and result.message.startswith("timed out")
    assert len(sandbox.status_checks("slow-ref")) == 1
