"""Steady state at the request budget, live: `make bench-steady-live`, or
`python bench/steady_live.py` (about 5.5 minutes; docs/PERFORMANCE.md, "Steady state at the
request budget").

bench/steady.py's case on a real clock: one znet integration with its default budget (5
requests a second, 2 in flight; MONITOR_REQUEST_BUDGETS=1), the znet sandbox in this process
answering in LATENCY_SECONDS, each order final after a delay drawn from the reference mix
(sandbox/completion_delays.py). The history is written first, as the platform's rows look in a
steady state:

  - HISTORY_COMPLETIONS orders completed over the last two days (the learner's samples);
  - with `recent`, ORDERS_PER_SECOND x 900 orders sent over the last 15 minutes, final as failed:
    they cost no checks and teach nothing (completions of orders still inside the window would
    be the quick ones only), but the allowance counts them, so the integration is budget-bound
    from the first refresh on.

Then orders are sent at ORDERS_PER_SECOND (exponential gaps) for PLACE_SECONDS, each a row as
sent with its first check at its schedule's first offset (as orders.place_plans writes it) and
its order known to the sandbox, checked by LOOPS `check_pending_orders --loop` processes. The
run with the recent orders left out (never budget-bound in so short a run) is the comparison.

Measured for the orders whose status changed at the sandbox during the placing: the delay from
that change to the stored "completedAt" (an order not stored when the loops end counts as later
than the run), status requests per order and the most requests in any one second (the
sandbox's records), and monitor_health's "budget_bound" row of the integration.
"""

import json
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_dev")
# The sandbox listens on 127.0.0.1, an address integrations may not point at unless allowed.
os.environ.setdefault("MONITOR_ALLOWED_PROVIDER_HOSTS", "127.0.0.1,localhost")
os.environ["MONITOR_REQUEST_BUDGETS"] = "1"

import procs  # noqa: E402
import throwaway  # noqa: E402

from schedules.rules import CheckRules  # noqa: E402

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/order_monitor_steady_live_bench"
)
PLACE_SECONDS = float(os.environ.get("BENCH_PLACE_SECONDS", "120"))
TAIL_SECONDS = 20.0  # the loops keep checking this long after the last order is sent
WARM_UP_SECONDS = 5.0  # the loops' start-up, before the first order
ORDERS_PER_SECOND = 2.0
WINDOW_SECONDS = 900.0  # budgets.allowance.WINDOW_SECONDS
HISTORY_COMPLETIONS = 2400
LOOPS = 3
LATENCY_SECONDS = 0.05
SEED = 23
KOD, SIFRE = "bench-bayi", "bench-sifre-7720"
LOOP_ENV = {"MONITOR_REQUEST_BUDGETS": "1", "PYTHONUNBUFFERED": "1"}


def main() -> int:
    with throwaway.migrated_database(DATABASE_URL, "order-monitor-steady-live-") as log_path:
        print("# Steady state at the request budget, live: one znet integration (5/s, 2 in flight),")
        print(
            f"# {ORDERS_PER_SECOND:g} orders a second of the reference mix for {PLACE_SECONDS:g} s, {LOOPS} loops, "
            f"sandbox answers in {LATENCY_SECONDS * 1000:g} ms; 2 cores, load {os.getloadavg()[0]:.2f}"
        )
        runs = {recent: _live_run(recent, log_path) for recent in (True, False)}
        _report(runs)
    return 0


def _live_run(recent: bool, log_path) -> dict:
    from providers.models import Integration
    from sandbox.znet import SandboxConfig, ZnetSandbox

    config = SandboxConfig(kod=KOD, sifre=SIFRE, latency=LATENCY_SECONDS, completion_delays="reference", seed=SEED)
    sandbox = ZnetSandbox(config).start()
    try:
        name = "znet steady" + (" (budget-bound)" if recent else " (no recent orders)")
        integration = Integration.objects.create(
            name=name, provider="znet", base_url=sandbox.base_url, kod=KOD, sifre=SIFRE
        )
        _write_history(integration, recent, random.Random(SEED))
        seconds = WARM_UP_SECONDS + PLACE_SECONDS + TAIL_SECONDS
        arguments = ["check_pending_orders", "--loop", "--max-seconds", str(seconds)]
        # --provider-id: the other run's orders are not this run's.
        arguments += ["--provider-id", str(integration.pk)]
        loops = [procs.start_command(arguments, dict(os.environ, **LOOP_ENV), log_path) for _ in range(LOOPS)]
        time.sleep(WARM_UP_SECONDS)
        start = time.time()
        placed = _place(sandbox, integration, start + PLACE_SECONDS)
        health = _budget_bound_row(integration, log_path)
        for loop in loops:
            procs.finish_command(loop, log_path)
        return _measured(sandbox, start, placed) | {"health": health}
    finally:
        sandbox.stop()


