"""Request budgets across processes: a burst of due orders on one znet integration (5 a second,
2 in flight: znet's default) drained by several `check_pending_orders --loop` processes on one
PostgreSQL, while a second znet integration's orders are checked beside it. `make bench-budgets`
runs it, or `python bench/budgets.py`.

Scaled down by default (BENCH_BURST=200 orders, about 45 s); the issue's 2,000 (about 440 s) is
`BENCH_BURST=2000`. Printed: the burst's drain time beside BURST / 5 s, the most requests the
sandbox saw in any one second and at once, when the second integration's orders were stored, and
what one reservation costs (the shared limiter's statements, measured in this process), and the
send delay: from each start a request went at (the limiter's debug log line, the database's
clock) to the sandbox's record of the request (the same host's clock), and how many starts a
thread woke too late for (it took another).
"""

import os
import re
import statistics
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_dev")
# The sandbox listens on 127.0.0.1, an address integrations may not point at unless allowed.
os.environ.setdefault("MONITOR_ALLOWED_PROVIDER_HOSTS", "127.0.0.1,localhost")

import procs  # noqa: E402
import throwaway  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/order_monitor_budgets_bench")
BURST = int(os.environ.get("BENCH_BURST", "200"))
OTHER = int(os.environ.get("BENCH_OTHER", "50"))
LOOPS = int(os.environ.get("BENCH_LOOPS", "3"))
LATENCY_SECONDS = 0.05
RESERVATIONS = 2000
KOD, SIFRE = "bench-bayi", "bench-sifre-5531"
# LOG_LEVEL=DEBUG: the limiter logs each start a request goes at, and each one it gave up.
LOOP_ENV = {
    "MONITOR_REQUEST_BUDGETS": "1",
    "MONITOR_LOOP_CYCLE_SECONDS": "10",
    "PYTHONUNBUFFERED": "1",
    "LOG_LEVEL": "DEBUG",
}
_STARTED = re.compile(r"request budget of (\S+): start at ([\d.]+)")
_RETAKEN = re.compile(r"request budget of (\S+): (\d+) ms after its start, takes another")


def main() -> int:
    with throwaway.migrated_database(DATABASE_URL, "order-monitor-budgets-") as log_path:
        _drain(log_path)
        _reservation_cost()
    return 0


def _drain(log_path) -> None:
    from orders.models import Order
    from providers.models import Integration
    from sandbox.znet import SandboxConfig, ZnetSandbox
    from tests.factories import orders_known_to_sandbox

    config = SandboxConfig(kod=KOD, sifre=SIFRE, latency=LATENCY_SECONDS, seed=7)
    burst_sandbox, other_sandbox = ZnetSandbox(config).start(), ZnetSandbox(config).start()
    try:
        burst = Integration.objects.create(
            name="znet-burst", provider="znet", base_url=burst_sandbox.base_url, kod=KOD, sifre=SIFRE
        )
        other = Integration.objects.create(
            name="znet-other", provider="znet", base_url=other_sandbox.base_url, kod=KOD, sifre=SIFRE
        )
        # The burst is older: oldest first alone would give it every claim.
        burst_orders = Order.objects.bulk_create(
            orders_known_to_sandbox(burst_sandbox, burst, BURST, checks_until_final=1)
        )
        other_orders = orders_known_to_sandbox(other_sandbox, other, OTHER, checks_until_final=1)
        for order in other_orders:
            order.sent_at += timedelta(minutes=1)
        Order.objects.bulk_create(other_orders)
        print(f"# Request budgets: {BURST} due orders on one znet integration (5/s, 2 in flight), {OTHER} on another,")
        print(f"# {LOOPS} check_pending_orders --loop processes, sandbox answers in {LATENCY_SECONDS * 1000:g} ms")
        started = time.time()
        loops = [
            procs.start_command(
                ["check_pending_orders", "--loop", "--max-seconds", "1800"], dict(os.environ, **LOOP_ENV), log_path
            )
            for _ in range(LOOPS)
        ]
        try:
            _wait_until_done([o.pk for o in burst_orders] + [o.pk for o in other_orders])
        finally:
            for loop in loops:
                loop.terminate()
            for loop in loops:
                loop.wait(30)
        _report(burst_sandbox, other_sandbox, started, [o.pk for o in burst_orders], [o.pk for o in other_orders])
        _send_delays(log_path, burst.pk, burst_sandbox)
    finally:
        burst_sandbox.stop()
        other_sandbox.stop()


