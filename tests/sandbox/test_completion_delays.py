"""The znet sandbox's completion delays: an order completes once its delay has passed since it
was placed, however often it is asked (over real HTTP, through the znet client)."""

import random
import time

import pytest
from django.core.management import CommandError, call_command

from providers.base import CheckState, PlaceState
from sandbox.completion_delays import REFERENCE_MIX, draw
from sandbox.znet import SandboxConfig, ZnetSandbox
from tests.factories import SANDBOX_KOD, SANDBOX_SIFRE
from tests.providers.checks import check_status
from tests.providers.znet.test_client import PUBG_60, client_for


def test_an_order_is_in_progress_until_its_ready_time_then_final(sandbox, time_machine):
    time_machine.move_to(1_000_000, tick=False)
    sandbox.add_order("ready-later", ready_at=time.time() + 20, checks_until_final=1)
    client = client_for(sandbox.base_url + "/")
    for _ in range(5):  # more checks than checks_until_final: the ready time decides
        assert check_status(client, "ready-later").state == CheckState.IN_PROGRESS
    time_machine.shift(20)
    result = check_status(client, "ready-later")
    assert result.state == CheckState.COMPLETED and result.pin


@pytest.fixture
def delayed_sandbox():
    config = SandboxConfig(kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE, completion_delays="reference", seed=7)
    server = ZnetSandbox(config).start()
    yield server
    server.stop()


def test_placed_orders_get_delays_drawn_from_the_mix(delayed_sandbox):
    client = client_for(delayed_sandbox.base_url + "/")
    placed_at = time.time()
    for number in range(300):
        assert client.place_order(f"order-{number}", PUBG_60).state == PlaceState.ACCEPTED
    delays = [order.ready_at - placed_at for order in delayed_sandbox.orders.values()]
    assert all(4 <= delay <= 7201 for delay in delays)
    assert 0.6 <= sum(delay <= 31 for delay in delays) / len(delays) <= 0.8  # 70 % within 5-30 s
    assert check_status(client, "order-0").state == CheckState.IN_PROGRESS  # none is ready within 5 s


def test_draw_follows_the_shares_of_the_mix():
    delays = draw(REFERENCE_MIX, 20_000, random.Random(3))
    shares = [sum(low <= delay <= high for delay in delays) / len(delays) for _, low, high in REFERENCE_MIX]
    assert shares == pytest.approx([0.70, 0.25, 0.05], abs=0.02)


def test_the_command_refuses_an_unknown_mix():
    with pytest.raises(CommandError, match="invalid choice: 'sometimes'"):
        call_command("znet_sandbox", "--completion-delays", "sometimes")
