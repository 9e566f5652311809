"""Webhooks on vs off: `internal` orders completing on the reference mix, the PIN stored after
the provider's status change (`python bench/webhooks.py`, or `make bench-webhooks`).

Each live run (about PLACE_SECONDS + TAIL_SECONDS) uses a throw-away PostgreSQL database, the
internal sandbox in this process (orders final after a delay drawn from the reference mix, then
a signed order-status event posted to the monitor when webhooks are on), the monitor's endpoint
under gunicorn (2 workers, as production serves the admin), one `check_pending_orders --loop`
and orders placed with dispatch_order at ORDERS_PER_SECOND:

  - on: the integration's webhook set up (secret, a recent event: its safety-net schedule);
  - off: no webhook, the default schedule (an integration with too few completions to learn).

Measured, from the sandbox's records: every order whose status changes in the first
PLACE_SECONDS, the delay from that change (with webhooks, the event's delivery) to the stored
"completedAt"; an order not stored when the loop ends counts as later than the run. Requests
per order: the status requests of those orders, divided by their number. A run of a minute sees
only the orders completing within it (the mix's 30 % tail runs for up to 2 hours), so the
figures of the whole mix are also computed from the schedules (no I/O): requests per order and
the PIN delay, every event counted as moving its order (a run holds an order only for the
seconds of its check), and the delay of an order whose event is lost.
"""

import os
import random
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_dev")
os.environ.setdefault("MONITOR_ALLOWED_PROVIDER_HOSTS", "127.0.0.1,localhost")

import procs  # noqa: E402
import throwaway  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/order_monitor_webhooks_bench")
PLACE_SECONDS = 50
TAIL_SECONDS = 15
WARM_UP_SECONDS = 4
ORDERS_PER_SECOND = 2.0
LATENCY_SECONDS = 0.02
SEED = 21
TOKEN = "bench-tenant-token"
SECRET = "9c4e1f0a7b3d5e6f8091a2b3c4d5e6f708192a3b4c5d6e7f"
SIMULATED_ORDERS = 200_000
GOAL_P95_SECONDS = 1.0
GOAL_REQUESTS = 1.2
PLAIN_HTTP = {
    "DJANGO_SECRET_KEY": "bench-only-key-" + "b" * 40,
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_SECURE_COOKIES": "0",
    "DJANGO_SECURE_HSTS_SECONDS": "0",
}


def main() -> int:
    with throwaway.migrated_database(DATABASE_URL, "order-monitor-webhooks-") as log_path:
        print("# Webhooks on vs off: internal orders on the reference mix")
        print(f"\n{ORDERS_PER_SECOND:g} orders a second for {PLACE_SECONDS} s; 2 cores, load {os.getloadavg()[0]:.2f}")
        live = {pushed: _live_run(pushed, log_path) for pushed in (True, False)}
        met = _report(live)
    return 0 if met else 1


def _live_run(pushed: bool, log_path) -> dict:
    from django.utils import timezone

    from hooks.models import WebhookSetting
    from providers.models import Integration
    from sandbox.internal import InternalSandbox, SandboxConfig

    config = SandboxConfig(token=TOKEN, latency=LATENCY_SECONDS, completion_delays="reference", seed=SEED)
    tenant = InternalSandbox(config).start()
    port = _free_port()
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=procs.PROJECT,
        env=dict(os.environ, **PLAIN_HTTP),
        stdout=subprocess.DEVNULL,
        stderr=open(log_path, "ab"),  # noqa: SIM115 (closed with the process)
    )
    try:
        _wait_for_port(port)
        integration = Integration.objects.create(
            name="shop2 " + ("on" if pushed else "off"), provider="internal", base_url=tenant.base_url, api_token=TOKEN
        )
        if pushed:
            WebhookSetting.objects.create(integration_id=integration.pk, secret=SECRET, last_event_at=timezone.now())
            tenant.send_webhooks(f"http://127.0.0.1:{port}/hooks/internal/{integration.pk}/", SECRET)
        loop = procs.start_command(
            [
                "check_pending_orders",
                "--loop",
                "--max-seconds",
                str(WARM_UP_SECONDS + PLACE_SECONDS + TAIL_SECONDS),
                "--provider-id",  # the other run's orders are not this run's
                str(integration.pk),
            ],
            dict(os.environ, PYTHONUNBUFFERED="1"),
            log_path,
        )
        time.sleep(WARM_UP_SECONDS)
        start = time.time()
        placed = _place(integration, start + PLACE_SECONDS)
        summary = procs.finish_command(loop, log_path)
        return _measured(tenant, start, placed, summary, pushed)
    finally:
        tenant.stop()
        gunicorn.terminate()
        gunicorn.wait(timeout=30)


def _place(integration, until: float) -> list:
    """Orders placed with dispatch_order at ORDERS_PER_SECOND (Poisson) until `until`."""
    from dispatch.placing import dispatch_order
    from orders.models import Order
    from providers.base import PlaceRequest
    from tests.factories import customer_fields  # a paying customer: approvals move their money

    payer = customer_fields()
    rng = random.Random(SEED)
    request = PlaceRequest(product="12")
    placed = []
    next_at = time.time()
    while (next_at := next_at + rng.expovariate(ORDERS_PER_SECOND)) < until:
        time.sleep(max(0.0, next_at - time.time()))
        order = Order.objects.create(integration_id=str(integration.pk), **payer)
        dispatch_order(order.pk, request)
        placed.append(order.pk)
    return placed


