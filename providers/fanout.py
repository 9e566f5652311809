"""Asking the providers about claimed orders, many requests at a time: orders in, answers out.

Provider calls run on a small set of worker threads, at most `per_integration` at once for any
one integration (one requests.Session each, its connection pool sized to that cap). A worker
only takes a task whose integration has a free slot, so a hanging provider holds its own share
of the workers and no more: the other providers' orders go on being checked. Workers only
talk HTTP: every database read and write stays in the calling thread, so the run needs one
database connection however many workers it has, and each order's update is an ordinary
transaction of the main thread.

The workers are daemon threads rather than a ThreadPoolExecutor: on SIGTERM a run abandons
in-flight calls after a short grace, and an executor's threads would hold the process open
until their HTTP timeouts ran out.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from providers.base import CheckResult, CheckState, ProviderClient, not_mentioned
from providers.redaction import redact

if TYPE_CHECKING:  # the orders app imports the providers, not the other way round
    from orders.models import Order

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.1


@dataclass
class _Task:
    """One provider request: one order, or a batch for providers that take many."""

    client: object
    lane: int  # which integration: the unit of the concurrency cap
    orders: list


# What FanOut.answers yields when the caller may add orders (FanOut.add) to keep the workers busy.
MORE_WANTED = object()


class FanOut:
    """The provider calls of one cycle: orders, each with the client that asks about them, in
    (`add`; providers.registry.CycleClients builds the clients), answers out (`answers`), in the
    calling thread. It reads and writes no database, builds no client and calls nothing of its
    caller's: when fewer tasks wait than there are workers and `wants_more` is set, it yields
    MORE_WANTED and the caller decides whether to add orders."""

    def __init__(
        self,
        deadline: float,
        stop_event: threading.Event,
        workers: int,
        per_integration: int,
        grace_seconds: float,
    ):
        self.wants_more = False
        self._deadline = deadline
        self._stop_event = stop_event
        self._workers = workers
        self._grace_seconds = grace_seconds
        self._lanes: dict[int, int] = {}  # id(client) -> lane: one client, one integration
        self._board = _TaskBoard(per_integration, self._expired)
        self._done: queue.Queue[tuple[_Task, dict[str, CheckResult] | None]] = queue.Queue()
        self._pending: dict[int, _Task] = {}

    def add(self, batches: Sequence[tuple[ProviderClient, Sequence[Order]]]) -> None:
        """Start asking about the orders of each (client, orders): one task per batch the client
        takes at once (its `batch_size`), one lane per client (the unit of the concurrency cap)."""
        tasks = []
        for client, orders in batches:
            lane = self._lanes.setdefault(id(client), len(self._lanes))
            size = client.batch_size
            tasks += [_Task(client, lane, list(orders[i : i + size])) for i in range(0, len(orders), size)]
        self._pending.update((id(task), task) for task in tasks)
        for _ in range(self._board.add(tasks, self._workers)):
            threading.Thread(
                target=_work, args=(self._board, self._done, self._expired, self._deadline), daemon=True
            ).start()

    def answers(self) -> Iterator[tuple[Order, CheckResult | None] | object]:
        """(order, CheckResult or None) for every order added, as answers arrive; None means the
        check never ran (deadline reached, or stopping): release the order. MORE_WANTED between
        them, as described above."""
        stop_seen_at = None
        while self._pending:
            if self.wants_more and self._board.waiting() < self._workers and not self._expired():
                yield MORE_WANTED
            if self._stop_event.is_set():
                stop_seen_at = stop_seen_at or time.monotonic()
                if time.monotonic() - stop_seen_at > self._grace_seconds:
                    break
            try:
                task, answers = self._done.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                continue
            del self._pending[id(task)]
            for order in task.orders:
                yield order, _answer_for(task.client, order, answers)
        yield from self._abandoned()

    @property
    def abandoned(self) -> bool:
        """Calls are still in flight after `answers` ended (stopping): their clients' sessions
        are still in use and must not be closed under them."""
        return bool(self._pending)

    def _abandoned(self):
        """Whatever is still pending was abandoned (stopping): its orders are released."""
        for task in self._pending.values():
            for order in task.orders:
                yield order, None

    def _expired(self) -> bool:
        return self._stop_event.is_set() or time.monotonic() >= self._deadline


class _TaskBoard:
    """Hands tasks to workers, round robin over the integrations, never more than `cap` at once
    for one integration. Once `expired()` (deadline or stop), tasks are handed out regardless
    of the cap: the workers answer them "not started" without any HTTP call. A worker that finds
    no task left ends; `add` says how many to start when tasks are added."""

    def __init__(self, cap, expired):
        self._queues = []  # per lane, the tasks not yet taken
        self._running = []  # per lane, the tasks being asked
        self._cap = cap
        self._expired = expired
        self._turn = 0
        self._workers = 0  # worker threads started and not yet ended
        self._changed = threading.Condition()

    def add(self, tasks, most_workers):
        """Queue `tasks`; returns how many workers to start (at most `most_workers` in all, no
        more than there are tasks waiting). They count as started at once."""
        with self._changed:
            for task in tasks:
                while task.lane >= len(self._queues):
                    self._queues.append(deque())
                    self._running.append(0)
                self._queues[task.lane].append(task)
            hired = max(0, min(most_workers - self._workers, self.waiting()))
            self._workers += hired
            self._changed.notify_all()
            return hired

    def waiting(self):
        """Tasks not taken yet."""
        with self._changed:
            return sum(len(tasks) for tasks in self._queues)

    def take(self):
        """The next task this worker may run, or None when none is left (the worker ends)."""
        with self._changed:
            while any(self._queues):
                lane = self._free_lane()
                if lane is not None:
                    self._running[lane] += 1
                    self._turn = lane + 1
                    return self._queues[lane].popleft()
                self._changed.wait(_POLL_SECONDS)
            self._workers -= 1
            return None

    def finish(self, task):
        with self._changed:
            self._running[task.lane] -= 1
            self._changed.notify_all()

    def _free_lane(self):
        expired = self._expired()
        for offset in range(len(self._queues)):
            lane = (self._turn + offset) % len(self._queues)
            if self._queues[lane] and (expired or self._running[lane] < self._cap):
                return lane
        return None


def _answer_for(client, order, answers):
    if answers is None:
        return None
    result = answers.get(client.reference_for(order)) or not_mentioned()
    # "Too many requests": nothing was learned about the order, which is released (due again
    # once its integration's pause ends) and not charged with an error.
    return None if result.throttled else result


def _work(board, done, expired, deadline):
    while (task := board.take()) is not None:
        try:
            done.put((task, None) if expired() else (task, _ask(task, deadline)))
        finally:
            board.finish(task)


def _ask(task, deadline):
    # Each family's own reading of the order's reference (internal: is it our own order id?).
    references = [task.client.reference_for(order) for order in task.orders]
    try:
        return task.client.check_statuses(references, deadline)
    except Exception as exc:  # a bug in one client must not stop the run
        log.exception("provider client failed")
        error = CheckResult(
            CheckState.TRANSPORT_ERROR, message=redact(f"unexpected client error: {type(exc).__name__}")
        )
        return {reference: error for reference in references}
