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

Any sandbox can also be told to answer the next requests (or the next ones whose URL holds some
text) with a given answer instead of its own (`SandboxServer.queue_answer`): a body with a NUL
byte, a lone surrogate escape or invalid UTF-8, an `Echo` of the request (credentials and all),
or a `LongBody` of many megabytes sent in pieces.
"""

import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

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


# -- answers that replace a sandbox's own (a provider or a proxy in front of it gone wrong) ------


class Headers(Protocol):
    """A request's headers, looked up by name in any letter case (http.client's message)."""

    def get(self, name: str) -> str | None: ...


@dataclass(frozen=True)
class Echo:
    """A body that repeats the request back, credentials and all, as some providers' error pages
    and debugging proxies do: `lead`, then each header named in `headers` as `name: value`, then
    the request line as sent (`GET /servis/pin_kontrol.php?kod=...&sifre=...`), joined by
    blanks and cut to `length` characters when given (a provider that shortens its echo)."""

    lead: str = "Error in request!: "
    headers: tuple[str, ...] = ()
    length: int | None = None

    def text(self, method: str, target: str, request_headers: "Headers") -> str:
        parts = [f"{name}: {request_headers.get(name) or ''}" for name in self.headers]
        parts.append(f"{method} {target}")
        text = self.lead + " ".join(parts)
        return text if self.length is None else text[: self.length]


@dataclass
class LongBody:
    """A body of `size` bytes: `head`, then `fill` over and over. It is sent in pieces and never
    held whole, so a test can measure what the client keeps; `sent` counts the bytes written
    before the client stopped reading."""

    head: bytes
    size: int
    fill: bytes = b"x"
    sent: int = 0

    def pieces(self, piece_size: int = 65536) -> Iterator[bytes]:
        yield self.head[: self.size]
        left = self.size - min(len(self.head), self.size)
        block = (self.fill * (piece_size // len(self.fill) + 1))[:piece_size]
        while left > 0:
            piece = block[: min(left, piece_size)]
            left -= len(piece)
            yield piece


@dataclass
class QueuedAnswer:
    status: int
    body: object  # text, bytes, JSON-able, an Echo or a LongBody
    times: int
    matching: str | None  # answers only requests whose target (path and query as sent) holds this


class QueuedAnswers:
    """Answers queued by a test for the next requests, in place of what the sandbox would say
    (the sandbox does not see those requests: they are not in its request log)."""

    def __init__(self):
        self._queued: list[QueuedAnswer] = []
        self._lock = threading.Lock()

    def queue(self, status: int, body: object, times: int = 1, matching: str | None = None) -> None:
        with self._lock:
            self._queued.append(QueuedAnswer(status, body, times, matching))

    def take(self, target: str) -> QueuedAnswer | None:
        """The first answer queued for a request to `target`, used up once; None if none is."""
        with self._lock:
            for answer in self._queued:
                if answer.matching is None or answer.matching in target:
                    answer.times -= 1
                    if answer.times <= 0:
                        self._queued.remove(answer)
                    return answer
        return None
