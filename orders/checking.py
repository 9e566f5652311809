"""Asking the providers about claimed orders, many requests at a time.

Provider calls run on a small set of worker threads, at most `per_integration` at once for any
one integration (one requests.Session each, its connection pool sized to that cap). Workers only
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
from dataclasses import dataclass

from providers.base import CheckResult, CheckState, UnknownProvider, client_class_for, configuration_error
from providers.models import Integration
from providers.redaction import redact

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.1


@dataclass
class _Task:
    """One provider request: one order, or a batch for providers that take many."""

    client: object
    semaphore: threading.Semaphore
    orders: list


def check_orders(orders, deadline, stop_event, workers, per_integration, grace_seconds):
    """Yield (order, CheckResult or None) for every order, in the calling thread, as answers
    arrive. None means the check never ran (deadline reached, or stopping): release the order."""
    tasks, unanswerable = _plan_tasks(orders, per_integration)
    yield from unanswerable
    if tasks:
        yield from _run_tasks(tasks, deadline, stop_event, workers, grace_seconds)


def _plan_tasks(orders, per_integration):
    integrations = _integrations_of(orders)
    clients, semaphores, by_integration, unanswerable = {}, {}, {}, []
    for order in orders:
        integration = integrations.get(order.provider_id)
        problem = _why_unanswerable(order, integration)
        if problem is None and integration.pk not in clients:
            try:
                clients[integration.pk] = client_class_for(integration.provider)(integration, per_integration)
            except UnknownProvider:
                problem = f"integration {integration.pk} has unknown provider {integration.provider!r}"
        if problem:
            unanswerable.append((order, configuration_error(problem)))
            continue
        semaphores.setdefault(integration.pk, threading.BoundedSemaphore(per_integration))
        by_integration.setdefault(integration.pk, []).append(order)
    task_lists = []
    for integration_id, integration_orders in by_integration.items():
        client = clients[integration_id]
        size = client.batch_size
        chunks = [integration_orders[i : i + size] for i in range(0, len(integration_orders), size)]
        task_lists.append([_Task(client, semaphores[integration_id], chunk) for chunk in chunks])
    return _round_robin(task_lists), unanswerable


def _integrations_of(orders):
    """{provider_id text: Integration} for the orders' valid integration ids."""
    ids = {}
    for order in orders:
        try:
            ids[order.provider_id] = uuid.UUID(str(order.provider_id))
        except ValueError:
            continue
    found = Integration.objects.in_bulk(list(set(ids.values())))
    return {text: found[value] for text, value in ids.items() if value in found}


def _why_unanswerable(order, integration):
    if not order.reference:
        return "order has no provider reference (provider_referans / externalOrderId)"
    if integration is None:
        return f"integration {order.provider_id!r} not found"
    if not integration.enabled:
        return f"integration {integration.name!r} ({integration.pk}) is disabled"
    return None


def _round_robin(task_lists):
    """Interleave the integrations' tasks so one busy provider does not delay the others."""
    merged = []
    for i in range(max((len(tasks) for tasks in task_lists), default=0)):
        merged.extend(tasks[i] for tasks in task_lists if i < len(tasks))
    return merged


def _run_tasks(tasks, deadline, stop_event, workers, grace_seconds):
    todo, done = queue.Queue(), queue.Queue()
    for task in tasks:
        todo.put(task)
    for _ in range(min(workers, len(tasks))):
        threading.Thread(target=_work, args=(todo, done, deadline, stop_event), daemon=True).start()
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
    return answers.get(order.reference) or CheckResult(
        CheckState.PROVIDER_ERROR, message="the provider's answer did not mention this order"
    )


def _work(todo, done, deadline, stop_event):
    while True:
        try:
            task = todo.get_nowait()
        except queue.Empty:
            return
        with task.semaphore:
            if stop_event.is_set() or time.monotonic() >= deadline:
                done.put((task, None))
                continue
            done.put((task, _ask(task, deadline)))


def _ask(task, deadline):
    references = [order.reference for order in task.orders]
    try:
        return task.client.check_statuses(references, deadline)
    except Exception as exc:  # a bug in one client must not stop the run
        log.exception("provider client failed")
        error = CheckResult(CheckState.TRANSPORT_ERROR, message=redact(f"unexpected client error: {type(exc).__name__}"))
        return {reference: error for reference in references}