def _wait_until_done(ids) -> None:
    from orders.models import ExternalStatus, Order

    limit = time.monotonic() + BURST / 5 * 3 + 120
    while Order.objects.filter(pk__in=ids).exclude(external_status=ExternalStatus.DONE).exists():
        if time.monotonic() > limit:
            raise RuntimeError("the orders were not all completed in time")
        time.sleep(0.5)


def _report(burst_sandbox, other_sandbox, started, burst_ids, other_ids) -> None:
    from orders.models import Order

    def done_after(ids):
        return sorted(
            order.completed_at.timestamp() - started for order in Order.objects.filter(pk__in=ids).only("completed_at")
        )

    burst_done, other_done = done_after(burst_ids), done_after(other_ids)
    arrivals = sorted(entry["at"] for entry in burst_sandbox.status_checks())
    most_per_second = max(sum(1 for t in arrivals if a <= t < a + 1.0) for a in arrivals)
    print(f"\nburst drained in {burst_done[-1]:.1f} s (ideal {BURST / 5:.0f} s at 5/s; process start-up included)")
    print(f"burst requests: {len(arrivals)}, most in any one second {most_per_second} (budget 5),")
    print(f"  most at once {burst_sandbox.max_in_flight('pin_kontrol')} (cap 2)")
    print(
        f"other integration: {len(other_done)} orders stored, median {statistics.median(other_done):.1f} s, "
        f"last {other_done[-1]:.1f} s after the start"
    )


def _send_delays(log_path, integration_id, sandbox) -> None:
    """Each arrival against the start it went at: the n-th arrival belongs to the n-th start (a
    delay under the spacing keeps their order)."""
    lines = Path(log_path).read_text(errors="replace").splitlines()
    starts = sorted(float(m[2]) for m in map(_STARTED.search, lines) if m and m[1] == str(integration_id))
    retaken = [int(m[2]) for m in map(_RETAKEN.search, lines) if m and m[1] == str(integration_id)]
    latest = f" (woken up to {max(retaken)} ms after it)" if retaken else ""
    print(f"starts given up by a thread woken too late for them: {len(retaken)}{latest}")
    arrivals = sorted(entry["at"] for entry in sandbox.status_checks())
    if len(starts) != len(arrivals):
        print(f"send delay: {len(starts)} starts for {len(arrivals)} requests, not matched")
        return
    delays = sorted((arrival - start) * 1000 for start, arrival in zip(starts, arrivals, strict=True))

    def share(part):
        return delays[int(len(delays) * part)]

    print(
        f"send delay (start to the sandbox's record), {len(delays)} requests: median {share(0.5):.1f} ms, "
        f"99th percentile {share(0.99):.1f} ms, 99.9th {share(0.999):.1f} ms, "
        f"max {delays[-1]:.1f} ms, min {delays[0]:.1f} ms"
    )


def _reservation_cost() -> None:
    """One request's statements (take a place, take a start, free the place) at a budget that
    never waits, from 4 threads: the limiter's own cost per request."""
    from budgets.budget import Budget
    from budgets.limiter import SharedGate
    from providers.http import HttpLimits

    gate = SharedGate(uuid.uuid4(), Budget(1_000_000.0, 4), HttpLimits.from_settings().request_seconds)
    deadline = time.monotonic() + 600
    with gate.request(deadline):
        pass
    per_thread = RESERVATIONS // 4

    def run():
        for _ in range(per_thread):
            with gate.request(deadline):
                pass

    threads = [threading.Thread(target=run) for _ in range(4)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    print(
        f"\nshared limiter: {per_thread * 4} requests through one gate from 4 threads in {seconds:.2f} s: "
        f"{seconds / (per_thread * 4) * 1000:.2f} ms a request (3 statements on the process's limiter connection), "
        f"at most {per_thread * 4 / seconds:,.0f} requests a second per process"
    )


if __name__ == "__main__":
    sys.exit(main())
