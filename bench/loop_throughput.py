"""Throughput of one `check_pending_orders --loop` process with one integration (docs/PERFORMANCE.md,
"One loop, one integration"): `make bench-loop` runs it, or `python bench/loop_throughput.py`.

A throw-away PostgreSQL database with the benchmark's table (990,000 final orders, 10,000 active,
bench/dataset.py), all active orders on ONE znet integration and all of them due; the znet
sandbox as its own process answering in 100 ms (every check: completed). One loop runs for a
minute with MONITOR_WORKERS=16; checks a minute = the sandbox's status checks during the loop,
divided by the time from the first to the last. The floor is 16 workers / 100 ms = 9,600 a
minute; the target 9,000. Run with the per-integration cap at the old default (8), at its new
default (the worker count), and with a larger --limit per cycle.
"""

import os
import sys
import time
from pathlib import Path
from urllib.request import urlopen

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_dev")
# The sandbox listens on 127.0.0.1, an address integrations may not point at unless allowed.
os.environ.setdefault("MONITOR_ALLOWED_PROVIDER_HOSTS", "127.0.0.1,localhost")

import json  # noqa: E402
import tempfile  # noqa: E402

import procs  # noqa: E402
import throwaway  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/order_monitor_loop_bench")
LATENCY_MS = float(os.environ.get("BENCH_LATENCY_MS", "100"))
LOOP_SECONDS = float(os.environ.get("BENCH_LOOP_SECONDS", "60"))
WORKERS = 16
TARGET_PER_MINUTE = 9000
KOD, SIFRE = "bench-bayi", "bench-sifre-5531"
# (what, environment, --limit per cycle)
SETUPS = (
    ("cap 8 per integration (the old default), --limit 100", {"MONITOR_PER_INTEGRATION_CONCURRENCY": "8"}, 100),
    ("cap = MONITOR_WORKERS (the new default), --limit 100", {}, 100),
    ("cap = MONITOR_WORKERS, --limit 500", {}, 500),
)


def main() -> int:
    throwaway.create_database(DATABASE_URL)
    log_path = Path(tempfile.mkdtemp(prefix="order-monitor-loop-bench-")) / "commands.log"
    try:
        os.environ["DATABASE_URL"] = DATABASE_URL
        procs.run_command(["migrate", "--verbosity", "0"], _env(), log_path)
        import django

        django.setup()
        met = _measure(log_path)
    finally:
        _close_django()
        throwaway.drop_database(DATABASE_URL)
    return 0 if met else 1


def _measure(log_path) -> bool:
    import dataset

    from providers.models import Integration
    from tests.factories import customer_fields

    print(
        f"# One --loop process, one znet integration, {LATENCY_MS:g} ms per answer, MONITOR_WORKERS={WORKERS}\n"
        f"\n{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start",
        flush=True,
    )
    with procs.sandbox(LATENCY_MS, KOD, SIFRE, dataset.REFERENCE_PREFIX, dataset.ACTIVE) as (base_url, sandbox_pid):
        integration = Integration.objects.create(name="znet", provider="znet", base_url=base_url, kod=KOD, sifre=SIFRE)
        dataset.load([integration.pk], customer_fields())
        rows, active = dataset.table_counts()
        print(f"{rows:,} rows in product_orders, {active:,} active, all on one integration")
        _time_schedule_query()
        print(
            f"\n| setup | checks a minute | of the floor ({WORKERS / LATENCY_MS * 60_000:,.0f}) "
            "| command CPU per check | machine busy |"
        )
        print("|---|---|---|---|---|")
        results = [_one_loop(dataset, base_url, sandbox_pid, log_path, *setup) for setup in SETUPS]
    best = max(results)
    print(f"\ntarget: >= {TARGET_PER_MINUTE:,} checks a minute; met: {'yes' if best >= TARGET_PER_MINUTE else 'NO'}")
    print(f"load average at the end {os.getloadavg()[0]:.2f}; logs: {log_path}")
    return best >= TARGET_PER_MINUTE


def _one_loop(dataset, base_url, sandbox_pid, log_path, what, env, limit) -> float:
    dataset.make_due(dataset.ACTIVE)
    busy_before, total_before = procs.machine_busy_seconds()
    started = time.time()
    run = procs.run_command(
        ["check_pending_orders", "--loop", "--max-seconds", f"{LOOP_SECONDS:g}", "--limit", str(limit)],
        _env(**env),
        log_path,
    )
    busy_after, total_after = procs.machine_busy_seconds()
    times = sorted(entry["at"] for entry in _status_checks(base_url) if entry["at"] >= started)
    per_minute = (len(times) - 1) / (times[-1] - times[0]) * 60 if len(times) > 1 else 0.0
    floor = WORKERS / LATENCY_MS * 60_000
    cpu_ms = run.cpu_seconds * 1000 / max(run.summary.get("checked", 0), 1)
    busy = (busy_after - busy_before) / (total_after - total_before)
    print(f"| {what} | {per_minute:,.0f} | {per_minute / floor:.0%} | {cpu_ms:.1f} ms | {busy:.0%} |", flush=True)
    return per_minute


def _time_schedule_query():
    """The schedule book's one query over the whole table (what a loop runs once a minute)."""
    from django.db import connection
    from django.utils import timezone

    from schedules.book import completion_samples

    timings = []
    for _ in range(3):
        started = time.perf_counter()
        samples = completion_samples(timezone.now())
        timings.append((time.perf_counter() - started) * 1000)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM product_orders WHERE \"externalStatus\" = 'completed' "
            "AND \"completedAt\" >= now() - interval '7 days'"
        )
        (completions,) = cursor.fetchone()
    print(
        f"schedule book query (once a minute per process), {completions:,} completions in the last 7 days, "
        f"{sum(len(s) for s in samples.values()):,} read: {', '.join(f'{ms:.0f}' for ms in timings)} ms"
    )


def _status_checks(base_url):
    with urlopen(base_url + "/_sandbox/log", timeout=30) as answer:
        return [entry for entry in json.load(answer) if entry["path"] == "pin_kontrol"]


def _env(**extra):
    # The loop's ceiling, not a provider's request budget (bench/budgets.py measures those).
    env = dict(
        os.environ,
        DATABASE_URL=DATABASE_URL,
        MONITOR_WORKERS=str(WORKERS),
        MONITOR_REQUEST_BUDGETS="0",
        PYTHONUNBUFFERED="1",
    )
    env.pop("MONITOR_PER_INTEGRATION_CONCURRENCY", None)
    env.update(extra)
    return env


def _close_django():
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


if __name__ == "__main__":
    sys.exit(main())
