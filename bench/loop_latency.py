"""PIN delay end to end: one `check_pending_orders --loop` run of about a minute against the znet
sandbox, whose orders complete after delays drawn from the reference mix (docs/PERFORMANCE.md,
"PIN latency end to end"). `make bench-loop` runs it, or `python bench/loop_latency.py`.

A minute is short beside orders that take up to 2 hours, so the run measures a steady state:
  - history: 2,000 orders of the integration completed over the last 7 days, completion times
    from the reference mix, so the loop learns its schedule as on a live database;
  - the orders sent in the 2 h 10 min before the run (ORDERS_PER_SECOND, steady) that are still
    waiting at its start, in the state the learned schedule left them: "sentAt", the checks made
    so far, the next check time; the sandbox knows when each one's PIN is ready;
  - during the run, new orders are placed with dispatch_order at the same rate (real HTTP).
Measured: every order whose PIN becomes ready at the provider in the first part of the run
(MEASURED_SECONDS), the delay from that moment to the stored "completedAt". An order whose PIN is
ready in that stretch but still not stored when the loop ends (at least TAIL_SECONDS later) counts
as "later than the run": its delay is longer than any measured one, so the median is exact
as long as fewer than half the orders are such; the p95 is a lower bound then. Requests per order:
the status requests during the run divided by the orders sent in the same time (steady state:
every order ever sent costs its requests at the same rate).
"""

import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_dev")
# The sandbox listens on 127.0.0.1, an address integrations may not point at unless allowed.
os.environ.setdefault("MONITOR_ALLOWED_PROVIDER_HOSTS", "127.0.0.1,localhost")

import procs  # noqa: E402
import throwaway  # noqa: E402

from schedules.rules import CheckRules  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/order_monitor_latency_bench")
LOOP_SECONDS = 75
MEASURED_SECONDS = 55  # PINs ready from the loop's start to this many seconds later are measured
TAIL_SECONDS = LOOP_SECONDS - MEASURED_SECONDS
WARM_UP_SECONDS = 3  # the loop process starts (Python, Django) before the measured stretch
ORDERS_PER_SECOND = 4.0
HISTORY = 2000
BACKLOG_SECONDS = 7200 + 600  # the slowest completion of the mix, plus the cap
LATENCY_SECONDS = 0.05
SEED = 10
KOD, SIFRE = "bench-bayi", "bench-sifre-5531"
GOAL_MEDIAN = 15.0


def main() -> int:
    with throwaway.migrated_database(DATABASE_URL, "order-monitor-loop-latency-") as log_path:
        met = _measure(log_path)
    return 0 if met else 1


def _measure(log_path) -> bool:
    from providers.models import Integration
    from sandbox.completion_delays import REFERENCE_MIX, draw
    from sandbox.znet import SandboxConfig, ZnetSandbox
    from schedules.book import ScheduleBook

    rng = random.Random(SEED)
    config = SandboxConfig(kod=KOD, sifre=SIFRE, latency=LATENCY_SECONDS, completion_delays="reference", seed=SEED)
    sandbox = ZnetSandbox(config).start()
    try:
        integration = Integration.objects.create(
            name="znet", provider="znet", base_url=sandbox.base_url, kod=KOD, sifre=SIFRE
        )
        _history(integration, draw(REFERENCE_MIX, HISTORY, rng), rng)
        schedule = ScheduleBook(CheckRules.from_settings()).schedule_for(str(integration.pk))
        start = time.time() + WARM_UP_SECONDS
        backlog = _backlog(integration, sandbox, schedule, start, rng)
        print("# PIN delay end to end: one check_pending_orders --loop run against the znet sandbox")
        print(
            f"\nreference mix; {ORDERS_PER_SECOND:g} orders a second; learned schedule (s after sending): "
            f"{', '.join(f'{o:g}' for o in schedule[:10])}, ...; {backlog:,} orders waiting at the start; "
            f"2 cores, load average {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        loop = procs.start_command(
            ["check_pending_orders", "--loop", "--max-seconds", str(LOOP_SECONDS + WARM_UP_SECONDS)],
            # The loop and its schedule, not the request budget: 4 orders a second at about 3
            # requests each would be budget-bound at znet's 5 a second (bench/steady_live.py).
            dict(os.environ, PYTHONUNBUFFERED="1", MONITOR_REQUEST_BUDGETS="0"),
            log_path,
        )
        placed = _dispatch_until(integration, loop, rng)
        loop_end = time.time()
        summary = procs.finish_command(loop, log_path)
        return _report(sandbox, start, loop_end, placed, summary)
    finally:
        sandbox.stop()


def _history(integration, completions, rng):
    """Completed orders of the last 7 days: what the loop learns its schedule from."""
    from django.utils import timezone

    from orders.models import ExternalStatus, Order
    from tests.factories import customer_fields

    now, payer = timezone.now(), customer_fields()
    orders = []
    for took in completions:
        done = now - timedelta(seconds=rng.uniform(600, 7 * 86400 - 600))
        orders.append(
            Order(
                external_status=ExternalStatus.COMPLETED,
                status="approved",
                integration_id=str(integration.pk),
                provider_referans=uuid.uuid4().hex,
                pin_code="PIN",
                sent_at=done - timedelta(seconds=took),
                completed_at=done,
                **payer,
            )
        )
    Order.objects.bulk_create(orders)


