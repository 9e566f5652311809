"""Fault injection shared by the fake providers: which fault, if any, a request answers with.

A `FaultPlan` knows the fault kinds one kind of request can meet. A test queues faults (for the
next requests, or for the requests about one order); what nothing queued is drawn at random at
the rates of the sandbox's config (a `<kind>_rate` field per kind, read at each draw, so a test
may change a rate on a running sandbox). What each kind looks like on the wire is the sandbox's
business: the plan only names the fault.

Use in a sandbox (hold the sandbox's lock around every call; the plan has no lock of its own):

    self._random = random.Random(config.seed)      # one seeded source for everything random
    self.faults = FaultPlan(("http500", "slow"), rates=config, rng=self._random)
    ...
    self.faults.queue("slow", times=2, key=reference)   # in queue_fault()
    ...
    fault = self.faults.pick(reference)   # queued for this order, else drawn (None: answer normally)

`pick()` without a key takes the faults queued for "the next requests", then draws.

Placing an order loses its answer in the same two ways at every provider (`PLACE_FAULT_KINDS`,
queued only): `place_fault_answer` gives the answer for them.
"""

import random

from sandbox.http import CLOSE_WITHOUT_ANSWER

# A place request the provider takes, whose answer is then lost: HTTP 500, or the connection
# closed without a word.
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
