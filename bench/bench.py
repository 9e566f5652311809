"""The "Scale" benchmark of check_pending_orders on PostgreSQL against the znet sandbox.

Phases, on one table of 1,000,000 orders (10,000 active) in a throw-away database:
  db          claim and per-order update timings, EXPLAIN of the claim query
  startup     the command with nothing due (interpreter + Django + one query)
  run         the command over 100 due orders: MONITOR_WORKERS=16 (3 runs, median) and 1
  throughput  1, 2, 4 worker processes draining 2,000 due orders
Everything talks to 127.0.0.1 only; the database and the sandbox are removed at the end.
See docs/PERFORMANCE.md.
"""

import logging
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_dev")
# The sandbox listens on 127.0.0.1, an address integrations may not point at unless allowed.
os.environ.setdefault("MONITOR_ALLOWED_PROVIDER_HOSTS", "127.0.0.1,localhost")

import procs  # noqa: E402
import report  # noqa: E402
import throwaway  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/order_monitor_bench")
LATENCY_MS = float(os.environ.get("BENCH_LATENCY_MS", "100"))
WORKERS, PER_INTEGRATION, INTEGRATIONS = 16, 8, 2
BATCH = 100
THROUGHPUT_ORDERS = 2000
PROCESS_COUNTS = (1, 2, 4)
PARALLEL_REPEATS = 3
KOD, SIFRE = "bench-bayi", "bench-sifre-5531"


def main():
    try:
        _create_database()
    except psycopg2.OperationalError as exc:
        raise SystemExit(f"PostgreSQL is not reachable ({DATABASE_URL}): {exc}".strip()) from None
    log_dir = Path(tempfile.mkdtemp(prefix="order-monitor-bench-"))
    try:
        results = _setup_and_run(log_dir / "commands.log")
    finally:
        _close_django()
        _drop_database()
    report.summary(results)
    shutil.rmtree(log_dir)  # kept when a phase failed: the error names the log


def _setup_and_run(log_path):
    os.environ["DATABASE_URL"] = DATABASE_URL
    procs.run_command(["migrate", "--verbosity", "0"], _env(), log_path)
    import django

    django.setup()
    # One INFO line per order would time the terminal, not the database. The commands the
    # benchmark starts keep the production level; their logs go to log_path.
    logging.getLogger("orders").setLevel(logging.WARNING)
    return _run_phases(log_path)


def _run_phases(log_path):
    import dataset

    from providers.models import Integration

    results = {"machine": _machine()}
    report.machine(results["machine"])
    with procs.sandbox(LATENCY_MS, KOD, SIFRE, dataset.REFERENCE_PREFIX, dataset.ACTIVE) as (base_url, sandbox_pid):
        integrations = [
            Integration.objects.create(name=f"znet {i}", provider="znet", base_url=base_url, kod=KOD, sifre=SIFRE)
            for i in range(1, INTEGRATIONS + 1)
        ]
        results["load"] = _load(dataset, [i.pk for i in integrations])
        results["db"] = _db_phase(dataset)
        results["startup"] = _startup_phase(dataset, log_path)
        results["run"] = _run_phase(dataset, log_path, results["startup"])
        results["throughput"] = _throughput_phase(dataset, log_path, sandbox_pid)
    return results


def _load(dataset, integration_ids):
    started = time.perf_counter()
    dataset.load(integration_ids)
    seconds = time.perf_counter() - started
    rows, active = dataset.table_counts()
    report.load(rows, active, seconds, LATENCY_MS, INTEGRATIONS)
    return {"rows": rows, "active": active, "seconds": seconds}


def _db_phase(dataset):
    import dbtiming

    dataset.make_due(dbtiming.CLAIMS * BATCH)
    timings = dbtiming.measure(BATCH)
    dataset.make_due(dataset.ACTIVE)
    dbtiming.measure_backlog(timings, BATCH)
    report.db(timings, dbtiming.CLAIMS * BATCH, dataset.ACTIVE)
    return timings


def _startup_phase(dataset, log_path):
    """The command's fixed cost: start, Django setup, connect, one due query that finds nothing."""
    dataset.make_due(0)
    runs = [procs.run_command(["check_pending_orders", "--dry-run"], _env(), log_path) for _ in range(3)]
    seconds = statistics.median(run.seconds for run in runs)
    report.startup(seconds, [run.seconds for run in runs])
    return seconds