def _measured(tenant, start, placed, summary, pushed) -> dict:
    from orders.models import Order

    changed = {}
    for order_id in placed:
        order = tenant.find_order(str(order_id))
        if order is not None and order.final_at is not None and start <= order.final_at < start + PLACE_SECONDS:
            changed[order_id] = order.final_at
    if pushed and tenant.webhooks is not None:
        for delivery in tenant.webhooks.deliveries:
            order_id = uuid.UUID(delivery["order_uuid"])
            if order_id in changed and delivery["sent_at"]:
                changed[order_id] = delivery["sent_at"]
    stored = dict(
        Order.objects.filter(pk__in=list(changed), completed_at__isnull=False).values_list("pk", "completed_at")
    )
    delays = sorted(stored[pk].timestamp() - at for pk, at in changed.items() if pk in stored)
    later = len(changed) - len(delays)
    requests = sum(len(tenant.status_checks(str(order_id))) for order_id in changed)
    deliveries = tenant.webhooks.deliveries if pushed and tenant.webhooks is not None else []
    answers = sorted(d["answered_at"] - d["sent_at"] for d in deliveries if d["sent_at"])
    return {
        "orders": len(changed),
        "delays": delays + [float("inf")] * later,
        "later": later,
        "requests_per_order": requests / len(changed) if changed else float("nan"),
        "summary": summary,
        "answers": answers,
    }


def _simulated(pushed: bool) -> dict:
    """The whole reference mix, from the schedules: requests per order and PIN delays (with
    webhooks on, "lost" is the delay of an order whose event never arrives)."""
    from django.conf import settings
    from schedule_eval import check_offsets

    from hooks.schedule import SAFETY_NET
    from sandbox.completion_delays import REFERENCE_MIX, draw
    from schedules.offsets import default_schedule, widest_gap

    schedule = SAFETY_NET if pushed else tuple(default_schedule(settings.MONITOR_BACKOFF_CAP_SECONDS))
    cap = settings.MONITOR_BACKOFF_CAP_SECONDS
    if pushed:  # its gaps are kept (schedules.offsets.KeptGaps), as schedules.backoff does
        cap = max(cap, widest_gap(schedule))
    delays, lost, requests = [], [], 0
    for took in draw(REFERENCE_MIX, SIMULATED_ORDERS, random.Random(SEED)):
        offsets = check_offsets(schedule, took, cap)
        lost.append(offsets[-1] - took)
        if pushed:  # the checks before the change, and the one the event makes due
            requests += len(offsets[:-1]) + 1
            delays.append(0.0)
        else:
            requests += len(offsets)
            delays.append(offsets[-1] - took)
    delays.sort()
    lost.sort()
    return {"delays": delays, "lost": lost, "requests_per_order": requests / SIMULATED_ORDERS}


def _report(live) -> bool:
    print(f"\nlive runs (orders whose status changed in the first {PLACE_SECONDS} s):")
    print("\n| webhooks | orders | p50 event-to-PIN | p95 | later than the run | status requests per order |")
    print("|---|---|---|---|---|---|")
    for pushed, run in live.items():
        print(
            f"| {'on' if pushed else 'off'} | {run['orders']} | {_seconds(_quantile(run['delays'], 0.5))} | "
            f"{_seconds(_quantile(run['delays'], 0.95))} | {run['later']} | {run['requests_per_order']:.2f} |"
        )
    for pushed, run in live.items():
        print(f"loop, webhooks {'on' if pushed else 'off'}: {run['summary']}")
    answers = live[True]["answers"]
    if answers:
        print(
            f"webhook answers (delivery sent to answer read, {len(answers)} events): "
            f"p50 {_seconds(_quantile(answers, 0.5))}, p95 {_seconds(_quantile(answers, 0.95))}, "
            f"max {_seconds(answers[-1])}"
        )
    simulated = {pushed: _simulated(pushed) for pushed in (True, False)}
    print(f"\nthe whole reference mix, from the schedules ({SIMULATED_ORDERS:,} orders; a moved order: 0 s):")
    print("\n| webhooks | schedule | p50 PIN delay | p95 | requests per order | an event lost: p50 / p95 |")
    print("|---|---|---|---|---|---|")
    for pushed, run in simulated.items():
        name = "safety net" if pushed else "default"
        lost = f"{_seconds(_quantile(run['lost'], 0.5))} / {_seconds(_quantile(run['lost'], 0.95))}" if pushed else "-"
        print(
            f"| {'on' if pushed else 'off'} | {name} | {_seconds(_quantile(run['delays'], 0.5))} | "
            f"{_seconds(_quantile(run['delays'], 0.95))} | {run['requests_per_order']:.2f} | {lost} |"
        )
    met = True
    for name, on in (("live", live[True]), ("whole mix", simulated[True])):
        p95_met = _quantile(on["delays"], 0.95) < GOAL_P95_SECONDS
        requests_met = on["requests_per_order"] <= GOAL_REQUESTS
        met = met and p95_met and requests_met
        print(
            f"goals ({name}, webhooks on): p95 < {GOAL_P95_SECONDS:g} s: {'met' if p95_met else 'NOT met'}; "
            f"requests per order <= {GOAL_REQUESTS:g}: {'met' if requests_met else 'NOT met'}"
        )
    return met


def _quantile(ranked, share):
    if not ranked:
        return float("nan")
    return ranked[max(int(share * len(ranked) + 0.999999) - 1, 0)]


def _seconds(value):
    if value == float("inf"):
        return "later than the run"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


if __name__ == "__main__":
    sys.exit(main())
