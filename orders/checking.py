"""Asking the providers about claimed orders, many requests at a time.

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

import logging
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from orders.ids import integrations_by_id
from orders.models import Order
from providers.base import CheckResult, CheckState, ProviderClient, configuration_error, not_mentioned
from providers.redaction import redact
from providers.registry import UnknownProvider, client_class_for

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.1


@dataclass
class _Task:
    """One provider request: one order, or a batch for providers that take many."""

    client: object
    lane: int  # which integration: the unit of the concurrency cap
    orders: list


def check_orders(
    orders: Sequence[Order],
    deadline: float,
    stop_event: threading.Event,
    workers: int,
    per_integration: int,
    grace_seconds: float,
) -> Iterator[tuple[Order, CheckResult | None]]:
    """Yield (order, CheckResult or None) for every order, in the calling thread, as answers
    arrive. None means the check never ran (deadline reached, or stopping): release the order."""
    lanes, unanswerable = _plan_tasks(orders, per_integration)
    yield from unanswerable
    if lanes:
        board = _TaskBoard(lanes, per_integration, lambda: stop_event.is_set() or time.monotonic() >= deadline)
        yield from _run_tasks(board, deadline, stop_event, workers, grace_seconds)


def _plan_tasks(orders, per_integration):
    """([tasks of one integration, ...], [(order, result) for orders no provider can answer])."""
    integrations = integrations_by_id(order.integration_id for order in orders)
    clients: dict[uuid.UUID, ProviderClient] = {}
    by_integration: dict[uuid.UUID, list[Order]] = {}
    unanswerable: list[tuple[Order, CheckResult]] = []
    for order in orders:
        integration = integrations.get(order.integration_id)
        problem = _why_unanswerable(order, integration)
        if problem is None and integration is not None and integration.pk not in clients:
            try:
                clients[integration.pk] = client_class_for(integration.provider)(integration, per_integration)
            except UnknownProvider:
                problem = f"integration {integration.pk} has unknown provider {integration.provider!r}"
        if problem or integration is None:  # _why_unanswerable names every missing integration
            unanswerable.append((order, configuration_error(problem or "integration not found")))
            continue
        by_integration.setdefault(integration.pk, []).append(order)
    lanes = []
    for lane, (integration_id, integration_orders) in enumerate(by_integration.items()):
        client = clients[integration_id]
        size = client.batch_size
        chunks = [integration_orders[i : i + size] for i in range(0, len(integration_orders), size)]
        lanes.append([_Task(client, lane, chunk) for chunk in chunks])
    return lanes, unanswerable


def _why_unanswerable(order, integration):
    if not order.reference:
        return "order has no provider reference (provider_referans / externalOrderId)"
    if integration is None:
        return f"integration {order.integration_id!r} not found"
    if not integration.enabled:
        return f"integration {integration.name!r} ({integration.pk}) is disabled"
    return None


class _TaskBoard:
    """Hands tasks to workers, round robin over the integrations, never more than `cap` at once
    for one integration. Once `expired()` (deadline or stop), tasks are handed out regardless
    of the cap: the workers answer them "not started" without any HTTP call."""

    def __init__(self, lanes, cap, expired):
        self._queues = [deque(tasks) for tasks in lanes]
        self._running = [0] * len(lanes)
        self._cap = cap
        self._expired = expired
        self._turn = 0
        self._changed = threading.Condition()
        self.tasks = [task for tasks in lanes for task in tasks]

    def take(self):
        """The next task this worker may run, or None when none is left."""
        with self._changed:
            while any(self._queues):
                lane = self._free_lane()
                if lane is not None:
                    self._running[lane] += 1
                    self._turn = lane + 1
                    return self._queues[lane].popleft()
                self._changed.wait(_POLL_SECONDS)
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


def _run_tasks(board, deadline, stop_event, workers, grace_seconds):
    done: queue.Queue[tuple[_Task, dict[str, CheckResult] | None]] = queue.Queue()
    tasks = board.tasks
    for _ in range(min(workers, len(tasks))):
        threading.Thread(target=_work, args=(board, done, deadline, stop_event), daemon=True).start()
    pending = {id(task): task for task in tasks}
    stop_seen_at = None
    while pending:
        if stop_event.is_set():
            stop_seen_at = stop_seen_at or time.monotonic()
            if time.monotonic() - stop_seen_at > grace_seconds:
                break
        try:
            task, answers = done.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            continue
        del pending[id(task)]
        for order in task.orders:
            yield order, _answer_for(order, answers)
    # Whatever is still pending was abandoned (stopping): its orders are released.
    for task in pending.values():
        for order in task.orders:
            yield order, None
    if not pending:
        for client in {id(task.client): task.client for task in tasks}.values():
            client.close()


def _answer_for(order, answers):
    if answers is None:
        return None
    return answers.get(order.reference) or not_mentioned()


def _work(board, done, deadline, stop_event):
    while (task := board.take()) is not None:
        try:
            if stop_event.is_set() or time.monotonic() >= deadline:
                done.put((task, None))
            else:
                done.put((task, _ask(task, deadline)))
        finally:
            board.finish(task)


def _ask(task, deadline):
    references = [order.reference for order in task.orders]
    try:
        return task.client.check_statuses(references, deadline)
    except Exception as exc:  # a bug in one client must not stop the run
        log.exception("provider client failed")
        error = CheckResult(
            CheckState.TRANSPORT_ERROR, message=redact(f"unexpected client error: {type(exc).__name__}")
        )
        return {reference: error for reference in references}
