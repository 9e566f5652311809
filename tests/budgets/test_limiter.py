"""The gates themselves, with threads standing in for requests: start times at most the budget's
rate, never more at once than its places; on PostgreSQL shared by every gate (process) of the
integration through the monitor's tables."""

import threading
import time
import uuid

import pytest

from budgets import limiter
from budgets.budget import Budget
from budgets.limiter import LocalGate, NoSlot, SharedGate
from providers.http import HttpLimits


def request_seconds():
    """What a client's gate is given: the configured connect + read timeouts."""
    return HttpLimits.from_settings().request_seconds


def requests_through(gates, count, hold_seconds=0.0, send_delay=lambda number: 0.0):
    """Send `count` pretend requests spread over `gates` from as many threads: [(start, end)].
    The n-th request through (0-based) leaves `send_delay(n)` seconds after its start."""
    spans, lock = [], threading.Lock()
    in_flight, most, passed = [0], [0], [0]
    deadline = time.monotonic() + 30

    def one(gate):
        with gate.request(deadline):
            with lock:
                in_flight[0] += 1
                most[0] = max(most[0], in_flight[0])
                number, passed[0] = passed[0], passed[0] + 1
            time.sleep(send_delay(number))
            start = time.monotonic()
            time.sleep(hold_seconds)
            with lock:
                in_flight[0] -= 1
                spans.append((start, time.monotonic()))

    threads = [threading.Thread(target=one, args=(gates[i % len(gates)],)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(spans), most[0]


def most_in_one_second(starts):
    """The most starts any window of one second holds (half open)."""
    return max(sum(1 for other in starts if start <= other < start + 1.0) for start in starts)


def test_a_local_gate_spaces_starts_and_caps_in_flight():
    spans, most = requests_through([LocalGate(Budget(20.0, 2))], 30, hold_seconds=0.05)
    starts = [start for start, _ in spans]
    assert most <= 2
    assert most_in_one_second(starts) <= 20
    assert starts[-1] - starts[0] >= 29 / 20 - 0.05


def late_first_of_each_budget(per_second):
    """A send delay of 60 ms for the first of every budget + 1 requests: the worst case, the
    budget's worth after it leaving on time."""
    return lambda number: 0.06 if number % (per_second + 1) == 0 else 0.0


def test_requests_sent_late_after_their_start_still_keep_the_budget():
    spans, _ = requests_through([LocalGate(Budget(10.0, 10))], 31, send_delay=late_first_of_each_budget(10))
    assert most_in_one_second([start for start, _ in spans]) <= 10


def test_a_request_woken_too_late_for_its_start_goes_at_the_next_one(monkeypatch):
    gate = LocalGate(Budget(10.0, 1))
    deadline = time.monotonic() + 10
    with gate.request(deadline):
        first = time.monotonic()
    real_sleep, sleeps = time.sleep, []

    def oversleeping(seconds):
        # A busy host: the wake-up for the second request's start comes 80 ms late. Nothing but
        # a replaced sleep makes a thread late on cue.
        sleeps.append(seconds)
        real_sleep(seconds + (0.08 if len(sleeps) == 1 else 0.0))

    monkeypatch.setattr(limiter.time, "sleep", oversleeping)
    with gate.request(deadline):
        second = time.monotonic()
    interval = 1.1 / 10
    assert len(sleeps) == 2  # it waited for a start again
    assert second - first >= 2 * interval - 0.01  # it went at the start after the one it missed


def test_a_local_pause_holds_every_request_until_it_ends():
    gate = LocalGate(Budget(100.0, 4))
    gate.pause(0.5)
    began = time.monotonic()
    spans, _ = requests_through([gate], 3)
    assert spans[0][0] - began >= 0.45


def test_no_start_before_the_deadline_is_no_request():
    gate = LocalGate(Budget(1.0, 1))
    gate.pause(5)
    with pytest.raises(NoSlot), gate.request(time.monotonic() + 0.2):
        pass


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_shared_gates_of_several_processes_keep_one_budget():
    integration = uuid.uuid4()
    # Three gates: each its own process's view, all kept in the same rows.
    gates = [SharedGate(integration, Budget(10.0, 2), request_seconds()) for _ in range(3)]
    spans, most = requests_through(gates, 30, hold_seconds=0.05)
    starts = [start for start, _ in spans]
    assert most <= 2
    assert most_in_one_second(starts) <= 10
    assert starts[-1] - starts[0] >= 29 / 10 - 0.1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_shared_requests_sent_late_after_their_start_still_keep_the_budget():
    integration = uuid.uuid4()
    gates = [SharedGate(integration, Budget(10.0, 10), request_seconds()) for _ in range(3)]
    spans, _ = requests_through(gates, 31, send_delay=late_first_of_each_budget(10))
    assert most_in_one_second([start for start, _ in spans]) <= 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_request_held_up_by_its_pause_check_goes_at_the_next_start():
    """After its wait, a request asks whether a pause began; a slow answer (here: the process's
    gate connection busy for 80 ms) makes it late for its start, so it takes the next one."""
    from budgets.limiter import SHARED

    gate = SharedGate(uuid.uuid4(), Budget(10.0, 1), request_seconds())
    deadline = time.monotonic() + 10
    with gate.request(deadline):
        first = time.monotonic()
    interval = 1.1 / 10
    busy = threading.Thread(target=lambda: (SHARED.lock.acquire(), time.sleep(0.08), SHARED.lock.release()))
    threading.Timer(interval - 0.03, busy.start).start()  # the connection is taken just before the start
    with gate.request(deadline):
        second = time.monotonic()
    busy.join()
    assert second - first >= 2 * interval - 0.01


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_shared_pause_holds_every_process():
    integration = uuid.uuid4()
    first, second = (
        SharedGate(integration, Budget(50.0, 4), request_seconds()),
        SharedGate(integration, Budget(50.0, 4), request_seconds()),
    )
    with first.request(time.monotonic() + 5):
        pass  # the budget's rows exist
    first.pause(0.6)
    began = time.monotonic()
    with second.request(time.monotonic() + 5):
        waited = time.monotonic() - began
    assert waited >= 0.5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_place_held_by_a_killed_process_frees_itself():
    from budgets.models import InFlightSlot

    integration = uuid.uuid4()
    gate = SharedGate(integration, Budget(50.0, 1), request_seconds())
    with gate.request(time.monotonic() + 5):
        pass
    # A process that died mid-request: its place is held, until a hold that has now passed.
    InFlightSlot.objects.filter(integration_id=integration).update(held_until="2000-01-01T00:00:00Z")
    with gate.request(time.monotonic() + 1):
        pass
    InFlightSlot.objects.filter(integration_id=integration).update(held_until="2999-01-01T00:00:00Z")
    with pytest.raises(NoSlot), gate.request(time.monotonic() + 0.2):
        pass
