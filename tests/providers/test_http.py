"""Provider HTTP: no attempt outlives its caller's deadline by more than a second; no answer is read
past PROVIDER_MAX_ANSWER_BYTES."""

import time
import tracemalloc

import pytest
import requests

from providers.base import CheckState
from providers.http import HttpLimits, ProviderHTTPError, http_send_once, timeouts, within_answer_limit
from providers.models import Integration
from providers.znet.client import ZnetClient
from sandbox.faults import LongBody
from tests.factories import SANDBOX_KOD, SANDBOX_SIFRE
from tests.providers.checks import check_status


def test_timeouts_are_the_configured_ones_without_a_near_deadline(settings):
    settings.PROVIDER_CONNECT_TIMEOUT_SECONDS = 5
    settings.PROVIDER_READ_TIMEOUT_SECONDS = 20

    limits = HttpLimits.from_settings()
    assert timeouts(limits) == (5, 20)
    assert timeouts(limits, time.monotonic() + 600) == (5, 20)


def test_timeouts_are_cut_to_the_time_left(settings):
    settings.PROVIDER_CONNECT_TIMEOUT_SECONDS = 5
    settings.PROVIDER_READ_TIMEOUT_SECONDS = 20

    limits = HttpLimits.from_settings()
    start = time.monotonic()
    connect, read = timeouts(limits, start + 8)
    taken = time.monotonic() - start

    assert 8 - taken <= connect + read <= 8
    assert connect <= 5


def test_an_attempt_at_or_past_the_deadline_still_gets_a_second(settings):
    settings.PROVIDER_CONNECT_TIMEOUT_SECONDS = 5
    settings.PROVIDER_READ_TIMEOUT_SECONDS = 20

    assert timeouts(HttpLimits.from_settings(), time.monotonic() - 3) == (1.0, 1.0)


def test_a_slow_answer_in_progress_at_the_deadline_ends_as_a_timeout(sandbox, settings):
    """The answer comes after 3 s; the read timeout (20 s) would wait for it, the deadline (1 s)
    does not."""
    settings.PROVIDER_READ_TIMEOUT_SECONDS = 20
    sandbox.config.slow_seconds = 3
    sandbox.add_order("slow-ref")
    sandbox.queue_fault("slow", reference="slow-ref")
    client = ZnetClient(
        Integration(name="z", provider="znet", base_url=sandbox.base_url, kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE),
        limits=HttpLimits.from_settings(),
    )

    result = check_status(client, "slow-ref", deadline=time.monotonic() + 1)

    assert result.state == CheckState.TRANSPORT_ERROR and result.message.startswith("timed out")
    assert len(sandbox.status_checks("slow-ref")) == 1


# -- answers read up to PROVIDER_MAX_ANSWER_BYTES ------------------------------------------------

TWENTY_MB = 20 * 1024 * 1024


def znet_client(sandbox):
    return ZnetClient(
        Integration(name="z", provider="znet", base_url=sandbox.base_url, kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE),
        limits=HttpLimits.from_settings(),
    )


def test_a_20_mb_answer_is_read_only_up_to_the_limit_and_never_held_whole(sandbox, settings):
    settings.PROVIDER_MAX_ANSWER_BYTES = 65536
    huge = LongBody(b"OK|1||still processing ", TWENTY_MB)
    sandbox.queue_answer(200, huge)
    client = znet_client(sandbox)

    tracemalloc.start()
    try:
        result = check_status(client, "any-ref")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.state == CheckState.IN_PROGRESS
    assert result.message.startswith("still processing xxx")
    assert result.message.endswith(" [answer cut at 65536 bytes]")
    assert len(result.message.encode()) <= 65536 + len(" [answer cut at 65536 bytes]")
    # The client stopped reading and hung up: the sandbox got no further than its socket buffers.
    assert huge.sent < TWENTY_MB / 2
    assert peak < 2 * 1024 * 1024  # the sandbox streams its pieces; the client kept the limit's worth


def test_an_answer_cut_at_the_limit_keeps_whole_characters(sandbox, settings):
    settings.PROVIDER_MAX_ANSWER_BYTES = 1025  # "OK|1||" + 2-byte characters: the limit runs through one
    sandbox.queue_answer(200, LongBody(b"OK|1||", 4096, fill="ş".encode()))

    result = check_status(znet_client(sandbox), "any-ref")

    assert result.state == CheckState.IN_PROGRESS  # still valid UTF-8, not "malformed"
    assert result.message == "ş" * 509 + " [answer cut at 1025 bytes]"


def test_an_error_answer_is_read_up_to_the_limit_too(sandbox, settings):
    settings.PROVIDER_MAX_ANSWER_BYTES = 2048
    sandbox.queue_answer(500, LongBody(b"<html>", TWENTY_MB))
    session = requests.Session()

    with pytest.raises(ProviderHTTPError) as raised:
        http_send_once("GET", session, f"{sandbox.base_url}/servis/pin_kontrol.php", limits=HttpLimits.from_settings())

    assert raised.value.status_code == 500 and len(raised.value.body) == 2048


def test_an_answer_within_the_limit_is_whole_and_unmarked(sandbox, settings):
    settings.PROVIDER_MAX_ANSWER_BYTES = 1024
    sandbox.queue_answer(200, "OK|1||" + "y" * 1018)  # exactly the limit

    result = check_status(znet_client(sandbox), "any-ref")

    assert result.message == "y" * 1018


def test_a_message_over_the_limit_is_cut_and_marked_once(settings):
    settings.PROVIDER_MAX_ANSWER_BYTES = 1024
    limit = HttpLimits.from_settings().max_answer_bytes
    cut = within_answer_limit("z" * 5000, limit)
    assert cut == "z" * 1024 + " [answer cut at 1024 bytes]"
    assert within_answer_limit(cut, limit) == cut and within_answer_limit("short", limit) == "short"
