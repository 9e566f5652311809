"""What the sandbox server measures: requests in flight per endpoint, only while their client waits."""

import threading

import pytest
import requests

from sandbox.znet import SandboxConfig, ZnetSandbox


@pytest.fixture
def znet():
    server = ZnetSandbox(SandboxConfig(kod="k", sifre="s")).start()
    yield server
    server.stop()


def check(znet, timeout=10):
    params = {"kod": "k", "sifre": "s", "tahsilat_api_islem_id": "ref"}
    return requests.get(f"{znet.base_url}/servis/pin_kontrol.php", params=params, timeout=timeout)


def test_the_most_requests_answered_at_once_per_endpoint(znet):
    znet.config.latency = 0.5
    assert znet.max_in_flight("pin_kontrol") == 0
    clients = [threading.Thread(target=check, args=(znet,)) for _ in range(3)]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    check(znet)  # alone: the most stays 3

    assert znet.max_in_flight("pin_kontrol") == 3
    assert znet.max_in_flight("pin_ekle") == 0


def test_a_request_whose_client_gave_up_no_longer_counts(znet):
    znet.config.latency = 2
    with pytest.raises(requests.Timeout):
        check(znet, timeout=0.3)  # the sandbox still sleeps on this answer ...
    znet.config.latency = 0
    check(znet)  # ... when this one arrives: one request at a time, as the client saw it

    assert znet.max_in_flight("pin_kontrol") == 1