def _run_phase(dataset, log_path, startup):
    parallel = [_one_run(dataset, log_path, WORKERS) for _ in range(PARALLEL_REPEATS)]
    median = sorted(parallel, key=lambda run: run.seconds)[len(parallel) // 2]
    sequential = _one_run(dataset, log_path, 1)
    concurrency = min(WORKERS, PER_INTEGRATION * INTEGRATIONS)
    floor = math.ceil(BATCH / concurrency) * LATENCY_MS / 1000
    result = {
        "parallel": median,
        "parallel_all": parallel,
        "sequential": sequential,
        "concurrency": concurrency,
        "floor": floor,
        "startup": startup,
        "peak_rss_mb": max(run.rss_mb for run in [*parallel, sequential]),
    }
    report.run(result, WORKERS, PER_INTEGRATION, INTEGRATIONS, BATCH, LATENCY_MS)
    return result


def _one_run(dataset, log_path, workers):
    dataset.make_due(BATCH)
    run = procs.run_command(["check_pending_orders"], _env(MONITOR_WORKERS=workers), log_path)
    _expect_all_checked(dataset, run.summary.get("checked"), BATCH, f"MONITOR_WORKERS={workers}")
    return run


def _throughput_phase(dataset, log_path, sandbox_pid):
    rows = []
    for count in PROCESS_COUNTS:
        rows.append(_throughput_row(dataset, log_path, sandbox_pid, count))
        report.throughput_row(rows[-1])
    return rows


def _throughput_row(dataset, log_path, sandbox_pid, count):
    dataset.make_due(THROUGHPUT_ORDERS)
    busy_before, total_before = procs.machine_busy_seconds()
    sandbox_before = procs.process_cpu_seconds(sandbox_pid)
    # Twice the runs 2,000 orders need: a bound, never reached unless something is wrong.
    seconds, reports = procs.run_drains(count, _env(), log_path, max_runs=THROUGHPUT_ORDERS // BATCH * 2)
    sandbox_cpu = procs.process_cpu_seconds(sandbox_pid) - sandbox_before
    busy_after, total_after = procs.machine_busy_seconds()
    checked = sum(r["checked"] for r in reports)
    _expect_all_checked(dataset, checked, THROUGHPUT_ORDERS, f"{count} processes")
    return {
        "processes": count,
        "seconds": seconds,
        "orders_per_second": checked / seconds,
        "runs": sum(r["runs"] for r in reports),
        "command_cpu_ms_per_order": sum(r["cpu_seconds"] for r in reports) * 1000 / checked,
        "sandbox_cpu_ms_per_order": sandbox_cpu * 1000 / checked,
        "machine_busy": (busy_after - busy_before) / (total_after - total_before),
    }


def _expect_all_checked(dataset, checked, expected, what):
    """Every due order checked exactly once (a status change each), and none left due."""
    changes, orders = dataset.checked_orders()
    left = dataset.due_count()
    if checked != expected or changes != expected or orders != expected or left:
        raise RuntimeError(
            f"{what}: checked={checked} status changes={changes} orders={orders} still due={left}, expected {expected}"
        )


def _env(**extra):
    env = dict(
        os.environ,
        DATABASE_URL=DATABASE_URL,
        MONITOR_WORKERS=str(WORKERS),
        MONITOR_PER_INTEGRATION_CONCURRENCY=str(PER_INTEGRATION),
        MONITOR_BATCH_LIMIT=str(BATCH),
        PYTHONUNBUFFERED="1",
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


def _machine():
    import django

    server = _admin_query("SHOW server_version")[0][0]
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgres": server,
        "load": os.getloadavg()[0],
    }


def _cpu_model():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


# -- the throw-away database ------------------------------------------------------------------
def _admin_query(sql):
    return throwaway.admin_query(DATABASE_URL, sql)


def _create_database():
    throwaway.create_database(DATABASE_URL)


def _drop_database():
    throwaway.drop_database(DATABASE_URL)


def _close_django():
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


if __name__ == "__main__":
    main()
