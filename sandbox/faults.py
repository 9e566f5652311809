"""Fault injection shared by the fake providers: which fault, if any, a request answers with.

A `FaultPlan` knows the fault kinds one kind of request can meet. Tests queue faults under a
key: None for "the next requests", a reference for "the next requests about this order". A
request with no queued fault meets one drawn at random at the rates of the sandbox's config (a
`<kind>_rate` field per kind, read at each draw, so a test may change a rate on a running
sandbox). What a fault looks like on the wire is the sandbox's business: the plan only names it.

Use in a sandbox (hold the sandbox's lock around every call; the plan has no lock of its own):

    self._random = random.Random(config.seed)      # one seeded source for everything random
    self.faults = FaultPlan(("http500", "slow"), rates=config, rng=self._random)

    def queue_fault(self, kind, times=1, reference=None):
        with self._lock:
            self.faults.queue(kind, times, key=reference)

    # answering a status request about `reference` (None: no fault, answer normally):
    fault = self.faults.queued(reference) or self.faults.pick()

`pick(key)` is `queued(key)`, else a random draw; `draw(kinds)` limits a draw to some kinds
(apstore draws its per-order and per-request faults separately).

Placing an order loses its answer in the same two ways at every provider (`PLACE_FAULT_KINDS`,
queued only, by `SandboxServer.queue_place_fault`): `place_fault_answer` gives the answer.
"""

import random

# A body a sandbox may answer with: the server reads the request, then closes the connection
# without a word (a provider that took the request and died, or a reset on the way back).
CLOSE_WITHOUT_ANSWER = object()

# A place request the provider takes, whose answer is then lost: HTTP 500, or the connection
# closed without a word. Every sandbox queues them with `queue_place_fault` (sandbox.http).
PLACE_FAULT_KINDS = ("http500", "drop")


class FaultPlan:
    """Queued and random faults for one kind of request.

    `kinds`: the faults a test may queue. `rates`: an object with a `<kind>_rate` attribute per
    kind drawn at random (None: faults come only from the queue). `rng`: the sandbox's seeded
    random source.
    """

    def __init__(self, kinds: tuple[str, ...], rates: object | None = None, rng: random.Random | None = None):
        self.kinds = tuple(kinds)
        self._rates = rates
        self._random = rng or random.Random()
        self._queued: dict[str | None, list[str]] = {}  # key (None: the next requests) -> kinds

    def queue(self, kind: str, times: int = 1, key: str | None = None) -> None:
        """The next `times` picks under `key` give this fault."""
        if kind not in self.kinds:
            raise ValueError(f"unknown fault {kind!r}; expected one of {self.kinds}")
        self._queued.setdefault(key, []).extend([kind] * times)

    def queued(self, key: str | None = None) -> str | None:
        """The next fault queued under `key`, taken off the queue; None when there is none."""
        kinds = self._queued.get(key)
        return kinds.pop(0) if kinds else None

    def draw(self, kinds: tuple[str, ...] | None = None) -> str | None:
        """One random draw among `kinds` (all by default) at their rates: a kind, or None for no
        fault. The rates are shares of all requests and add up in the order given."""
        roll = self._random.random()
        for kind in kinds or self.kinds:
            rate = getattr(self._rates, f"{kind}_rate", 0.0)
            if roll < rate:
                return kind
            roll -= rate
        return None

    def pick(self, key: str | None = None, kinds: tuple[str, ...] | None = None) -> str | None:
        """The fault queued under `key`, else a random one among `kinds`."""
        return self.queued(key) or self.draw(kinds)


def place_fault_answer(fault: str | None, delay: float) -> tuple | None:
    """The (status, body, delay) answer of a place request that met `fault` after the order was
    taken; None when there is no fault and the sandbox answers normally."""
    if fault == "http500":
        return 500, "Internal Server Error", delay
    if fault == "drop":
        return 200, CLOSE_WITHOUT_ANSWER, delay
    return None