def _backlog(integration, sandbox, schedule, start, rng) -> int:
    """The orders sent in the BACKLOG_SECONDS before `start` that are still waiting then, as the
    schedule left them. Returns how many."""
    from django.conf import settings
    from schedule_eval import check_offsets

    from orders.models import ExternalStatus, Order
    from sandbox.completion_delays import REFERENCE_MIX, draw
    from schedules.offsets import next_check_offset
    from tests.factories import customer_fields

    cap, payer = settings.MONITOR_BACKOFF_CAP_SECONDS, customer_fields()
    count = int(BACKLOG_SECONDS * ORDERS_PER_SECOND)
    sent_ago = [rng.uniform(0, BACKLOG_SECONDS) for _ in range(count)]
    orders = []
    for ago, took in zip(sent_ago, draw(REFERENCE_MIX, count, rng), strict=True):
        checks = check_offsets(schedule, ago, cap)
        caught_at = next(offset for offset in check_offsets(schedule, max(took, ago), cap) if offset >= took)
        if caught_at < ago:
            continue  # stored before the start
        checked = sum(offset < ago for offset in checks)
        reference = uuid.uuid4().hex
        sandbox.add_order(reference, ready_at=start - ago + took)
        orders.append(
            Order(
                external_status=ExternalStatus.PROCESSING if checked else ExternalStatus.SENT,
                integration_id=str(integration.pk),
                provider_referans=reference,
                sent_at=_moment(start - ago),
                next_check_at=_moment(start - ago + next_check_offset(schedule, ago, cap)),
                check_attempts=checked,
                **payer,
            )
        )
    Order.objects.bulk_create(orders)
    return len(orders)


def _dispatch_until(integration, loop, rng) -> int:
    """Place orders at ORDERS_PER_SECOND (Poisson) with dispatch_order until the loop ends."""
    from dispatch.placing import dispatch_order
    from orders.models import Order
    from providers.base import PlaceRequest
    from tests.factories import customer_fields

    payer = customer_fields()  # the customer whose approved orders carry their frozen rates
    request = PlaceRequest(product="101", denomination="60", player_id="5551234567")
    placed = 0
    next_at = time.time()
    while loop.poll() is None:
        next_at += rng.expovariate(ORDERS_PER_SECOND)
        time.sleep(max(0.0, next_at - time.time()))
        order = Order.objects.create(integration_id=str(integration.pk), **payer)
        dispatch_order(order.pk, request)
        placed += 1
    return placed


def _report(sandbox, start, loop_end, placed, summary) -> bool:
    from orders.models import Order

    ready = {
        reference: order.ready_at
        for reference, order in sandbox.orders.items()
        if order.ready_at is not None and start <= order.ready_at < start + MEASURED_SECONDS
    }
    stored = dict(
        Order.objects.filter(provider_referans__in=list(ready), completed_at__isnull=False).values_list(
            "provider_referans", "completed_at"
        )
    )
    delays = sorted(
        stored[reference].timestamp() - ready_at for reference, ready_at in ready.items() if reference in stored
    )
    later = len(ready) - len(delays)
    requests = [e for e in sandbox.status_checks() if start <= e["at"] < loop_end]
    requests_per_order = len(requests) / ((loop_end - start) * ORDERS_PER_SECOND)
    ranked = delays + [float("inf")] * later
    median = statistics.median(ranked) if ranked else float("nan")
    p95 = ranked[max(int(0.95 * len(ranked) + 0.999999) - 1, 0)] if ranked else float("nan")
    print(f"\nloop: {summary}; {placed} orders placed during the run")
    print(
        f"PINs ready in the first {MEASURED_SECONDS} s of the run: {len(ready)}; stored during the run: "
        f"{len(delays)}; later than the run (delay > {TAIL_SECONDS} s): {later}"
    )
    print("\n| median delay | p95 delay | requests per order | mean delay of those stored |")
    print("|---|---|---|---|")
    p95_text = f"{p95:.1f} s" if p95 != float("inf") else f"> {TAIL_SECONDS} s (later than the run)"
    mean = statistics.fmean(delays) if delays else float("nan")
    print(f"| {median:.1f} s | {p95_text} | {requests_per_order:.2f} | {mean:.1f} s |")
    if delays:
        print(f"\nstored delays: min {delays[0]:.1f} s, quartiles {_quartiles(delays)}, max {delays[-1]:.1f} s")
    met = median < GOAL_MEDIAN
    print(f"goal: median delay < {GOAL_MEDIAN:g} s; met: {'yes' if met else 'NO'}")
    return met


def _quartiles(values):
    return ", ".join(f"{value:.1f} s" for value in statistics.quantiles(values, n=4))


def _moment(seconds_since_epoch):
    return datetime.fromtimestamp(seconds_since_epoch, UTC)


if __name__ == "__main__":
    sys.exit(main())
