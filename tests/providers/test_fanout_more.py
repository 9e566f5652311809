"""The fan-out asking for more orders while the last answers of a batch come in (a loop's cycle)."""

import threading
import time
import uuid

import pytest

from orders.models import Order
from orders.queries import integrations_by_id
from providers.base import CheckState
from providers.fanout import MORE_WANTED, FanOut
from providers.http import HttpLimits
from providers.models import Integration
from providers.registry import CycleClients
from tests.factories import SANDBOX_KOD, SANDBOX_SIFRE, orders_known_to_sandbox

pytestmark = pytest.mark.django_db


def test_more_orders_are_asked_for_while_answers_come_in_until_none_are_left(sandbox, integration):
    sandbox.config.latency = 0.1
    other = Integration.objects.create(
        name="second", provider="znet", base_url=sandbox.base_url, kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE
    )
    first = orders_known_to_sandbox(sandbox, integration, 6, checks_until_final=1)
    second = orders_known_to_sandbox(sandbox, other, 6, checks_until_final=1)
    unknown = Order(integration_id=str(uuid.uuid4()), provider_referans="x")
    batches = [[*second, unknown], []]
    answers, asked_after = [], []

    def more():
        asked_after.append(len(answers))
        return batches.pop(0)

    fan_out = FanOut(time.monotonic() + 30, threading.Event(), 4, 2, 1)
    clients = CycleClients(2, HttpLimits.from_settings())
    fan_out.wants_more = True
    answers += add(fan_out, clients, first)
    for answer in fan_out.answers():
        if answer is MORE_WANTED:
            added = more()
            fan_out.wants_more = bool(added)
            answers.extend(add(fan_out, clients, added))
        else:
            answers.append(answer)

    assert asked_after[0] < 6  # asked before the first batch was done
    assert batches == []  # and again, until it had nothing more
    states = [result.state for _, result in answers]
    assert (len(answers), states.count(CheckState.COMPLETED)) == (13, 12)
    assert dict(answers)[unknown].state == CheckState.CONFIGURATION_ERROR
    # The cap (2 at once per integration) holds for the orders added later too.
    for orders in (first, second):
        references = {order.provider_referans for order in orders}
        times = sorted(entry["at"] for entry in sandbox.status_checks() if entry["referans"] in references)
        assert all(times[i + 2] - times[i] >= 0.08 for i in range(len(times) - 2))


def add(fan_out, clients, orders):
    """Ask `fan_out` about `orders` with their clients: the answers of those no provider can answer."""
    batches, unanswerable = clients.sort(orders, integrations_by_id(order.integration_id for order in orders))
    fan_out.add(batches)
    return unanswerable