def _write_history(integration, recent: bool, rng: random.Random) -> None:
    """The rows of the days before the run, in one bulk_create."""
    from django.utils import timezone

    from orders.models import ExternalStatus, Order, PlatformStatus
    from sandbox.completion_delays import REFERENCE_MIX, draw
    from tests.factories import customer_fields, sent_order

    now, payer = timezone.now(), customer_fields()
    rows = []
    for took in draw(REFERENCE_MIX, HISTORY_COMPLETIONS, rng):
        # Completed between 20 minutes and 2 days ago: sent before the allowance's window.
        completed_at = now - timedelta(minutes=20) - timedelta(seconds=rng.uniform(0, 2 * 86400))
        final = {"external_status": ExternalStatus.COMPLETED, "status": PlatformStatus.APPROVED}
        rows.append(
            sent_order(integration, sent_ago=None, sent_at=completed_at - timedelta(seconds=took),
                       completed_at=completed_at, pin_code="PIN-" + uuid.uuid4().hex[:12], **final, **payer)
        )  # fmt: skip
    if recent:
        failed = {"external_status": ExternalStatus.FAILED, "status": PlatformStatus.REJECTED, "next_check_at": None}
        count = int(ORDERS_PER_SECOND * WINDOW_SECONDS)
        for number in range(count):
            sent_ago = timedelta(seconds=WINDOW_SECONDS * (number + 0.5) / count)
            rows.append(sent_order(integration, sent_ago=sent_ago, **failed, **payer))
    Order.objects.bulk_create(rows, batch_size=1000)


def _place(sandbox, integration, until: float) -> list[str]:
    """Orders sent at ORDERS_PER_SECOND until `until`: their references."""
    from django.utils import timezone

    from orders.models import Order
    from schedules.backoff import scheduled_check_time
    from schedules.book import schedule_for
    from tests.factories import customer_fields, sent_order_values

    payer = customer_fields()
    rng = random.Random(SEED + 1)
    placed = []
    next_at = time.time()
    while (next_at := next_at + rng.expovariate(ORDERS_PER_SECOND)) < until:
        time.sleep(max(0.0, next_at - time.time()))
        reference = uuid.uuid4().hex
        sandbox.add_order(reference)  # final after a delay drawn from the reference mix
        now = timezone.now()
        first_check = scheduled_check_time(now, now, schedule_for(str(integration.pk), CheckRules.from_settings()))
        Order.objects.create(
            **sent_order_values(integration, reference, sent_ago=timedelta(0), next_check_at=first_check, **payer)
        )
        placed.append(reference)
    return placed


def _budget_bound_row(integration, log_path) -> dict | None:
    """monitor_health --json's "budget_bound" row of the integration (None: not budget-bound)."""
    with open(log_path, "ab") as log:
        answer = subprocess.run(
            [sys.executable, str(procs.PROJECT / "manage.py"), "monitor_health", "--json"],
            cwd=procs.PROJECT,
            env=dict(os.environ, **LOOP_ENV),
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            timeout=60,
            check=False,  # an unhealthy report exits non-zero; its JSON is still printed
        )
    rows = json.loads(answer.stdout.strip().splitlines()[-1])["budget_bound"]
    return next((row for row in rows if row["integration_id"] == str(integration.pk)), None)


def _measured(sandbox, start: float, placed: list[str]) -> dict:
    from orders.models import Order

    changed = {}
    for reference in placed:
        ready_at = sandbox.orders[reference].ready_at
        if start <= ready_at < start + PLACE_SECONDS:
            changed[reference] = ready_at
    stored = dict(
        Order.objects.filter(provider_referans__in=list(changed), completed_at__isnull=False).values_list(
            "provider_referans", "completed_at"
        )
    )
    delays = sorted(stored[ref].timestamp() - at for ref, at in changed.items() if ref in stored)
    later = len(changed) - len(delays)
    arrivals = sorted(entry["at"] for entry in sandbox.status_checks())
    requests = sum(len(sandbox.status_checks(reference)) for reference in changed)
    return {
        "placed": len(placed),
        "orders": len(changed),
        "delays": delays + [float("inf")] * later,
        "later": later,
        "requests_per_order": requests / len(changed) if changed else float("nan"),
        "requests": len(arrivals),
        "most_per_second": max((sum(1 for t in arrivals if a <= t < a + 1.0) for a in arrivals), default=0),
        "in_flight": sandbox.max_in_flight("pin_kontrol"),
    }


def _report(runs: dict) -> None:
    print("\n| history | sent | measured | p50 change-to-PIN | p95 | later than the run | requests per order "
          "| most in one second | most at once | budget_bound (monitor_health) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for recent, run in runs.items():
        history = "last 15 min sent at 2/s" if recent else "no recent orders"
        delays = run["delays"]
        print(
            f"| {history} | {run['placed']} | {run['orders']} | {_seconds(_quantile(delays, 0.5))} | "
            f"{_seconds(_quantile(delays, 0.95))} | {run['later']} | {run['requests_per_order']:.2f} | "
            f"{run['most_per_second']} (budget 5) | {run['in_flight']} (cap 2) | {_bound(run['health'])} |"
        )
    for recent, run in runs.items():
        print(f"all status requests, {'budget-bound' if recent else 'comparison'} run: {run['requests']}")


def _bound(row: dict | None) -> str:
    if row is None:
        return "none (not budget-bound)"
    return (
        f"{row['requests_per_order']} requests an order at {row['orders_per_second']} orders/s "
        f"on {row['budget_per_second']:g}/s"
    )


def _quantile(ranked, share):
    if not ranked:
        return float("nan")
    return ranked[max(int(share * len(ranked) + 0.999999) - 1, 0)]


def _seconds(value):
    if value == float("inf"):
        return "later than the run"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


if __name__ == "__main__":
    sys.exit(main())
